"""POST /v1/workspaces, GET /v1/workspaces/{id}, GET .../schema."""

from __future__ import annotations

import threading

import pytest

from rolegate.bootstrap import Rolegate
from rolegate.services.api_keys import create_api_key
from tests.api.conftest import Api, Tenant, assert_problem, invite, make_tenant
from tests.statements import other_tenants, statements


def test_create_workspace_returns_workspace_owner_and_revision(api: Api) -> None:
    r = api.post(
        "/v1/workspaces",
        json={
            "preset": "natero",
            "name": "Acme",
            "owner_email": "Ann@Acme.test",
            "owner_name": "Ann",
            "seat_capacities": {"csm": 3},
        },
    )
    assert r.status_code == 201, r.text
    data = r.json()
    ws = data["workspace"]
    assert ws["preset"] == "natero"
    assert ws["seats"] == {
        "csm": {"label": "CSM seat", "used": 1, "active": 1, "invited": 0, "capacity": 3},
        "analyst": {"label": "Analyst seat", "used": 0, "active": 0, "invited": 0, "capacity": None},
    }
    assert data["owner"]["email"] == "ann@acme.test"
    assert data["owner"]["status"] == "active"
    assert data["owner"]["role"] == "csm_manager"
    assert data["revision"] == ws["revision"] > 0


def test_get_workspace_counts_seats_of_active_and_invited_members(natero: Tenant) -> None:
    invite(natero, "cat@acme.test", "csm")
    invite(natero, "dan@acme.test", "guest", activate=False)
    r = natero.api.get(natero.url())
    assert r.status_code == 200, r.text
    seats = r.json()["seats"]
    assert seats["csm"]["used"] == 2
    assert seats["analyst"]["used"] == 1


def test_N1_seat_capacity_too_small_for_the_owner_is_refused(api: Api) -> None:
    r = api.post(
        "/v1/workspaces",
        json={"preset": "natero", "name": "Acme", "owner_email": "a@acme.test", "seat_capacities": {"csm": 0}},
    )
    assert_problem(r, 409, "rule_violation", rule="N1")


def test_unknown_seat_and_feature_are_refused_with_their_rules(api: Api) -> None:
    r = api.post(
        "/v1/workspaces",
        json={"preset": "natero", "name": "Acme", "owner_email": "a@acme.test", "seat_capacities": {"gold": 1}},
    )
    assert_problem(r, 409, "rule_violation", rule="N1")
    r = api.post(
        "/v1/workspaces", json={"preset": "natero", "name": "Acme", "owner_email": "a@acme.test", "features": ["warp"]}
    )
    assert assert_problem(r, 409, "rule_violation")["rule"] is None  # E4 is email marketing's


def test_unknown_preset_is_a_schema_problem(api: Api) -> None:
    r = api.post("/v1/workspaces", json={"preset": "natro", "name": "Acme", "owner_email": "a@acme.test"})
    body = assert_problem(r, 422, "schema_invalid")
    assert "natero" in body["detail"]


def test_workspace_scoped_key_cannot_create_workspaces(api: Api, rolegate: Rolegate, org: str, natero: Tenant) -> None:
    key = create_api_key(rolegate.uow(), organization_id=org, workspace_id=natero.id, rights={"admin"}, name="one")
    r = api.as_(key=key).post("/v1/workspaces", json={"preset": "natero", "name": "B", "owner_email": "b@acme.test"})
    assert_problem(r, 403, "key_forbidden")


def test_schema_lists_the_resolved_catalog(natero: Tenant) -> None:
    r = natero.api.get(natero.url("/schema"))
    assert r.status_code == 200, r.text
    s = r.json()
    assert s["key"] == "natero"
    assert s["level_mode"] == "marker"
    perms = {p["key"]: p for p in s["permissions"]}
    seat = perms["accounts.csm_seat"]
    assert seat["label"] == "Customer Success Manager Seat"
    assert seat["area"] == "accounts"
    assert {"action": "accounts.view", "scope": "assigned", "feature": None} in seat["grants"]
    levels = {lv["key"]: lv for lv in s["levels"]}
    assert levels["csm"]["seat"] == "csm"
    assert "accounts.csm_seat" not in levels["analyst"]["ceiling"]
    assert {lp["key"] for lp in s["landing_pages"]} >= {"dashboard", "my_accounts"}
    objects = {o["key"]: o for o in s["objects"]}
    assert objects["task"]["parent"] == "account"
    assert s["admin_actions"]["manage_roles"] == "roles.configure"


def test_schema_shows_requirements_features_and_pairs(api: Api) -> None:
    t = make_tenant(api, "email_marketing")
    s = t.api.get(t.url("/schema")).json()
    perms = s["permissions"]
    assert any(p["requires"] for p in perms)  # E6
    assert any(p["feature"] for p in perms)  # E4
    tele = make_tenant(api, "telephony")
    pairs = [p["pair"] for p in tele.api.get(tele.url("/schema")).json()["permissions"] if p["pair"]]
    assert pairs  # T7: View/Manage pairs
    assert {"row", "column"} == set(pairs[0])


