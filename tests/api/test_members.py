"""Members over HTTP: list, invite, activate (T4), change role, disable and enable,
with the team rules (C4, C5, C6, T11, N1 seats, N9) refusing through problems."""

from __future__ import annotations

from tests.api.conftest import Api, Tenant, assert_problem, invite, make_tenant


def test_invite_lists_the_member_and_T4_activate_makes_them_active(natero: Tenant) -> None:
    r = natero.api.post(natero.url("/members"), json={"email": "Cat@Acme.test", "role": "guest", "name": "Cat"})
    assert r.status_code == 201, r.text
    member = r.json()["member"]
    assert (member["email"], member["status"], member["role"]) == ("cat@acme.test", "invited", "guest")
    assert member["invited_at"] is not None
    before = natero.api.post(natero.url("/check"), json={"member": member["id"], "action": "accounts.view"}).json()
    assert before["allowed"] is False  # T4: invited members can do nothing

    r = natero.api.post(natero.url(f"/members/{member['id']}/activate"))
    assert r.status_code == 200, r.text
    assert r.json()["member"]["status"] == "active"
    after = natero.api.post(natero.url("/check"), json={"member": member["id"], "action": "accounts.view", "min_revision": r.json()["revision"]}).json()
    assert after["allowed"] is True

    listed = natero.api.get(natero.url("/members")).json()["members"]
    assert {m["email"] for m in listed} == {"owner@natero.test", "cat@acme.test"}


def test_T4_only_an_invitation_can_be_accepted(api: Api) -> None:
    t = make_tenant(api, "telephony")
    member = invite(t, "cat@acme.test", "analyst")
    assert_problem(t.api.post(t.url(f"/members/{member}/activate")), 409, "rule_violation", rule="T4")


def test_T4_the_invited_member_accepts_as_themselves(natero: Tenant) -> None:
    member = invite(natero, "cat@acme.test", "guest", activate=False)
    r = natero.api.as_(actor=member).post(natero.url(f"/members/{member}/activate"))
    assert r.status_code == 200, r.text


def test_change_role_disable_enable(natero: Tenant) -> None:
    member = invite(natero, "cat@acme.test", "guest")
    r = natero.api.patch(natero.url(f"/members/{member}"), json={"role": "executive"})
    assert r.status_code == 200, r.text
    assert r.json()["member"]["role"] == "executive"
    r = natero.api.post(natero.url(f"/members/{member}/disable"))
    assert r.status_code == 200, r.text
    assert r.json()["member"]["status"] == "disabled"
    assert r.json()["member"]["disabled_at"] is not None
    rev = r.json()["revision"]
    # Disabling again changes nothing and says so with the same revision.
    again = natero.api.post(natero.url(f"/members/{member}/disable"))
    assert again.json()["revision"] == rev
    r = natero.api.post(natero.url(f"/members/{member}/enable"))
    assert r.status_code == 200, r.text
    assert r.json()["member"]["status"] == "active"
    assert r.json()["revision"] == rev + 1


def test_N1_invite_beyond_seat_capacity_is_refused(api: Api) -> None:
    t = make_tenant(api, "natero", seat_capacities={"csm": 1})
    r = t.api.post(t.url("/members"), json={"email": "c@acme.test", "role": "csm"})
    body = assert_problem(r, 409, "rule_violation", rule="N1")
    assert "CSM seat" in body["detail"]


def test_K2_enable_needs_a_free_license(api: Api) -> None:
    t = make_tenant(api, "catalyst", seat_capacities={"viewer": 1})
    member = invite(t, "v@acme.test", "viewer")
    assert t.api.post(t.url(f"/members/{member}/disable")).status_code == 200
    invite(t, "w@acme.test", "viewer")
    assert_problem(t.api.post(t.url(f"/members/{member}/enable")), 409, "rule_violation", rule="K2")


def test_C5_a_member_cannot_disable_themselves(api: Api) -> None:
    t = make_tenant(api, "customersuccessbox")
    other = invite(t, "admin2@acme.test", "administrator")
    r = t.api.as_(actor=other).post(t.url(f"/members/{other}/disable"))
    assert_problem(r, 409, "rule_violation", rule="C5")


def test_C4_the_only_administrator_cannot_downgrade_themselves(api: Api) -> None:
    t = make_tenant(api, "customersuccessbox")
    r = t.api.patch(t.url(f"/members/{t.owner}"), json={"role": "csm"})
    assert_problem(r, 409, "rule_violation", rule="C4")


def test_C6_member_with_assigned_accounts_cannot_be_disabled(api: Api) -> None:
    t = make_tenant(api, "customersuccessbox")
    csm = invite(t, "csm@acme.test", "csm")
    assert t.api.put(t.url("/records/account/acc-1"), json={"assignee": csm}).status_code == 200
    assert_problem(t.api.post(t.url(f"/members/{csm}/disable")), 409, "rule_violation", rule="C6")


def test_T11_the_last_owner_cannot_be_demoted(api: Api) -> None:
    t = make_tenant(api, "telephony")
    admin = invite(t, "adm@acme.test", "owner")
    assert t.api.patch(t.url(f"/members/{admin}"), json={"role": "analyst"}).status_code == 200
    assert_problem(t.api.as_(actor=admin).patch(t.url(f"/members/{t.owner}"), json={"role": "analyst"}), 403, "permission_denied", rule="T10")
    assert_problem(t.api.patch(t.url(f"/members/{t.owner}"), json={"role": "analyst"}), 409, "rule_violation", rule="T11")


def test_C1_only_administrators_manage_the_team(api: Api) -> None:
    t = make_tenant(api, "customersuccessbox")
    csm = invite(t, "csm@acme.test", "csm")
    r = t.api.as_(actor=csm).post(t.url("/members"), json={"email": "x@acme.test", "role": "csm"})
    assert_problem(r, 403, "permission_denied", rule="C1")


def test_unknown_member_and_role_are_not_found(natero: Tenant) -> None:
    assert_problem(natero.api.post(natero.url("/members/nobody/disable")), 404, "not_found")
    assert_problem(natero.api.post(natero.url("/members"), json={"email": "z@acme.test", "role": "emperor"}), 404, "not_found")
    assert_problem(natero.api.post(natero.url("/members"), json={"email": "not-an-email", "role": "guest"}), 409, "rule_violation")
    # plain validation: no seed rule (issue 14)
    assert natero.api.post(natero.url("/members"), json={"email": "not-an-email", "role": "guest"}).json()["rule"] is None
