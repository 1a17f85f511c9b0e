"""The snapshot cache: fresh after this process's commits, read-your-own-writes, and
never staler than its bound (issue 12: LISTEN is the accelerator, not the guarantee)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.errors import RevisionNotReachedError
from rolegate.domain.workspace import Actor
from rolegate.services import context, members, roles, webhooks
from rolegate.services.snapshots import SnapshotCache
from rolegate.store import uow as uow_module
from rolegate.store.availability import read_revision
from rolegate.store.notify import RevisionListener
from tests.integration.support import PLATFORM, Ws, open_workspace


def test_snapshot_follows_this_process_commits(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    before = rolegate_app.snapshots.get(ws.id)
    role = roles.create_role(rolegate_app.uow(), actor=Actor.member(ws.owner_id), workspace_id=ws.id, name="Helpers", level="analyst")
    after = rolegate_app.snapshots.get(ws.id)
    assert after.revision == before.revision + 1
    assert after.role_of(ws.owner_id) is not None
    assert rolegate_app.snapshots.get(ws.id) is after  # cached, not recompiled
    added = members.add_member(rolegate_app.uow(), actor=Actor.member(ws.owner_id), workspace_id=ws.id, email="helper@example.test", role_id=role.id)
    latest = rolegate_app.snapshots.get(ws.id)
    held = latest.role_of(added.member.id)
    assert held is not None
    assert held.id == role.id
    assert before.role_of(added.member.id) is None  # the old snapshot is left as it was


def test_min_revision_not_reached_is_its_own_error(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    current = rolegate_app.snapshots.get(ws.id).revision
    assert rolegate_app.snapshots.get(ws.id, min_revision=current).revision == current
    with pytest.raises(RevisionNotReachedError) as info:
        rolegate_app.snapshots.get(ws.id, min_revision=current + 5)
    assert info.value.code == "revision_not_reached"
    assert "Retry" in info.value.fix


def test_cache_keeps_only_the_newest_snapshot_per_workspace(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    first = rolegate_app.snapshots.get(ws.id)
    roles.create_role(rolegate_app.uow(), actor=Actor.member(ws.owner_id), workspace_id=ws.id, name="Helpers", level="analyst")
    newest = rolegate_app.snapshots.get(ws.id)
    assert newest.revision == first.revision + 1
    assert rolegate_app.snapshots.cached()[ws.id] == newest.revision
    assert len(rolegate_app.snapshots) == 1  # the older revision is not held


def test_cache_is_bounded_by_workspaces_least_recently_used_first(rolegate_app: Rolegate) -> None:
    cache = SnapshotCache(rolegate_app.engine, maxsize=2)
    a, b, c = (open_workspace(rolegate_app, "telephony") for _ in range(3))
    cache.get(a.id)
    cache.get(b.id)
    cache.get(a.id)  # a is now the most recently used
    cache.get(c.id)
    assert list(cache.cached()) == [a.id, c.id]
    loads = cache.loads
    cache.get(a.id)
    assert cache.loads == loads  # still held
    cache.get(b.id)
    assert cache.loads == loads + 1  # evicted, compiled again


# -- no stale allow past the bound (issue 12, item 7) ------------------------------------------


class FakeClock:
    """The cache's monotonic clock, moved by hand: the tests count reads, not time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CountingReads:
    """The cache's revision-read seam, counting the reads per workspace."""

    def __init__(self, app: Rolegate, *, gate: threading.Event | None = None) -> None:
        self.app = app
        self.gate = gate
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, workspace_id: str) -> int | None:
        with self._lock:
            self.calls.append(workspace_id)
        if self.gate is not None:
            self.gate.wait(5)  # hold the read until every other thread is queued behind it
        return read_revision(self.app.engine, workspace_id)


def second_process(app: Rolegate, clock: FakeClock, reads: CountingReads, *, bound: float = 1.0) -> SnapshotCache:
    """The cache of another process on the same database: this process's commits reach
    it only through the database (no listener here: LISTEN is off, or NOTIFY lost)."""
    return SnapshotCache(app.engine, max_staleness=bound, clock=clock, read_revision=reads)


def add_role(ws: Ws, name: str) -> None:
    roles.create_role(ws.app.uow(), actor=ws.owner, workspace_id=ws.id, name=name, level="analyst")


def test_a_snapshot_older_than_the_bound_is_revalidated_once_per_workspace_per_interval(rolegate_app: Rolegate) -> None:
    ws, other = open_workspace(rolegate_app, "telephony"), open_workspace(rolegate_app, "telephony")
    clock, reads = FakeClock(), CountingReads(rolegate_app)
    cache = second_process(rolegate_app, clock, reads)
    first = cache.get(ws.id)
    cache.get(other.id)
    assert (cache.loads, reads.calls) == (2, [])  # a load is itself a confirmation
    clock.advance(0.999)
    for _ in range(100):
        assert cache.get(ws.id) is first  # within the bound: no I/O at all
    assert reads.calls == []
    clock.advance(0.002)
    for _ in range(100):
        assert cache.get(ws.id) is first
        cache.get(other.id)
    assert sorted(reads.calls) == sorted([ws.id, other.id])  # one read per workspace, not per request
    assert cache.loads == 2  # the revision had not moved: nothing recompiled
    clock.advance(1.0)
    for _ in range(10):
        cache.get(ws.id)
    assert reads.calls.count(ws.id) == 2  # one more interval, one more read


