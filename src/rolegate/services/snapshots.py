"""Compiled snapshots, cached per (workspace, revision) in a bounded LRU.

A snapshot is reused only while it is at the workspace's newest known revision: this
process's own commits and (on PostgreSQL) every other process's commits, heard through
LISTEN/NOTIFY, move the known revision forward. A caller that just wrote passes
`min_revision` (the revision its write returned) to read its own writes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from rolegate.domain.errors import NotFoundError, RevisionNotReachedError
from rolegate.engine import Snapshot, compile_snapshot
from rolegate.services.context import workspace_schema
from rolegate.store import Engine
from rolegate.store.record_index import SqlRecordIndex
from rolegate.store.uow import UnitOfWork

__all__ = ["SnapshotCache"]


class SnapshotCache:
    def __init__(self, engine: Engine, *, maxsize: int = 256) -> None:
        self._engine = engine
        self._maxsize = maxsize
        self._lru: OrderedDict[tuple[str, int], Snapshot] = OrderedDict()
        self._latest: dict[str, Snapshot] = {}
        self._known: dict[str, int] = {}
        self._lock = threading.Lock()
        self.loads = 0

    def mark(self, workspace_id: str, revision: int) -> None:
        """A commit made `revision` the newest; older snapshots are stale from now on."""
        with self._lock:
            if revision > self._known.get(workspace_id, -1):
                self._known[workspace_id] = revision

    def get(self, workspace_id: str, *, min_revision: int | None = None) -> Snapshot:
        snap = self._latest.get(workspace_id)
        if snap is not None:
            floor = max(self._known.get(workspace_id, 0), min_revision or 0)
            if snap.revision >= floor:
                return snap
        return self._load(workspace_id, min_revision)

    def _load(self, workspace_id: str, min_revision: int | None) -> Snapshot:
        with UnitOfWork(self._engine) as uow:
            ws = uow.workspaces.get(workspace_id)
            if ws is None:
                raise NotFoundError(f"no workspace {workspace_id!r}", decision=None, fix="Check the workspace id.")
            with self._lock:
                cached = self._lru.get((ws.id, ws.revision))
            if cached is None:
                roles = [info.role for info in uow.roles.all(ws.id)]
                members = uow.members.members(ws.id)
                cached = compile_snapshot(
                    workspace_schema(uow, ws),
                    features=ws.features,
                    roles=roles,
                    members=members,
                    records=SqlRecordIndex(self._engine, ws.id),
                    revision=ws.revision,
                )
                self.loads += 1
        if min_revision is not None and cached.revision < min_revision:
            raise RevisionNotReachedError(workspace_id, cached.revision, min_revision)
        with self._lock:
            self._lru[(workspace_id, cached.revision)] = cached
            self._lru.move_to_end((workspace_id, cached.revision))
            while len(self._lru) > self._maxsize:
                self._lru.popitem(last=False)
            current = self._latest.get(workspace_id)
            if current is None or cached.revision >= current.revision:
                self._latest[workspace_id] = cached
            if cached.revision > self._known.get(workspace_id, -1):
                self._known[workspace_id] = cached.revision
        return cached
