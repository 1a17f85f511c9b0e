"""The webhooks API: an organization's endpoints over an organization-wide admin key
(CRUD, secret rotation, deliveries, retry), and the tenant boundary: another
organization's key gets 404 for every one of them, as for an endpoint that does not
exist. Every change of an endpoint is an audit event in each workspace of its
organization (never a secret), and only there."""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from standardwebhooks import Webhook

from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor, AuditEvent
from rolegate.services.api_keys import create_api_key
from rolegate.services.audit_chains import verify_workspaces
from rolegate.services.webhook_delivery import DeliveryPolicy
from rolegate.services.workspaces import create_organization
from tests.api.conftest import Api, assert_problem, invite, make_tenant
from tests.webhooks_receiver import Receiver, receiving


@pytest.fixture(params=["sqlite", "postgresql"])
def rolegate(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rolegate]:
    """Loopback receivers are private addresses: the operator allows them here. On
    PostgreSQL a fresh database each time: the sender reads every organization's endpoints."""
    url = f"sqlite:///{tmp_path}/t.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    rg = bootstrap(Settings(database_url=url, listen=False, webhooks_allow_private=True))
    rg.create_tables()
    yield rg
    rg.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as r:
        yield r


def hooks(org: str, path: str = "") -> str:
    return f"/v1/organizations/{org}/webhooks{path}"


def deliver(rolegate: Rolegate) -> None:
    sender = rolegate.webhook_sender(policy=DeliveryPolicy(allow_private=True), rng=random.Random(3))
    try:
        sender.deliver_due()
    finally:
        sender.transport.close()


def test_an_endpoint_is_registered_listed_changed_and_deleted(api: Api, org: str, receiver: Receiver) -> None:
    r = api.post(hooks(org), json={"url": receiver.url, "event_types": ["role.*", "member.add"], "description": "search index"})
    assert r.status_code == 201, r.text
    made = r.json()
    endpoint = made["endpoint"]
    assert made["secret"].startswith("whsec_")
    assert (endpoint["url"], endpoint["event_types"], endpoint["enabled"]) == (receiver.url, ["role.*", "member.add"], True)
    assert "secret" not in endpoint
    listed = api.get(hooks(org)).json()
    assert [e["id"] for e in listed["endpoints"]] == [endpoint["id"]]
    assert listed["next_cursor"] is None
    assert "whsec_" not in str(listed)  # a secret is shown at creation and rotation only
    r = api.patch(hooks(org, f"/{endpoint['id']}"), json={"event_types": ["*"], "enabled": False})
    assert r.status_code == 200, r.text
    assert (r.json()["event_types"], r.json()["enabled"]) == ([], False)
    assert api.get(hooks(org, f"/{endpoint['id']}")).json()["enabled"] is False
    assert api.delete(hooks(org, f"/{endpoint['id']}")).status_code == 204
    assert_problem(api.get(hooks(org, f"/{endpoint['id']}")), 404, "not_found")


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://example.com/x"},
        {"url": "https://example.com/x", "event_types": ["Role Update"]},
        {"url": "https://example.com/x", "unknown": 1},
        {"url": ""},
    ],
)
def test_bad_endpoints_are_refused(api: Api, org: str, body: dict[str, object]) -> None:
    r = api.post(hooks(org), json=body)
    assert r.status_code == 422, r.text


def test_private_addresses_are_refused_unless_the_operator_allows_them(tmp_path: Path) -> None:
    rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/p.db", listen=False))
    rg.create_tables()
    org = create_organization(rg.uow(), actor=Actor.system("t"), name="P")
    key = create_api_key(rg.uow(), organization_id=org, rights={"admin"}, name="k")
    try:
        with start_blocking_portal() as portal:
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(rg)), base_url="http://rolegate.test")
            client_api = Api(portal, client, key)
            body = assert_problem(client_api.post(hooks(org), json={"url": "http://127.0.0.1:9/x"}), 422, "invalid_input")
            assert "public address" in body["detail"]
            portal.call(client.aclose)
    finally:
        rg.close()