def test_many_threads_past_the_bound_make_one_read(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    clock, gate = FakeClock(), threading.Event()
    reads = CountingReads(rolegate_app, gate=gate)
    cache = second_process(rolegate_app, clock, reads)
    snap = cache.get(ws.id)
    clock.advance(5.0)
    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(cache.get, ws.id) for _ in range(64)]
        while not reads.calls:
            time.sleep(0.001)
        time.sleep(0.05)  # the other threads pile up behind the first read
        gate.set()
        results = [f.result(timeout=10) for f in futures]
    assert all(r is snap for r in results)
    assert reads.calls == [ws.id]  # no thundering herd


def test_a_write_behind_the_listeners_back_is_seen_within_the_bound(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    clock, reads = FakeClock(), CountingReads(rolegate_app)
    cache = second_process(rolegate_app, clock, reads)
    before = cache.get(ws.id)
    add_role(ws, "Behind its back")  # no NOTIFY reaches the other process's cache
    assert cache.get(ws.id) is before  # within the bound, it may still decide on the old revision
    clock.advance(1.001)
    after = cache.get(ws.id)
    assert after.revision == before.revision + 1  # past the bound it never does
    assert (reads.calls, cache.loads) == ([ws.id], 2)


def test_after_a_reconnect_every_snapshot_is_revalidated(rolegate_app: Rolegate) -> None:
    ws, quiet = open_workspace(rolegate_app, "telephony"), open_workspace(rolegate_app, "telephony")
    clock, reads = FakeClock(), CountingReads(rolegate_app)
    cache = second_process(rolegate_app, clock, reads, bound=3600.0)  # only the reconnect can tell
    before = cache.get(ws.id)
    cache.get(quiet.id)
    add_role(ws, "Missed while reconnecting")
    assert cache.get(ws.id) is before
    cache.on_reconnect()
    assert cache.get(ws.id).revision == before.revision + 1
    cache.get(quiet.id)
    assert sorted(reads.calls) == sorted([ws.id, quiet.id])  # each revalidated once, then trusted again
    cache.get(ws.id)
    cache.get(quiet.id)
    assert len(reads.calls) == 2


def test_the_default_bound_holds_between_two_processes(rolegate_app: Rolegate) -> None:
    """End to end with the default settings (ROLEGATE_MAX_STALENESS_MS=1000) and the
    real clock: another process's cache, told nothing, sees the write after the bound."""
    other = bootstrap(Settings(database_url=str(rolegate_app.engine.url.render_as_string(hide_password=False)), listen=False))
    try:
        ws = open_workspace(rolegate_app, "telephony")
        before = other.snapshots.get(ws.id)
        add_role(ws, "Seen within a second")
        time.sleep(1.05)
        assert other.snapshots.get(ws.id).revision == before.revision + 1
    finally:
        other.close()


def test_a_dropped_listener_connection_revalidates_on_reconnect(pg_tables_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The real listener on PostgreSQL: a commit whose NOTIFY it never hears (sent on a
    channel nobody listens to, as if sent while it was reconnecting), then its backend
    terminated: once it has reconnected, the cache has revalidated and decides at the new
    revision, though its staleness bound (an hour) is far off."""
    app = bootstrap(Settings(database_url=pg_tables_url, listen=False))
    clock, reads = FakeClock(), CountingReads(app)
    cache = second_process(app, clock, reads, bound=3600.0)
    listener = RevisionListener(pg_tables_url, cache.mark, on_reconnect=cache.on_reconnect, retry_every=0.1)
    listener.start()
    try:
        assert listener.connects == 1
        ws = open_workspace(app, "telephony")
        before = cache.get(ws.id)
        monkeypatch.setattr(uow_module, "NOTIFY_CHANNEL", "rolegate_nobody_listens")
        add_role(ws, "Notification lost")
        time.sleep(0.3)
        assert cache.get(ws.id) is before  # the listener heard nothing
        with psycopg.connect(pg_tables_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (listener.backend_pid,))
        deadline = time.monotonic() + 10
        while listener.connects < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert listener.connects == 2
        assert cache.get(ws.id).revision == before.revision + 1
        assert reads.calls == [ws.id]
    finally:
        listener.stop()
        app.close()


def test_a_webhook_change_of_the_organization_is_followed_from_the_audit_log_not_read_again(rolegate_app: Rolegate) -> None:
    """An endpoint's change is an audit event in every workspace of the organization
    (a revision of each): a process holding a workspace's inputs moves them past it
    from that event alone, as past a role edit, instead of reading the workspace again."""
    ws = open_workspace(rolegate_app, "telephony")
    held = rolegate_app.snapshots.get(ws.id)  # this process now holds the inputs it compiled
    with rolegate_app.uow() as uow:
        row = uow.workspaces.get(ws.id)
        assert row is not None
        organization_id = row.organization_id
    other = bootstrap(Settings(database_url=rolegate_app.settings.database_url, listen=False))  # another process
    try:
        webhooks.create_endpoint(other.uow(), actor=PLATFORM, organization_id=organization_id, url="http://127.0.0.1:9/hooks", allow_private=True)
    finally:
        other.close()
    assert ws.revision() == held.revision + 1
    with rolegate_app.uow() as uow:
        row = uow.workspaces.get(ws.id)
        assert row is not None
        followed = context.followed_inputs(uow, row, remember=False)
    assert followed is not None, "the webhook change made the workspace be read again"
    assert followed.revision == held.revision + 1
    assert {r.id: r for r in followed.roles} == {info.id: info for info in ws.roles().values()}
    assert set(followed.members) == set(ws.members())
