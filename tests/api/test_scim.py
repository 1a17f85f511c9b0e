"""SCIM 2.0 provisioning over HTTP (issue 17): Users and Groups CRUD, filters, paging,
PATCH in Okta's and Entra ID's shapes, groups -> roles, seats, deprovisioning and
suspension, the scim right and the tenant boundary."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from rolegate.bootstrap import Rolegate
from rolegate.domain.workspace import Actor
from rolegate.services.api_keys import create_api_key
from tests.api.conftest import Api, Tenant, assert_problem, invite, make_tenant

USER = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
PATCH = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


class Scim:
    """A directory calling one workspace's SCIM endpoints with a `scim` key."""

    def __init__(self, api: Api, workspace_id: str, key: str) -> None:
        self.api = api.as_(key=key).without_actor()
        self.base = f"/scim/v2/workspaces/{workspace_id}"

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        headers = {"Content-Type": "application/scim+json"}
        return self.api.request(method, self.base + path, json=body, params=params or None, headers=headers)

    def create_user(self, email: str, **extra: Any) -> dict[str, Any]:
        body = {"schemas": [USER], "userName": email, "name": {"givenName": email.split("@")[0], "familyName": "Test"}, "emails": [{"value": email, "primary": True, "type": "work"}], "active": True, **extra}
        r = self.call("POST", "/Users", body)
        assert r.status_code == 201, r.text
        data: dict[str, Any] = r.json()
        return data

    def create_group(self, name: str, *members: str) -> dict[str, Any]:
        r = self.call("POST", "/Groups", {"schemas": [GROUP], "displayName": name, "members": [{"value": m} for m in members]})
        assert r.status_code == 201, r.text
        data: dict[str, Any] = r.json()
        return data

    def patch(self, path: str, *operations: dict[str, Any]) -> httpx.Response:
        return self.call("PATCH", path, {"schemas": [PATCH], "Operations": list(operations)})


def scim_error(r: httpx.Response, status: int, scim_type: str | None = None) -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/scim+json")
    body = r.json()
    assert body["schemas"] == [ERROR]
    assert str(body["status"]) == str(status)
    assert body.get("scimType") == scim_type
    detail: str = body["detail"]
    assert detail
    return detail


@pytest.fixture
def org_id(api: Api, natero: Tenant, rolegate: Rolegate) -> str:
    from rolegate.services.api_keys import organization_of

    org = organization_of(rolegate.reader(), natero.id)
    assert org is not None
    return org


def key_for(rolegate: Rolegate, org: str, workspace: str | None, rights: set[str]) -> str:
    return create_api_key(rolegate.uow(), organization_id=org, workspace_id=workspace, rights=rights, name="directory")


@pytest.fixture
def directory(api: Api, natero: Tenant, org_id: str, rolegate: Rolegate) -> Scim:
    return Scim(api, natero.id, key_for(rolegate, org_id, natero.id, {"scim"}))


def members(t: Tenant) -> dict[str, dict[str, Any]]:
    r = t.api.get(t.url("/members"))
    assert r.status_code == 200, r.text
    return {m["id"]: m for m in r.json()["members"]}


def audit_actions(t: Tenant) -> list[tuple[str, str]]:
    r = t.api.get(t.url("/audit"))
    assert r.status_code == 200, r.text
    return [(e["action"], e["actor"]) for e in r.json()["events"]]


# -- discovery ------------------------------------------------------------------------------


def test_discovery_documents(directory: Scim) -> None:
    r = directory.call("GET", "/ServiceProviderConfig")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/scim+json")
    spc = r.json()
    assert spc["patch"]["supported"] is True
    assert spc["filter"]["supported"] is True
    assert spc["bulk"]["supported"] is False
    types = directory.call("GET", "/ResourceTypes").json()
    assert {rt["id"]: rt["endpoint"] for rt in types["Resources"]} == {"User": "/Users", "Group": "/Groups"}
    assert directory.call("GET", "/ResourceTypes/User").json()["schema"] == USER
    scim_error(directory.call("GET", "/ResourceTypes/Nope"), 404)
    schemas = directory.call("GET", "/Schemas").json()
    assert {s["id"] for s in schemas["Resources"]} == {USER, GROUP}
    user_schema = directory.call("GET", f"/Schemas/{USER}").json()
    emails = next(a for a in user_schema["attributes"] if a["name"] == "emails")
    assert emails["required"] is True  # a member is known by an email address


