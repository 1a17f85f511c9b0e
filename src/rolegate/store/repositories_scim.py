"""Repositories of SCIM provisioning (issue 17): the directory's Users (one per member
it manages), its Groups and their members, and the workspace's group -> role mapping."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, insert, select, update

from rolegate.store import tables as t
from rolegate.store.repositories import _Repo, utcnow

__all__ = ["DirectoryFlags", "GroupRoleRow", "ScimGroupRow", "ScimRepository", "ScimUserRow", "name_key"]


def name_key(name: str) -> str:
    """userName and a group's displayName are unique case-insensitively (RFC 7643 §4.1.1)."""
    return name.strip().casefold()


@dataclass(frozen=True, slots=True)
class ScimUserRow:
    member_id: str
    user_name: str
    external_id: str | None
    resource: dict[str, Any]
    suspended: bool
    deleted_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ScimGroupRow:
    id: str
    display_name: str
    external_id: str | None
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class GroupRoleRow:
    group_name: str
    role_id: str
    priority: int


@dataclass(frozen=True, slots=True)
class DirectoryFlags:
    """How the directory holds a member, for the Team page and the role editor."""

    managed: bool
    """The directory provisions this member (its User exists)."""
    suspended: bool
    """Deprovisioned while records or references named them (C6, N9): disabled, work kept."""


def _user(row: Any) -> ScimUserRow:
    return ScimUserRow(
        str(row.member_id), str(row.user_name), row.external_id, dict(row.resource), bool(row.suspended),
        row.deleted_at, int(row.version), row.created_at, row.updated_at,
    )  # fmt: skip


def _group(row: Any) -> ScimGroupRow:
    return ScimGroupRow(str(row.id), str(row.display_name), row.external_id, int(row.version), row.created_at, row.updated_at)


_USER_ANY = select(t.scim_users).where(
    and_(t.scim_users.c.workspace_id == bindparam("k_workspace_id"), t.scim_users.c.member_id == bindparam("k_member_id"))
)
_USER = _USER_ANY.where(t.scim_users.c.deleted_at.is_(None))
"""Built once: building a statement per call costs a write's CPU (issue 18)."""


