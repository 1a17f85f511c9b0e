"""The record index in bulk: up to 10,000 records per request, read and written in
a few statements (`IN` lists per type; new rows and audit events by COPY on
PostgreSQL, executemany on SQLite), never one statement per record: psycopg's
executemany sends one INSERT per row, pipelined, which was 4x slower than COPY here.
An upsert on PostgreSQL sends its records once, into a temporary table that the
insert and the lookups read (`upsert_lookup`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC
from typing import Any, TypeVar

from psycopg import sql
from sqlalchemy import Connection, String, Table, and_, any_, bindparam, delete, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.elements import ColumnElement

from rolegate.domain.workspace import SealedEvent
from rolegate.engine.filters import Filter
from rolegate.engine.records import Record, RecordRef
from rolegate.store import tables as t
from rolegate.store.database import driver_connection
from rolegate.store.record_lists import Page, visible_page
from rolegate.store.repositories import utcnow

__all__ = ["AuditRows", "RecordBulkRepository"]

T = TypeVar("T")

STAGE = "rolegate_bulk_stage"
"""The temporary table of a bulk upsert on PostgreSQL (one per connection)."""

AUDIT_COLUMNS = ("workspace_id", "seq", "id", "at", "actor", "action", "target_type", "target_id", "before", "after", "revision", "prev_hash", "hash")
AuditRows = bytes | list[dict[str, Any]]
"""Audit rows ready to write: COPY text on PostgreSQL, parameter sets elsewhere."""
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_NULL = "\\N"

CHUNK = 500
"""Ids per `IN` list: well under SQLite's and PostgreSQL's parameter limits."""


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for k in range(0, len(items), CHUNK):
        yield items[k : k + CHUNK]


def _by_type(refs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for rtype, rid in refs:
        out[rtype].append(rid)
    return out


def _record(row: Any) -> Record:
    parent = RecordRef(row.parent_type, row.parent_id) if row.parent_type is not None else None
    return Record(row.type, row.id, parent, row.assignee_id)


def _values(record: Record) -> dict[str, Any]:
    return {
        "parent_type": record.parent.type if record.parent else None,
        "parent_id": record.parent.id if record.parent else None,
        "assignee_id": record.assignee,
    }


class RecordBulkRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._inserted: int | None = None
        """How many records `upsert_lookup` inserted on PostgreSQL in this transaction."""

    def _among(self, column: Any, ids: Sequence[str]) -> Iterator[ColumnElement[bool]]:
        """`column` is one of `ids`: one array parameter on PostgreSQL (`= ANY`), `IN`
        lists of 500 elsewhere."""
        if self.conn.dialect.name == "postgresql":
            yield column == any_(bindparam("ids", list(ids), type_=ARRAY(String)))
            return
        for chunk in _chunks(ids):
            yield column.in_(chunk)

    def get_many(self, workspace_id: str, refs: Iterable[tuple[str, str]]) -> dict[RecordRef, Record]:
        r = t.records
        found: dict[RecordRef, Record] = {}
        for rtype, ids in _by_type(set(refs)).items():
            for among in self._among(r.c.id, ids):
                stmt = select(r).where(and_(r.c.workspace_id == workspace_id, r.c.type == rtype, among))
                for row in self.conn.execute(stmt):
                    rec = _record(row)
                    found[rec.ref] = rec
        return found

    def missing(self, workspace_id: str, refs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Those of `refs` that are not in the index."""
        wanted = set(refs)
        return wanted - set(self.get_many(workspace_id, wanted)) if wanted else set()

    def upsert_lookup(
        self, workspace_id: str, batch: Sequence[Record], *, meanwhile: Callable[[], T]
    ) -> tuple[dict[RecordRef, Record], set[tuple[str, str]], T | None]:
        """For an upsert of `batch` (one record per key): those of its records that were
        in the index, the parents it names that are neither in the index nor in `batch`
        (C7), and what `meanwhile` returns (Python work that does not touch the
        connection), or None when it was not run.

        On PostgreSQL this inserts the records of `batch` that were not in the index (the
        caller commits only if its checks pass): the batch goes once, by COPY, into a
        temporary table (no index, no WAL, emptied at commit); the insert from it and the
        parents' lookup are sent in pipeline mode and `meanwhile` runs while the server
        works. Elsewhere nothing is written here, and `meanwhile` runs only when no
        record of `batch` was found."""
        if self.conn.dialect.name != "postgresql":
            keys = {(r.type, r.id) for r in batch}
            parents = {(r.parent.type, r.parent.id) for r in batch if r.parent is not None}
            before = self.get_many(workspace_id, keys)
            return before, self.missing(workspace_id, parents - keys), None if before else meanwhile()
        if self._inserted is not None:
            raise RuntimeError("one bulk upsert per transaction: its rows are told from older ones by the transaction that wrote them")
        self.conn.execute(text(f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE} (type text, id text, parent_type text, parent_id text, assignee_id text) ON COMMIT DELETE ROWS"))
        driver: Any = driver_connection(self.conn)
        with driver.cursor() as cur, cur.copy(f"COPY {STAGE} FROM STDIN") as copy:
            for r in batch:
                copy.write_row((r.type, r.id, r.parent.type if r.parent else None, r.parent.id if r.parent else None, r.assignee))
        insert = (
            "INSERT INTO records (workspace_id, type, id, parent_type, parent_id, assignee_id, updated_at) "
            f"SELECT %(ws)s, s.type, s.id, s.parent_type, s.parent_id, s.assignee_id, %(now)s FROM {STAGE} s "
            "ON CONFLICT (workspace_id, type, id) DO NOTHING"
        )
        # After the insert, the parents in the call are in the index too.
        absent = (
            f"SELECT DISTINCT s.parent_type, s.parent_id FROM {STAGE} s WHERE s.parent_type IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM records r WHERE r.workspace_id = %(ws)s AND r.type = s.parent_type AND r.id = s.parent_id)"
        )
        params = {"ws": workspace_id, "now": utcnow()}
        with driver.cursor() as inserting, driver.cursor() as checking:
            with driver.pipeline():
                inserting.execute(insert, params)
                checking.execute(absent, params)
                result = meanwhile()
            inserted = inserting.rowcount
            missing = {(row[0], row[1]) for row in checking.fetchall()}
        self._inserted = inserted
        if inserted == len(batch):
            return {}, missing, result
        # The rows that were there: ON CONFLICT DO NOTHING left them as they were, and
        # this transaction wrote no other row of the batch (one upsert per transaction).
        found = self.conn.execute(
            text(
                f"SELECT r.type, r.id, r.parent_type, r.parent_id, r.assignee_id FROM {STAGE} s "
                "JOIN records r ON r.workspace_id = :ws AND r.type = s.type AND r.id = s.id WHERE r.xmin <> pg_current_xact_id()::xid"
            ),
            {"ws": workspace_id},
        )
        return {(rec := _record(row)).ref: rec for row in found}, missing, result

    def insert_new(self, workspace_id: str, records: Sequence[Record]) -> None:
        """Insert `records`, the records of the batch given to `upsert_lookup` that it
        did not find (on PostgreSQL it inserted them already: only checked here)."""
        if self._inserted is None:
            self.insert_many(workspace_id, records)
        elif self._inserted != len(records):
            raise RuntimeError(f"inserted {self._inserted} new records, expected {len(records)}")

    def insert_many(self, workspace_id: str, records: Sequence[Record]) -> None:
        if records:
            now = utcnow()
            columns = ("workspace_id", "type", "id", "parent_type", "parent_id", "assignee_id", "updated_at")
            rows = [
                (workspace_id, r.type, r.id, r.parent.type if r.parent else None, r.parent.id if r.parent else None, r.assignee, now) for r in records
            ]
            self._insert_rows(t.records, columns, rows)

    def _insert_rows(self, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Rows in the transaction's connection: COPY on PostgreSQL, else executemany."""
        if self.conn.dialect.name != "postgresql":
            self.conn.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
            return
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns)))
        driver: Any = driver_connection(self.conn)
        with driver.cursor() as cur, cur.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def update_many(self, workspace_id: str, records: Sequence[Record]) -> None:
        if not records:
            return
        now = utcnow()
        if self.conn.dialect.name == "postgresql":
            # One statement over arrays: executemany would send one UPDATE per row.
            stmt = text(
                "UPDATE records AS r SET parent_type = u.parent_type, parent_id = u.parent_id, assignee_id = u.assignee_id, updated_at = :now "
                "FROM unnest(CAST(:types AS text[]), CAST(:ids AS text[]), CAST(:ptypes AS text[]), CAST(:pids AS text[]), CAST(:assignees AS text[])) "
                "AS u(type, id, parent_type, parent_id, assignee_id) "
                "WHERE r.workspace_id = :ws AND r.type = u.type AND r.id = u.id"
            )
            params = {
                "ws": workspace_id,
                "now": now,
                "types": [rec.type for rec in records],
                "ids": [rec.id for rec in records],
                "ptypes": [rec.parent.type if rec.parent else None for rec in records],
                "pids": [rec.parent.id if rec.parent else None for rec in records],
                "assignees": [rec.assignee for rec in records],
            }
            self.conn.execute(stmt, params)
            return
        r = t.records
        stmt_many = (
            update(r)
            .where(and_(r.c.workspace_id == workspace_id, r.c.type == bindparam("k_type"), r.c.id == bindparam("k_id")))
            .values(parent_type=bindparam("parent_type"), parent_id=bindparam("parent_id"), assignee_id=bindparam("assignee_id"), updated_at=bindparam("now"))
        )
        self.conn.execute(stmt_many, [{"k_type": rec.type, "k_id": rec.id, "now": now, **_values(rec)} for rec in records])

    def delete_many(self, workspace_id: str, refs: Iterable[tuple[str, str]]) -> None:
        r = t.records
        for rtype, ids in _by_type(refs).items():
            for chunk in _chunks(ids):
                self.conn.execute(delete(r).where(and_(r.c.workspace_id == workspace_id, r.c.type == rtype, r.c.id.in_(chunk))))

    def children_of(self, workspace_id: str, parents: Iterable[tuple[str, str]]) -> list[Record]:
        """Every record whose parent is one of `parents` (ix_records_parent)."""
        r = t.records
        out: list[Record] = []
        for ptype, ids in _by_type(parents).items():
            for among in self._among(r.c.parent_id, ids):
                stmt = select(r).where(and_(r.c.workspace_id == workspace_id, r.c.parent_type == ptype, among))
                out.extend(_record(row) for row in self.conn.execute(stmt))
        return out

    def append_sealed(self, sealed: Sequence[SealedEvent]) -> None:
        """Audit events already chained and hashed, in one statement; on PostgreSQL
        their JSON columns get the very texts that were hashed."""
        self.append_audit_rows(self.audit_rows(sealed))

    def audit_rows(self, sealed: Sequence[SealedEvent]) -> AuditRows:
        """The rows of `sealed` as `append_audit_rows` writes them; pure Python (no
        statement), so it may run while the connection is busy (`upsert_lookup`). On
        PostgreSQL: COPY's text format, the JSON columns the very texts that were hashed."""
        if self.conn.dialect.name != "postgresql":  # SQLAlchemy serializes JSON columns itself
            return [
                dict(zip(AUDIT_COLUMNS, (e.workspace_id, e.seq, e.id, e.at, e.actor, e.action, e.target_type, e.target_id, e.before, e.after, e.revision, e.prev_hash, digest), strict=True))
                for e, digest, _, _ in sealed
            ]
        lines: list[str] = []
        at: dict[object, str] = {}
        for e, digest, before, after in sealed:
            when = at.get(e.at)
            if when is None:
                when = at[e.at] = e.at.astimezone(UTC).isoformat()
            fields = (e.workspace_id, str(e.seq), e.id, when, e.actor, e.action, e.target_type, e.target_id, before, after, str(e.revision), e.prev_hash, digest)
            lines.append("\t".join(_COPY_NULL if f is None else f.translate(_COPY_ESCAPES) for f in fields))
        lines.append("")
        return "\n".join(lines).encode()

    def append_audit_rows(self, rows: AuditRows) -> None:
        if not rows:
            return
        if isinstance(rows, bytes):
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(t.audit_events.name), sql.SQL(", ").join(map(sql.Identifier, AUDIT_COLUMNS)))
            driver: Any = driver_connection(self.conn)
            with driver.cursor() as cur, cur.copy(statement) as copy:
                copy.write(rows)
            return
        self.conn.execute(insert(t.audit_events), rows)

    def visible_page(self, f: Filter, workspace_id: str, *, cursor: str | None, limit: int) -> Page:
        return visible_page(self.conn, f, workspace_id, cursor=cursor, limit=limit)
