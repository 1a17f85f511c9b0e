"""API keys: hashed at rest, scoped to an organization or a workspace, rights `decide`
and `admin`; a key never learns about workspaces it does not reach."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from rolegate.bootstrap import Rolegate
from rolegate.domain.errors import NotFoundError, RolegateError
from rolegate.domain.workspace import Actor
from rolegate.services.api_keys import authenticate, create_api_key, parse_key
from rolegate.services.workspaces import create_organization
from rolegate.store import tables
from tests.api.conftest import Api, Tenant, assert_problem, make_tenant


def test_key_is_shown_once_and_stored_hashed(rolegate: Rolegate, org: str, admin_key: str) -> None:
    parsed = parse_key(admin_key)
    assert parsed is not None
    prefix, secret = parsed
    with rolegate.engine.connect() as conn:
        row = conn.execute(select(tables.api_keys).where(tables.api_keys.c.prefix == prefix)).one()
    assert secret not in row.secret_hash
    assert admin_key not in str(tuple(row))
    found = authenticate(rolegate.uow(), admin_key)
    assert found is not None
    assert found.organization_id == org
    assert found.rights == {"admin", "decide"}
    assert authenticate(rolegate.uow(), admin_key[:-1] + ("A" if admin_key[-1] != "A" else "B")) is None
    assert authenticate(rolegate.uow(), "rg_000000000000_" + secret) is None
    assert authenticate(rolegate.uow(), "nonsense") is None


def test_create_api_key_checks_rights_organization_and_workspace(rolegate: Rolegate, org: str, natero: Tenant) -> None:
    with pytest.raises(RolegateError, match="unknown API key rights"):
        create_api_key(rolegate.uow(), organization_id=org, rights={"root"}, name="x")
    with pytest.raises(RolegateError, match="at least one right"):
        create_api_key(rolegate.uow(), organization_id=org, rights=set(), name="x")
    with pytest.raises(NotFoundError):
        create_api_key(rolegate.uow(), organization_id="nope", rights={"decide"}, name="x")
    other = create_organization(rolegate.uow(), actor=Actor.system("test"), name="Other")
    with pytest.raises(NotFoundError):
        create_api_key(rolegate.uow(), organization_id=other, workspace_id=natero.id, rights={"decide"}, name="x")


def test_no_key_wrong_key_and_malformed_key_are_401(natero: Tenant) -> None:
    check = {"member": natero.owner, "action": "accounts.view"}
    r = natero.api.without_key().post(natero.url("/check"), json=check)
    assert_problem(r, 401, "unauthenticated")
    assert r.headers["www-authenticate"] == "Bearer"
    key = natero.api.key
    assert key is not None
    wrong = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    r = natero.api.as_(key=wrong).post(natero.url("/check"), json=check)
    assert_problem(r, 401, "unauthenticated")
    assert "invalid_token" in r.headers["www-authenticate"]
    assert_problem(natero.api.as_(key="rg_nothex_secret").get(natero.url()), 401, "unauthenticated")
    r = natero.api.without_key().get(natero.url(), headers={"Authorization": f"Basic {key}"})
    assert_problem(r, 401, "unauthenticated")


def test_auth_comes_before_validation(natero: Tenant) -> None:
    # Without a key, even a malformed request learns nothing but "authenticate".
    assert_problem(natero.api.without_key().post(natero.url("/check"), json={"x": 1}), 401, "unauthenticated")
    assert_problem(natero.api.without_key().post("/v1/workspaces/nope/roles", json={}), 401, "unauthenticated")


def test_decide_only_key_cannot_call_admin_routes(rolegate: Rolegate, org: str, natero: Tenant) -> None:
    key = create_api_key(rolegate.uow(), organization_id=org, rights={"decide"}, name="decider")
    decider = natero.api.as_(key=key)
    assert decider.post(natero.url("/check"), json={"member": natero.owner, "action": "accounts.view"}).status_code == 200
    body = assert_problem(decider.get(natero.url("/roles")), 403, "key_forbidden")
    assert "'admin'" in body["detail"]
    assert_problem(decider.post(natero.url("/roles"), json={"name": "x"}), 403, "key_forbidden")
    assert_problem(decider.post("/v1/workspaces", json={"preset": "natero", "name": "x", "owner_email": "x@y.z"}), 403, "key_forbidden")
    assert decider.get(natero.url()).status_code == 200  # reading the workspace and its schema needs any right
    assert decider.get(natero.url("/schema")).status_code == 200


def test_admin_only_key_cannot_decide(rolegate: Rolegate, org: str, natero: Tenant) -> None:
    key = create_api_key(rolegate.uow(), organization_id=org, rights={"admin"}, name="admin")
    r = natero.api.as_(key=key).post(natero.url("/check"), json={"member": natero.owner, "action": "accounts.view"})
    assert_problem(r, 403, "key_forbidden")
    assert natero.api.as_(key=key).get(natero.url("/roles")).status_code == 200


def test_key_of_another_organization_gets_404_like_a_missing_workspace(rolegate: Rolegate, natero: Tenant) -> None:
    other = create_organization(rolegate.uow(), actor=Actor.system("test"), name="Other")
    key = create_api_key(rolegate.uow(), organization_id=other, rights={"admin", "decide"}, name="other")
    stranger = natero.api.as_(key=key)
    hidden = stranger.post(natero.url("/check"), json={"member": natero.owner, "action": "accounts.view"})
    missing = stranger.post("/v1/workspaces/01a2084d-cb63-7806-9b18-af5d523e0645/check", json={"member": natero.owner, "action": "accounts.view"})
    assert_problem(hidden, 404, "not_found")
    assert_problem(missing, 404, "not_found")
    assert hidden.json()["detail"] == missing.json()["detail"].replace("01a2084d-cb63-7806-9b18-af5d523e0645", natero.id)
    assert_problem(stranger.get(natero.url("/roles")), 404, "not_found")
    assert_problem(stranger.get(natero.url()), 404, "not_found")


def test_workspace_scoped_key_reaches_only_its_workspace(api: Api, rolegate: Rolegate, org: str, natero: Tenant) -> None:
    sibling = make_tenant(api, "telephony")
    key = create_api_key(rolegate.uow(), organization_id=org, workspace_id=natero.id, rights={"decide"}, name="one")
    scoped = natero.api.as_(key=key)
    assert scoped.post(natero.url("/check"), json={"member": natero.owner, "action": "accounts.view"}).status_code == 200
    assert_problem(scoped.post(sibling.url("/check"), json={"member": sibling.owner, "action": "numbers.view"}), 404, "not_found")


def test_admin_calls_need_the_acting_member(natero: Tenant) -> None:
    body = assert_problem(natero.api.without_actor().get(natero.url("/roles")), 422, "request_invalid")
    assert body["errors"][0]["loc"] == ["header", "Rolegate-Actor"]
    assert_problem(natero.api.as_(actor="").get(natero.url("/roles")), 422, "request_invalid")
