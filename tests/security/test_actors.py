"""Actors are who they claim (issue 12, item 6): every route that takes `Rolegate-Actor`
checks the party it names before any use case runs. Attacks tried, with a valid admin
key of organization A on its workspace A1: naming a member of A2 (same organization),
a member of B1 (another organization), an id that exists nowhere, a user id instead of
a member id, a disabled member of A1, the site administrator of B, an unknown or
non-administrator user as `site-admin:`, and malformed values. Each is refused on
every such route, nothing is written, no audit event names them, and a stranger who
exists elsewhere gets the very answer of one who does not exist.

The routes come from the app itself (every route with the header, through any
dependency), so a route added later is tried here without anyone listing it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import func, select

from rolegate.asgi import create_app
from rolegate.bootstrap import bootstrap
from rolegate.config import Settings
from rolegate.engine import Record
from rolegate.services import actors as actors_service
from rolegate.services import invitations, members, records, workspaces
from rolegate.services.api_keys import create_api_key
from rolegate.store import tables
from tests.api.conftest import Api
from tests.security.conftest import PLATFORM, TwoOrgs, unique_email

ACTOR_HEADER = "Rolegate-Actor"


# -- the routes that take the header ----------------------------------------------------


def _header_names(dependant: Dependant) -> set[str]:
    names = {f.alias for f in dependant.header_params}
    for sub in dependant.dependencies:
        names |= _header_names(sub)
    return names


def actor_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path template) of every API route that reads `Rolegate-Actor`."""
    found: list[tuple[str, str]] = []
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        if isinstance(route, APIRoute) and ACTOR_HEADER in _header_names(route.dependant):
            assert ctx.path is not None
            assert ctx.methods
            found += [(m, ctx.path) for m in sorted(ctx.methods)]
    return found


# -- a workspace to attack, with something in it to steal or damage -----------------------


@dataclass(frozen=True)
class Target:
    orgs: TwoOrgs
    api: Api
    """Organization A's admin key (both rights), no actor."""
    guest: str
    """An active member of A1 with the Guest role."""
    disabled: str
    """A disabled member of A1."""
    invited: str
    """An invited member of A1 (their invitation is open)."""
    invitation: str

    @property
    def a1(self) -> str:
        return self.orgs.a1.id

    def path_params(self) -> dict[str, str]:
        return {
            "workspace_id": self.a1,
            "role_id": "guest",
            "member_id": self.guest,
            "record_type": "account",
            "record_id": "acme",
            "invitation_id": self.invitation,
            "object_key": "account",
            "name": "name",
            "group": "Admins",
        }

    def examples(self) -> dict[tuple[str, str], Any]:
        """A well-formed body per write route (or path parameters to use instead and the
        body), each a change the named actor would make if the door let them through
        (records: a sync that moves no assignee needs no right at all)."""
        w = "/v1/workspaces/{workspace_id}"
        o = self.orgs
        return {
            ("POST", f"{w}/roles"): {"name": "Stranger's role", "grants": [], "landing_page": "dashboard"},
            ("PATCH", f"{w}/roles/{{role_id}}"): {"description": "changed by a stranger"},
            ("POST", f"{w}/roles/{{role_id}}/clone"): {"name": "Stranger's clone"},
            ("POST", f"{w}/members"): {"email": unique_email("stranger-invite"), "role": "guest"},
            ("PATCH", f"{w}/members/{{member_id}}"): {"role": "analyst"},
            ("PUT", f"{w}/records/{{record_type}}/{{record_id}}"): ({"record_id": "planted-by-a-stranger"}, {}),
            ("POST", f"{w}/records/bulk"): {"records": [{"type": "account", "id": "planted-in-bulk"}]},
            ("POST", f"{w}/records/delete"): {"records": [{"type": "account", "id": "initech"}]},
            ("PUT", f"{w}/records/{{record_type}}/{{record_id}}/assignee"): {"assignee": self.guest},
            ("POST", f"{w}/invitations"): {"email": unique_email("stranger-invite"), "role": "guest"},
            ("POST", f"{w}/members/{{member_id}}/transfer"): {"to": o.a1.owner},
            ("POST", f"{w}/ownership"): {"to": self.guest, "new_role": "guest"},
            ("POST", f"{w}/objects"): {"key": "project", "label": "Project"},
            ("POST", f"{w}/objects/{{object_key}}/fields"): {"name": "nps", "label": "NPS"},
            ("POST", f"{w}/objects/{{object_key}}/fields/{{name}}/sync"): {"integration": "salesforce"},
            ("PUT", f"{w}/objects/{{object_key}}/fields/{{name}}/integration-access"): {"access": "read"},
            ("PATCH", f"{w}/roles/{{role_id}}/fields"): {"fields": {"account": {"name": "read"}}},
            ("PUT", f"{w}/audit/retention"): {"days": 1},
            ("POST", f"{w}/roles/{{role_id}}/copy"): {"targets": [o.a2.id]},
            ("PATCH", f"{w}/members/{{member_id}}/record"): {"name": "Renamed by a stranger", "email": unique_email("renamed")},
            ("PUT", f"{w}/directory/group-roles/{{group}}"): {"role": "guest"},
        }


