"""No request stalls the service (issue 12, item 8): every body of the API and the admin
UI has a size limit, refused with a 413 `body_too_large` problem and `Connection:
close`; a declared size before the body is read, a chunked body as soon as it passes
the limit; an anonymous caller never gets a large body read; large JSON bodies are
decoded in a worker thread; the admin UI's forms take no uploads.

The routes are read from the app itself (every operation of the OpenAPI document and
every form POST of the admin UI), so a new route is covered (or fails here) the day it
is added. `EXPECTED_LIMIT` is the documented table (README, docs/errors.md)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI

from rolegate.api import limits as limits_module
from rolegate.api.limits import BATCH_MAX, BODY_LIMIT, BULK_BODY_LIMIT, OFF_LOOP_BYTES, PUBLIC_BODY_LIMIT, limit_for
from rolegate.api.schemas.decisions import BatchCheckIn, FieldsFilterIn
from rolegate.api.schemas.fields import FieldCheckWriteIn
from rolegate.api.schemas.records import BulkDeleteIn, BulkUpsertIn
from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.services.api_keys import create_api_key
from rolegate.services.workspaces import create_organization
from rolegate.web.errors import PageRoute

PUBLIC = {
    ("POST", "/v1/invitations/{token}/accept"),
    ("POST", "/v1/password-resets"),
    ("POST", "/v1/password-resets/{token}"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/sso/start"),
    ("POST", "/password-reset"),
    ("POST", "/password-reset/{token}"),
    ("POST", "/invitations/{token}"),
}
"""Anyone may post here (no API key, no session): the smallest limit."""

BULK = {
    ("POST", "/v1/workspaces/{workspace_id}/check/batch"),
    ("POST", "/v1/workspaces/{workspace_id}/records/bulk"),
    ("POST", "/v1/workspaces/{workspace_id}/records/delete"),
    ("POST", "/v1/workspaces/{workspace_id}/fields/filter"),
    ("POST", "/v1/workspaces/{workspace_id}/fields/check-write"),
}
"""Up to `BATCH_MAX` items per call."""


def _app() -> tuple[FastAPI, Rolegate]:
    rg = bootstrap(Settings(database_url="sqlite:///:memory:", listen=False, secret_key="test"))
    return create_app(rg), rg


def _flat(routes: Any) -> Iterator[Any]:
    """Every route, the included routers' too (FastAPI keeps an included router whole)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        yield from _flat(inner.routes) if inner is not None else (route,)