def test_deliveries_are_listed_and_a_failed_one_retried_now(api: Api, rolegate: Rolegate, org: str, receiver: Receiver) -> None:
    made = api.post(hooks(org), json={"url": receiver.url}).json()
    endpoint = made["endpoint"]["id"]
    tenant = make_tenant(api, "natero")  # workspace.create and the owner's events, after the endpoint
    receiver.fail_next = 1
    deliver(rolegate)
    listed = api.get(hooks(org, f"/{endpoint}/deliveries")).json()
    failed = listed["deliveries"][0]
    assert (failed["succeeded"], failed["status_code"], failed["error"], failed["workspace_id"]) == (False, 500, "HTTP 500", tenant.id)
    held = api.get(hooks(org, f"/{endpoint}")).json()["cursors"]
    assert [(c["workspace_id"], c["attempts"]) for c in held] == [(tenant.id, 1)]
    deliver(rolegate)  # within the backoff: nothing is tried
    assert len(api.get(hooks(org, f"/{endpoint}/deliveries")).json()["deliveries"]) == 1
    r = api.post(hooks(org, f"/{endpoint}/deliveries/{failed['id']}/retry"))
    assert r.status_code == 202, r.text
    assert r.json()["scheduled"] is True
    deliver(rolegate)
    got = [Webhook(made["secret"]).verify(x.body, x.headers) for x in receiver.received]
    assert got[0]["type"] == "workspace.create"
    assert got[0]["data"]["workspace_id"] == tenant.id
    page = api.get(hooks(org, f"/{endpoint}/deliveries"), params={"limit": 1}).json()
    assert len(page["deliveries"]) == 1
    assert page["next_cursor"]
    older = api.get(hooks(org, f"/{endpoint}/deliveries"), params={"limit": 1, "cursor": page["next_cursor"]}).json()
    assert older["deliveries"][0]["at"] <= page["deliveries"][0]["at"]
    assert older["deliveries"][0]["id"] != page["deliveries"][0]["id"]
    assert_problem(api.get(hooks(org, f"/{endpoint}/deliveries"), params={"cursor": "nonsense"}), 422, "invalid_input")


def test_rotating_the_secret_returns_the_new_one_and_keeps_the_old_for_the_grace(api: Api, org: str, receiver: Receiver) -> None:
    made = api.post(hooks(org), json={"url": receiver.url}).json()
    endpoint = made["endpoint"]["id"]
    r = api.post(hooks(org, f"/{endpoint}/rotate-secret"))
    assert r.status_code == 200, r.text
    rotated = r.json()
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != made["secret"]
    assert rotated["endpoint"]["previous_secret_valid_until"] is not None
    r = api.post(hooks(org, f"/{endpoint}/rotate-secret"), params={"grace_hours": 0})
    assert r.json()["endpoint"]["previous_secret_valid_until"] is None


def test_another_organizations_key_sees_nothing_and_changes_nothing(api: Api, rolegate: Rolegate, org: str, receiver: Receiver) -> None:
    made = api.post(hooks(org), json={"url": receiver.url}).json()
    endpoint = made["endpoint"]["id"]
    make_tenant(api, "natero")
    receiver.fail_next = 1
    deliver(rolegate)
    delivery = api.get(hooks(org, f"/{endpoint}/deliveries")).json()["deliveries"][0]["id"]
    other_org = create_organization(rolegate.uow(), actor=Actor.system("t"), name="Other")
    other = api.as_(key=create_api_key(rolegate.uow(), organization_id=other_org, rights={"admin", "decide"}, name="other"))
    calls = [
        ("GET", hooks(org)),
        ("POST", hooks(org)),
        ("GET", hooks(org, f"/{endpoint}")),
        ("PATCH", hooks(org, f"/{endpoint}")),
        ("DELETE", hooks(org, f"/{endpoint}")),
        ("POST", hooks(org, f"/{endpoint}/rotate-secret")),
        ("GET", hooks(org, f"/{endpoint}/deliveries")),
        ("POST", hooks(org, f"/{endpoint}/deliveries/{delivery}/retry")),
        # Its own organization's path with the other's endpoint id: no such endpoint there.
        ("GET", hooks(other_org, f"/{endpoint}")),
        ("PATCH", hooks(other_org, f"/{endpoint}")),
        ("DELETE", hooks(other_org, f"/{endpoint}")),
        ("POST", hooks(other_org, f"/{endpoint}/rotate-secret")),
        ("GET", hooks(other_org, f"/{endpoint}/deliveries")),
        ("POST", hooks(other_org, f"/{endpoint}/deliveries/{delivery}/retry")),
    ]
    for method, url in calls:
        body = {"url": "https://example.com/x"} if method in ("POST", "PATCH") and not url.endswith(("retry", "secret")) else None
        r = other.request(method, url, json=body)
        assert_problem(r, 404, "not_found")
    assert api.get(hooks(other_org)).status_code == 404
    assert other.get(hooks(other_org)).json()["endpoints"] == []
    # Nothing changed for the owner.
    mine = api.get(hooks(org, f"/{endpoint}")).json()
    assert mine["url"] == receiver.url
    assert mine["enabled"] is True


