"""SCIM 2.0 provisioning over HTTP (issue 17): Users and Groups CRUD, filters, paging,
PATCH in Okta's and Entra ID's shapes, groups -> roles, seats, deprovisioning and
suspension, the scim right and the tenant boundary."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from rolegate.bootstrap import Rolegate
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
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/scim+json")
    spc = r.json()
    assert spc["patch"]["supported"] is True and spc["filter"]["supported"] is True and spc["bulk"]["supported"] is False
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
    assert created["userName"] == "ada@acme.com" and created["active"] is True
    assert created["meta"]["resourceType"] == "User"
    assert created["meta"]["location"].endswith(f"/scim/v2/workspaces/{natero.id}/Users/{uid}")
    member = members(natero)[uid]
    assert member["email"] == "ada@acme.com" and member["status"] == "active" and member["role"] == "guest"
    assert member["name"] == "ada Test"

    got = directory.call("GET", f"/Users/{uid}").json()
    assert got["externalId"] == "okta-1" and got["name"] == {"givenName": "ada", "familyName": "Test"}

    body = {"schemas": [USER], "userName": "ada@acme.com", "name": {"formatted": "Ada Lovelace"}, "emails": [{"value": "ada@acme.com", "primary": True}], "active": True, "title": "Countess"}
    r = directory.call("PUT", f"/Users/{uid}", body)
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "Countess" and "externalId" not in r.json()
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
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == ada["id"]
    found = directory.call("GET", "/Users", filter='externalId eq "e-bob"').json()
    assert [u["userName"] for u in found["Resources"]] == ["bob@acme.com"]
    none = directory.call("GET", "/Users", filter='userName eq "nobody@acme.com"').json()
    assert none["totalResults"] == 0 and none.get("Resources", []) == []
    scim_error(directory.call("GET", "/Users", filter="userName eq"), 400, "invalidFilter")


def test_paging_with_startIndex_and_count(directory: Scim) -> None:
    names = [directory.create_user(f"u{i}@acme.com")["userName"] for i in range(5)]
    page = directory.call("GET", "/Users", startIndex=2, count=2).json()
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (5, 2, 2)
    assert [u["userName"] for u in page["Resources"]] == names[1:3]
    last = directory.call("GET", "/Users", startIndex=5, count=10).json()
    assert [u["userName"] for u in last["Resources"]] == names[4:]
    only_total = directory.call("GET", "/Users", count=0).json()
    assert only_total["totalResults"] == 5 and only_total.get("Resources", []) == []
    assert directory.call("GET", "/Users", startIndex=0).json()["startIndex"] == 1


def test_okta_patch_deactivates_and_reactivates(directory: Scim, natero: Tenant) -> None:
    uid = directory.create_user("ada@acme.com")["id"]
    r = directory.patch(f"/Users/{uid}", {"op": "replace", "value": {"active": False}})
    assert r.status_code == 200, r.text
    assert r.json()["active"] is False
    assert members(natero)[uid]["status"] == "disabled"
    r = directory.patch(f"/Users/{uid}", {"op": "replace", "value": {"active": True}})
    assert r.json()["active"] is True and members(natero)[uid]["status"] == "active"


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
    assert body["active"] is False and body["displayName"] == "Ada L."
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
