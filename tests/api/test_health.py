"""`/healthz` (the process answers) and `/readyz` (the database is reachable and at
this version's migration head), without an API key; and the request id every
response carries."""

from __future__ import annotations

import io
import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal

from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.logs import JsonFormatter
from rolegate.services.api_keys import create_api_key
from rolegate.services.workspaces import create_organization
from rolegate.store.migrations import downgrade, head_revision, upgrade
from tests.api.conftest import Api, Tenant, assert_problem


def _client(rg: Rolegate) -> Iterator[Api]:
    with start_blocking_portal() as portal:
        # raise_app_exceptions=False: a 500 is answered (and read here), as a server does.
        transport = httpx.ASGITransport(app=create_app(rg), raise_app_exceptions=False)
        client = httpx.AsyncClient(transport=transport, base_url="http://rolegate.test")
        try:
            yield Api(portal, client)
        finally:
            portal.call(client.aclose)
            rg.close()


def _open(url: str) -> Iterator[Api]:
    yield from _client(bootstrap(Settings(database_url=url, listen=False)))


@pytest.fixture
def migrated(tmp_path: Path) -> Iterator[Api]:
    url = f"sqlite:///{tmp_path}/ready.db"
    upgrade(url)
    yield from _open(url)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_healthz_answers_without_io_or_key(api: Api) -> None:
    r = api.without_key().get("/healthz")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})


def test_readyz_is_200_on_a_migrated_database(migrated: Api) -> None:
    r = migrated.get("/readyz")
    assert (r.status_code, r.json()) == (200, {"status": "ready", "migration": head_revision()})


def test_readyz_is_503_on_an_unmigrated_database(tmp_path: Path) -> None:
    for api in _open(f"sqlite:///{tmp_path}/empty.db"):
        body = assert_problem(api.get("/readyz"), 503, "not_ready")
        assert "has no Rolegate tables" in body["detail"]
        assert "rolegate db upgrade" in body["detail"]


def test_readyz_is_503_on_a_database_behind_this_version(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    upgrade(url)
    downgrade(url, "-1")
    for api in _open(url):
        r = api.get("/readyz")
        body = assert_problem(r, 503, "not_ready")
        assert f"this version needs {head_revision()}" in body["detail"]
        assert r.headers["Retry-After"]


def test_readyz_is_503_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    unreachable = [
        f"sqlite:///{tmp_path}/no/such/dir/x.db",
        f"postgresql://rolegate:secret@127.0.0.1:{_free_port()}/rolegate",  # nothing listens there
    ]
    for url in unreachable:
        for api in _open(url):
            r = api.get("/readyz")
            assert_problem(r, 503, "store_unavailable")
            assert r.headers["Retry-After"]
            assert "secret" not in r.text
            assert api.get("/healthz").status_code == 200  # the process itself is fine


def test_a_request_id_is_echoed_or_made(api: Api) -> None:
    r = api.without_key().get("/healthz", headers={"X-Request-Id": "req-42.abc"})
    assert r.headers["X-Request-Id"] == "req-42.abc"
    made = {api.without_key().get("/healthz").headers["X-Request-Id"] for _ in range(3)}
    assert len(made) == 3  # a new one each time
    # Not a plain token (it goes into every log line): replaced, never echoed.
    r = api.without_key().get("/healthz", headers={"X-Request-Id": "x" * 129})
    assert r.headers["X-Request-Id"] != "x" * 129
    r = api.without_key().get("/healthz", headers={"X-Request-Id": 'a"b'})
    assert r.headers["X-Request-Id"] != 'a"b'


def test_errors_carry_the_request_id_too(natero: Tenant) -> None:
    r = natero.api.post(natero.url("/check"), json={"member": natero.owner, "action": "nope.nope"}, headers={"X-Request-Id": "err-1"})
    assert r.status_code == 422
    assert r.headers["X-Request-Id"] == "err-1"


def _capture() -> tuple[logging.Handler, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    return handler, stream


def test_a_500_is_logged_as_json_with_its_request_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/t.db", listen=False))
    rg.create_tables()

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(rg.snapshots, "fresh", broken)
    handler, stream = _capture()
    logger = logging.getLogger("rolegate")
    logger.addHandler(handler)
    try:
        for api in _client(rg):
            org = create_organization(rg.uow(), actor=Actor.system("test"), name="Acme")
            key = create_api_key(rg.uow(), organization_id=org, rights={"admin", "decide"}, name="k")
            keyed = api.as_(key=key)
            ws = keyed.post("/v1/workspaces", json={"preset": "natero", "name": "N", "owner_email": "o@n.test"}).json()["workspace"]["id"]
            r = keyed.post(f"/v1/workspaces/{ws}/check", json={"member": "m", "action": "accounts.view"}, headers={"X-Request-Id": "boom-7"})
            assert_problem(r, 500, "internal_error")
            assert r.headers["X-Request-Id"] == "boom-7"
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    failure = next(line for line in lines if line["message"] == "unexpected error")
    assert failure["request_id"] == "boom-7"
    assert failure["level"] == "ERROR"
    assert failure["logger"] == "rolegate.api"
    assert "the disk caught fire" in failure["exc_info"]