def test_a_workspace_key_or_a_decide_key_may_not_manage_webhooks(api: Api, rolegate: Rolegate, org: str) -> None:
    tenant = make_tenant(api, "natero")
    scoped = api.as_(key=create_api_key(rolegate.uow(), organization_id=org, workspace_id=tenant.id, rights={"admin"}, name="ws"))
    decide = api.as_(key=create_api_key(rolegate.uow(), organization_id=org, rights={"decide"}, name="decide"))
    for client in (scoped, decide):
        assert_problem(client.get(hooks(org)), 403, "key_forbidden")
        assert_problem(client.post(hooks(org), json={"url": "https://example.com/x"}), 403, "key_forbidden")
    assert_problem(api.without_key().get(hooks(org)), 401, "unauthenticated")


# -- every change of an endpoint is audited ---------------------------------------------------


@dataclass(frozen=True)
class Organizations:
    """The organization's two workspaces, and another organization with one of its own."""

    mine: list[str]
    theirs: list[str]
    other: Api
    other_org: str


def organizations(api: Api, rolegate: Rolegate) -> Organizations:
    one = make_tenant(api, "natero", name="one", owner_email="one@natero.test")
    two = make_tenant(api, "natero", name="two", owner_email="two@natero.test")
    other_org = create_organization(rolegate.uow(), actor=Actor.system("t"), name="Other")
    other = api.as_(key=create_api_key(rolegate.uow(), organization_id=other_org, rights={"admin"}, name="other"))
    return Organizations([one.id, two.id], [make_tenant(other, "natero").id], other, other_org)


def webhook_events(rolegate: Rolegate, workspace_id: str) -> list[AuditEvent]:
    with rolegate.reader() as uow:
        return uow.audit.all(workspace_id, action="webhook")


def test_each_change_of_an_endpoint_is_one_audit_event_in_every_workspace_of_its_organization(
    api: Api, rolegate: Rolegate, org: str, receiver: Receiver
) -> None:
    orgs = organizations(api, rolegate)
    made = api.post(hooks(org), json={"url": receiver.url, "event_types": ["role.*"], "description": "search index"}).json()
    endpoint = made["endpoint"]["id"]
    assert api.patch(hooks(org, f"/{endpoint}"), json={"description": "search", "enabled": False}).status_code == 200
    rotated = api.post(hooks(org, f"/{endpoint}/rotate-secret"))
    assert rotated.status_code == 200, rotated.text
    assert api.delete(hooks(org, f"/{endpoint}")).status_code == 204
    origin = receiver.url.removesuffix("/hooks")
    fingerprint = hashlib.sha256(receiver.url.encode()).hexdigest()[:12]
    shown = {"id": endpoint, "url": f"{origin}/…", "url_fingerprint": fingerprint, "description": "search index", "event_types": ["role.*"], "enabled": True}
    changed = {**shown, "description": "search", "enabled": False}
    actors = set()
    for workspace_id in orgs.mine:
        events = webhook_events(rolegate, workspace_id)
        assert [e.action for e in events] == ["webhook.create", "webhook.update", "webhook.rotate_secret", "webhook.delete"]
        assert {(e.target_type, e.target_id) for e in events} == {("webhook", endpoint)}
        assert (events[0].before, events[0].after) == (None, shown)
        assert (events[1].before, events[1].after) == (shown, changed)
        rotation = events[2].after
        assert (events[2].before, rotation["id"], rotation["secret_changed"]) == ({"id": endpoint}, endpoint, True)
        until = rotated.json()["endpoint"]["previous_secret_valid_until"]
        assert datetime.fromisoformat(rotation["previous_secret_valid_until"]) == datetime.fromisoformat(until)
        assert (events[3].before, events[3].after) == (changed, None)
        actors |= {e.actor for e in events}
    assert len(actors) == 1
    assert actors.pop().startswith("platform:api-key:")  # the acting key
    for workspace_id in orgs.theirs:
        assert webhook_events(rolegate, workspace_id) == []


