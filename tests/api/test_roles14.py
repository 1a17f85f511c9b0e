"""Issue 14 on roles: N12 (a seat is not a privilege), N7/T9 (deleting a role that still
has members, where the article allows it) and K6/K8 (Catalyst custom roles and their
field access), as an integrator of each product meets them over HTTP."""

from __future__ import annotations

from tests.api.conftest import Api, Tenant, assert_problem, invite, make_tenant


def test_N12_configure_users_adds_csms_without_holding_the_csm_seat(natero: Tenant) -> None:
    # The Analyst role holds every permission except the CSM seat (N3), Configure users included.
    analyst = invite(natero, "an@acme.test", "analyst")
    as_analyst = natero.api.as_(actor=analyst)
    r = as_analyst.post(natero.url("/members"), json={"email": "csm@acme.test", "role": "csm"})
    assert r.status_code == 201, r.text
    assert r.json()["member"]["role"] == "csm"
    # Still no escalation on real privileges: a role granting the seat and more than he holds.
    r = as_analyst.post(
        natero.url("/roles"), json={"name": "Seat only", "grants": ["accounts.csm_seat"], "landing_page": "my_accounts"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["role"]["seat"] == "csm"


def _custom(t: Tenant, name: str, grants: list[str], **extra: object) -> str:
    r = t.api.post(t.url("/roles"), json={"name": name, "grants": grants, **extra})
    assert r.status_code == 201, r.text
    role: str = r.json()["role"]["id"]
    return role


def _assign(t: Tenant, account: str, member: str | None) -> None:
    r = t.api.put(t.url(f"/records/account/{account}"), json={"assignee": member})
    assert r.status_code == 200, r.text


def _role_of(t: Tenant, member: str) -> str:
    r = t.api.get(t.url("/members"))
    assert r.status_code == 200, r.text
    body = r.json()
    listed = body if isinstance(body, list) else body.get("members", body.get("items"))
    role: str = next(m for m in listed if m["id"] == member)["role"]
    return role


def test_N7_a_role_is_deleted_once_accounts_are_switched_its_members_moving_to_a_replacement(natero: Tenant) -> None:
    role = _custom(natero, "Field CSM", ["accounts.csm_seat"], landing_page="my_accounts")
    a = invite(natero, "a@acme.test", role)
    b = invite(natero, "b@acme.test", role, activate=False)
    _assign(natero, "acc-1", a)
    # Accounts still assigned: N7 refuses, replacement or not.
    r = natero.api.delete(natero.url(f"/roles/{role}"), params={"replacement": "csm"})
    body = assert_problem(r, 409, "rule_violation", rule="N7")
    assert "unassign" in body["violations"][0]["fix"].lower()
    _assign(natero, "acc-1", None)
    # Without a replacement the role is still in use, and the refusal says how to name one.
    body = assert_problem(natero.api.delete(natero.url(f"/roles/{role}")), 409, "rule_violation")
    assert "replacement" in body["violations"][0]["fix"]
    # A role cannot replace itself; an unknown replacement is a 404.
    assert_problem(natero.api.delete(natero.url(f"/roles/{role}"), params={"replacement": role}), 409, "rule_violation")
    assert_problem(natero.api.delete(natero.url(f"/roles/{role}"), params={"replacement": "nope"}), 404, "not_found")
    # Named in the body: the holders move to CSM and the role goes, in one transaction.
    r = natero.api.request("DELETE", natero.url(f"/roles/{role}"), json={"replacement": "csm"})
    assert r.status_code == 200, r.text
    assert (_role_of(natero, a), _role_of(natero, b)) == ("csm", "csm")
    assert_problem(natero.api.get(natero.url(f"/roles/{role}")), 404, "not_found")
    audit = natero.api.get(natero.url("/audit")).json()
    entries = audit.get("events", audit.get("items"))
    actions = [e["action"] for e in entries]
    assert actions.count("member.change_role") >= 2
    assert "role.delete" in actions


def test_N7_a_replacement_without_the_seats_for_the_holders_is_refused(api: Api) -> None:
    t = make_tenant(api, "natero", seat_capacities={"csm": 2})  # the owner (CSM Manager) takes one
    assert t.api.get(t.url("/schema")).json()["role_delete_with_members"] == "replace"
    role = _custom(t, "Readers", ["accounts.view_all"], landing_page="all_accounts")
    r1 = invite(t, "r1@acme.test", role)
    invite(t, "r2@acme.test", role)
    body = assert_problem(t.api.delete(t.url(f"/roles/{role}"), params={"replacement": "csm"}), 409, "rule_violation")
    assert "CSM seat" in body["detail"]
    assert _role_of(t, r1) == role  # nothing moved, nothing deleted
    assert t.api.get(t.url(f"/roles/{role}")).status_code == 200
    assert t.api.delete(t.url(f"/roles/{role}"), params={"replacement": "guest"}).status_code == 200
    assert _role_of(t, r1) == "guest"


def test_T9_a_role_held_by_a_member_is_refused_even_with_a_replacement(api: Api) -> None:
    t = make_tenant(api, "telephony")
    role = _custom(t, "Night shift", ["numbers.view"], level="analyst")
    member = invite(t, "night@acme.test", role, activate=False)
    assert t.api.get(t.url("/schema")).json()["role_delete_with_members"] == "refuse"
    body = assert_problem(
        t.api.delete(t.url(f"/roles/{role}"), params={"replacement": "analyst"}), 409, "rule_violation", rule="T9"
    )
    assert "replacement" not in body["violations"][0]["fix"]
    assert _role_of(t, member) == role


def test_T9_other_products_without_the_article_keep_refusing(api: Api) -> None:
    t = make_tenant(api, "catalyst")
    assert t.api.get(t.url("/schema")).json()["role_delete_with_members"] == "refuse"
    role = _custom(t, "Analysts", [], level="limited")
    invite(t, "k@acme.test", role)
    r = t.api.delete(t.url(f"/roles/{role}"), params={"replacement": "viewer"})
    assert r.status_code == 409, r.text


def test_K6_creating_a_role_sets_its_field_permissions_per_object_in_the_same_step(api: Api) -> None:
    t = make_tenant(api, "catalyst")
    fields = {"account": {"health_notes": "read", "renewal_risk": "none"}, "custom_object": {"name": "write"}}
    r = t.api.post(t.url("/roles"), json={"name": "Renewals", "level": "standard", "field_access": fields})
    assert r.status_code == 201, r.text
    role = r.json()["role"]
    assert role["field_access"]["account"]["health_notes"] == "read"
    assert role["field_access"]["account"]["renewal_risk"] == "none"
    assert role["field_access"]["custom_object"] == {"name": "write"}
    # ... and the rest of the standard objects as the level allows (K8), in one revision.
    assert role["field_access"]["opportunity"]["next_steps"] == "write"
    assert r.json()["revision"] == t.revision + 1
    # A field permission the level or the integration forbids is refused at creation (K9).
    r = t.api.post(
        t.url("/roles"),
        json={"name": "Too much", "level": "standard", "field_access": {"account": {"contract_value": "write"}}},
    )
    assert_problem(r, 409, "rule_violation", rule="K9")


def test_K8_a_new_role_starts_with_the_standard_objects_selected_as_level_and_integration_allow(api: Api) -> None:
    t = make_tenant(api, "catalyst")
    r = t.api.post(t.url("/roles"), json={"name": "Editors", "level": "standard"})
    assert r.status_code == 201, r.text
    fa = r.json()["role"]["field_access"]
    assert fa["account"] == {
        "arr": "write",
        "contract_value": "read",
        "health_notes": "write",
        "name": "write",
        "owner": "write",
        "renewal_risk": "write",
    }
    assert fa["contact"]["title"] == "write"
    assert fa["opportunity"]["amount"] == "write"
    assert "custom_object" not in fa  # additional objects start unselected
    limited = t.api.post(t.url("/roles"), json={"name": "Readers", "level": "limited"}).json()["role"]["field_access"]
    assert set(limited["account"].values()) == {"read"}
    # A field mapped afterwards starts unselected for the role.
    editor = invite(t, "ed@acme.test", r.json()["role"]["id"])
    r = t.api.post(t.url("/objects/account/fields"), json={"name": "nps", "label": "NPS"})
    assert r.status_code == 201, r.text
    out = t.api.post(
        t.url("/fields/filter"),
        json={
            "member": editor,
            "object": "account",
            "record": {"nps": 9, "arr": 1, "name": "A"},
            "min_revision": r.json()["revision"],
        },
    )
    assert out.json()["record"] == {"arr": 1, "name": "A"}
    obj = t.api.post(
        t.url("/fields/filter"),
        json={"member": editor, "object": "custom_object", "record": {"name": "x", "status": "y"}},
    )
    assert obj.json()["record"] == {}


def test_K5_K6_the_roles_api_shows_a_system_roles_effective_field_access_and_a_clone_copies_it(api: Api) -> None:
    t = make_tenant(api, "catalyst")
    member = t.api.get(t.url("/roles/member")).json()
    member = member.get("role", member)
    assert member["field_access"]["account"]["contract_value"] == "read"  # K9 cap on the mirror
    assert member["field_access"]["custom_object"]["name"] == "write"
    viewer = t.api.get(t.url("/roles/viewer")).json()
    viewer = viewer.get("role", viewer)
    assert set(viewer["field_access"]["account"].values()) == {"read"}
    clone = t.api.post(t.url("/roles/member/clone"), json={"name": "Member copy"})
    assert clone.status_code == 201, clone.text
    assert clone.json()["role"]["field_access"] == member["field_access"]
    # The copy is explicit: it stays as it was when a new field is mapped (K8), unlike the mirror.
    r = t.api.post(t.url("/objects/account/fields"), json={"name": "nps", "label": "NPS"})
    assert r.status_code == 201, r.text
    copied = t.api.get(t.url(f"/roles/{clone.json()['role']['id']}")).json()
    copied = copied.get("role", copied)
    assert "nps" not in copied["field_access"]["account"]
    mirrored = t.api.get(t.url("/roles/member")).json()
    assert mirrored.get("role", mirrored)["field_access"]["account"]["nps"] == "write"


def test_K8_the_starting_selection_never_exceeds_what_the_creator_holds(api: Api) -> None:
    t = make_tenant(api, "catalyst")
    r = t.api.post(
        t.url("/roles"),
        json={"name": "Managers", "level": "high", "field_access": {"account": {"health_notes": "none"}}},
    )
    assert r.status_code == 201, r.text
    manager = t.api.as_(actor=invite(t, "boss@acme.test", r.json()["role"]["id"]))
    r = manager.post(t.url("/roles"), json={"name": "Team", "level": "standard"})
    assert r.status_code == 201, r.text
    fa = r.json()["role"]["field_access"]["account"]
    assert fa["health_notes"] == "none"
    assert fa["renewal_risk"] == "write"
