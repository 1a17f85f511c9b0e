"""The Todo example (`examples/todo_app`): a FastAPI application deciding with the SDK
in its own process, against a real Rolegate server. Lists hold exactly what the member
may view, updates are refused on what they may not change (404 when they may not even
see it), and an administrator's change is read at once with `min_revision`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from examples.todo_app.app import TodoStore, create_app

from rolegate_sdk import Rolegate
from tests.sdk.server import LiveServer, live_server


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path) as server:
        yield server


def admin_write(live: LiveServer, method: str, path: str, body: Any = None) -> dict[str, Any]:
    r = httpx.request(method, f"{live.url}/v1/workspaces/{live.workspace_id}{path}", json=body, headers={"Authorization": f"Bearer {live.admin_key}", "Rolegate-Actor": live.owner})
    assert r.status_code in (200, 201), r.text
    out: dict[str, Any] = r.json()
    return out


def test_the_todo_app_decides_in_its_own_process(live: LiveServer) -> None:
    ann = admin_write(live, "POST", "/members", {"email": "ann@todo.test", "role": "csm"})["member"]["id"]
    admin_write(live, "POST", f"/members/{ann}/activate")
    store = TodoStore()
    mine = store.add("Ann's", ann)
    free = store.add("Nobody's", None)
    theirs = store.add("The owner's", live.owner)
    with Rolegate(live.url, live.decide_key, live.workspace_id, records=store) as rg, start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(rg, store)), base_url="http://todo.test")

        def call(method: str, path: str, member: str, **kw: Any) -> httpx.Response:
            return portal.call(lambda: client.request(method, path, headers={"X-Member": member}, **kw))

        try:
            listed = call("GET", "/todos", ann, params={"min_revision": rg.revision}).json()["todos"]
            assert {t["id"] for t in listed} == {mine.id}  # a CSM sees the accounts assigned to her (N11)
            assert {t["id"] for t in call("GET", "/todos", live.owner).json()["todos"]} == {mine.id, free.id, theirs.id}
            assert call("PATCH", f"/todos/{mine.id}", ann, json={"done": True}).json()["done"] is True
            assert call("PATCH", f"/todos/{theirs.id}", ann, json={"done": True}).status_code == 404  # not even visible to her
            assert call("POST", "/todos", ann, json={"title": "New"}).status_code == 201
            assert rg.remote_answers == 0  # every decision, record ones included, in process
            # The administrator disables Ann; the app reads it at once with the write's revision.
            revision = int(admin_write(live, "POST", f"/members/{ann}/disable")["revision"])
            assert call("GET", "/todos", ann, params={"min_revision": revision}).json()["todos"] == []
            assert call("POST", "/todos", ann, params={"min_revision": revision}, json={"title": "x"}).status_code == 403
        finally:
            portal.call(client.aclose)
