"""The change feed's reads of `audit_events`: a workspace's changes after a revision,
in (revision, seq) order, through `ix_audit_events_revision` (0014_changes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select

from rolegate.domain.changes import Change
from rolegate.store import tables as t
from rolegate.store.repositories import _aware, _Repo, utcnow

__all__ = ["ChangeRepository"]

_a = t.audit_events
_COLUMNS = (_a.c.workspace_id, _a.c.revision, _a.c.seq, _a.c.id, _a.c.action, _a.c.target_type, _a.c.target_id, _a.c.actor, _a.c.at)


def _change(row: Any) -> Change:
    return Change(row.workspace_id, int(row.revision), int(row.seq), row.id, row.action, row.target_type, row.target_id, row.actor, _aware(row.at) or utcnow())


class ChangeRepository(_Repo):
    def after(self, workspace_id: str, revision: int, limit: int) -> list[Change]:
        """At most `limit` changes with a revision above `revision`, oldest first."""
        stmt = (
            select(*_COLUMNS)
            .where(and_(_a.c.workspace_id == workspace_id, _a.c.revision > revision))
            .order_by(_a.c.revision, _a.c.seq)
            .limit(limit)
        )
        return [_change(r) for r in self.conn.execute(stmt)]

    def at_revision(self, workspace_id: str, revision: int, after_seq: int) -> list[Change]:
        """The rest of one revision's changes (a bulk call makes many), after `after_seq`."""
        stmt = (
            select(*_COLUMNS)
            .where(and_(_a.c.workspace_id == workspace_id, _a.c.revision == revision, _a.c.seq > after_seq))
            .order_by(_a.c.seq)
        )
        return [_change(r) for r in self.conn.execute(stmt)]

    def revision_at_seq(self, workspace_id: str, seq: int) -> int | None:
        """The revision of the first event at or after `seq` (the oldest kept after a prune)."""
        stmt = select(_a.c.revision).where(and_(_a.c.workspace_id == workspace_id, _a.c.seq >= seq)).order_by(_a.c.seq).limit(1)
        value = self.conn.execute(stmt).scalar()
        return None if value is None else int(value)

    def after_seq(self, workspace_id: str, after_seq: int, *, through_revision: int, limit: int) -> list[Change]:
        """At most `limit` changes after the event `after_seq`, up to revision
        `through_revision`, in seq order (the primary key: a range read)."""
        stmt = (
            select(*_COLUMNS)
            .where(and_(_a.c.workspace_id == workspace_id, _a.c.seq > after_seq, _a.c.revision <= through_revision))
            .order_by(_a.c.seq)
            .limit(limit)
        )
        return [_change(r) for r in self.conn.execute(stmt)]

    def last_seq_through(self, workspace_id: str, revision: int) -> int:
        """The seq of the last event at or before `revision` (0: none is kept)."""
        stmt = select(func.max(_a.c.seq)).where(and_(_a.c.workspace_id == workspace_id, _a.c.revision <= revision))
        value = self.conn.execute(stmt).scalar()
        return 0 if value is None else int(value)
