"""The read path under writes (issue 18, item 5): on SQLite a unit of work that only
reads takes no write lock, so it neither waits for a writer nor makes one wait, and it
still reads one consistent snapshot; a write loads its own revision's snapshot after
its commit, so decisions keep the held snapshot instead of each waiting for a reload;
a write reuses the inputs the snapshot cache loaded at the same revision."""

from __future__ import annotations

import threading

import pytest

from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.services import context, roles
from rolegate.services.context import load_state
from rolegate.services.snapshots import SnapshotCache
from rolegate.store import UnitOfWork, make_engine
from tests.integration.support import open_workspace


def test_a_reader_does_not_block_a_writer_and_keeps_its_snapshot(rolegate_app: Rolegate) -> None:
    if rolegate_app.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL readers never took a lock; the write lock at BEGIN is SQLite's")
    ws = open_workspace(rolegate_app, "telephony")
    owner = Actor.member(ws.owner_id)
    written: list[int] = []

    def write() -> None:
        roles.create_role(rolegate_app.uow(), actor=owner, workspace_id=ws.id, name="Written meanwhile", level="analyst")
        with rolegate_app.reader() as uow:
            written.append(int(uow.workspaces.revision(ws.id) or 0))

    with rolegate_app.reader() as reader:
        before = reader.workspaces.revision(ws.id)
        names_before = {i.role.name for i in reader.roles.all(ws.id)}
        writer = threading.Thread(target=write)
        writer.start()
        # A reader holding the write lock (BEGIN IMMEDIATE) kept the writer waiting here
        # until the busy timeout (30 s); a deferred read transaction does not.
        writer.join(timeout=15)
        assert not writer.is_alive(), "the write waited for an open read-only unit of work"
        # The reader still sees the file as it was at its first read.
        assert reader.workspaces.revision(ws.id) == before
        assert {i.role.name for i in reader.roles.all(ws.id)} == names_before
    assert written == [int(before or 0) + 1]
    with rolegate_app.reader() as uow:
        assert "Written meanwhile" in {i.role.name for i in uow.roles.all(ws.id)}


def test_a_read_only_unit_of_work_cannot_commit(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    with rolegate_app.reader() as uow:
        uow.workspaces.bump_revision(ws.id)
        with pytest.raises(RuntimeError, match="read-only"):
            uow.commit()
    with rolegate_app.reader() as uow:
        assert uow.workspaces.revision(ws.id) == rolegate_app.snapshots.get(ws.id).revision  # nothing written


def test_a_write_loads_its_own_snapshot_and_decisions_never_wait_for_it(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    cache = rolegate_app.snapshots
    held = cache.get(ws.id)
    roles.create_role(rolegate_app.uow(), actor=Actor.member(ws.owner_id), workspace_id=ws.id, name="Own", level="analyst")
    # The writer loaded its revision before returning: a decision right after it finds
    # a fresh snapshot at that revision (before, the write only marked the held one
    # stale and the next decision reloaded it in the thread pool).
    now = cache.fresh(ws.id)
    assert now is not None
    assert now.revision == held.revision + 1

    # The listener's notice of a revision this process is committing does not send
    # decisions to reload: the held snapshot decides until the writer has loaded it.
    cache.expect(ws.id, now.revision + 1)
    cache.mark(ws.id, now.revision + 1)
    assert cache.fresh(ws.id) is now
    cache.expect(ws.id, None)  # that commit failed: the next notice counts again
    cache.mark(ws.id, now.revision + 1)
    assert cache.fresh(ws.id) is None


def test_a_write_reuses_the_inputs_loaded_at_its_revision(rolegate_app: Rolegate, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    snap = rolegate_app.snapshots.get(ws.id)
    compiled: list[int] = []
    real = context.compile_snapshot  # type: ignore[attr-defined]

    def counting(*args: object, **kwargs: object) -> object:
        compiled.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(context, "compile_snapshot", counting)
    with rolegate_app.uow() as uow:
        state = load_state(uow, ws.id)
        assert state.workspace.revision == snap.revision
        assert state.snapshot is snap  # nothing compiled while the workspace is locked
    assert compiled == []

    # Another process's write: the inputs held are of an older revision, not reused.
    other = bootstrap(Settings(database_url=rolegate_app.settings.database_url, listen=False))
    try:
        roles.create_role(other.uow(), actor=Actor.member(ws.owner_id), workspace_id=ws.id, name="Elsewhere", level="analyst")
    finally:
        other.close()
    compiled.clear()
    with rolegate_app.uow() as uow:
        state = load_state(uow, ws.id)
        assert state.workspace.revision == snap.revision + 1
        assert "Elsewhere" in {r.name for r in state.roles.values()}
        assert state.snapshot.revision == snap.revision + 1
    assert compiled == [1]


def test_a_write_loads_its_snapshot_after_giving_back_its_connection(rolegate_app: Rolegate) -> None:
    """With every pooled connection taken (here: a pool of one), the writer's load of its
    own revision must not need a second connection while it still holds the first:
    under a burst of writes, the others all waiting for the workspace's lock, that was
    a wait for the pool's timeout."""
    ws = open_workspace(rolegate_app, "telephony")
    engine = make_engine(rolegate_app.settings.database_url, pool_size=1, max_overflow=0, pool_timeout=2)
    try:
        cache = SnapshotCache(engine)
        held = cache.get(ws.id)
        uow = UnitOfWork(engine, on_revision=cache.committed, on_pending=cache.expect)
        roles.create_role(uow, actor=Actor.member(ws.owner_id), workspace_id=ws.id, name="One connection", level="analyst")
        now = cache.fresh(ws.id)
        assert now is not None
        assert now.revision == held.revision + 1
    finally:
        engine.dispose()