def test_the_audit_log_shows_an_endpoint_url_by_its_origin_never_its_path_or_query(api: Api, rolegate: Rolegate, org: str) -> None:
    """A receiver's URL often carries its credential in the path or query (an incoming
    webhook's token): the webhooks API shows it to site administrators only, and every
    reader of a workspace's audit log would see it. A change of the path alone is still
    an event: the URLs' fingerprints differ."""
    orgs = organizations(api, rolegate)
    token, other = "T0K3N" + "x" * 20, "S3CR3T" + "y" * 20
    made = api.post(hooks(org), json={"url": f"https://hooks.example.com/services/{token}?key={token}"})
    assert made.status_code == 201, made.text
    endpoint = made.json()["endpoint"]["id"]
    r = api.patch(hooks(org, f"/{endpoint}"), json={"url": f"https://hooks.example.com/services/{other}"})
    assert r.status_code == 200, r.text
    assert api.patch(hooks(org, f"/{endpoint}"), json={"url": "https://hooks.example.com"}).status_code == 200
    for workspace_id in orgs.mine:
        events = webhook_events(rolegate, workspace_id)
        assert [e.action for e in events] == ["webhook.create", "webhook.update", "webhook.update"]
        dumped = json.dumps([(e.before, e.after) for e in events])
        assert token not in dumped
        assert other not in dumped
        assert "services" not in dumped
        created, moved, bare = events
        assert created.after["url"] == moved.after["url"] == "https://hooks.example.com/…"
        assert moved.before["url_fingerprint"] != moved.after["url_fingerprint"]
        assert bare.after["url"] == "https://hooks.example.com"


def test_no_webhook_audit_event_holds_a_secret_old_or_new(api: Api, rolegate: Rolegate, org: str, receiver: Receiver) -> None:
    orgs = organizations(api, rolegate)
    made = api.post(hooks(org), json={"url": receiver.url}).json()
    endpoint = made["endpoint"]["id"]
    secrets = [made["secret"]]
    for grace in (24, 0):
        r = api.post(hooks(org, f"/{endpoint}/rotate-secret"), params={"grace_hours": grace})
        assert r.status_code == 200, r.text
        secrets.append(r.json()["secret"])
    assert api.patch(hooks(org, f"/{endpoint}"), json={"event_types": ["member.*"]}).status_code == 200
    assert api.delete(hooks(org, f"/{endpoint}")).status_code == 204
    assert len(set(secrets)) == 3
    for workspace_id in orgs.mine:
        events = webhook_events(rolegate, workspace_id)
        assert [e.action for e in events].count("webhook.rotate_secret") == 2
        assert events[-1].action == "webhook.delete"
        text = json.dumps([[e.before, e.after] for e in events])
        assert "whsec_" not in text
        for secret in secrets:
            assert secret.removeprefix("whsec_") not in text
        # The second rotation had no grace: the previous secret signs no more.
        assert events[2].after["previous_secret_valid_until"] is None


