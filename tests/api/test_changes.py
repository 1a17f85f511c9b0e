"""The change feed's pages (workspace and organization) and the snapshot download,
over HTTP: order, whole revisions, cursors, retention (410 `feed_resync`), keys and
the tenant boundary."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import timedelta
from typing import Any

from rolegate.bootstrap import Rolegate
from rolegate.domain.workspace import Actor
from rolegate.engine import snapshot_from_document
from rolegate.services.api_keys import create_api_key
from rolegate.services.audit import prune_events, set_retention
from rolegate.services.workspaces import create_organization
from rolegate.store.repositories import utcnow
from tests.api.conftest import Api, Tenant, assert_problem, invite, make_tenant


def changes(t: Tenant, **params: Any) -> dict[str, Any]:
    r = t.api.get(t.url("/changes"), params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_changes_come_in_revision_order_with_target_actor_and_time(natero: Tenant) -> None:
    member = invite(natero, "cat@acme.test", "csm")
    page = changes(natero)
    revisions = [c["revision"] for c in page["changes"]]
    assert revisions == sorted(revisions)
    assert page["revision"] == revisions[-1] == page["next_after"]
    assert page["changes"][0]["action"] == "workspace.create"
    invited = next(c for c in page["changes"] if c["target"] == {"type": "member", "id": member})
    assert invited["actor"] == f"member:{natero.owner}"
    assert invited["at"].endswith("+00:00")
    assert set(invited) == {"revision", "seq", "id", "action", "target", "actor", "at"}
    # After the last revision: nothing, and the cursor stays where it was (null).
    assert changes(natero, after=page["next_after"]) == {"changes": [], "revision": page["revision"], "next_after": None}


def test_pages_resume_after_their_last_revision_and_never_split_one(natero: Tenant) -> None:
    csm = invite(natero, "cat@acme.test", "csm")
    records = [{"type": "account", "id": f"a{i}", "assignee": csm} for i in range(5)]
    r = natero.api.post(natero.url("/records/bulk"), json={"records": records})
    assert r.status_code == 200, r.text
    bulk_revision = r.json()["revision"]
    everything = changes(natero, limit=1000)["changes"]
    in_bulk = [c for c in everything if c["revision"] == bulk_revision]
    assert len(in_bulk) >= 5  # one `record.assign` per assignment, at one revision
    seen: list[dict[str, Any]] = []
    after = 0
    while True:
        page = changes(natero, after=after, limit=3)
        if not page["changes"]:
            break
        last = page["changes"][-1]["revision"]
        assert not [c for c in everything if c["revision"] == last and c not in page["changes"]], "a page ended inside a revision"
        seen += page["changes"]
        after = page["next_after"]
    assert seen == everything


def test_a_cursor_older_than_the_retention_is_410_feed_resync(rolegate: Rolegate, natero: Tenant) -> None:
    for i in range(3):
        invite(natero, f"m{i}@acme.test", "csm")
    owner = Actor.member(natero.owner)
    set_retention(rolegate.uow(), actor=owner, workspace_id=natero.id, days=1)
    assert prune_events(rolegate.uow(), actor=owner, workspace_id=natero.id, now=utcnow() + timedelta(days=2)) > 0
    problem = assert_problem(natero.api.get(natero.url("/changes"), params={"after": 0}), 410, "feed_resync")
    assert "snapshot" in problem["detail"]
    # Resuming from the snapshot's revision works.
    snap = natero.api.get(natero.url("/snapshot")).json()
    assert changes(natero, after=snap["revision"])["changes"] == []


def test_decide_keys_read_the_feed_and_other_tenants_get_404(rolegate: Rolegate, api: Api, org: str, natero: Tenant) -> None:
    decide = create_api_key(rolegate.uow(), organization_id=org, rights={"decide"}, name="sdk")
    assert api.as_(key=decide).get(natero.url("/changes")).status_code == 200
    assert api.as_(key=decide).get(natero.url("/snapshot")).status_code == 200
    other_org = create_organization(rolegate.uow(), actor=Actor.system("test"), name="Other")
    stranger = create_api_key(rolegate.uow(), organization_id=other_org, rights={"admin", "decide"}, name="other")
    for path in ("/changes", "/snapshot", "/changes/stream"):
        assert_problem(api.as_(key=stranger).get(natero.url(path)), 404, "not_found")
    assert_problem(api.as_(key=stranger).get(f"/v1/organizations/{org}/changes"), 404, "not_found")
    assert_problem(api.without_key().get(natero.url("/changes")), 401, "unauthenticated")


def test_the_organization_feed_merges_its_workspaces_and_resumes_by_cursor(rolegate: Rolegate, api: Api, org: str) -> None:
    a = make_tenant(api, "natero")
    b = make_tenant(api, "telephony")
    invite(a, "x@acme.test", "csm")
    r = api.get(f"/v1/organizations/{org}/changes", params={"limit": 1000})
    assert r.status_code == 200, r.text
    page = r.json()
    assert {c["workspace_id"] for c in page["changes"]} == {a.id, b.id}
    for ws in (a.id, b.id):
        own = [c["revision"] for c in page["changes"] if c["workspace_id"] == ws]
        assert own == sorted(own)
    cursor = json.loads(base64.urlsafe_b64decode(page["next_after"] + "=" * (-len(page["next_after"]) % 4)))
    assert cursor == {a.id: changes(a)["revision"], b.id: changes(b)["revision"]}
    invite(b, "y@acme.test", _role_ids(b)[0], activate=False)
    more = api.get(f"/v1/organizations/{org}/changes", params={"after": page["next_after"]}).json()
    assert [(c["workspace_id"], c["action"]) for c in more["changes"]] == [(b.id, "member.invite")]
    # Paging through one change at a time gives the same changes.
    seen, after = [], None
    while True:
        params: dict[str, Any] = {"limit": 1} | ({"after": after} if after else {})
        p = api.get(f"/v1/organizations/{org}/changes", params=params).json()
        if not p["changes"]:
            break
        seen += p["changes"]
        after = p["next_after"]
    assert sorted(json.dumps(c, sort_keys=True) for c in seen) == sorted(json.dumps(c, sort_keys=True) for c in page["changes"] + more["changes"])


def _role_ids(t: Tenant) -> list[str]:
    return [r["id"] for r in t.api.get(t.url("/roles")).json()["roles"] if r["id"] != "owner"]


def test_the_organization_feed_needs_an_organization_wide_key_and_a_valid_cursor(rolegate: Rolegate, api: Api, org: str, natero: Tenant) -> None:
    scoped = create_api_key(rolegate.uow(), organization_id=org, workspace_id=natero.id, rights={"decide"}, name="one")
    assert_problem(api.as_(key=scoped).get(f"/v1/organizations/{org}/changes"), 403, "key_forbidden")
    assert_problem(api.get(f"/v1/organizations/{org}/changes", params={"after": "bm90LWEtY3Vyc29y"}), 422, "invalid_input")
    assert_problem(api.get(f"/v1/organizations/{org}/changes", params={"after": "!!"}), 422, "request_invalid")
    assert_problem(api.get(natero.url("/changes"), params={"after": -1}), 422, "request_invalid")


def test_the_snapshot_document_rebuilds_the_servers_decisions(natero: Tenant) -> None:
    csm = invite(natero, "cat@acme.test", "csm")
    r = natero.api.get(natero.url("/snapshot"))
    assert r.status_code == 200, r.text
    doc = r.json()
    revision = natero.api.get(natero.url()).json()["revision"]
    assert (doc["revision"], r.headers["etag"]) == (revision, f'"{revision}"')
    assert doc["schema"]["key"] == "natero"
    assert len(doc["schema"]["hash"]) == 64
    snap = snapshot_from_document(doc)
    for action in ("accounts.view", "settings.create_workflows", "accounts.update_attributes"):
        remote = natero.api.post(natero.url("/check"), json={"member": csm, "action": action}).json()
        local = snap.check(csm, action)
        assert (local.allowed, local.scope.label, local.revision) == (remote["allowed"], remote["scope"], remote["revision"])


def test_the_snapshot_is_304_when_held_and_gzipped_when_accepted(natero: Tenant) -> None:
    etag = natero.api.get(natero.url("/snapshot")).headers["etag"]
    r = natero.api.get(natero.url("/snapshot"), headers={"If-None-Match": etag})
    assert (r.status_code, r.content, r.headers["etag"]) == (304, b"", etag)
    invite(natero, "cat@acme.test", "csm")
    r = natero.api.get(natero.url("/snapshot"), headers={"If-None-Match": etag})
    assert r.status_code == 200
    assert r.headers["etag"] != etag
    raw = natero.api.get(natero.url("/snapshot"), headers={"Accept-Encoding": "gzip"})
    assert raw.headers["content-encoding"] == "gzip"
    assert raw.json() == r.json()  # httpx decodes it: the same document
    plain = natero.api.get(natero.url("/snapshot"), headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert len(gzip.compress(plain.content)) < len(plain.content) / 3


def test_a_document_is_built_once_per_revision(rolegate: Rolegate, natero: Tenant) -> None:
    from rolegate.services.snapshot_document import workspace_snapshot

    first = workspace_snapshot(rolegate.reader(), workspace_id=natero.id)
    again = workspace_snapshot(rolegate.reader(), workspace_id=natero.id)
    assert again.body is first.body  # kept: the next SDK process costs the revision read alone
    invite(natero, "cat@acme.test", "csm")
    newer = workspace_snapshot(rolegate.reader(), workspace_id=natero.id)
    assert newer.revision > first.revision
    assert newer.body != first.body
