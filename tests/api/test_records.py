"""The record index over HTTP: PUT and DELETE records, with C7 parents and N9/N12."""

from __future__ import annotations

from tests.api.conftest import Api, Tenant, assert_problem, invite, make_tenant


def test_put_record_returns_it_with_a_revision_and_delete_cascades(natero: Tenant) -> None:
    r = natero.api.put(natero.url("/records/account/acc-1"), json={})
    assert r.status_code == 200, r.text
    assert r.json()["record"] == {"type": "account", "id": "acc-1", "parent": None, "assignee": None}
    rev = r.json()["revision"]
    r = natero.api.put(natero.url("/records/task/t-1"), json={"parent": {"type": "account", "id": "acc-1"}})
    assert r.status_code == 200, r.text
    assert r.json()["record"]["parent"] == {"type": "account", "id": "acc-1"}
    assert r.json()["revision"] == rev + 1
    # The same record again changes nothing.
    assert natero.api.put(natero.url("/records/task/t-1"), json={"parent": {"type": "account", "id": "acc-1"}}).json()["revision"] == rev + 1
    r = natero.api.delete(natero.url("/records/account/acc-1"))
    assert r.status_code == 200, r.text
    assert r.json()["revision"] == rev + 2
    events = natero.api.get(natero.url("/audit"), params={"action": "record.delete"}).json()["events"]
    assert events[-1]["after"] == {"deleted": 2}


def test_C7_a_child_record_needs_its_parent(natero: Tenant, api: Api) -> None:
    csb = make_tenant(api, "customersuccessbox")
    body = assert_problem(csb.api.put(csb.url("/records/task/t-1"), json={}), 422, "invalid_record")
    assert "C7" in body["detail"]
    body = assert_problem(natero.api.put(natero.url("/records/task/t-1"), json={}), 422, "invalid_record")
    assert "C7" not in body["detail"]  # Natero's article has no C7: its own words, no other product's id
    assert_problem(natero.api.put(natero.url("/records/task/t-1"), json={"parent": {"type": "account", "id": "nope"}}), 422, "invalid_record")
    assert_problem(natero.api.put(natero.url("/records/planet/p-1"), json={}), 422, "invalid_record")


def test_N9_only_a_member_with_the_csm_seat_can_be_assigned_accounts(natero: Tenant) -> None:
    guest = invite(natero, "g@acme.test", "guest")
    assert_problem(natero.api.put(natero.url("/records/account/acc-1"), json={"assignee": guest}), 409, "rule_violation", rule="N9")
    assert_problem(natero.api.put(natero.url("/records/account/acc-1"), json={"assignee": "nobody"}), 409, "rule_violation", rule="N9")


def test_N12_assigning_needs_configure_users(natero: Tenant) -> None:
    csm = invite(natero, "c@acme.test", "csm")
    r = natero.api.as_(actor=csm).put(natero.url("/records/account/acc-1"), json={"assignee": csm})
    assert_problem(r, 403, "permission_denied", rule="N12")
    # Without an assignee change no right is needed: the host syncs its records.
    assert natero.api.as_(actor=csm).put(natero.url("/records/account/acc-2"), json={}).status_code == 200


def test_deleting_a_record_that_is_not_there_changes_nothing(natero: Tenant) -> None:
    r = natero.api.delete(natero.url("/records/account/ghost"))
    assert r.status_code == 200, r.text
    assert r.json()["revision"] == natero.revision