def test_an_update_that_changes_nothing_or_a_refused_change_records_no_event(
    api: Api, rolegate: Rolegate, org: str, receiver: Receiver
) -> None:
    orgs = organizations(api, rolegate)
    made = api.post(hooks(org), json={"url": receiver.url, "event_types": ["role.*"], "description": "search index"}).json()
    endpoint = made["endpoint"]["id"]
    same: dict[str, object] = {"url": receiver.url, "description": "search index", "event_types": ["role.*"], "enabled": True}
    unchanged: list[dict[str, object]] = [same, {}, {"enabled": True}, {"event_types": ["role.*", "role.*"]}]
    for body in unchanged:
        r = api.patch(hooks(org, f"/{endpoint}"), json=body)
        assert r.status_code == 200, r.text
    refused: list[dict[str, object]] = [{"url": "ftp://example.com/x"}, {"url": "https://user:pw@example.com/x"}, {"event_types": ["Role Update"]}]
    for body in refused:
        assert api.patch(hooks(org, f"/{endpoint}"), json=body).status_code == 422
    # Another organization's key, on this organization's path and on its own with this endpoint's id.
    for path in (hooks(org, f"/{endpoint}"), hooks(orgs.other_org, f"/{endpoint}")):
        assert_problem(orgs.other.patch(path, json={"url": "https://example.com/x", "enabled": False}), 404, "not_found")
        assert_problem(orgs.other.post(f"{path}/rotate-secret"), 404, "not_found")
        assert_problem(orgs.other.delete(path), 404, "not_found")
    assert_problem(orgs.other.post(hooks(org), json={"url": "https://example.com/x"}), 404, "not_found")
    assert_problem(api.patch(hooks(org, "/no-such-endpoint"), json={"enabled": False}), 404, "not_found")
    kept = api.get(hooks(org, f"/{endpoint}")).json()
    assert {k: kept[k] for k in same} == same
    assert kept["previous_secret_valid_until"] is None  # never rotated
    assert [e["id"] for e in api.get(hooks(org)).json()["endpoints"]] == [endpoint]
    # A change that does change something is recorded: only it, after the creation.
    assert api.patch(hooks(org, f"/{endpoint}"), json={"description": "search"}).status_code == 200
    for workspace_id in orgs.mine:
        assert [e.action for e in webhook_events(rolegate, workspace_id)] == ["webhook.create", "webhook.update"]
    for workspace_id in orgs.theirs:
        assert webhook_events(rolegate, workspace_id) == []


def test_webhook_audit_events_keep_every_workspace_chain_intact(api: Api, rolegate: Rolegate, org: str, receiver: Receiver) -> None:
    """Interleaved with the workspaces' own changes: each event follows the one before it."""
    orgs = organizations(api, rolegate)
    tenant = make_tenant(api, "natero", name="three", owner_email="three@natero.test")
    endpoint = api.post(hooks(org), json={"url": receiver.url}).json()["endpoint"]["id"]
    invite(tenant, "ann@natero.test", "csm")
    assert api.patch(hooks(org, f"/{endpoint}"), json={"enabled": False}).status_code == 200
    assert api.post(hooks(org, f"/{endpoint}/rotate-secret")).status_code == 200
    invite(tenant, "bob@natero.test", "csm")
    assert api.delete(hooks(org, f"/{endpoint}")).status_code == 204
    chains = {c.workspace.id: c.report for c in verify_workspaces(rolegate.uow())}
    for workspace_id in [*orgs.mine, tenant.id, *orgs.theirs]:
        assert chains[workspace_id].intact, chains[workspace_id].problem
    for workspace_id in [*orgs.mine, tenant.id]:
        with rolegate.reader() as uow:
            events = uow.audit.all(workspace_id)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert all(e.prev_hash == before.hash for before, e in pairwise(events))
        assert [e.revision for e in events] == sorted({e.revision for e in events})
        assert sum(e.action.startswith("webhook.") for e in events) == 4
    assert chains[tenant.id].events == 2 + 4 + 2 * 2  # its creation and owner, the endpoint's 4, two invitations and activations
