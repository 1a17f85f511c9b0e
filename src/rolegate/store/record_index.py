"""The engine's RecordIndex over the database, for decisions outside a transaction.

A check on a child record needs the record and every ancestor up to the one that
carries the assignment (C7). `lineage` fetches that chain in one query (the record
LEFT JOINed to its parent, and so on, `depth` times) instead of one query per step;
the statements are built once per depth and reused (SQLAlchemy caches their SQL).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, Select, and_, bindparam, select

from rolegate.engine.records import Record, RecordRef
from rolegate.store import tables as t

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


class SqlRecordIndex:
    __slots__ = ("_engine", "_workspace_id")

    def __init__(self, engine: Engine, workspace_id: str) -> None:
        self._engine = engine
        self._workspace_id = workspace_id

    def get(self, ref: RecordRef) -> Record | None:
        return self.lineage(ref, 0)[0]

    def lineage(self, ref: RecordRef, depth: int) -> list[Record | None]:
        params = {"ws": self._workspace_id, "type": ref[0], "id": ref[1]}
        with self._engine.connect() as conn:
            row = conn.execute(lineage_statement(depth), params).first()
            conn.rollback()
        return chain_from_row(row, depth)