@pytest.fixture
def target(two_orgs: TwoOrgs) -> Iterator[Target]:
    rg, a1 = two_orgs.rolegate, two_orgs.a1.id
    key = create_api_key(rg.uow(), organization_id=two_orgs.org_a, rights={"admin", "decide"}, name="org A admin")
    guest = members.add_member(rg.uow(), actor=PLATFORM, workspace_id=a1, email=unique_email("guest"), role_id="guest").member.id
    disabled = members.add_member(rg.uow(), actor=PLATFORM, workspace_id=a1, email=unique_email("disabled"), role_id="guest").member.id
    members.disable_member(rg.uow(), actor=PLATFORM, workspace_id=a1, member_id=disabled)
    sent = invitations.invite(rg.uow(), actor=PLATFORM, workspace_id=a1, email=unique_email("invited"), role_id="guest", policy=rg.mail_policy)
    for record_id in ("acme", "initech"):
        records.upsert_record(rg.uow(), actor=PLATFORM, workspace_id=a1, record=Record("account", record_id))
    app = create_app(rg)
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rolegate.test")
        try:
            yield Target(two_orgs, Api(portal, client, key), guest, disabled, sent.member.member.id, sent.invitation.id)
        finally:
            portal.call(client.aclose)


def send(t: Target, method: str, path: str, actor: str | None) -> httpx.Response:
    params = t.path_params()
    body = t.examples().get((method, path), {} if method in ("POST", "PUT", "PATCH") else None)
    if isinstance(body, tuple):
        overrides, body = body
        params |= overrides
    url = path.format(**params)
    api = t.api.as_(actor=actor) if actor is not None else t.api.without_actor()
    return api.request(method, url, json=body)


def fingerprint(t: Target) -> dict[str, Any]:
    """Every table's row count, and each workspace's revision and last audit event."""
    md = tables.metadata
    with t.orgs.rolegate.engine.connect() as conn:
        counts = {name: conn.execute(select(func.count()).select_from(table)).scalar_one() for name, table in md.tables.items()}
        ws = tables.workspaces
        revisions = {row.id: row.revision for row in conn.execute(select(ws.c.id, ws.c.revision))}
        ev = tables.audit_events
        last = {row[0]: row[1] for row in conn.execute(select(ev.c.workspace_id, func.max(ev.c.seq)).group_by(ev.c.workspace_id))}
    return {"rows": counts, "revisions": revisions, "last_events": last}


def audit_actors(t: Target) -> set[str]:
    ev = tables.audit_events
    with t.orgs.rolegate.engine.connect() as conn:
        return set(conn.execute(select(ev.c.actor).distinct()).scalars())


# -- the bad actors ------------------------------------------------------------------------

REFUSED = (403, "actor_refused")
MALFORMED = (422, "request_invalid")


def bad_actor(t: Target, kind: str) -> str | None:
    o = t.orgs
    return {
        "member of another workspace of the organization": o.a2.owner,
        "member of another organization": o.b1.owner,
        "unknown member id": str(uuid.uuid4()),
        "a user id, not a member id": o.a1.owner_user,
        "disabled member": t.disabled,
        "site administrator of another organization": o.site_admin_b.header,
        "unknown site administrator": f"site-admin:{uuid.uuid4()}",
        "member posing as site administrator": f"site-admin:{o.a1.owner_user}",
        "site-admin without a user id": "site-admin:",
        "member id too long": "m" * 37,
        "site administrator id too long": "site-admin:" + "u" * 37,
        "no header": None,
    }[kind]


EXPECTED = {
    "member of another workspace of the organization": REFUSED,
    "member of another organization": REFUSED,
    "unknown member id": REFUSED,
    "a user id, not a member id": REFUSED,
    "disabled member": REFUSED,
    "site administrator of another organization": REFUSED,
    "unknown site administrator": REFUSED,
    "member posing as site administrator": REFUSED,
    "site-admin without a user id": MALFORMED,
    "member id too long": MALFORMED,
    "site administrator id too long": MALFORMED,
    "no header": MALFORMED,
}


