"""The change feed as Server-Sent Events, over a real server: a stream delivers what
was committed before it and what is committed while it runs, marks each revision's
last change with its `id:`, resumes after `Last-Event-ID`, keeps a quiet connection
alive with comments, and refuses a cursor past the retention before it starts."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from rolegate.api.routes import changes as change_routes
from rolegate.domain.workspace import Actor
from rolegate.services.audit import prune_events, set_retention
from rolegate.services.workspaces import create_workspace
from rolegate.store.repositories import utcnow
from tests.sdk.server import LiveServer, live_server


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    # A long poll interval: a change must arrive by the commit's signal, not by polling.
    with live_server(tmp_path, max_staleness_ms=30_000) as server:
        yield server


class Events:
    """Reads one SSE stream event by event (blank-line separated blocks)."""

    def __init__(self, response: httpx.Response) -> None:
        self._lines = response.iter_lines()

    def next(self) -> dict[str, str]:
        block: dict[str, str] = {}
        for line in self._lines:
            if line == "":
                if block:
                    return block
                continue
            name, _, value = line.partition(":")
            block[name or "comment"] = value.removeprefix(" ")
        raise AssertionError("the stream ended")


def invite(live: LiveServer, email: str) -> int:
    r = httpx.post(
        f"{live.url}/v1/workspaces/{live.workspace_id}/members",
        json={"email": email, "role": "csm"},
        headers={"Authorization": f"Bearer {live.admin_key}", "Rolegate-Actor": live.owner},
    )
    assert r.status_code == 201, r.text
    revision: int = r.json()["revision"]
    return revision


def stream(live: LiveServer, path: str, headers: dict[str, str] | None = None, **params: Any) -> Any:
    return httpx.stream("GET", f"{live.url}{path}", params=params, headers={"Authorization": f"Bearer {live.decide_key}", **(headers or {})}, timeout=10)


def test_a_stream_sends_past_changes_then_new_ones_as_they_commit(live: LiveServer) -> None:
    with stream(live, f"/v1/workspaces/{live.workspace_id}/changes/stream") as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events = Events(r)
        first = events.next()
        assert first["event"] == "change"
        assert json.loads(first["data"])["action"] == "workspace.create"
        assert first["id"] == str(json.loads(first["data"])["revision"])
        created = int(httpx.get(f"{live.url}/v1/workspaces/{live.workspace_id}", headers={"Authorization": f"Bearer {live.decide_key}"}).json()["revision"])
        while int(json.loads(first["data"])["revision"]) < created:
            first = events.next()  # the rest of the workspace's creation
        started = time.monotonic()
        revision = invite(live, "cat@acme.test")
        new = events.next()
        assert json.loads(new["data"])["action"].startswith("member.")
        assert new["id"] == str(revision)
        assert time.monotonic() - started < 5  # woken by the commit, not the 30 s poll


def test_a_stream_resumes_after_last_event_id_and_ignores_after_then(live: LiveServer) -> None:
    revision = invite(live, "cat@acme.test")
    newer = invite(live, "dog@acme.test")
    with stream(live, f"/v1/workspaces/{live.workspace_id}/changes/stream", headers={"Last-Event-ID": str(revision)}, after=0) as r:
        event = Events(r).next()
        assert (event["id"], json.loads(event["data"])["target"]["type"]) == (str(newer), "member")


def test_a_quiet_stream_sends_heartbeats(live: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(change_routes, "HEARTBEAT_SECONDS", 0.2)
    with stream(live, f"/v1/workspaces/{live.workspace_id}/changes/stream", after=10_000) as r:
        assert Events(r).next() == {"comment": "heartbeat"}


def test_a_cursor_past_the_retention_is_410_before_the_stream_starts(live: LiveServer) -> None:
    for i in range(3):
        invite(live, f"m{i}@acme.test")
    owner = Actor.member(live.owner)
    set_retention(live.rolegate.uow(), actor=owner, workspace_id=live.workspace_id, days=1)
    prune_events(live.rolegate.uow(), actor=owner, workspace_id=live.workspace_id, now=utcnow() + timedelta(days=2))
    with stream(live, f"/v1/workspaces/{live.workspace_id}/changes/stream", after=0) as r:
        r.read()
        assert r.status_code == 410
        assert r.json()["code"] == "feed_resync"
    with stream(live, f"/v1/workspaces/{live.workspace_id}/changes/stream", headers={"Last-Event-ID": "x1"}) as r:
        r.read()
        assert r.status_code == 422


def test_the_organization_stream_carries_each_workspace_and_a_cursor_id(live: LiveServer) -> None:
    other = create_workspace(live.rolegate.uow(), actor=Actor.system("test"), preset="telephony", name="Other", owner_email="o@live.test", organization_id=live.organization_id)
    with stream(live, f"/v1/organizations/{live.organization_id}/changes/stream") as r:
        assert r.status_code == 200, r.read()
        events = Events(r)
        seen: set[str] = set()
        while seen != {live.workspace_id, other.workspace.id}:
            seen.add(json.loads(events.next()["data"])["workspace_id"])
        invite(live, "cat@acme.test")
        while True:  # the rest of what was there, then the new change
            event = events.next()
            data = json.loads(event["data"])
            if data["action"] in ("member.add", "member.invite") and data["workspace_id"] == live.workspace_id and "id" in event:
                break
        cursor = event["id"]
    # Resuming from that id: nothing older comes again.
    page = httpx.get(
        f"{live.url}/v1/organizations/{live.organization_id}/changes", params={"after": cursor}, headers={"Authorization": f"Bearer {live.decide_key}"}
    ).json()
    assert page["changes"] == []
