"""The admin UI's sessions (`web_sessions`): one row per login, keyed by the SHA-256 of
the random id the cookie carries, so the database never holds a usable session.
Never commits; the unit of work does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, or_, select, update

from rolegate.store import tables as t
from rolegate.store.repositories import _aware, _Repo, utcnow

__all__ = ["WebSessionRepository", "WebSessionRow"]


@dataclass(frozen=True, slots=True)
class WebSessionRow:
    id_hash: str
    user_id: str
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None


def _row(r: Any) -> WebSessionRow:
    return WebSessionRow(r.id_hash, r.user_id, _aware(r.created_at) or utcnow(), _aware(r.last_seen_at) or utcnow(), _aware(r.revoked_at))


class WebSessionRepository(_Repo):
    def add(self, id_hash: str, user_id: str, at: datetime) -> None:
        self.conn.execute(insert(t.web_sessions).values(id_hash=id_hash, user_id=user_id, created_at=at, last_seen_at=at))

    def get(self, id_hash: str) -> WebSessionRow | None:
        r = self.conn.execute(select(t.web_sessions).where(t.web_sessions.c.id_hash == id_hash)).first()
        return _row(r) if r is not None else None

    def touch(self, id_hash: str, at: datetime) -> None:
        s = t.web_sessions
        self.conn.execute(update(s).where(s.c.id_hash == id_hash).values(last_seen_at=at))

    def revoke(self, id_hash: str, at: datetime) -> bool:
        s = t.web_sessions
        done = self.conn.execute(update(s).where(and_(s.c.id_hash == id_hash, s.c.revoked_at.is_(None))).values(revoked_at=at))
        return bool(done.rowcount)

    def revoke_all(self, user_id: str, at: datetime) -> int:
        s = t.web_sessions
        done = self.conn.execute(update(s).where(and_(s.c.user_id == user_id, s.c.revoked_at.is_(None))).values(revoked_at=at))
        return int(done.rowcount)

    def of_user(self, user_id: str) -> list[WebSessionRow]:
        s = t.web_sessions
        return [_row(r) for r in self.conn.execute(select(s).where(s.c.user_id == user_id).order_by(s.c.created_at))]

    def purge(self, user_id: str, *, idle_before: datetime, created_before: datetime) -> int:
        """Delete the user's sessions that can never be used again: revoked, idle or too old."""
        s = t.web_sessions
        dead = or_(s.c.revoked_at.is_not(None), s.c.last_seen_at < idle_before, s.c.created_at < created_before)
        done = self.conn.execute(delete(s).where(and_(s.c.user_id == user_id, dead)))
        return int(done.rowcount)
