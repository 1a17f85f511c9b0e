"""The embeddable portal's rows: an organization's settings (`organization_portal`)
and the single-use links (`portal_links`). Never commits; the unit of work does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, select, update

from rolegate.store import tables as t
from rolegate.store.repositories import _aware, _Repo, utcnow

__all__ = ["PortalLinkRow", "PortalRepository", "PortalSettingsRow"]


@dataclass(frozen=True, slots=True)
class PortalSettingsRow:
    organization_id: str
    frame_origins: tuple[str, ...]
    brand_color: str | None
    logo_url: str | None
    font: str | None


@dataclass(frozen=True, slots=True)
class PortalLinkRow:
    token_hash: str
    workspace_id: str
    member_id: str
    user_id: str
    parent_origin: str | None
    page: str
    expires_at: datetime
    used_at: datetime | None
    session_hash: str | None


def _link(r: Any) -> PortalLinkRow:
    return PortalLinkRow(
        r.token_hash, r.workspace_id, r.member_id, r.user_id, r.parent_origin, r.page,
        _aware(r.expires_at) or utcnow(), _aware(r.used_at), r.session_hash,
    )


class PortalRepository(_Repo):
    def settings(self, organization_id: str) -> PortalSettingsRow | None:
        p = t.organization_portal
        r = self.conn.execute(select(p).where(p.c.organization_id == organization_id)).first()
        if r is None:
            return None
        return PortalSettingsRow(r.organization_id, tuple(r.frame_origins or ()), r.brand_color, r.logo_url, r.font)

    def save_settings(self, row: PortalSettingsRow, at: datetime) -> None:
        p = t.organization_portal
        values = {
            "frame_origins": list(row.frame_origins),
            "brand_color": row.brand_color,
            "logo_url": row.logo_url,
            "font": row.font,
            "updated_at": at,
        }
        done = self.conn.execute(update(p).where(p.c.organization_id == row.organization_id).values(**values))
        if not done.rowcount:
            self.conn.execute(insert(p).values(organization_id=row.organization_id, created_at=at, **values))

    def add_link(self, row: PortalLinkRow, at: datetime) -> None:
        self.conn.execute(
            insert(t.portal_links).values(
                token_hash=row.token_hash,
                workspace_id=row.workspace_id,
                member_id=row.member_id,
                user_id=row.user_id,
                parent_origin=row.parent_origin,
                page=row.page,
                created_at=at,
                expires_at=row.expires_at,
            )
        )

    def link(self, token_hash: str) -> PortalLinkRow | None:
        r = self.conn.execute(select(t.portal_links).where(t.portal_links.c.token_hash == token_hash)).first()
        return _link(r) if r is not None else None

    def use_link(self, token_hash: str, session_hash: str, at: datetime) -> bool:
        """Mark the link used by the session it opens; False if it was used already
        (two requests racing for one link: only one wins)."""
        pl = t.portal_links
        done = self.conn.execute(
            update(pl)
            .where(and_(pl.c.token_hash == token_hash, pl.c.used_at.is_(None)))
            .values(used_at=at, session_hash=session_hash)
        )
        return bool(done.rowcount)

    def by_session(self, session_hash: str) -> PortalLinkRow | None:
        r = self.conn.execute(select(t.portal_links).where(t.portal_links.c.session_hash == session_hash)).first()
        return _link(r) if r is not None else None
