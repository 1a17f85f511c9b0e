"""Compiled snapshots: the newest of each workspace, in a bounded LRU.

A snapshot is reused only while it is at the workspace's newest known revision: this
process's own commits and (on PostgreSQL) every other process's commits, heard through
LISTEN/NOTIFY, move the known revision forward. A caller that just wrote passes
`min_revision` (the revision its write returned) to read its own writes.

Only the newest snapshot of a workspace is kept: an older one is never served again,
and holding it would only give the collector more to walk (full collections were the
p99 of decisions). A request that already holds an older snapshot finishes on it.
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
        if maxsize < 1:
            raise ValueError("the snapshot cache holds at least one workspace")
        self._engine = engine
        self._maxsize = maxsize
        self._latest: OrderedDict[str, Snapshot] = OrderedDict()
        self._known: dict[str, int] = {}
        self._lock = threading.Lock()
        self.loads = 0

    def __len__(self) -> int:
        return len(self._latest)

    def cached(self) -> dict[str, int]:
        """Workspace id -> revision of the snapshot held, least recently used first."""
        with self._lock:
            return {ws: snap.revision for ws, snap in self._latest.items()}

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
                try:  # noqa: SIM105 (contextlib.suppress costs more than the check it guards)
                    self._latest.move_to_end(workspace_id)
                except KeyError:  # evicted by another thread meanwhile; still valid to serve
                    pass
                return snap
        return self._load(workspace_id, min_revision)

    def _load(self, workspace_id: str, min_revision: int | None) -> Snapshot:
        with UnitOfWork(self._engine) as uow:
            ws = uow.workspaces.get(workspace_id)
            if ws is None:
                raise NotFoundError(f"no workspace {workspace_id!r}", decision=None, fix="Check the workspace id.")
            current = self._latest.get(ws.id)
            if current is not None and current.revision == ws.revision:
                cached = current  # another thread compiled this revision meanwhile
            else:
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
            current = self._latest.get(workspace_id)
            if current is None or cached.revision >= current.revision:
                self._latest[workspace_id] = cached
            self._latest.move_to_end(workspace_id)
            while len(self._latest) > self._maxsize:
                self._latest.popitem(last=False)
            if cached.revision > self._known.get(workspace_id, -1):
                self._known[workspace_id] = cached.revision
        return cached