# -- users ------------------------------------------------------------------------------------


def test_user_crud_is_a_member_of_the_workspace(directory: Scim, natero: Tenant) -> None:
    created = directory.create_user("ada@acme.com", externalId="okta-1")
    uid = created["id"]
    assert created["userName"] == "ada@acme.com"
    assert created["active"] is True
    assert created["meta"]["resourceType"] == "User"
    assert created["meta"]["location"].endswith(f"/scim/v2/workspaces/{natero.id}/Users/{uid}")
    member = members(natero)[uid]
    assert member["email"] == "ada@acme.com"
    assert member["status"] == "active"
    assert member["role"] == "guest"
    assert member["name"] == "ada Test"

    got = directory.call("GET", f"/Users/{uid}").json()
    assert got["externalId"] == "okta-1"
    assert got["name"] == {"givenName": "ada", "familyName": "Test"}

    body = {"schemas": [USER], "userName": "ada@acme.com", "name": {"formatted": "Ada Lovelace"}, "emails": [{"value": "ada@acme.com", "primary": True}], "active": True, "title": "Countess"}
    r = directory.call("PUT", f"/Users/{uid}", body)
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "Countess"
    assert "externalId" not in r.json()
    assert members(natero)[uid]["name"] == "Ada Lovelace"

    assert directory.call("DELETE", f"/Users/{uid}").status_code == 204
    scim_error(directory.call("GET", f"/Users/{uid}"), 404)
    assert uid not in members(natero)
    actions = audit_actions(natero)
    assert ("member.provision", "platform:scim:" + directory.api.key.split("_")[1]) in actions  # type: ignore[union-attr]
    assert ("member.delete", "platform:scim:" + directory.api.key.split("_")[1]) in actions  # type: ignore[union-attr]


def test_a_password_sent_by_the_directory_is_never_stored_nor_returned(directory: Scim, rolegate: Rolegate, natero: Tenant) -> None:
    created = directory.create_user("pw@acme.com", password="Secret-123")
    assert "password" not in created
    assert "password" not in directory.call("GET", f"/Users/{created['id']}").json()


def test_userName_and_email_are_unique_409(directory: Scim) -> None:
    directory.create_user("ada@acme.com")
    body = {"schemas": [USER], "userName": "ADA@acme.com", "emails": [{"value": "ada@acme.com"}]}
    assert "already provisioned" in scim_error(directory.call("POST", "/Users", body), 409, "uniqueness")


def test_a_user_without_an_email_address_is_a_400(directory: Scim) -> None:
    detail = scim_error(directory.call("POST", "/Users", {"schemas": [USER], "userName": "jdoe"}), 400, "invalidValue")
    assert "email" in detail
    scim_error(directory.call("POST", "/Users", {"schemas": [USER]}), 400, "invalidValue")
    scim_error(directory.call("POST", "/Users", None), 400, "invalidSyntax")


def test_userName_need_not_be_an_email_when_emails_has_one(directory: Scim, natero: Tenant) -> None:
    r = directory.call("POST", "/Users", {"schemas": [USER], "userName": "jdoe", "emails": [{"value": "other@acme.com"}, {"value": "jdoe@acme.com", "primary": True}]})
    assert r.status_code == 201, r.text
    assert members(natero)[r.json()["id"]]["email"] == "jdoe@acme.com"


