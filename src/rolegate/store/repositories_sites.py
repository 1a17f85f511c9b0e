"""Repositories of issue 8: site administrators, workspaces by user, administrator
records (users' names and emails), and the audit log's search, retention and pruning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update

from rolegate.domain.workspace import GENESIS_HASH
from rolegate.store import tables as t
from rolegate.store.repositories import _Repo, _workspace, utcnow

__all__ = ["AuditRetention", "SiteRepository"]


@dataclass(frozen=True, slots=True)
class AuditRetention:
    days: int | None
    pruned_through_seq: int
    pruned_through_hash: str


class SiteRepository(_Repo):
    # -- site administrators --------------------------------------------------------------
    def add_admin(self, organization_id: str, user_id: str, name: str = "") -> bool:
        """False when the user already administers the site. `name` is the site's own
        name for them (never the person's stored name, which is theirs)."""
        if self.is_admin(organization_id, user_id):
            return False
        self.conn.execute(insert(t.site_administrators).values(organization_id=organization_id, user_id=user_id, name=name))
        return True

    def remove_admin(self, organization_id: str, user_id: str) -> bool:
        s = t.site_administrators
        result = self.conn.execute(delete(s).where(and_(s.c.organization_id == organization_id, s.c.user_id == user_id)))
        return bool(result.rowcount)

    def is_admin(self, organization_id: str, user_id: str) -> bool:
        s = t.site_administrators
        row = self.conn.execute(select(s.c.user_id).where(and_(s.c.organization_id == organization_id, s.c.user_id == user_id))).first()
        return row is not None

    def admins(self, organization_id: str) -> frozenset[str]:
        s = t.site_administrators
        return frozenset(r.user_id for r in self.conn.execute(select(s.c.user_id).where(s.c.organization_id == organization_id)))

    def admin_list(self, organization_id: str) -> list[tuple[str, str, str]]:
        """(user id, email, the site's name for them) of the site's administrators, by email."""
        s, u = t.site_administrators, t.users
        rows = self.conn.execute(
            select(u.c.id, u.c.email, s.c.name).select_from(s.join(u, u.c.id == s.c.user_id)).where(s.c.organization_id == organization_id).order_by(u.c.email)
        )
        return [(r.id, r.email, r.name) for r in rows]

    def organizations_administered(self, user_id: str) -> list[str]:
        s = t.site_administrators
        return [r.organization_id for r in self.conn.execute(select(s.c.organization_id).where(s.c.user_id == user_id))]

    def organization_name(self, organization_id: str) -> str | None:
        o = t.organizations
        row = self.conn.execute(select(o.c.name).where(o.c.id == organization_id)).first()
        return str(row.name) if row is not None else None

    def workspaces_of_user(self, user_id: str) -> list[Any]:
        """Every workspace the user may enter: as a member (any status), or as an
        administrator of its site; one query, in creation order."""
        w, m, s = t.workspaces, t.members, t.site_administrators
        member_of = select(m.c.workspace_id).where(m.c.user_id == user_id)
        site_of = select(s.c.organization_id).where(s.c.user_id == user_id)
        rows = self.conn.execute(
            select(w).where(or_(w.c.id.in_(member_of), w.c.organization_id.in_(site_of))).order_by(w.c.created_at, w.c.id)
        )
        return [_workspace(r) for r in rows]

    def memberships_of_user(self, user_id: str) -> list[tuple[str, str]]:
        """(workspace id, organization id) of each membership of the user."""
        m, w = t.members, t.workspaces
        rows = self.conn.execute(select(m.c.workspace_id, w.c.organization_id).select_from(m.join(w, w.c.id == m.c.workspace_id)).where(m.c.user_id == user_id))
        return [(r.workspace_id, r.organization_id) for r in rows]

    # -- logins (users) ------------------------------------------------------------------
    def reaches_user(self, organization_id: str, user_id: str) -> bool:
        """Whether the user is a member of a workspace of the organization, or one of its site administrators."""
        m, w, s = t.members, t.workspaces, t.site_administrators
        member = select(m.c.id).select_from(m.join(w, w.c.id == m.c.workspace_id)).where(and_(m.c.user_id == user_id, w.c.organization_id == organization_id))
        admin = select(s.c.user_id).where(and_(s.c.user_id == user_id, s.c.organization_id == organization_id))
        row = self.conn.execute(select(member.exists().label("m"), admin.exists().label("a"))).first()
        return row is not None and (bool(row.m) or bool(row.a))

    def email_taken(self, email: str, *, except_user: str) -> bool:
        u = t.users
        row = self.conn.execute(select(u.c.id).where(and_(u.c.email == email.strip().lower(), u.c.id != except_user))).first()
        return row is not None

    # -- audit: search, retention, pruning -----------------------------------------------
    def event_actors(self, workspace_id: str) -> list[str]:
        a = t.audit_events
        return [r.actor for r in self.conn.execute(select(a.c.actor).where(a.c.workspace_id == workspace_id).group_by(a.c.actor).order_by(a.c.actor))]

    def retention(self, workspace_id: str) -> AuditRetention:
        r = t.audit_retention
        row = self.conn.execute(select(r).where(r.c.workspace_id == workspace_id)).first()
        if row is None:
            return AuditRetention(None, 0, GENESIS_HASH)
        return AuditRetention(row.days, int(row.pruned_through_seq), str(row.pruned_through_hash))

    def set_retention(self, workspace_id: str, value: AuditRetention) -> None:
        r = t.audit_retention
        values = {"days": value.days, "pruned_through_seq": value.pruned_through_seq, "pruned_through_hash": value.pruned_through_hash, "updated_at": utcnow()}
        if self.conn.execute(select(r.c.workspace_id).where(r.c.workspace_id == workspace_id)).first() is None:
            self.conn.execute(insert(r).values(workspace_id=workspace_id, **values))
        else:
            self.conn.execute(update(r).where(r.c.workspace_id == workspace_id).values(**values))

    def last_event_before(self, workspace_id: str, at: datetime) -> tuple[int, str] | None:
        """The newest event older than `at` (the last one pruning would remove)."""
        a = t.audit_events
        row = self.conn.execute(
            select(a.c.seq, a.c.hash).where(and_(a.c.workspace_id == workspace_id, a.c.at < at)).order_by(a.c.seq.desc()).limit(1)
        ).first()
        return (int(row.seq), str(row.hash)) if row is not None else None

    def delete_events_through(self, workspace_id: str, seq: int) -> int:
        a = t.audit_events
        return int(self.conn.execute(delete(a).where(and_(a.c.workspace_id == workspace_id, a.c.seq <= seq))).rowcount)

    def count_events(self, workspace_id: str) -> int:
        a = t.audit_events
        return int(self.conn.execute(select(func.count()).select_from(a).where(a.c.workspace_id == workspace_id)).scalar_one())