class ScimRepository(_Repo):
    # -- users ----------------------------------------------------------------------------
    def user(self, workspace_id: str, member_id: str, *, deleted: bool = False) -> ScimUserRow | None:
        row = self.conn.execute(_USER_ANY if deleted else _USER, {"k_workspace_id": workspace_id, "k_member_id": member_id}).first()
        return _user(row) if row is not None else None

    def users(self, workspace_id: str) -> list[ScimUserRow]:
        u = t.scim_users
        rows = self.conn.execute(
            select(u).where(and_(u.c.workspace_id == workspace_id, u.c.deleted_at.is_(None))).order_by(u.c.created_at, u.c.member_id)
        )
        return [_user(r) for r in rows]

    def users_by_external_id(self, workspace_id: str, external_id: str) -> list[ScimUserRow]:
        u = t.scim_users
        rows = self.conn.execute(
            select(u)
            .where(and_(u.c.workspace_id == workspace_id, u.c.external_id == external_id, u.c.deleted_at.is_(None)))
            .order_by(u.c.created_at, u.c.member_id)
        )
        return [_user(r) for r in rows]

    def user_by_name(self, workspace_id: str, user_name: str) -> ScimUserRow | None:
        """The User of this userName, deleted ones included (their member may be suspended)."""
        u = t.scim_users
        row = self.conn.execute(select(u).where(and_(u.c.workspace_id == workspace_id, u.c.user_name_key == name_key(user_name)))).first()
        return _user(row) if row is not None else None

    def add_user(self, workspace_id: str, member_id: str, *, user_name: str, external_id: str | None, resource: dict[str, Any]) -> None:
        now = utcnow()
        self.conn.execute(
            insert(t.scim_users).values(
                workspace_id=workspace_id, member_id=member_id, user_name=user_name, user_name_key=name_key(user_name),
                external_id=external_id, resource=resource, suspended=0, version=1, created_at=now, updated_at=now,
            )
        )  # fmt: skip

    def update_user(
        self,
        workspace_id: str,
        member_id: str,
        *,
        user_name: str,
        external_id: str | None,
        resource: dict[str, Any],
        suspended: bool,
        deleted: bool = False,
    ) -> None:
        u = t.scim_users
        self.conn.execute(
            update(u)
            .where(and_(u.c.workspace_id == workspace_id, u.c.member_id == member_id))
            .values(
                user_name=user_name, user_name_key=name_key(user_name), external_id=external_id, resource=resource,
                suspended=int(suspended), deleted_at=utcnow() if deleted else None, version=u.c.version + 1, updated_at=utcnow(),
            )
        )  # fmt: skip

    def remove_user(self, workspace_id: str, member_id: str) -> None:
        u = t.scim_users
        self.conn.execute(delete(u).where(and_(u.c.workspace_id == workspace_id, u.c.member_id == member_id)))

    def flags(self, workspace_id: str) -> dict[str, DirectoryFlags]:
        u = t.scim_users
        rows = self.conn.execute(select(u.c.member_id, u.c.suspended, u.c.deleted_at).where(u.c.workspace_id == workspace_id))
        return {str(r.member_id): DirectoryFlags(r.deleted_at is None, bool(r.suspended)) for r in rows}

    # -- groups ---------------------------------------------------------------------------
    def group(self, workspace_id: str, group_id: str) -> ScimGroupRow | None:
        g = t.scim_groups
        row = self.conn.execute(select(g).where(and_(g.c.workspace_id == workspace_id, g.c.id == group_id))).first()
        return _group(row) if row is not None else None

    def groups(self, workspace_id: str) -> list[ScimGroupRow]:
        g = t.scim_groups
        return [_group(r) for r in self.conn.execute(select(g).where(g.c.workspace_id == workspace_id).order_by(g.c.created_at, g.c.id))]

    def group_by_name(self, workspace_id: str, display_name: str) -> ScimGroupRow | None:
        g = t.scim_groups
        row = self.conn.execute(select(g).where(and_(g.c.workspace_id == workspace_id, g.c.name_key == name_key(display_name)))).first()
        return _group(row) if row is not None else None

    def add_group(self, workspace_id: str, group_id: str, *, display_name: str, external_id: str | None) -> None:
        now = utcnow()
        self.conn.execute(
            insert(t.scim_groups).values(
                workspace_id=workspace_id, id=group_id, display_name=display_name, name_key=name_key(display_name),
                external_id=external_id, version=1, created_at=now, updated_at=now,
            )
        )  # fmt: skip

    def update_group(self, workspace_id: str, group_id: str, *, display_name: str, external_id: str | None) -> None:
        g = t.scim_groups
        self.conn.execute(
            update(g)
            .where(and_(g.c.workspace_id == workspace_id, g.c.id == group_id))
            .values(display_name=display_name, name_key=name_key(display_name), external_id=external_id, version=g.c.version + 1, updated_at=utcnow())
        )

    def remove_group(self, workspace_id: str, group_id: str) -> None:
        gm, g = t.scim_group_members, t.scim_groups
        self.conn.execute(delete(gm).where(and_(gm.c.workspace_id == workspace_id, gm.c.group_id == group_id)))
        self.conn.execute(delete(g).where(and_(g.c.workspace_id == workspace_id, g.c.id == group_id)))

    def group_members(self, workspace_id: str, member_ids: Collection[str] | None = None) -> dict[str, dict[str, str | None]]:
        """Group id -> its members' ids, each with the display the directory gave it
        (every group of the workspace, empty ones too); only `member_ids` where given."""
        gm = t.scim_group_members
        out: dict[str, dict[str, str | None]] = {g.id: {} for g in self.groups(workspace_id)}
        where = [gm.c.workspace_id == workspace_id]
        if member_ids is not None:
            where.append(gm.c.member_id.in_(list(member_ids)))
        rows = self.conn.execute(select(gm.c.group_id, gm.c.member_id, gm.c.display).where(and_(*where)).order_by(gm.c.member_id))
        for r in rows:
            out.setdefault(str(r.group_id), {})[str(r.member_id)] = r.display
        return out

    def set_group_members(self, workspace_id: str, group_id: str, members: Mapping[str, str | None]) -> None:
        gm = t.scim_group_members
        self.conn.execute(delete(gm).where(and_(gm.c.workspace_id == workspace_id, gm.c.group_id == group_id)))
        rows = [{"workspace_id": workspace_id, "group_id": group_id, "member_id": m, "display": members[m]} for m in sorted(members)]
        if rows:
            self.conn.execute(insert(gm), rows)

    def leave_groups(self, workspace_id: str, member_id: str) -> None:
        gm = t.scim_group_members
        self.conn.execute(delete(gm).where(and_(gm.c.workspace_id == workspace_id, gm.c.member_id == member_id)))

    # -- group -> role ---------------------------------------------------------------------
    def group_roles(self, workspace_id: str) -> list[GroupRoleRow]:
        r = t.scim_group_roles
        rows = self.conn.execute(select(r).where(r.c.workspace_id == workspace_id).order_by(r.c.group_key))
        return [GroupRoleRow(str(x.group_name), str(x.role_id), int(x.priority)) for x in rows]

    def set_group_role(self, workspace_id: str, group_name: str, *, role_id: str, priority: int) -> None:
        r = t.scim_group_roles
        key = name_key(group_name)
        self.conn.execute(delete(r).where(and_(r.c.workspace_id == workspace_id, r.c.group_key == key)))
        self.conn.execute(
            insert(r).values(workspace_id=workspace_id, group_key=key, group_name=group_name.strip(), role_id=role_id, priority=priority)
        )

    def remove_group_role(self, workspace_id: str, group_name: str) -> bool:
        r = t.scim_group_roles
        done = self.conn.execute(delete(r).where(and_(r.c.workspace_id == workspace_id, r.c.group_key == name_key(group_name))))
        return bool(done.rowcount)