def test_filters_userName_and_externalId(directory: Scim) -> None:
    ada = directory.create_user("ada@acme.com", externalId="e-ada")
    directory.create_user("bob@acme.com", externalId="e-bob")
    found = directory.call("GET", "/Users", filter='userName eq "ADA@acme.com"').json()
    assert found["totalResults"] == 1
    assert found["Resources"][0]["id"] == ada["id"]
    found = directory.call("GET", "/Users", filter='externalId eq "e-bob"').json()
    assert [u["userName"] for u in found["Resources"]] == ["bob@acme.com"]
    none = directory.call("GET", "/Users", filter='userName eq "nobody@acme.com"').json()
    assert none["totalResults"] == 0
    assert none.get("Resources", []) == []
    scim_error(directory.call("GET", "/Users", filter="userName eq"), 400, "invalidFilter")
    # Any other filter is evaluated on every User (scim2-models' semantics).
    both = directory.call("GET", "/Users", filter='externalId sw "e-" and not (userName eq "ada@acme.com")').json()
    assert [u["userName"] for u in both["Resources"]] == ["bob@acme.com"]
    assert directory.call("GET", "/Users", filter='name.givenName eq "ADA"').json()["totalResults"] == 1
    assert directory.call("GET", "/Users", filter='externalId eq "E-ADA"').json()["totalResults"] == 0  # caseExact


def test_paging_with_startIndex_and_count(directory: Scim) -> None:
    names = [directory.create_user(f"u{i}@acme.com")["userName"] for i in range(5)]
    page = directory.call("GET", "/Users", startIndex=2, count=2).json()
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (5, 2, 2)
    assert [u["userName"] for u in page["Resources"]] == names[1:3]
    last = directory.call("GET", "/Users", startIndex=5, count=10).json()
    assert [u["userName"] for u in last["Resources"]] == names[4:]
    only_total = directory.call("GET", "/Users", count=0).json()
    assert only_total["totalResults"] == 5
    assert only_total.get("Resources", []) == []
    assert directory.call("GET", "/Users", startIndex=0).json()["startIndex"] == 1


def test_okta_patch_deactivates_and_reactivates(directory: Scim, natero: Tenant) -> None:
    uid = directory.create_user("ada@acme.com")["id"]
    r = directory.patch(f"/Users/{uid}", {"op": "replace", "value": {"active": False}})
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False
    assert members(natero)[uid]["status"] == "disabled"
    r = directory.patch(f"/Users/{uid}", {"op": "replace", "value": {"active": True}})
    assert r.json()["active"] is True
    assert members(natero)[uid]["status"] == "active"


