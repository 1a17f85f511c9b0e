"""A live Rolegate (uvicorn in a thread, a free port) with one workspace and a SCIM key,
for the SCIM tests that need real HTTP: the conformance checker and the seat race."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate
from rolegate.domain.workspace import Actor
from rolegate.services.api_keys import create_api_key
from rolegate.services.workspaces import create_organization, create_workspace


@dataclass(frozen=True)
class LiveScim:
    rolegate: Rolegate
    url: str
    """The workspace's SCIM base URL."""
    key: str
    workspace_id: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def live_scim(rolegate: Rolegate, *, preset: str = "natero", seats: dict[str, int | None] | None = None) -> Iterator[LiveScim]:
    org = create_organization(rolegate.uow(), actor=Actor.system("test"), name="Acme")
    ws = create_workspace(
        rolegate.uow(), actor=Actor.system("test"), organization_id=org, name="SCIM", preset=preset,
        owner_email="owner@acme.com", seat_capacities=seats,
    )  # fmt: skip
    key = create_api_key(rolegate.uow(), organization_id=org, workspace_id=ws.workspace.id, rights={"scim"}, name="directory")
    port = _free_port()
    config = uvicorn.Config(create_app(rolegate), host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none", http="h11")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-scim", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield LiveScim(rolegate, f"http://127.0.0.1:{port}/scim/v2/workspaces/{ws.workspace.id}", key, ws.workspace.id)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