def test_every_route_that_takes_the_header_is_found(target: Target) -> None:
    routes = actor_routes(create_app(target.orgs.rolegate))
    # A guard against a walk that finds nothing (and a table test that then tries nothing).
    assert len(routes) >= 39
    assert ("PUT", "/v1/workspaces/{workspace_id}/records/{record_type}/{record_id}") in routes
    assert ("POST", "/v1/workspaces/{workspace_id}/records/bulk") in routes
    assert ("POST", "/v1/workspaces/{workspace_id}/roles/{role_id}/copy") in routes
    unknown = set(target.examples()) - set(routes)
    assert not unknown, f"examples for routes that no longer take the header: {sorted(unknown)}"


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_a_bad_actor_is_refused_on_every_route_and_nothing_is_written(target: Target, kind: str) -> None:
    actor = bad_actor(target, kind)
    status, code = EXPECTED[kind]
    before, actors_before = fingerprint(target), audit_actors(target)
    wrong: list[str] = []
    for method, path in actor_routes(create_app(target.orgs.rolegate)):
        r = send(target, method, path, actor)
        got = r.json().get("code") if r.headers.get("content-type", "").startswith("application/problem+json") else None
        if (r.status_code, got) != (status, code):
            wrong.append(f"{method} {path}: {r.status_code} {got}")
        if fingerprint(target) != before:
            wrong.append(f"{method} {path}: WROTE to the database")
            before = fingerprint(target)
    assert wrong == [], f"{kind} ({actor!r}) should get {status} {code} everywhere"
    assert audit_actors(target) == actors_before  # nobody new in the audit log, the stranger least of all


def test_a_stranger_elsewhere_and_a_stranger_nowhere_get_the_same_answer(target: Target) -> None:
    o = target.orgs
    members_alike = [o.a2.owner, o.b1.owner, str(uuid.uuid4()), o.a1.owner_user]
    site_admins_alike = [o.site_admin_b.header, f"site-admin:{uuid.uuid4()}", f"site-admin:{o.a1.owner_user}"]
    for method, path in actor_routes(create_app(o.rolegate)):
        for alike in (members_alike, site_admins_alike):
            answers = [send(target, method, path, actor) for actor in alike]
            bodies = {(r.status_code, r.text) for r in answers}
            assert len(bodies) == 1, f"{method} {path} tells these apart: {alike} -> {bodies}"


def test_the_refusal_says_what_to_do(target: Target) -> None:
    r = target.api.as_(actor=target.orgs.b1.owner).put(f"/v1/workspaces/{target.a1}/records/account/acme", json={})
    body = r.json()
    assert (r.status_code, body["code"], body["type"]) == (403, "actor_refused", "https://rolegate.dev/problems/actor_refused")
    assert "member of this workspace" in body["detail"]
    assert "site-admin:<user id>" in body["detail"]
    assert target.orgs.b1.id not in r.text
    assert target.orgs.org_b not in r.text
    r = target.api.as_(actor=target.orgs.site_admin_b.header).get(f"/v1/workspaces/{target.a1}/roles")
    # Natero states no site rule: the refusal cites none (E1 is email marketing's, issue 14).
    assert (r.status_code, r.json()["code"], r.json()["rule"]) == (403, "actor_refused", None)
    r = target.api.as_(actor=target.disabled).get(f"/v1/workspaces/{target.a1}/roles")
    assert (r.status_code, r.json()["code"]) == (403, "actor_refused")
    assert "disabled" in r.json()["detail"]  # a member of this very workspace: saying so reveals nothing


@pytest.mark.parametrize("who", ["owner", "site administrator of the organization"])
def test_the_parties_who_may_act_are_never_refused_at_the_door(target: Target, who: str) -> None:
    o = target.orgs
    actor = o.a1.owner if who == "owner" else o.site_admin_a.header
    for method, path in actor_routes(create_app(o.rolegate)):
        r = send(target, method, path, actor)
        assert r.status_code < 500, f"{method} {path}: {r.text}"
        if r.headers.get("content-type", "").startswith("application/problem+json"):
            assert r.json()["code"] != "actor_refused", f"{method} {path}: {r.text}"


def test_T4_an_invited_member_still_accepts_for_themselves(target: Target) -> None:
    r = target.api.as_(actor=target.invited).post(f"/v1/workspaces/{target.a1}/members/{target.invited}/activate")
    assert r.status_code == 200, r.text
    assert r.json()["member"]["status"] == "active"