def test_E5_platform_turns_a_feature_on_and_the_gated_permission_takes_effect(api: Api) -> None:
    t = make_tenant(api, "email_marketing")
    site = t.owner
    check = {"member": site, "action": "contacts_sms.view"}
    assert api.post(t.url("/check"), json=check).json()["allowed"] is False
    r = api.without_actor().put(t.url("/settings"), json={"features": ["sms"]})
    assert r.status_code == 200, r.text
    assert r.json()["features"] == ["sms"]
    assert api.post(t.url("/check"), json=check).json()["allowed"] is True


def test_N1_seat_capacity_cannot_shrink_below_use(natero: Tenant, api: Api) -> None:
    r = api.without_actor().put(natero.url("/settings"), json={"seat_capacities": {"csm": 0}})
    assert_problem(r, 409, "rule_violation", rule="N1")
    r = api.without_actor().put(natero.url("/settings"), json={"seat_capacities": {"csm": 5}})
    assert r.status_code == 200, r.text
    assert r.json()["seats"]["csm"]["capacity"] == 5


def test_settings_need_an_organization_wide_key(natero: Tenant, rolegate: Rolegate) -> None:
    with rolegate.uow() as uow:
        ws = uow.workspaces.get(natero.id)
    assert ws is not None
    scoped = create_api_key(
        rolegate.uow(),
        organization_id=ws.organization_id,
        workspace_id=natero.id,
        rights={"admin", "decide"},
        name="scoped",
    )
    r = natero.api.as_(key=scoped).without_actor().put(natero.url("/settings"), json={"features": []})
    assert_problem(r, 403, "key_forbidden")


def test_settings_are_one_transaction_a_refused_part_leaves_the_whole_unchanged(api: Api) -> None:
    # Before, the features were committed (and audited, revision bumped) before the
    # seat capacities were refused: a 409 that had changed the workspace.
    t = make_tenant(api, "email_marketing")
    before = api.get(t.url()).json()
    events = t.api.get(t.url("/audit")).json()["events"]
    r = api.without_actor().put(t.url("/settings"), json={"features": ["sms"], "seat_capacities": {"gold": 1}})
    assert assert_problem(r, 409, "rule_violation")["rule"] is None  # no seats in email marketing: no N1
    after = api.get(t.url()).json()
    assert after["features"] == before["features"] == []
    assert after["revision"] == before["revision"]
    assert t.api.get(t.url("/audit")).json()["events"] == events


def test_settings_write_both_parts_and_answer_the_revision_they_made(api: Api, natero: Tenant) -> None:
    r = api.without_actor().put(natero.url("/settings"), json={"features": [], "seat_capacities": {"csm": 4}})
    assert r.status_code == 200, r.text
    assert r.json()["seats"]["csm"]["capacity"] == 4
    assert r.json()["revision"] == natero.revision + 2  # one audited change per part
    assert api.get(natero.url()).json() == r.json()


@pytest.mark.parametrize("path", ["", "/audit", "/audit/verify", "/audit/retention", "/audit/export"])
def test_a_read_does_not_wait_for_a_writer(natero: Tenant, rolegate: Rolegate, path: str) -> None:
    # Before, these reads opened a unit of work that may write: on SQLite its BEGIN
    # IMMEDIATE waited for the writer's lock (up to the 30 s busy timeout).
    natero.api.get(natero.url(path))  # the key and the organization are cached: only the read itself is measured
    answered: list[int] = []
    with rolegate.uow() as writer:  # holds SQLite's write lock from BEGIN IMMEDIATE
        writer.workspaces.lock(natero.id)
        reader = threading.Thread(target=lambda: answered.append(natero.api.get(natero.url(path)).status_code))
        reader.start()
        reader.join(timeout=10)
        waited = reader.is_alive()
    reader.join()
    assert not waited, "the read waited for the writer's lock"
    assert answered == [200]


def test_an_admin_calls_statements_do_not_grow_with_the_workspaces_of_the_database(
    natero: Tenant, rolegate: Rolegate
) -> None:
    # The key, the workspace's organization and the acting member are resolved by
    # lookups keyed by this workspace, never by a walk over every workspace.
    def measure() -> int:
        natero.api.get(natero.url("/audit/retention"))  # the key and the organization are cached
        with statements(rolegate) as seen:
            assert natero.api.get(natero.url("/audit/retention")).status_code == 200
        return len(seen)

    other_tenants(rolegate, 1)
    few = measure()
    other_tenants(rolegate, 20)
    assert measure() == few
