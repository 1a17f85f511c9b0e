"""The change feed and the snapshot document on PostgreSQL: pages in (revision, seq)
order through the revision index, and a stream woken by another process's commit
through LISTEN/NOTIFY (the stream's own poll interval is 30 s here, so only the
notification can bring the change in time)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rolegate.bootstrap import bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.engine import snapshot_from_document
from rolegate.services.invitations import invite
from tests.api.test_changes_stream import Events
from tests.sdk.server import LiveServer, live_server


@pytest.fixture
def live(tmp_path: Path, pg_migrated_url: str) -> Iterator[LiveServer]:
    with live_server(tmp_path, url=pg_migrated_url, max_staleness_ms=30_000) as server:
        yield server


def get(live: LiveServer, path: str, **params: object) -> httpx.Response:
    return httpx.get(f"{live.url}{path}", params=params, headers={"Authorization": f"Bearer {live.decide_key}"})  # type: ignore[arg-type]


def test_pages_and_the_snapshot_on_postgresql(live: LiveServer) -> None:
    page = get(live, f"/v1/workspaces/{live.workspace_id}/changes", limit=1000).json()
    revisions = [c["revision"] for c in page["changes"]]
    assert revisions == sorted(revisions)
    assert page["next_after"] == page["revision"]
    org = get(live, f"/v1/organizations/{live.organization_id}/changes").json()
    assert {c["workspace_id"] for c in org["changes"]} == {live.workspace_id}
    doc = get(live, f"/v1/workspaces/{live.workspace_id}/snapshot").json()
    assert doc["revision"] == page["revision"]
    assert snapshot_from_document(doc).check(live.owner, "accounts.view").allowed


def test_a_commit_of_another_process_wakes_the_stream_by_notify(live: LiveServer, pg_migrated_url: str) -> None:
    other = bootstrap(Settings(database_url=pg_migrated_url, listen=False, secret_key="other"))  # another process's Rolegate
    try:
        revision = int(get(live, f"/v1/workspaces/{live.workspace_id}").json()["revision"])
        with httpx.stream(
            "GET",
            f"{live.url}/v1/workspaces/{live.workspace_id}/changes/stream",
            params={"after": revision},
            headers={"Authorization": f"Bearer {live.decide_key}"},
            timeout=10,
        ) as r:
            assert r.status_code == 200
            time.sleep(0.3)  # the stream is waiting
            started = time.monotonic()
            invite(other.uow(), actor=Actor.member(live.owner), workspace_id=live.workspace_id, email="far@away.test", role_id="csm", policy=other.mail_policy)
            event = Events(r).next()
            assert json.loads(event["data"])["revision"] == revision + 1
            assert time.monotonic() - started < 5  # NOTIFY, not the 30 s poll
    finally:
        other.close()
