"""The engine's RecordIndex over the database, for decisions outside a transaction.

A check on a child record needs the record and every ancestor up to the one that
carries the assignment (C7). `lineage` fetches that chain in one query (the record
LEFT JOINed to its parent, and so on, `depth` times) instead of one query per step;
the statements are built once per depth and reused.

On PostgreSQL the index reads through a few autocommit psycopg connections of its own,
shared by every snapshot of the engine, with server-side prepared statements: one
round trip per check, where a pooled SQLAlchemy connection adds a pre-ping, a BEGIN
and a ROLLBACK (three more round trips). They close when the engine is disposed.
Behind a transaction-pooling PgBouncer they prepare nothing (see `database.py`).

A snapshot loaded from a streaming replica reads its records there too (the replica
has at least the snapshot's revision: replay only moves forward), and from the
primary while the replica cannot be reached (`Replica.available`).
"""

from __future__ import annotations

import itertools
import queue
import threading
import weakref
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import psycopg
from sqlalchemy import Engine, Select, and_, bindparam, event, select
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

from rolegate.domain.errors import StoreUnavailableError
from rolegate.engine.records import Record, RecordRef
from rolegate.store import tables as t
from rolegate.store.availability import UNAVAILABLE_ERRORS, failure_kind
from rolegate.store.database import CONNECT_TIMEOUT, read_only, transaction_pooled
from rolegate.store.replica import Replica

__all__ = ["SqlRecordIndex", "lineage_statement"]


@lru_cache(maxsize=16)
def lineage_statement(depth: int) -> Select[Any]:
    """`type, id, parent_type, parent_id, assignee_id` of the record and of each of its
    `depth` ancestors, as one row (ancestors NULL where the chain breaks)."""
    steps = [t.records.alias(f"r{k}") for k in range(depth + 1)]
    first = steps[0]
    joined: Any = first
    for child, parent in itertools.pairwise(steps):
        joined = joined.outerjoin(
            parent,
            and_(parent.c.workspace_id == child.c.workspace_id, parent.c.type == child.c.parent_type, parent.c.id == child.c.parent_id),
        )
    columns = [c for s in steps for c in (s.c.type, s.c.id, s.c.parent_type, s.c.parent_id, s.c.assignee_id)]
    return (
        select(*columns)
        .select_from(joined)
        .where(and_(first.c.workspace_id == bindparam("ws"), first.c.type == bindparam("type"), first.c.id == bindparam("id")))
    )


def chain_from_row(row: Sequence[Any] | None, depth: int) -> list[Record | None]:
    if row is None:
        return [None]
    out: list[Record | None] = []
    for k in range(depth + 1):
        rtype, rid, ptype, pid, assignee = row[5 * k : 5 * k + 5]
        if rtype is None:
            break
        out.append(Record(rtype, rid, RecordRef(ptype, pid) if ptype is not None else None, assignee))
    return out


@lru_cache(maxsize=16)
def _lineage_sql(depth: int) -> str:
    return str(lineage_statement(depth).compile(dialect=PGDialect_psycopg()))  # type: ignore[no-untyped-call]


class _Readers:
    """Idle autocommit connections for record reads (at most `keep` kept)."""

    def __init__(self, url: str, keep: int = 8, *, prepare: bool = True) -> None:
        self._url = url
        self._keep = keep
        self._prepare_threshold = 5 if prepare else None
        """None: `prepare=True` below prepares nothing (psycopg's rule)."""
        self._idle: queue.SimpleQueue[psycopg.Connection[Any]] = queue.SimpleQueue()
        self._closed = False

    def fetch(self, query: str, params: dict[str, str]) -> Sequence[Any] | None:
        for attempt in (1, 2):
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT, prepare_threshold=self._prepare_threshold)
            try:
                row = conn.execute(query, params, prepare=True).fetchone()
            except psycopg.OperationalError:
                conn.close()  # a connection the server dropped: retry once on a new one
                if attempt == 2:
                    raise
                continue
            if self._closed or self._idle.qsize() >= self._keep:
                conn.close()
            else:
                self._idle.put(conn)
            return row
        return None  # pragma: no cover

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


_readers: weakref.WeakKeyDictionary[Engine, _Readers] = weakref.WeakKeyDictionary()
_readers_lock = threading.Lock()


def _readers_of(engine: Engine) -> _Readers | None:
    if engine.dialect.name != "postgresql":
        return None
    readers = _readers.get(engine)
    if readers is None:
        with _readers_lock:
            readers = _readers.get(engine)
            if readers is None:
                url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
                readers = _readers[engine] = _Readers(url, prepare=not transaction_pooled(engine))
                event.listen(engine, "engine_disposed", lambda _engine: _close_readers(_engine))
    return readers


def _close_readers(engine: Engine) -> None:
    readers = _readers.pop(engine, None)
    if readers is not None:
        readers.close()


class SqlRecordIndex:
    __slots__ = ("_engine", "_readers", "_replica", "_workspace_id")

    def __init__(self, engine: Engine, workspace_id: str, *, replica: Replica | None = None) -> None:
        """`replica`: read there while it can be reached, else from `engine` (the primary)."""
        self._engine = engine
        self._workspace_id = workspace_id
        self._readers = _readers_of(engine)
        self._replica = replica

    @property
    def reads_replica(self) -> bool:
        """Reads go to a streaming replica while it can be reached (facts at least at
        the revision of the snapshot it serves, maybe older than the primary's)."""
        return self._replica is not None

    def get(self, ref: RecordRef) -> Record | None:
        return self.lineage(ref, 0)[0]

    def lineage(self, ref: RecordRef, depth: int) -> list[Record | None]:
        replica = self._replica
        if replica is not None and replica.available():
            try:
                return self._lineage(replica.engine, _readers_of(replica.engine), ref, depth)
            except UNAVAILABLE_ERRORS as error:
                replica.failed(StoreUnavailableError(failure_kind(error)))
        return self._lineage(self._engine, self._readers, ref, depth)

    def _lineage(self, engine: Engine, readers: _Readers | None, ref: RecordRef, depth: int) -> list[Record | None]:
        params = {"ws": self._workspace_id, "type": ref[0], "id": ref[1]}
        if readers is not None:
            return chain_from_row(readers.fetch(_lineage_sql(depth), params), depth)
        with engine.connect() as conn:
            read_only(conn)  # SQLite: a deferred read, not the write lock every writer waits for
            row = conn.execute(lineage_statement(depth), params).first()
            conn.rollback()
        return chain_from_row(row, depth)
