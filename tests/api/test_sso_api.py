"""Single sign-on over the API with an organization-wide admin key: configure the
provider (the secret goes in, never out), claim a domain, turn on just-in-time
membership; another organization's key finds nothing of it."""

from __future__ import annotations

import httpx
from anyio.from_thread import start_blocking_portal

from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate
from rolegate.domain.workspace import Actor
from rolegate.services.api_keys import create_api_key
from rolegate.services.workspaces import create_organization
from tests.api.conftest import Api, Tenant, assert_problem


def test_an_organization_configures_sso_over_the_api(api: Api, org: str, natero: Tenant) -> None:
    base = f"/v1/organizations/{org}/sso"
    assert_problem(api.put(base, json={"issuer": "https://acme.okta.com"}), 422, "invalid_input")  # a first one needs all three
    r = api.put(base, json={"issuer": "https://acme.okta.com", "client_id": "0oa1", "client_secret": "top-secret-value"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["issuer"] == "https://acme.okta.com"
    assert body["has_client_secret"] is True
    assert body["redirect_path"] == "/sso/callback"
    assert "top-secret-value" not in r.text
    assert_problem(api.put(base, json={"sso_required": True}), 409, "conflict")  # no proved domain yet
    r = api.post(f"{base}/domains", json={"domain": "Acme.test"})
    assert r.status_code == 201, r.text
    assert r.json()["domain"] == "acme.test"
    assert r.json()["txt_record"].startswith("rolegate-verification=")
    assert r.json()["verified"] is False
    r = api.put(f"{base}/workspaces/{natero.id}", json={"role_id": "csm"})
    assert r.status_code == 200, r.text
    assert r.json() == {"workspace_id": natero.id, "enabled": True, "role_id": "csm"}
    got = api.get(base).json()
    assert got["domains"][0]["domain"] == "acme.test"
    assert got["jit"] == [{"workspace_id": natero.id, "enabled": True, "role_id": "csm"}]
    assert "top-secret-value" not in api.get(base).text
    assert api.put(f"{base}/workspaces/{natero.id}", json={"enabled": False}).json()["enabled"] is False


def test_another_organizations_key_finds_nothing(api: Api, rolegate: Rolegate, org: str, natero: Tenant) -> None:
    other_org = create_organization(rolegate.uow(), actor=Actor.system("test"), name="Other")
    other_key = create_api_key(rolegate.uow(), organization_id=other_org, rights={"admin"}, name="other")
    app = create_app(rolegate)
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rolegate.test")
        try:
            other = Api(portal, client, other_key)
            assert_problem(other.get(f"/v1/organizations/{org}/sso"), 404, "not_found")
            assert_problem(other.put(f"/v1/organizations/{org}/sso", json={"sso_required": False}), 404, "not_found")
            # Its own organization's path, with our workspace: not found either, and our
            # organization's id is not in the answer.
            r = other.put(f"/v1/organizations/{other_org}/sso/workspaces/{natero.id}", json={})
            body = assert_problem(r, 404, "not_found")
            assert org not in str(body)
        finally:
            portal.call(client.aclose)
    assert api.get(f"/v1/organizations/{org}/sso").json()["jit"] == []
