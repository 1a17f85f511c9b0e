"""Deleting a member (N12 "add, delete and modify users", E7 "delete account administrator
records") and the host product's references to members (C6), over HTTP: the seat is
freed, the person's login stays, the deletion is audited, and it is refused, naming what
to move first, while records or references name the member."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api, Tenant, assert_problem, invite, make_tenant


def member_ids(t: Tenant) -> set[str]:
    body: Any = t.api.get(t.url("/members")).json()
    items = body["members"] if isinstance(body, dict) else body
    return {m["id"] for m in items}


def refs(t: Tenant, *rows: tuple[str, str | None], label: str = "Onboarding playbook: kickoff call") -> dict[str, Any]:
    body = {"references": [{"id": i, "kind": "playbook_task", "label": f"{label} ({i})", "member": m} for i, m in rows]}
    r = t.api.post(t.url("/references/bulk"), json=body)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def test_N12_deleting_a_member_frees_the_seat_keeps_the_login_and_is_audited(api: Api) -> None:
    t = make_tenant(api, "natero", seat_capacities={"csm": 2})  # the owner holds one
    leaving = invite(t, "leaving@acme.test", "csm")
    assert t.api.get(t.url("")).json()["seats"]["csm"]["used"] == 2
    assert_problem(
        t.api.post(t.url("/members"), json={"email": "next@acme.test", "role": "csm"}), 409, "rule_violation", rule="N1"
    )
    r = t.api.delete(t.url(f"/members/{leaving}"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["member"]["id"] == leaving
    assert body["member"]["email"] == "leaving@acme.test"
    assert body["revision"] > t.revision
    assert leaving not in member_ids(t)
    assert t.api.get(t.url("")).json()["seats"]["csm"]["used"] == 1
    invite(t, "next@acme.test", "csm")  # the seat is free again
    events = t.api.get(t.url("/audit"), params={"action": "member.delete"}).json()["events"]
    assert [(e["target_id"], e["before"]["email"], e["after"]) for e in events] == [
        (leaving, "leaving@acme.test", None)
    ]
    # The person's identity stays: the same email joins again, as the same login.
    back = t.api.post(t.url("/members"), json={"email": "leaving@acme.test", "role": "csm"})
    assert_problem(back, 409, "rule_violation", rule="N1")  # (no seat now, but the email is accepted)
    assert_problem(t.api.delete(t.url(f"/members/{leaving}")), 404, "not_found")


def test_N12_the_same_person_in_another_workspace_keeps_their_membership(api: Api) -> None:
    a = make_tenant(api, "customersuccessbox")
    b = make_tenant(api, "customersuccessbox")
    in_a = invite(a, "both@acme.test", "csm")
    in_b = invite(b, "both@acme.test", "csm", activate=False)
    assert a.api.delete(a.url(f"/members/{in_a}")).status_code == 200
    assert in_b in member_ids(b)
    assert in_a not in member_ids(a)
    again = invite(a, "both@acme.test", "csm", activate=False)
    assert again != in_a


def test_N12_only_who_manages_members_deletes_and_never_themselves_or_the_last_administrator(api: Api) -> None:
    t = make_tenant(api, "customersuccessbox")
    csm = invite(t, "csm@acme.test", "csm")
    other = invite(t, "other@acme.test", "csm")
    assert_problem(t.api.as_(actor=csm).delete(t.url(f"/members/{other}")), 403, "permission_denied", rule="C1")
    body = assert_problem(t.api.delete(t.url(f"/members/{t.owner}")), 409, "rule_violation")
    assert {v["rule"] for v in body["violations"]} >= {"C5", "C4"}
    assert_problem(t.api.delete(t.url("/members/nobody")), 404, "not_found")
    assert other in member_ids(t)


def test_C6_a_member_with_assigned_accounts_is_deleted_after_the_transfer(api: Api) -> None:
    t = make_tenant(api, "customersuccessbox")
    leaving = invite(t, "leaving@acme.test", "csm")
    successor = invite(t, "successor@acme.test", "csm")
    for account in ("a1", "a2"):
        assert t.api.put(t.url(f"/records/account/{account}"), json={"assignee": leaving}).status_code == 200
    body = assert_problem(t.api.delete(t.url(f"/members/{leaving}")), 409, "rule_violation", rule="C6")
    assert "is assigned 2 accounts." in body["detail"]
    # The person as the team knows them (the invite named no one: their email), never their id.
    assert "leaving@acme.test is assigned" in body["detail"]
    assert leaving not in body["detail"]
    assert "Transfer" in body["violations"][0]["fix"]
    assert t.api.post(t.url(f"/members/{leaving}/transfer"), json={"to": successor}).status_code == 200
    assert t.api.delete(t.url(f"/members/{leaving}")).status_code == 200


def test_C6_a_member_named_in_a_playbook_is_neither_disabled_nor_deleted_until_the_transfer(api: Api) -> None:
    t = make_tenant(api, "customersuccessbox")
    leaving = invite(t, "leaving@acme.test", "csm")
    successor = invite(t, "successor@acme.test", "csm")
    written = refs(t, ("playbook-7/task-2", leaving), ("playbook-9/task-1", leaving))
    assert (written["saved"], written["removed"]) == (2, 0)
    assert refs(t, ("playbook-7/task-2", leaving))["saved"] == 0  # unchanged
    listed = t.api.get(t.url("/references"), params={"member": leaving}).json()
    assert [(r["id"], r["kind"], r["member"]) for r in listed["items"]] == [
        ("playbook-7/task-2", "playbook_task", leaving),
        ("playbook-9/task-1", "playbook_task", leaving),
    ]
    for refused in (t.api.post(t.url(f"/members/{leaving}/disable")), t.api.delete(t.url(f"/members/{leaving}"))):
        body = assert_problem(refused, 409, "rule_violation", rule="C6")
        assert "Onboarding playbook: kickoff call (playbook-7/task-2)" in body["detail"]
        assert "Onboarding playbook: kickoff call (playbook-9/task-1)" in body["detail"]
    r = t.api.post(t.url(f"/members/{leaving}/transfer"), json={"to": successor})
    assert r.status_code == 200, r.text
    assert r.json()["references"] == 2
    assert {r["member"] for r in t.api.get(t.url("/references")).json()["items"]} == {successor}
    assert t.api.delete(t.url(f"/members/{leaving}")).status_code == 200


def test_C6_references_are_removed_with_null_and_checked_all_or_nothing(api: Api) -> None:
    t = make_tenant(api, "customersuccessbox")
    csm = invite(t, "csm@acme.test", "csm")
    refs(t, ("task-1", csm))
    body = {
        "references": [
            {"id": "task-2", "kind": "playbook_task", "label": "x", "member": csm},
            {"id": "task-3", "kind": "playbook_task", "label": "y", "member": "nobody"},
        ]
    }
    problem = assert_problem(t.api.post(t.url("/references/bulk"), json=body), 422, "invalid_input")
    assert "nobody" in problem["detail"]
    assert problem.get("rule") is None
    assert [r["id"] for r in t.api.get(t.url("/references")).json()["items"]] == ["task-1"]
    assert refs(t, ("task-1", None))["removed"] == 1
    assert t.api.get(t.url("/references")).json()["items"] == []
    assert t.api.post(t.url(f"/members/{csm}/disable")).status_code == 200
    events = t.api.get(t.url("/audit"), params={"action": "references.put"}).json()["events"]
    assert len(events) == 2
    # Registering references needs the assign-records right (the host's key acts as such a member).
    assert_problem(
        t.api.as_(actor=invite(t, "dev@acme.test", "developer")).post(
            t.url("/references/bulk"), json={"references": [{"id": "t", "kind": "k", "label": "l", "member": None}]}
        ),
        403,
        "permission_denied",
    )
