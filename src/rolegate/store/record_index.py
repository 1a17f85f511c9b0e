"""The engine's RecordIndex over the database, for decisions outside a transaction."""

from __future__ import annotations

from sqlalchemy import Engine, and_, select

from rolegate.engine.records import Record, RecordRef
from rolegate.store import tables as t

__all__ = ["SqlRecordIndex"]


class SqlRecordIndex:
    __slots__ = ("_engine", "_workspace_id")

    def __init__(self, engine: Engine, workspace_id: str) -> None:
        self._engine = engine
        self._workspace_id = workspace_id

    def get(self, ref: RecordRef) -> Record | None:
        r = t.records
        stmt = select(r.c.parent_type, r.c.parent_id, r.c.assignee_id).where(
            and_(r.c.workspace_id == self._workspace_id, r.c.type == ref[0], r.c.id == ref[1])
        )
        with self._engine.connect() as conn:
            row = conn.execute(stmt).first()
            conn.rollback()
        if row is None:
            return None
        parent = RecordRef(row.parent_type, row.parent_id) if row.parent_type is not None else None
        return Record(ref[0], ref[1], parent, row.assignee_id)