def _routes() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(method, path) of every route that may be sent a body (the API's operations and
    the admin UI's form POSTs), and of those that read one."""
    app, rg = _app()
    try:
        every: set[tuple[str, str]] = set()
        reading: set[tuple[str, str]] = set()
        for path, item in app.openapi()["paths"].items():
            for method, operation in item.items():
                if method in ("post", "put", "patch", "delete"):
                    every.add((method.upper(), path))
                    if "requestBody" in operation:
                        reading.add((method.upper(), path))
        for route in _flat(app.routes):
            if isinstance(route, PageRoute):
                forms = {(m, route.path) for m in route.methods or () if m not in ("GET", "HEAD")}
                every |= forms
                if ":path}" not in route.path:  # the /w/... catch-all answers 404 unread
                    reading |= forms  # every form POST reads its form first (the CSRF token)
    finally:
        rg.close()
    return sorted(every), sorted(reading)


ROUTES, READING = _routes()


def expected_limit(method: str, path: str) -> int:
    return PUBLIC_BODY_LIMIT if (method, path) in PUBLIC else BULK_BODY_LIMIT if (method, path) in BULK else BODY_LIMIT


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


class Client:
    def __init__(self, portal: BlockingPortal, client: httpx.AsyncClient, key: str) -> None:
        self.portal = portal
        self.client = client
        self.key = key

    def send(self, method: str, url: str, content: Any, *, key: bool = True, headers: dict[str, str] | None = None) -> httpx.Response:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if key:
            sent["Authorization"] = f"Bearer {self.key}"
        return self.portal.call(lambda: self.client.request(method, url, content=content, headers=sent))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/t.db", listen=False, secret_key="test"))
    rg.create_tables()
    org = create_organization(rg.uow(), actor=Actor.system("test"), name="Acme")
    key = create_api_key(rg.uow(), organization_id=org, rights={"admin", "decide"}, name="test")
    app = create_app(rg)
    with start_blocking_portal() as portal:
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rolegate.test")
        try:
            yield Client(portal, http, key)
        finally:
            portal.call(http.aclose)
            rg.close()


def assert_too_large(r: httpx.Response, *, problem: bool = True) -> None:
    assert r.status_code == 413, (r.status_code, r.text[:300])
    assert r.headers.get("connection") == "close"
    if problem:
        assert r.headers["content-type"].startswith("application/problem+json")
        body = r.json()
        assert body["code"] == "body_too_large"
        assert body["type"] == "https://rolegate.dev/problems/body_too_large"


def test_the_table_covers_real_routes() -> None:
    """The public and bulk tables name routes that exist (a renamed route fails here)."""
    assert set(ROUTES) >= PUBLIC | BULK
    assert len(ROUTES) > 40


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_each_route_has_its_documented_limit(method: str, path: str) -> None:
    assert limit_for(concrete(path)) == expected_limit(method, path)


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_a_declared_body_above_the_limit_is_refused_unread(client: Client, method: str, path: str) -> None:
    limit = expected_limit(method, path)
    r = client.send(method, concrete(path), b" " * (limit + 1), key=False)
    assert_too_large(r)


@pytest.mark.parametrize(("method", "path"), READING, ids=[f"{m} {p}" for m, p in READING])
def test_a_chunked_body_is_cut_off_at_the_limit(client: Client, method: str, path: str) -> None:
    limit = expected_limit(method, path)
    api = path.startswith("/v1/")
    # JSON whitespace for the API; a form's fields, each under its size limit, for a page.
    chunk = b" " * 16384 if api else b"a=" + b"x" * 16380 + b"&"
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        while sent < 4 * limit:
            sent += len(chunk)
            yield chunk

    content_type = "application/json" if api else "application/x-www-form-urlencoded"
    r = client.send(method, concrete(path), body(), headers={"Content-Type": content_type})
    assert_too_large(r, problem=api)  # an admin UI page answers with its 413 page
    assert sent <= limit + 2 * len(chunk), "the rest of the upload must not be read"


@pytest.mark.parametrize("path", ["/v1/invitations/tok/accept", "/v1/password-resets", "/login", "/invitations/tok"])
def test_a_16_mb_body_to_a_public_route_is_refused_before_it_is_read(client: Client, path: str) -> None:
    read = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal read
        for _ in range(256):
            read += 65536
            yield b" " * 65536

    r = client.send("POST", path, body(), key=False, headers={"Content-Length": str(16 * 2**20)})
    assert_too_large(r)
    assert read == 0


def test_at_its_limit_a_body_is_taken(client: Client) -> None:
    """The limit is not smaller than documented: exactly `limit` bytes get past it (and
    fail later, as JSON that is not the request)."""
    # Past the limit: a decision on an unknown workspace is 404, a reset without an email 422.
    for method, path, status in (("POST", "/v1/workspaces/x/check", 404), ("POST", "/v1/workspaces/x/check/batch", 404), ("POST", "/v1/password-resets", 422)):
        limit = limit_for(path)
        r = client.send(method, path, b" " * (limit - 2) + b"{}")
        assert r.status_code == status, (path, r.status_code, r.text[:200])


def test_an_anonymous_caller_never_gets_a_large_body_read(client: Client) -> None:
    """401 before the body is read: a key is checked first on a body above OFF_LOOP_BYTES."""
    read = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal read
        for _ in range(100):
            read += 65536
            yield b" " * 65536

    r = client.send("POST", "/v1/workspaces/x/check/batch", body(), key=False, headers={"Authorization": "Bearer rg_nope_nope"})
    assert r.status_code == 401, r.text
    assert read == 0


def test_a_large_json_body_is_decoded_in_a_worker_thread(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[bool] = []
    decode = limits_module._decode

    def watched(body: bytes) -> Any:
        try:
            anyio.from_thread.check_cancelled()  # only works in an AnyIO worker thread
            threads.append(True)
        except RuntimeError:
            threads.append(False)
        return decode(body)

    monkeypatch.setattr(limits_module, "_decode", watched)
    checks = [{"member": "m" * 36, "action": "accounts.view", "record": None} for _ in range(2000)]
    body = json.dumps({"checks": checks}).encode()
    assert len(body) > OFF_LOOP_BYTES
    r = client.send("POST", "/v1/workspaces/x/check/batch", body)
    assert r.status_code == 404, r.text  # decoded and validated; the workspace does not exist
    assert threads == [True]
    small = client.send("POST", "/v1/workspaces/x/check/batch", json.dumps({"checks": checks[:10]}).encode())
    assert small.status_code == 404
    assert threads == [True], "a small body is decoded on the loop, as before"
    bad = client.send("POST", "/v1/workspaces/x/check/batch", body[:-1])
    assert bad.status_code == 422
    assert bad.json()["code"] == "request_invalid"


@pytest.mark.parametrize(
    ("model", "item"),
    [
        (BatchCheckIn, {"checks": {"member": "m" * 36, "action": "a" * 200, "record": {"type": "t" * 64, "id": "i" * 200}}}),
        (BulkUpsertIn, {"records": {"type": "t" * 64, "id": "i" * 200, "parent": {"type": "t" * 64, "id": "i" * 200}, "assignee": "m" * 36}}),
        (BulkDeleteIn, {"records": {"type": "t" * 64, "id": "i" * 200}}),
        (FieldCheckWriteIn, {"fields": "f" * 200}),
    ],
)
def test_a_full_bulk_call_fits_its_body_limit(model: Any, item: dict[str, Any]) -> None:
    """The documented cap of items per call (BATCH_MAX), at their longest strings, fits
    BULK_BODY_LIMIT: a limit never refuses a call the API says it takes."""
    ((name, one),) = item.items()
    prop = model.model_json_schema()["properties"][name]
    arrays = [s for s in prop.get("anyOf", [prop]) if s.get("type") == "array"]
    assert [s["maxItems"] for s in arrays] == [BATCH_MAX]
    body = json.dumps({name: [one] * BATCH_MAX, "member": "m" * 36, "object": "o" * 64}).encode()
    assert len(body) <= BULK_BODY_LIMIT


def test_a_page_of_records_to_filter_is_capped_at_the_batch_size() -> None:
    prop = FieldsFilterIn.model_json_schema()["properties"]["records"]
    assert [s["maxItems"] for s in prop["anyOf"] if s.get("type") == "array"] == [BATCH_MAX]


def test_admin_ui_forms_take_no_uploads(client: Client) -> None:
    files = {"file": ("big.bin", b"x" * 1000, "application/octet-stream")}
    r = client.portal.call(lambda: client.client.post("/login", data={"email": "a@b.c", "password": "p"}, files=files))
    assert r.status_code == 400, r.text[:300]


def test_an_admin_ui_form_field_is_bounded(client: Client) -> None:
    r = client.portal.call(
        lambda: client.client.post("/w/x/roles", content=b"name=" + b"n" * (70 * 1024), headers={"Content-Type": "application/x-www-form-urlencoded"})
    )
    assert r.status_code == 400, r.text[:300]
    assert "maximum size" in r.text
