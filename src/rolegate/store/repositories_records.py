"""The record index in bulk: up to 10,000 records per request, read and written in
a few statements (`IN` lists per type, executemany), never one round trip per record."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, select, update

from rolegate.domain.workspace import AuditEvent
from rolegate.engine.filters import Filter
from rolegate.engine.records import Record, RecordRef
from rolegate.store import tables as t
from rolegate.store.record_lists import Page, visible_page
from rolegate.store.repositories import utcnow

__all__ = ["RecordBulkRepository"]

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

    def get_many(self, workspace_id: str, refs: Iterable[tuple[str, str]]) -> dict[RecordRef, Record]:
        r = t.records
        found: dict[RecordRef, Record] = {}
        for rtype, ids in _by_type(set(refs)).items():
            for chunk in _chunks(ids):
                stmt = select(r).where(and_(r.c.workspace_id == workspace_id, r.c.type == rtype, r.c.id.in_(chunk)))
                for row in self.conn.execute(stmt):
                    rec = _record(row)
                    found[rec.ref] = rec
        return found

    def insert_many(self, workspace_id: str, records: Sequence[Record]) -> None:
        if records:
            now = utcnow()
            rows = [{"workspace_id": workspace_id, "type": rec.type, "id": rec.id, "updated_at": now, **_values(rec)} for rec in records]
            self.conn.execute(insert(t.records), rows)

    def update_many(self, workspace_id: str, records: Sequence[Record]) -> None:
        if not records:
            return
        r = t.records
        stmt = (
            update(r)
            .where(and_(r.c.workspace_id == workspace_id, r.c.type == bindparam("k_type"), r.c.id == bindparam("k_id")))
            .values(parent_type=bindparam("parent_type"), parent_id=bindparam("parent_id"), assignee_id=bindparam("assignee_id"), updated_at=bindparam("now"))
        )
        now = utcnow()
        self.conn.execute(stmt, [{"k_type": rec.type, "k_id": rec.id, "now": now, **_values(rec)} for rec in records])

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
            for chunk in _chunks(ids):
                stmt = select(r).where(and_(r.c.workspace_id == workspace_id, r.c.parent_type == ptype, r.c.parent_id.in_(chunk)))
                out.extend(_record(row) for row in self.conn.execute(stmt))
        return out

    def append_audit(self, events: Sequence[AuditEvent]) -> None:
        """Audit events already chained and hashed, in one executemany."""
        if events:
            rows = []
            for e in events:
                payload = e.payload()
                payload["at"] = e.at
                rows.append({"hash": e.hash, **payload})
            self.conn.execute(insert(t.audit_events), rows)

    def visible_page(self, f: Filter, workspace_id: str, *, cursor: str | None, limit: int) -> Page:
        return visible_page(self.conn, f, workspace_id, cursor=cursor, limit=limit)
