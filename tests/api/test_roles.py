"""Roles over HTTP: list (T3), create, read, edit, clone, delete, the matrix (T6), and
the rules that refuse (N6, N7, K4, T8, T9, T10, N12), each named in the problem."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api, Tenant, assert_problem, invite, make_tenant


def csm_role(t: Tenant, name: str = "Field CSM") -> dict[str, Any]:
    r = t.api.post(t.url("/roles"), json={"name": name, "grants": ["accounts.csm_seat"], "landing_page": "my_accounts", "description": "CSMs in the field"})
    assert r.status_code == 201, r.text
    role: dict[str, Any] = r.json()["role"]
    return role


def assign_account(t: Tenant, account: str, member: str | None) -> int:
    r = t.api.put(t.url(f"/records/account/{account}"), json={"assignee": member})
    assert r.status_code == 200, r.text
    revision: int = r.json()["revision"]
    return revision


def test_T3_roles_list_shows_type_level_description_counts_and_dates(natero: Tenant) -> None:
    role = csm_role(natero)
    invite(natero, "a@acme.test", role["id"])
    invite(natero, "b@acme.test", role["id"], activate=False)
    r = natero.api.get(natero.url("/roles"))
    assert r.status_code == 200, r.text
    roles = {x["id"]: x for x in r.json()["roles"]}
    mine = roles[role["id"]]
    assert mine["type"] == "custom"
    assert mine["level"] == mine["seat"] == "csm"
    assert mine["description"] == "CSMs in the field"
    assert (mine["active_members"], mine["invited_members"]) == (1, 1)
    assert mine["created_at"]
    assert mine["updated_at"] >= mine["created_at"]
    assert roles["csm_manager"]["type"] == "system"
    assert roles["csm_manager"]["active_members"] == 1  # the owner
    assert r.json()["revision"] >= 1


def test_create_read_edit_clone_delete_a_custom_role(natero: Tenant) -> None:
    created = natero.api.post(natero.url("/roles"), json={"name": "Readers", "grants": ["accounts.view_all"], "landing_page": "all_accounts"})
    assert created.status_code == 201, created.text
    role = created.json()["role"]
    rev = created.json()["revision"]
    assert rev > natero.revision
    assert role["level"] == "analyst"  # N2: no CSM seat permission -> Analyst seat
    assert natero.api.get(natero.url(f"/roles/{role['id']}")).json()["grants"] == ["accounts.view_all"]

    edited = natero.api.patch(natero.url(f"/roles/{role['id']}"), json={"grants": ["accounts.view_all", "accounts.update"], "name": "Editors"})
    assert edited.status_code == 200, edited.text
    assert edited.json()["role"]["name"] == "Editors"
    assert edited.json()["revision"] == rev + 1

    clone = natero.api.post(natero.url(f"/roles/{role['id']}/clone"), json={"name": "Editors 2"})
    assert clone.status_code == 201, clone.text
    assert clone.json()["role"]["grants"] == ["accounts.update", "accounts.view_all"]

    gone = natero.api.delete(natero.url(f"/roles/{role['id']}"))
    assert gone.status_code == 200, gone.text
    assert gone.json()["revision"] == rev + 3
    assert_problem(natero.api.get(natero.url(f"/roles/{role['id']}")), 404, "not_found")


def test_clone_without_body_names_the_copy(natero: Tenant) -> None:
    r = natero.api.post(natero.url("/roles/guest/clone"))
    assert r.status_code == 201, r.text
    assert r.json()["role"]["name"] == "Guest (copy)"


def test_duplicate_name_is_refused_as_plain_validation(natero: Tenant) -> None:
    csm_role(natero, "Twins")
    r = natero.api.post(natero.url("/roles"), json={"name": "twins", "grants": [], "landing_page": "dashboard"})
    body = assert_problem(r, 409, "rule_violation")
    assert body["rule"] is None
    assert [v["code"] for v in body["violations"]] == ["name_taken"]


def test_N6_csm_seat_permission_cannot_be_turned_off_while_accounts_are_assigned(natero: Tenant) -> None:
    role = csm_role(natero)
    member = invite(natero, "csm@acme.test", role["id"])
    assign_account(natero, "acc-1", member)
    r = natero.api.patch(natero.url(f"/roles/{role['id']}"), json={"grants": ["accounts.update"], "landing_page": "dashboard"})
    body = assert_problem(r, 409, "rule_violation", rule="N6")
    assert body["violations"][0]["fix"]
    # Once the account is switched to no one, the permission can go.
    assign_account(natero, "acc-1", None)
    r = natero.api.patch(natero.url(f"/roles/{role['id']}"), json={"grants": ["accounts.update"], "landing_page": "dashboard"})
    assert r.status_code == 200, r.text
    assert r.json()["role"]["level"] == "analyst"


def test_N7_role_whose_members_have_assigned_accounts_cannot_be_deleted(natero: Tenant) -> None:
    role = csm_role(natero)
    member = invite(natero, "csm@acme.test", role["id"])
    assign_account(natero, "acc-1", member)
    body = assert_problem(natero.api.delete(natero.url(f"/roles/{role['id']}")), 409, "rule_violation", rule="N7")
    assert body["violations"][0]["rule"] == "N7"
    assert "unassign" in body["violations"][0]["fix"].lower()


def test_T9_role_with_an_invited_member_cannot_be_deleted(api: Api) -> None:
    t = make_tenant(api, "telephony")
    r = t.api.post(t.url("/roles"), json={"name": "Night shift", "level": "analyst", "grants": ["numbers.view"]})
    assert r.status_code == 201, r.text
    role = r.json()["role"]["id"]
    member = invite(t, "night@acme.test", role, activate=False)
    body = assert_problem(t.api.delete(t.url(f"/roles/{role}")), 409, "rule_violation", rule="T9")
    assert "1 invited" in body["detail"]
    assert t.api.patch(t.url(f"/members/{member}"), json={"role": "analyst"}).status_code == 200
    assert t.api.delete(t.url(f"/roles/{role}")).status_code == 200


def test_T8_standard_roles_cannot_be_deleted(api: Api) -> None:
    t = make_tenant(api, "telephony")
    assert_problem(t.api.delete(t.url("/roles/analyst")), 409, "rule_violation", rule="T8")


def test_K4_system_roles_cannot_be_edited_or_deleted(api: Api) -> None:
    t = make_tenant(api, "catalyst")
    r = t.api.patch(t.url("/roles/member"), json={"name": "Members"})
    assert_problem(r, 409, "rule_violation", rule="K4")
    assert_problem(t.api.delete(t.url("/roles/viewer")), 409, "rule_violation", rule="K4")


def test_K6_custom_role_level_cannot_change_after_save(api: Api) -> None:
    t = make_tenant(api, "catalyst")
    r = t.api.post(t.url("/roles"), json={"name": "Analysts", "level": "limited"})
    assert r.status_code == 201, r.text
    role = r.json()["role"]["id"]
    assert_problem(t.api.patch(t.url(f"/roles/{role}"), json={"level": "standard"}), 409, "rule_violation", rule="K6")


def test_T10_member_without_the_view_roles_right_cannot_list_roles(api: Api) -> None:
    t = make_tenant(api, "telephony")
    analyst = invite(t, "an@acme.test", "analyst")
    body = assert_problem(t.api.as_(actor=analyst).get(t.url("/roles")), 403, "permission_denied", rule="T10")
    assert "Ask" in body["detail"]


def test_N12_member_without_configure_users_cannot_create_roles(natero: Tenant) -> None:
    guest = invite(natero, "g@acme.test", "guest")
    r = natero.api.as_(actor=guest).post(natero.url("/roles"), json={"name": "Mine", "grants": [], "landing_page": "dashboard"})
    assert_problem(r, 403, "permission_denied", rule="N12")


def test_unknown_actor_is_refused_not_found_is_for_roles(natero: Tenant) -> None:
    assert_problem(natero.api.as_(actor="nobody").get(natero.url("/roles")), 403, "actor_refused")
    assert_problem(natero.api.get(natero.url("/roles/nope")), 404, "not_found")
    assert_problem(natero.api.patch(natero.url("/roles/nope"), json={"name": "x"}), 404, "not_found")


def test_T6_matrix_marks_locked_inert_and_unavailable_cells(api: Api) -> None:
    t = make_tenant(api, "telephony")
    r = t.api.get(t.url("/matrix"))
    assert r.status_code == 200, r.text
    m = r.json()
    col = {role["id"]: i for i, role in enumerate(m["roles"])}
    rows = {row["permission"]: row["cells"] for row in m["rows"]}
    assert rows["account.billing"][col["owner"]] == "locked"  # T7: part of the Owner license
    assert rows["account.billing"][col["analyst"]] == "unavailable"  # above the Analyst ceiling
    assert rows["reports.view"][col["analyst"]] == "locked"
    assert {c for cells in rows.values() for c in cells} <= {"on", "locked", "inert", "off", "unavailable"}
    assert len(m["rows"]) == len(t.api.get(t.url("/schema")).json()["permissions"])


def test_invalid_role_bodies_are_request_problems(natero: Tenant) -> None:
    r = natero.api.post(natero.url("/roles"), json={"name": "", "grants": []})
    assert_problem(r, 422, "request_invalid")
    r = natero.api.post(natero.url("/roles"), json={"name": "x", "field_access": {"account": {"name": "rw"}}})
    body = assert_problem(r, 422, "request_invalid")
    assert body["errors"][0]["loc"][:2] == ["body", "field_access"]
    r = natero.api.post(natero.url("/roles"), json={"name": "x", "surprise": 1})
    assert_problem(r, 422, "request_invalid")


def test_unknown_permission_is_a_rule_violation(api: Api) -> None:
    t = make_tenant(api, "telephony")
    r = t.api.post(t.url("/roles"), json={"name": "Y", "level": "analyst", "grants": ["warp.drive"]})
    assert assert_problem(r, 409, "rule_violation")["rule"] is None


def test_unknown_level_on_create_is_a_rule_violation_not_a_crash(api: Api) -> None:
    t = make_tenant(api, "telephony")
    r = t.api.post(t.url("/roles"), json={"name": "X", "level": "emperor"})
    assert assert_problem(r, 409, "rule_violation")["rule"] is None


def test_unknown_level_on_edit_is_a_rule_violation_not_a_crash(api: Api) -> None:
    t = make_tenant(api, "telephony")
    r = t.api.patch(t.url("/roles/administrator"), json={"level": "emperor"})
    assert assert_problem(r, 409, "rule_violation")["rule"] is None
