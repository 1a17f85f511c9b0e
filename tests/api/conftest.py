"""The API in process, over HTTP (httpx + ASGI transport), on a fresh SQLite file per test.

Tests stay synchronous: `Api` drives an `httpx.AsyncClient` through an anyio blocking
portal (what Starlette's TestClient does, without its deprecated httpx import).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.services.api_keys import create_api_key
from rolegate.services.workspaces import create_organization


class Api:
    """A synchronous HTTP client of the app, with an API key and an optional acting member."""

    def __init__(self, portal: BlockingPortal, client: httpx.AsyncClient, key: str | None = None, actor: str | None = None) -> None:
        self.portal = portal
        self.client = client
        self.key = key
        self.actor = actor

    def as_(self, *, key: str | None = None, actor: str | None = None) -> Api:
        return Api(self.portal, self.client, key if key is not None else self.key, actor if actor is not None else self.actor)

    def without_key(self) -> Api:
        return Api(self.portal, self.client, None, self.actor)

    def without_actor(self) -> Api:
        return Api(self.portal, self.client, self.key, None)

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent: dict[str, str] = {}
        if self.key is not None:
            sent["Authorization"] = f"Bearer {self.key}"
        if self.actor is not None:
            sent["Rolegate-Actor"] = self.actor
        sent.update(headers or {})
        kwargs: dict[str, Any] = {"headers": sent, "params": params}
        if json is not None:
            kwargs["json"] = json
        if content is not None:
            kwargs["content"] = content
        return self.portal.call(lambda: self.client.request(method, url, **kwargs))

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", url, **kw)

    def patch(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("PATCH", url, **kw)

    def delete(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", url, **kw)


@dataclass(frozen=True)
class Tenant:
    """A workspace created through the API, its owner, and a client acting as the owner."""

    id: str
    owner: str
    api: Api
    revision: int

    def url(self, path: str = "") -> str:
        return f"/v1/workspaces/{self.id}{path}"


@pytest.fixture
def rolegate(tmp_path: Path) -> Iterator[Rolegate]:
    rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/t.db", listen=False))
    rg.create_tables()
    yield rg
    rg.close()


@pytest.fixture
def org(rolegate: Rolegate) -> str:
    return create_organization(rolegate.uow(), actor=Actor.system("test"), name="Acme")


@pytest.fixture
def admin_key(rolegate: Rolegate, org: str) -> str:
    """Organization-wide, both rights."""
    return create_api_key(rolegate.uow(), organization_id=org, rights={"admin", "decide"}, name="test admin")


@pytest.fixture
def api(rolegate: Rolegate, admin_key: str) -> Iterator[Api]:
    app = create_app(rolegate)
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rolegate.test")
        try:
            yield Api(portal, client, admin_key)
        finally:
            portal.call(client.aclose)


def make_tenant(api: Api, preset: str, **extra: Any) -> Tenant:
    body = {"preset": preset, "name": f"{preset} workspace", "owner_email": f"owner@{preset}.test", **extra}
    r = api.post("/v1/workspaces", json=body)
    assert r.status_code == 201, r.text
    data = r.json()
    owner = data["owner"]["id"]
    return Tenant(data["workspace"]["id"], owner, api.as_(actor=owner), data["revision"])


@pytest.fixture
def natero(api: Api) -> Tenant:
    return make_tenant(api, "natero")


def invite(t: Tenant, email: str, role: str, *, activate: bool = True) -> str:
    r = t.api.post(t.url("/members"), json={"email": email, "role": role})
    assert r.status_code == 201, r.text
    member: str = r.json()["member"]["id"]
    if activate:
        r = t.api.post(t.url(f"/members/{member}/activate"))
        assert r.status_code == 200, r.text
    return member


def assert_problem(r: httpx.Response, status: int, code: str, *, rule: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    body: dict[str, Any] = r.json()
    assert body["type"] == f"https://rolegate.dev/problems/{code}"
    assert body["code"] == code
    assert body["status"] == status
    assert body["detail"]
    if rule is not None:
        assert body["rule"] == rule, body
    return body
