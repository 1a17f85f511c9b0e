"""A real HTTP server in this process (uvicorn on a thread, a free port, a SQLite file)
for what an in-process ASGI transport cannot do: Server-Sent Events streams, and the
SDK's own HTTP client with its connection pool."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.services.api_keys import create_api_key
from rolegate.services.workspaces import create_organization, create_workspace

__all__ = ["LiveServer", "live_server"]


@dataclass(frozen=True)
class LiveServer:
    url: str
    rolegate: Rolegate
    organization_id: str
    workspace_id: str
    owner: str
    admin_key: str
    decide_key: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def live_server(tmp_path: Path, *, preset: str = "natero", max_staleness_ms: int = 1000, url: str | None = None) -> Iterator[LiveServer]:
    """On a SQLite file of `tmp_path`, or on `url` (a migrated PostgreSQL database,
    with LISTEN: commits of other processes wake the change streams)."""
    if url is None:
        rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/live.db", listen=False, secret_key="live", max_staleness_ms=max_staleness_ms))
        rg.create_tables()
    else:
        rg = bootstrap(Settings(database_url=url, listen=True, secret_key="live", max_staleness_ms=max_staleness_ms))
    platform = Actor.system("test")
    org = create_organization(rg.uow(), actor=platform, name="Acme")
    created = create_workspace(rg.uow(), actor=platform, preset=preset, name="Live", owner_email="owner@live.test", organization_id=org)
    admin = create_api_key(rg.uow(), organization_id=org, rights={"admin", "decide"}, name="admin")
    decide = create_api_key(rg.uow(), organization_id=org, rights={"decide"}, name="sdk")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(rg), host="127.0.0.1", port=port, log_level="warning", lifespan="off", access_log=False))
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.01)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", rg, org, created.workspace.id, created.owner.member.id, admin, decide)
    finally:
        server.should_exit = True
        server.force_exit = True  # open change streams would hold a graceful shutdown forever
        thread.join(10)
        rg.close()