def test_a_record_sync_is_audited_under_a_member_of_the_workspace_only(target: Target) -> None:
    """The hole this closes: a record upsert that moves no assignee needs no admin right,
    so before the door checked the actor it was written and audited under any name."""
    o = target.orgs
    url = f"/v1/workspaces/{target.a1}/records/account/planted"
    assert target.api.as_(actor=o.b1.owner).put(url, json={}).status_code == 403
    assert target.api.as_(actor=target.guest).put(url, json={}).status_code == 200
    assert f"member:{o.b1.owner}" not in audit_actors(target)
    assert f"member:{target.guest}" in audit_actors(target)


# -- the door's answer from memory (issue 18) ----------------------------------------------


def test_a_member_the_current_snapshot_holds_is_let_in_without_a_read_and_refusals_are_read(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An admin call as an active member of a workspace whose snapshot this process holds,
    current, reads nothing to check the actor; every refusal still comes from the
    database, so it answers as before, word for word."""
    o = target.orgs
    o.rolegate.snapshots.get(target.a1)  # this process decides for A1
    asked: list[str | None] = []
    real = actors_service.acting_party

    def counted(uow: Any, *, workspace_id: str, claimed: Any) -> Any:
        asked.append(claimed.member_id)
        return real(uow, workspace_id=workspace_id, claimed=claimed)

    monkeypatch.setattr("rolegate.api.deps.acting_party", counted)
    assert target.api.as_(actor=o.a1.owner).get(f"/v1/workspaces/{target.a1}/roles").status_code == 200
    for actor in (target.guest, target.invited):  # let in; the route then refuses them its right
        r = target.api.as_(actor=actor).get(f"/v1/workspaces/{target.a1}/roles")
        assert (r.status_code, r.json()["code"]) == (403, "permission_denied"), r.text
    assert asked == []
    for actor in (target.disabled, o.a2.owner, o.b1.owner):
        r = target.api.as_(actor=actor).get(f"/v1/workspaces/{target.a1}/roles")
        assert (r.status_code, r.json()["code"]) == (403, "actor_refused")
    assert asked == [target.disabled, o.a2.owner, o.b1.owner]


def test_a_member_disabled_by_another_process_a_moment_ago_is_refused_by_the_write(tmp_path: Path) -> None:
    """Within the staleness bound this process's snapshot may still hold a member that
    another process disabled a moment ago; the door then lets them in from memory, and
    the write, which locks the workspace and authorizes its actor at the revision it
    locked, refuses them: nothing is written."""
    url = f"sqlite:///{tmp_path / 'two-processes.db'}"
    here = bootstrap(Settings(database_url=url, listen=False, max_staleness_ms=600_000))
    here.create_tables()
    elsewhere = bootstrap(Settings(database_url=url, listen=False))
    try:
        org = workspaces.create_organization(here.uow(), actor=PLATFORM, name="Org")
        ws = workspaces.create_workspace(here.uow(), actor=PLATFORM, preset="natero", name="W", owner_email=unique_email("owner"), organization_id=org)
        owner = ws.owner.member
        second = members.add_member(here.uow(), actor=PLATFORM, workspace_id=ws.workspace.id, email=unique_email("admin"), role_id=owner.role).member.id
        key = create_api_key(here.uow(), organization_id=org, rights={"admin"}, name="admin")
        here.snapshots.get(ws.workspace.id)
        members.disable_member(elsewhere.uow(), actor=PLATFORM, workspace_id=ws.workspace.id, member_id=second)
        assert here.snapshots.fresh(ws.workspace.id) is not None  # still current to this process, within its bound
        with start_blocking_portal() as portal:
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(here)), base_url="http://rolegate.test")
            try:
                api = Api(portal, client, key).as_(actor=second)
                r = api.patch(f"/v1/workspaces/{ws.workspace.id}/roles/guest", json={"description": "by a disabled member"})
            finally:
                portal.call(client.aclose)
        assert r.status_code == 403, r.text
        # Let in from memory at the door, refused by the write's own authorization at the
        # revision it locked (a read at the door would have answered `actor_refused`).
        assert r.json()["code"] == "permission_denied", r.text
        with here.reader() as uow:
            assert uow.roles.get(ws.workspace.id, "guest").description != "by a disabled member"  # type: ignore[union-attr]
            assert all(e.actor != f"member:{second}" for e in uow.audit.all(ws.workspace.id))
    finally:
        elsewhere.close()
        here.close()
