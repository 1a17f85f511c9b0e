"""The audit log over HTTP: every change has its event, filters, the `after_seq`
cursor, the view-audit right, and the hash chain verified."""

from __future__ import annotations

import itertools

from rolegate.bootstrap import Rolegate
from rolegate.store import tables
from tests.api.conftest import Api, Tenant, assert_problem, invite, make_tenant


def test_every_change_has_its_event_with_actor_before_and_after(natero: Tenant) -> None:
    member = invite(natero, "cat@acme.test", "guest")
    r = natero.api.patch(natero.url(f"/members/{member}"), json={"role": "executive"})
    rev = r.json()["revision"]
    events = natero.api.get(natero.url("/audit")).json()["events"]
    assert [e["action"] for e in events] == ["workspace.create", "member.add", "member.invite", "member.activate", "member.change_role"]
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    last = events[-1]
    assert last["actor"] == f"member:{natero.owner}"
    assert (last["before"]["role"], last["after"]["role"]) == ("guest", "executive")
    assert last["revision"] == rev == len(events)
    assert events[0]["actor"].startswith("platform:api-key:")
    assert all(e["prev_hash"] == p["hash"] for p, e in itertools.pairwise(events))


def test_filters_and_the_after_seq_cursor(natero: Tenant) -> None:
    for i in range(5):
        invite(natero, f"m{i}@acme.test", "guest", activate=False)
    page = natero.api.get(natero.url("/audit"), params={"action": "member.invite", "limit": 2}).json()
    assert len(page["events"]) == 2
    seen = [e["target_id"] for e in page["events"]]
    while page["next_after_seq"] is not None:
        page = natero.api.get(natero.url("/audit"), params={"action": "member.invite", "limit": 2, "after_seq": page["next_after_seq"]}).json()
        seen += [e["target_id"] for e in page["events"]]
    assert len(seen) == len(set(seen)) == 5
    target = seen[0]
    by_target = natero.api.get(natero.url("/audit"), params={"target_type": "member", "target_id": target}).json()["events"]
    assert [e["action"] for e in by_target] == ["member.invite"]
    by_actor = natero.api.get(natero.url("/audit"), params={"actor": f"member:{natero.owner}"}).json()["events"]
    assert len(by_actor) == 5
    assert_problem(natero.api.get(natero.url("/audit"), params={"limit": 0}), 422, "request_invalid")


def test_N12_view_audit_needs_the_right(natero: Tenant) -> None:
    guest = invite(natero, "g@acme.test", "guest")
    assert_problem(natero.api.as_(actor=guest).get(natero.url("/audit")), 403, "permission_denied", rule="N12")
    assert_problem(natero.api.as_(actor=guest).get(natero.url("/audit/verify")), 403, "permission_denied", rule="N12")


def test_verify_reports_an_intact_chain_and_finds_tampering(api: Api, rolegate: Rolegate) -> None:
    t = make_tenant(api, "telephony")
    invite(t, "a@acme.test", "analyst")
    r = t.api.get(t.url("/audit/verify"))
    assert r.status_code == 200, r.text
    assert r.json() == {"workspace_id": t.id, "events": 4, "intact": True, "first_broken_seq": None, "problem": "", "last_seq": 4, "pruned_through": 0}
    with rolegate.engine.begin() as conn:
        a = tables.audit_events
        conn.execute(a.update().where((a.c.workspace_id == t.id) & (a.c.seq == 3)).values(actor="member:someone-else"))
    report = t.api.get(t.url("/audit/verify")).json()
    assert report["intact"] is False
    assert report["first_broken_seq"] == 3
    assert "altered" in report["problem"]