def test_entra_patch_capitalised_op_and_string_boolean(directory: Scim, natero: Tenant) -> None:
    uid = directory.create_user("ada@acme.com")["id"]
    r = directory.patch(
        f"/Users/{uid}",
        {"op": "Replace", "path": "active", "value": "False"},
        {"op": "Add", "path": "displayName", "value": "Ada L."},
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "ada.l@acme.com"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["active"] is False
    assert body["displayName"] == "Ada L."
    assert body["emails"][0]["value"] == "ada.l@acme.com"
    member = members(natero)[uid]
    assert member["status"] == "disabled"
    assert member["email"] == "ada@acme.com"  # the person's identity is not renamed by one directory


def test_entra_create_with_the_enterprise_extension_is_accepted(directory: Scim) -> None:
    body = {
        "schemas": [USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": "Test_User_ab6490ee@contoso.com",
        "active": True,
        "emails": [{"primary": True, "type": "work", "value": "Test_User_fd0ea19b@contoso.com"}],
        "meta": {"resourceType": "User"},
        "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
        "roles": [],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"},
    }
    r = directory.call("POST", "/Users", body)
    assert r.status_code == 201, r.text
    assert r.json()["userName"] == "Test_User_ab6490ee@contoso.com"


def test_a_bad_patch_is_a_scim_error(directory: Scim) -> None:
    uid = directory.create_user("ada@acme.com")["id"]
    scim_error(directory.patch(f"/Users/{uid}", {"op": "explode", "path": "active", "value": True}), 400, "invalidValue")
    scim_error(directory.call("PATCH", f"/Users/{uid}", {"schemas": [PATCH]}), 400, "invalidValue")
    scim_error(directory.patch("/Users/nobody", {"op": "replace", "path": "active", "value": False}), 404)


def test_an_existing_member_with_the_email_is_adopted_not_duplicated(directory: Scim, natero: Tenant) -> None:
    existing = invite(natero, "kim@acme.com", "csm")
    created = directory.create_user("kim@acme.com")
    assert created["id"] == existing
    assert members(natero)[existing]["role"] == "csm"  # kept until their groups change


# -- groups -> roles ----------------------------------------------------------------------------


def map_group(t: Tenant, group: str, role: str, priority: int = 0) -> dict[str, Any]:
    r = t.api.put(t.url(f"/directory/group-roles/{group}"), json={"role": role, "priority": priority})
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


@pytest.fixture
def telephony(api: Api) -> Tenant:
    return make_tenant(api, "telephony")


def scim_for(api: Api, rolegate: Rolegate, t: Tenant) -> Scim:
    from rolegate.services.api_keys import organization_of

    org = organization_of(rolegate.reader(), t.id)
    assert org is not None
    return Scim(api, t.id, key_for(rolegate, org, t.id, {"scim"}))


def test_group_crud_and_membership_patches(api: Api, rolegate: Rolegate, telephony: Tenant) -> None:
    d = scim_for(api, rolegate, telephony)
    ada, bob = d.create_user("ada@acme.com")["id"], d.create_user("bob@acme.com")["id"]
    group = d.create_group("Support", ada)
    gid = group["id"]
    assert [m["value"] for m in group["members"]] == [ada]
    assert d.call("GET", f"/Users/{ada}").json()["groups"][0]["display"] == "Support"
    # Okta: add members; Entra ID: remove one by a value filter, capitalised.
    r = d.patch(f"/Groups/{gid}", {"op": "add", "path": "members", "value": [{"value": bob}]})
    assert r.status_code == 200, r.text
    assert sorted(m["value"] for m in r.json()["members"]) == sorted([ada, bob])
    r = d.patch(f"/Groups/{gid}", {"op": "Remove", "path": f'members[value eq "{ada}"]'})
    assert [m["value"] for m in r.json()["members"]] == [bob]
    r = d.patch(f"/Groups/{gid}", {"op": "Replace", "path": "displayName", "value": "Support Team"})
    assert r.json()["displayName"] == "Support Team"
    assert d.call("GET", "/Groups", filter='displayName eq "support team"').json()["totalResults"] == 1
    put = d.call("PUT", f"/Groups/{gid}", {"schemas": [GROUP], "displayName": "Support Team", "members": []})
    assert put.status_code == 200
    assert "members" not in put.json()
    scim_error(d.call("POST", "/Groups", {"schemas": [GROUP], "displayName": "SUPPORT TEAM"}), 409, "uniqueness")
    scim_error(d.call("POST", "/Groups", {"schemas": [GROUP], "displayName": "X", "members": [{"value": "nobody"}]}), 400, "invalidValue")
    assert d.call("DELETE", f"/Groups/{gid}").status_code == 204
    scim_error(d.call("GET", f"/Groups/{gid}"), 404)
    scim_error(d.call("DELETE", f"/Groups/{gid}"), 404)


def test_groups_give_one_role_the_highest_level_first(api: Api, rolegate: Rolegate, telephony: Tenant) -> None:
    t = telephony
    d = scim_for(api, rolegate, t)
    ada = d.create_user("ada@acme.com")["id"]
    assert members(t)[ada]["role"] == "analyst"  # the default role
    map_group(t, "Admins", "administrator", priority=5)
    listed = map_group(t, "Analysts", "analyst", priority=1)
    assert {(m["group"], m["role"], m["priority"]) for m in listed["items"]} == {("Admins", "administrator", 5), ("Analysts", "analyst", 1)}
    analysts = d.create_group("analysts", ada)["id"]  # mapped case-insensitively
    admins = d.create_group("ADMINS", ada)["id"]
    assert members(t)[ada]["role"] == "administrator"  # the level rank wins over the priority
    d.patch(f"/Groups/{admins}", {"op": "remove", "path": f'members[value eq "{ada}"]'})
    assert members(t)[ada]["role"] == "analyst"
    d.patch(f"/Groups/{admins}", {"op": "add", "path": "members", "value": [{"value": ada}]})
    assert members(t)[ada]["role"] == "administrator"
    r = t.api.delete(t.url("/directory/group-roles/admins"))
    assert r.status_code == 200, r.text
    assert [m["group"] for m in r.json()["items"]] == ["Analysts"]
    assert members(t)[ada]["role"] == "analyst"
    assert_problem(t.api.delete(t.url("/directory/group-roles/admins")), 404, "not_found")
    map_group(t, "Admins", "administrator")
    assert members(t)[ada]["role"] == "administrator"
    assert d.call("DELETE", f"/Groups/{admins}").status_code == 204
    assert members(t)[ada]["role"] == "analyst"
    assert analysts
    actions = {a for a, _ in audit_actions(t)}
    assert {"directory.group_role", "directory.group_create", "directory.group_update", "directory.group_delete", "member.change_role"} <= actions


def test_a_manual_role_change_of_a_managed_member_is_refused(api: Api, rolegate: Rolegate, telephony: Tenant) -> None:
    t = telephony
    d = scim_for(api, rolegate, t)
    ada = d.create_user("ada@acme.com")["id"]
    body = assert_problem(t.api.patch(t.url(f"/members/{ada}"), json={"role": "administrator"}), 409, "rule_violation", rule=None)
    assert body["violations"][0]["code"] == "directory_managed"
    assert "managed by your directory" in body["detail"]
    assert members(t)[ada]["role"] == "analyst"
    manual = invite(t, "manual@acme.com", "analyst")
    assert t.api.patch(t.url(f"/members/{manual}"), json={"role": "administrator"}).status_code == 200


def test_mapping_a_group_needs_the_assign_roles_right_and_an_existing_role(api: Api, rolegate: Rolegate, telephony: Tenant) -> None:
    t = telephony
    analyst = invite(t, "an@acme.com", "analyst")
    assert_problem(t.api.as_(actor=analyst).put(t.url("/directory/group-roles/Admins"), json={"role": "administrator"}), 403, "permission_denied")
    assert_problem(t.api.put(t.url("/directory/group-roles/Admins"), json={"role": "nope"}), 404, "not_found")
    map_group(t, "Admins", "administrator")
    assert [m["group"] for m in t.api.get(t.url("/directory/group-roles")).json()["items"]] == ["Admins"]


# -- seats ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("preset", "seat", "rule"), [("natero", "analyst", "N1"), ("catalyst", "viewer", "K2")])
def test_provisioning_past_seat_capacity_is_refused_naming_the_seed_rule(api: Api, rolegate: Rolegate, preset: str, seat: str, rule: str) -> None:
    t = make_tenant(api, preset, seat_capacities={seat: 1})
    d = scim_for(api, rolegate, t)
    before = set(members(t))
    d.create_user("first@acme.com")
    r = d.call("POST", "/Users", {"schemas": [USER], "userName": "second@acme.com", "emails": [{"value": "second@acme.com"}]})
    detail = scim_error(r, 400, "invalidValue")
    assert detail.startswith(f"[{rule}]"), detail
    # Nothing half-created: no member, no User, no provisioning event for the refused one.
    after = members(t)
    assert len(after) == len(before) + 1
    assert "second@acme.com" not in {m["email"] for m in after.values()}
    assert d.call("GET", "/Users", filter='userName eq "second@acme.com"').json()["totalResults"] == 0
    assert [a for a, _ in audit_actions(t)].count("member.provision") == 1


def test_a_group_that_would_take_seats_past_capacity_is_refused_whole(api: Api, rolegate: Rolegate, natero: Tenant) -> None:
    t = make_tenant(api, "natero", seat_capacities={"csm": 1})
    d = scim_for(api, rolegate, t)
    map_group(t, "CSMs", "csm")
    a, b = d.create_user("a@acme.com")["id"], d.create_user("b@acme.com")["id"]
    held = sum(1 for m in members(t).values() if m["role"] in {"csm", "csm_manager"})
    assert held <= 1
    r = d.call("POST", "/Groups", {"schemas": [GROUP], "displayName": "CSMs", "members": [{"value": a}, {"value": b}]})
    assert scim_error(r, 400, "invalidValue").startswith("[N1]")
    assert d.call("GET", "/Groups").json()["totalResults"] == 0
    assert {members(t)[a]["role"], members(t)[b]["role"]} == {"guest"}


# -- deprovisioning ------------------------------------------------------------------------------


def check(t: Tenant, member: str, action: str) -> bool:
    r = t.api.post(t.url("/check"), json={"member": member, "action": action})
    assert r.status_code == 200, r.text
    allowed: bool = r.json()["allowed"]
    return allowed


def test_deactivation_stops_access_at_once(directory: Scim, natero: Tenant) -> None:
    uid = directory.create_user("ada@acme.com")["id"]
    assert check(natero, uid, "accounts.view")
    directory.patch(f"/Users/{uid}", {"op": "replace", "path": "active", "value": False})
    assert not check(natero, uid, "accounts.view")
    assert_problem(natero.api.as_(actor=uid).get(natero.url("/members")), 403, "actor_refused")
    assert ("member.disable", "platform:scim:" + directory.api.key.split("_")[1]) in audit_actions(natero)  # type: ignore[union-attr]


def test_C6_deprovisioning_a_csm_with_accounts_suspends_them_and_keeps_the_accounts(api: Api, rolegate: Rolegate) -> None:
    t = make_tenant(api, "customersuccessbox")
    d = scim_for(api, rolegate, t)
    uid = d.create_user("csm@acme.com")["id"]
    assert t.api.put(t.url("/records/account/acct-1"), json={"assignee": uid}).status_code == 200
    r = d.patch(f"/Users/{uid}", {"op": "replace", "path": "active", "value": False})
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False
    assert members(t)[uid]["status"] == "disabled"
    assert not check(t, uid, "accounts.view")
    events = t.api.get(t.url("/audit"), params={"action": "member.suspend"}).json()["events"]
    assert len(events) == 1
    assert events[0]["actor"].startswith("platform:scim:")
    assert "C6" in events[0]["after"]["reason"][0]
    assert events[0]["after"]["records_kept"] is True
    record = t.api.get(t.url("/records/account/acct-1")).json()["record"]
    assert record["assignee"] == uid  # kept, flagged for transfer
    # DELETE: the User is gone, the suspended member stays until the accounts move.
    assert d.call("DELETE", f"/Users/{uid}").status_code == 204
    scim_error(d.call("GET", f"/Users/{uid}"), 404)
    assert d.call("GET", "/Users", filter='userName eq "csm@acme.com"').json()["totalResults"] == 0
    assert members(t)[uid]["status"] == "disabled"
    # Provisioning them again enables the same member.
    again = d.create_user("csm@acme.com")
    assert again["id"] == uid
    assert again["active"] is True
    assert members(t)[uid]["status"] == "active"


def test_N9_deleting_a_csm_with_assigned_accounts_suspends_them(api: Api, rolegate: Rolegate, natero: Tenant) -> None:
    t = natero
    d = scim_for(api, rolegate, t)
    map_group(t, "CSMs", "csm")
    uid = d.create_user("csm@acme.com")["id"]
    d.create_group("CSMs", uid)
    assert members(t)[uid]["role"] == "csm"
    assert t.api.put(t.url("/records/account/acct-9"), json={"assignee": uid}).status_code == 200
    assert d.call("DELETE", f"/Users/{uid}").status_code == 204
    assert members(t)[uid]["status"] == "disabled"
    assert t.api.get(t.url("/records/account/acct-9")).json()["record"]["assignee"] == uid
    events = t.api.get(t.url("/audit"), params={"action": "member.suspend"}).json()["events"]
    assert events
    assert events[0]["after"]["requested"] == "delete"


def test_a_deprovisioned_member_kept_for_their_accounts_is_managed_by_hand_again(api: Api, rolegate: Rolegate, natero: Tenant) -> None:
    """The directory manages only its live Users: once DELETE /Users leaves the member
    suspended (N9: accounts to transfer), an administrator changes their role by hand."""
    t = natero
    d = scim_for(api, rolegate, t)
    map_group(t, "CSMs", "csm")
    uid = d.create_user("csm@acme.com")["id"]
    d.create_group("CSMs", uid)
    assert t.api.put(t.url("/records/account/acct-9"), json={"assignee": uid}).status_code == 200
    body = assert_problem(t.api.patch(t.url(f"/members/{uid}"), json={"role": "csm_manager"}), 409, "rule_violation", rule=None)
    assert body["violations"][0]["code"] == "directory_managed"
    assert d.call("DELETE", f"/Users/{uid}").status_code == 204
    assert members(t)[uid]["status"] == "disabled"
    r = t.api.patch(t.url(f"/members/{uid}"), json={"role": "csm_manager"})
    assert r.status_code == 200, r.text
    assert members(t)[uid]["role"] == "csm_manager"
    assert t.api.get(t.url("/records/account/acct-9")).json()["record"]["assignee"] == uid


def test_the_last_owner_is_never_deprovisioned(api: Api, rolegate: Rolegate) -> None:
    t = make_tenant(api, "telephony", owner_email="boss@acme.com")
    d = scim_for(api, rolegate, t)
    adopted = d.create_user("boss@acme.com")
    assert adopted["id"] == t.owner
    assert members(t)[t.owner]["role"] == "owner"
    r = d.patch(f"/Users/{t.owner}", {"op": "replace", "path": "active", "value": False})
    assert scim_error(r, 400, "invalidValue").startswith("[T11]")
    scim_error(d.call("DELETE", f"/Users/{t.owner}"), 400, "invalidValue")
    assert members(t)[t.owner]["status"] == "active"
    # With a second owner from the directory, the first may go.
    map_group(t, "Owners", "owner")
    second = d.create_user("second@acme.com")["id"]
    d.create_group("Owners", second)
    assert members(t)[second]["role"] == "owner"
    assert d.patch(f"/Users/{t.owner}", {"op": "replace", "path": "active", "value": False}).status_code == 200
    now = t.api.as_(actor=second).get(t.url(f"/members/{t.owner}")).json()
    assert now["member"]["status"] == "disabled"


# -- the scim right and the tenant boundary -------------------------------------------------------


def test_only_a_scim_key_reaches_scim_and_a_scim_key_reaches_nothing_else(api: Api, rolegate: Rolegate, natero: Tenant, org_id: str) -> None:
    admin = Scim(api, natero.id, key_for(rolegate, org_id, None, {"admin", "decide"}))
    assert "'scim' right" in scim_error(admin.call("GET", "/Users"), 403)
    scim_only = key_for(rolegate, org_id, natero.id, {"scim"})
    assert_problem(api.as_(key=scim_only, actor=natero.owner).get(natero.url("/members")), 403, "key_forbidden")
    scim_error(Scim(api, natero.id, "rg_000000000000_" + "x" * 43).call("GET", "/Users"), 401)
    r = api.without_key().request("GET", f"/scim/v2/workspaces/{natero.id}/Users")
    scim_error(r, 401)


def test_tenant_boundary_two_organizations(api: Api, rolegate: Rolegate, natero: Tenant, org_id: str) -> None:
    from rolegate.services.workspaces import create_organization

    mine = Scim(api, natero.id, key_for(rolegate, org_id, natero.id, {"scim"}))
    ada = mine.create_user("ada@acme.com")["id"]
    group = mine.create_group("Team", ada)["id"]
    other_org = create_organization(rolegate.uow(), actor=Actor.system("test"), name="Globex")
    other_admin = create_api_key(rolegate.uow(), organization_id=other_org, rights={"admin", "decide"}, name="globex")
    other_ws = make_tenant(api.as_(key=other_admin), "natero")
    theirs = Scim(api, other_ws.id, key_for(rolegate, other_org, other_ws.id, {"scim"}))
    # Their key on my workspace: the same 404 as a workspace that does not exist.
    foreign = Scim(api, natero.id, theirs.api.key or "")
    missing = Scim(api, "00000000-0000-0000-0000-000000000000", theirs.api.key or "")
    assert scim_error(foreign.call("GET", f"/Users/{ada}"), 404) == scim_error(missing.call("GET", f"/Users/{ada}"), 404).replace("00000000-0000-0000-0000-000000000000", natero.id)
    scim_error(foreign.call("GET", "/Users"), 404)
    scim_error(foreign.call("DELETE", f"/Users/{ada}"), 404)
    # Ids of my workspace mean nothing in theirs.
    scim_error(theirs.call("GET", f"/Users/{ada}"), 404)
    scim_error(theirs.call("GET", f"/Groups/{group}"), 404)
    scim_error(theirs.call("POST", "/Groups", {"schemas": [GROUP], "displayName": "Steal", "members": [{"value": ada}]}), 400, "invalidValue")
    assert theirs.call("GET", "/Users").json()["totalResults"] == 0
    # The same person provisioned by both directories: one identity, two memberships.
    theirs.create_user("ada@acme.com")
    assert mine.call("GET", f"/Users/{ada}").status_code == 200
    # A key scoped to one workspace of my organization does not reach another one.
    second = make_tenant(api, "natero")
    scim_error(Scim(api, second.id, mine.api.key or "").call("GET", "/Users"), 404)


def test_attributes_excluded_attributes_and_search(directory: Scim) -> None:
    ada = directory.create_user("ada@acme.com", externalId="e-ada")["id"]
    only = directory.call("GET", f"/Users/{ada}", attributes="userName").json()
    assert only["userName"] == "ada@acme.com"
    assert "name" not in only
    assert "emails" not in only
    without = directory.call("GET", "/Users", excludedAttributes="name,emails").json()["Resources"][0]
    assert "name" not in without
    assert "emails" not in without
    assert without["userName"] == "ada@acme.com"
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": 'externalId eq "e-ada"', "attributes": ["userName"]}
    found = directory.call("POST", "/Users/.search", body).json()
    assert found["totalResults"] == 1
    assert found["Resources"][0] == {"schemas": [USER], "id": ada, "userName": "ada@acme.com"}
    directory.create_group("Team", ada)
    everything = directory.call("POST", "/.search", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}).json()
    assert everything["totalResults"] == 2


def test_a_put_without_active_leaves_the_status_and_removing_active_enables_no_one(directory: Scim, natero: Tenant) -> None:
    uid = directory.create_user("ada@acme.com")["id"]
    directory.patch(f"/Users/{uid}", {"op": "replace", "path": "active", "value": False})
    r = directory.call("PUT", f"/Users/{uid}", {"schemas": [USER], "userName": "ada@acme.com", "emails": [{"value": "ada@acme.com"}]})
    assert r.status_code == 200
    assert "active" not in r.json()
    assert members(natero)[uid]["status"] == "disabled"
    directory.patch(f"/Users/{uid}", {"op": "add", "path": "active", "value": True})
    assert members(natero)[uid]["status"] == "active"
    directory.patch(f"/Users/{uid}", {"op": "replace", "path": "active", "value": False})
    r = directory.patch(f"/Users/{uid}", {"op": "remove", "path": "active"})
    assert r.status_code == 200
    assert "active" not in r.json()
    assert members(natero)[uid]["status"] == "disabled"


def test_deleting_a_deactivated_member_still_named_is_audited_as_a_suspension(api: Api, rolegate: Rolegate) -> None:
    t = make_tenant(api, "customersuccessbox")
    d = scim_for(api, rolegate, t)
    uid = d.create_user("csm@acme.com")["id"]
    d.patch(f"/Users/{uid}", {"op": "replace", "path": "active", "value": False})
    body = {"references": [{"id": "playbook-1/task-1", "kind": "playbook_task", "label": "Kickoff call", "member": uid}]}
    assert t.api.post(t.url("/references/bulk"), json=body).status_code == 200  # C6: the host still names them
    assert d.call("DELETE", f"/Users/{uid}").status_code == 204
    events = t.api.get(t.url("/audit"), params={"action": "member.suspend"}).json()["events"]
    assert [e["after"]["requested"] for e in events] == ["delete"]
    assert members(t)[uid]["status"] == "disabled"
