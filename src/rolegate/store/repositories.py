"""Repositories: rows <-> domain values. They never commit; the unit of work does."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Connection,
    Executable,
    String,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    text,
    union_all,
    update,
)

from rolegate.domain.roles import Member, MemberStatus, Role, RoleKind
from rolegate.domain.rules.role_rules import HolderCounts
from rolegate.domain.schema import FieldAccess, frozen_map
from rolegate.domain.workspace import AuditEvent, Workspace
from rolegate.engine.records import Record, RecordRef
from rolegate.store import tables as t

__all__ = [
    "ApiKeyRepository",
    "ApiKeyRow",
    "AuditRepository",
    "JsonText",
    "MemberInfo",
    "MemberRepository",
    "RecordRepository",
    "RoleChangeFacts",
    "RoleInfo",
    "RoleRepository",
    "UserRepository",
    "WorkspaceRepository",
    "advancing_statement",
    "utcnow",
]


def utcnow() -> datetime:
    return datetime.now(UTC)


# The statements of the admin writes (issue 18) are built once, here, with bindparam()
# placeholders, and executed with a parameters dict: building one per call (new
# BindParameters, then a new cache key before the compiled-cache lookup) cost about a
# fifth of a write's CPU, and the server is CPU-bound. A statement object memoizes its
# cache key, so only the lookup remains. Parameters are never named as a column (k_ for
# keys, v_ for values): an UPDATE executed with a column's name as a parameter would also
# SET that column, and SQLAlchemy reserves those names in the SET clause.

_WORKSPACE = select(t.workspaces).where(t.workspaces.c.id == bindparam("k_id"))
_WORKSPACE_LOCKED = _WORKSPACE.with_for_update()
_WORKSPACE_BUMPED = (
    update(t.workspaces)
    .where(t.workspaces.c.id == bindparam("k_id"))
    .values(revision=t.workspaces.c.revision + 1, updated_at=bindparam("v_updated_at"))
)
_WORKSPACE_REVISION = select(t.workspaces.c.revision).where(t.workspaces.c.id == bindparam("k_id"))
_ADVANCE_SQL = (
    "WITH bumped AS (UPDATE workspaces SET revision = revision + 1, updated_at = :now WHERE id = :ws RETURNING revision) "
    "SELECT bumped.revision, head.seq, head.hash, {notify} AS notified FROM bumped LEFT JOIN LATERAL "
    "(SELECT seq, hash FROM audit_events WHERE workspace_id = :ws ORDER BY seq DESC LIMIT 1) AS head ON true"
)
_ADVANCE = text(_ADVANCE_SQL.format(notify="NULL"))
_ADVANCE_NOTIFYING = text(
    _ADVANCE_SQL.format(notify="pg_notify(CAST(:channel AS text), CAST(:ws AS text) || ':' || CAST(bumped.revision AS text))")
)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; every stored time is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class _Repo:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn


# -- workspaces ---------------------------------------------------------------------------


def _workspace(row: Any) -> Workspace:
    return Workspace(
        id=row.id,
        organization_id=row.organization_id,
        name=row.name,
        preset=row.preset,
        schema_version=row.schema_version,
        features=frozenset(row.features),
        seat_capacities=frozen_map(dict(row.seat_capacities)),
        revision=row.revision,
    )


class WorkspaceRepository(_Repo):
    def add_organization(self, org_id: str, name: str) -> None:
        self.conn.execute(insert(t.organizations).values(id=org_id, name=name))

    def organization_exists(self, org_id: str) -> bool:
        return self.conn.execute(select(t.organizations.c.id).where(t.organizations.c.id == org_id)).first() is not None

    def add(self, ws: Workspace) -> None:
        self.conn.execute(
            insert(t.workspaces).values(
                id=ws.id,
                organization_id=ws.organization_id,
                name=ws.name,
                preset=ws.preset,
                schema_version=ws.schema_version,
                features=sorted(ws.features),
                seat_capacities=dict(ws.seat_capacities),
                revision=ws.revision,
            )
        )

    def get(self, workspace_id: str) -> Workspace | None:
        row = self.conn.execute(_WORKSPACE, {"k_id": workspace_id}).first()
        return _workspace(row) if row is not None else None

    def lock(self, workspace_id: str) -> Workspace | None:
        """The workspace row, locked until commit: every change of a workspace goes
        through this lock, so seat counts, last-administrator checks, the revision and
        the audit chain are decided one change at a time."""
        stmt = _WORKSPACE_LOCKED if self.conn.dialect.name == "postgresql" else _WORKSPACE
        row = self.conn.execute(stmt, {"k_id": workspace_id}).first()
        return _workspace(row) if row is not None else None

    def revision(self, workspace_id: str) -> int | None:
        return self.conn.execute(_WORKSPACE_REVISION, {"k_id": workspace_id}).scalar()

    def all(self, organization_id: str | None = None) -> list[Workspace]:
        stmt = select(t.workspaces).order_by(t.workspaces.c.created_at, t.workspaces.c.id)
        if organization_id is not None:
            stmt = stmt.where(t.workspaces.c.organization_id == organization_id)
        return [_workspace(r) for r in self.conn.execute(stmt)]

    def update_settings(self, workspace_id: str, *, features: frozenset[str], seat_capacities: Mapping[str, int | None]) -> None:
        self.conn.execute(
            update(t.workspaces)
            .where(t.workspaces.c.id == workspace_id)
            .values(features=sorted(features), seat_capacities=dict(seat_capacities), updated_at=utcnow())
        )

    def bump_revision(self, workspace_id: str) -> int:
        self.conn.execute(_WORKSPACE_BUMPED, {"k_id": workspace_id, "v_updated_at": utcnow()})
        rev = self.revision(workspace_id)
        assert rev is not None
        return rev

    def advance(self, workspace_id: str, *, notify_channel: str | None = None) -> tuple[int, tuple[int, str] | None]:
        """`bump_revision` and the head of the workspace's audit chain, (seq, hash) or
        None; with `notify_channel` (PostgreSQL), NOTIFY `workspace_id:revision` on it at
        commit. On PostgreSQL all in one statement."""
        if self.conn.dialect.name != "postgresql":
            revision = self.bump_revision(workspace_id)
            assert notify_channel is None, "NOTIFY is PostgreSQL's"
            return revision, AuditRepository(self.conn).last(workspace_id)
        row = self.conn.execute(
            _ADVANCE_NOTIFYING if notify_channel else _ADVANCE,
            {"ws": workspace_id, "now": utcnow(), **({"channel": notify_channel} if notify_channel else {})},
        ).one()
        return int(row.revision), ((int(row.seq), str(row.hash)) if row.seq is not None else None)


# -- roles --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoleInfo:
    role: Role
    created_at: datetime
    updated_at: datetime


def _field_json(fields: Mapping[tuple[str, str], FieldAccess]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for (obj, name), access in sorted(fields.items()):
        out.setdefault(obj, {})[name] = access.label
    return out


def _field_map(data: Mapping[str, Mapping[str, str]]) -> dict[tuple[str, str], FieldAccess]:
    return {(obj, name): FieldAccess.parse(a) for obj, per in data.items() for name, a in per.items()}


def _role(row: Any) -> Role:
    return Role(
        id=row.id,
        name=row.name,
        kind=RoleKind(row.kind),
        level=row.level,
        grants=frozenset(row.grants),
        landing_page=row.landing_page,
        description=row.description,
        field_access=frozen_map(_field_map(row.field_access)),
        mirror_integration=bool(row.mirror_integration),
        editable=bool(row.editable),
        deletable=bool(row.deletable),
    )


def _role_values(role: Role) -> dict[str, Any]:
    return {
        "name": role.name,
        "name_key": role.name.strip().casefold(),
        "kind": role.kind.value,
        "level": role.level,
        "grants": sorted(role.grants),
        "landing_page": role.landing_page,
        "description": role.description,
        "field_access": _field_json(role.field_access),
        "mirror_integration": int(role.mirror_integration),
        "editable": int(role.editable),
        "deletable": int(role.deletable),
    }


def _role_info(r: Any) -> RoleInfo:
    return RoleInfo(_role(r), _aware(r.created_at) or utcnow(), _aware(r.updated_at) or utcnow())


# The columns `_role_values` gives (a test holds them equal): the update sets these.
_ROLE_VALUES = ("name", "name_key", "kind", "level", "grants", "landing_page", "description", "field_access", "mirror_integration", "editable", "deletable")
_ROLE_KEY = and_(t.roles.c.workspace_id == bindparam("k_workspace_id"), t.roles.c.id == bindparam("k_id"))
_ROLE = select(t.roles).where(_ROLE_KEY)


_ROLE_UPDATE = update(t.roles).where(_ROLE_KEY).values(updated_at=bindparam("v_updated_at"), **{c: bindparam(f"v_{c}") for c in _ROLE_VALUES})
_ROLE_UPDATED = _ROLE_UPDATE.returning(t.roles)


def role_updating(workspace_id: str, role: Role, now: datetime) -> tuple[Executable, dict[str, Any]]:
    """`RoleRepository.update` as a statement to send later (`UnitOfWork.write_with_commit`),
    without reading the row back: the role's dates are then its creation date, which
    never changes, and `now`."""
    params = {f"v_{c}": v for c, v in _role_values(role).items()}
    return _ROLE_UPDATE, {"k_workspace_id": workspace_id, "k_id": role.id, "v_updated_at": now, **params}


class RoleRepository(_Repo):
    def all(self, workspace_id: str) -> list[RoleInfo]:
        rows = self.conn.execute(
            select(t.roles).where(t.roles.c.workspace_id == workspace_id).order_by(t.roles.c.created_at, t.roles.c.id)
        )
        return [_role_info(r) for r in rows]

    def get(self, workspace_id: str, role_id: str) -> Role | None:
        info = self.info(workspace_id, role_id)
        return info.role if info is not None else None

    def info(self, workspace_id: str, role_id: str) -> RoleInfo | None:
        """The role with its dates (None: no such role in the workspace)."""
        row = self.conn.execute(_ROLE, {"k_workspace_id": workspace_id, "k_id": role_id}).first()
        return _role_info(row) if row is not None else None

    def name_taken(self, workspace_id: str, name: str, *, except_id: str | None = None) -> bool:
        stmt = select(t.roles.c.id).where(
            and_(t.roles.c.workspace_id == workspace_id, t.roles.c.name_key == name.strip().casefold())
        )
        if except_id is not None:
            stmt = stmt.where(t.roles.c.id != except_id)
        return self.conn.execute(stmt).first() is not None

    def add(self, workspace_id: str, role: Role, *, system_key: str | None = None) -> None:
        now = utcnow()
        self.conn.execute(
            insert(t.roles).values(
                workspace_id=workspace_id, id=role.id, system_key=system_key, created_at=now, updated_at=now, **_role_values(role)
            )
        )

    def update(self, workspace_id: str, role: Role) -> RoleInfo | None:
        """The role as stored after the update, with its dates (None: no such role)."""
        _, params = role_updating(workspace_id, role, utcnow())
        row = self.conn.execute(_ROLE_UPDATED, params).first()
        return _role_info(row) if row is not None else None

    def delete(self, workspace_id: str, role_id: str) -> None:
        self.conn.execute(delete(t.roles).where(and_(t.roles.c.workspace_id == workspace_id, t.roles.c.id == role_id)))

    def holder_counts(self, workspace_id: str, role_id: str, assignable_types: Sequence[str]) -> HolderCounts:
        m = t.members
        counts: dict[str, int] = dict(
            self.conn.execute(
                select(m.c.status, func.count())
                .where(and_(m.c.workspace_id == workspace_id, m.c.role_id == role_id))
                .group_by(m.c.status)
            ).all()
        )
        with_assigned = 0
        if assignable_types:
            r = t.records
            with_assigned = self.conn.execute(
                select(func.count(func.distinct(r.c.assignee_id)))
                .select_from(r.join(m, and_(m.c.workspace_id == r.c.workspace_id, m.c.id == r.c.assignee_id)))
                .where(and_(r.c.workspace_id == workspace_id, m.c.role_id == role_id, r.c.type.in_(assignable_types)))
            ).scalar_one()
        return HolderCounts(
            active=counts.get(MemberStatus.ACTIVE.value, 0),
            invited=counts.get(MemberStatus.INVITED.value, 0),
            with_assigned_records=with_assigned,
        )

    def assigned_holders_by_type(self, workspace_id: str, role_id: str) -> dict[str, int]:
        """Per record type, how many holders of the role have records of it assigned (N6)."""
        r, m = t.records, t.members
        rows = self.conn.execute(
            select(r.c.type, func.count(func.distinct(r.c.assignee_id)))
            .select_from(r.join(m, and_(m.c.workspace_id == r.c.workspace_id, m.c.id == r.c.assignee_id)))
            .where(and_(r.c.workspace_id == workspace_id, m.c.role_id == role_id))
            .group_by(r.c.type)
        ).all()
        return {str(k): int(v) for k, v in rows}


# -- users and members --------------------------------------------------------------------


class UserRepository(_Repo):
    def add(self, user_id: str, email: str, *, name: str = "", password_hash: str | None = None) -> None:
        self.conn.execute(insert(t.users).values(id=user_id, email=email.strip().lower(), name=name, password_hash=password_hash))

    def add_if_absent(self, user_id: str, email: str, *, name: str = "", password_hash: str | None = None) -> str:
        """Insert the user unless the email exists (concurrently too); return the id that holds the email."""
        values = {"id": user_id, "email": email.strip().lower(), "name": name, "password_hash": password_hash}
        if self.conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            self.conn.execute(pg_insert(t.users).values(**values).on_conflict_do_nothing(index_elements=["email"]))
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            self.conn.execute(sqlite_insert(t.users).values(**values).on_conflict_do_nothing(index_elements=["email"]))
        row = self.by_email(email)
        assert row is not None  # inserted above, or by the transaction that won
        return str(row.id)

    def by_email(self, email: str) -> Any:
        return self.conn.execute(select(t.users).where(t.users.c.email == email.strip().lower())).first()

    def get(self, user_id: str) -> Any:
        return self.conn.execute(select(t.users).where(t.users.c.id == user_id)).first()

    def claimed(self, user_id: str) -> bool:
        """Whether someone already uses this identity: it has a password, has joined a
        workspace (a membership ever activated) or administers a site. Only an unclaimed
        identity (made by an invitation, never used) may get its password from a link
        that was not sent by its own request."""
        u, m, s = t.users, t.members, t.site_administrators
        joined = select(m.c.id).where(and_(m.c.user_id == user_id, m.c.activated_at.is_not(None))).exists()
        admin = select(s.c.user_id).where(s.c.user_id == user_id).exists()
        row = self.conn.execute(select(u.c.password_hash, joined.label("joined"), admin.label("admin")).where(u.c.id == user_id)).first()
        return row is None or bool(row.password_hash) or bool(row.joined) or bool(row.admin)


@dataclass(frozen=True, slots=True)
class MemberInfo:
    member: Member
    user_id: str
    email: str
    name: str
    invited_at: datetime | None
    activated_at: datetime | None
    disabled_at: datetime | None
    created_at: datetime | None = None
    """When the member was added: lists come in this order (`domain.paging`)."""


# The workspace's own name for the member; the person's own only where the workspace
# has none (NULL: they accepted, or the row predates member names). Adding someone
# stores what the adder typed, so inviting an existing person never shows the inviter
# what the person or another workspace stored.
_MEMBERS = select(t.members, t.users.c.email, func.coalesce(t.members.c.name, t.users.c.name).label("display_name")).select_from(
    t.members.join(t.users, t.users.c.id == t.members.c.user_id)
)
_MEMBER_KEY = and_(t.members.c.workspace_id == bindparam("k_workspace_id"), t.members.c.id == bindparam("k_id"))
_MEMBER = _MEMBERS.where(_MEMBER_KEY)
_MANAGED = (
    select(t.scim_users.c.member_id)
    .where(and_(t.scim_users.c.workspace_id == bindparam("k_workspace_id"), t.scim_users.c.member_id == bindparam("k_id")))
    .where(t.scim_users.c.deleted_at.is_(None))
    .exists()
)


@lru_cache(maxsize=8)
def _role_change_facts(types: int) -> Any:
    """The member's row, whether the directory manages them, and their assigned records
    of `types` object types (`k_type_0`...), in one statement."""
    r = t.records
    counts = [
        select(func.count())
        .select_from(r)
        .where(and_(r.c.workspace_id == bindparam("k_workspace_id"), r.c.assignee_id == bindparam("k_id"), r.c.type == bindparam(f"k_type_{k}")))
        .scalar_subquery()
        .label(f"assigned_{k}")
        for k in range(types)
    ]
    return _MEMBER.add_columns(_MANAGED.label("managed"), *counts)


@dataclass(frozen=True, slots=True)
class RoleChangeFacts:
    """What a member role change reads while the workspace is locked, in one round trip
    (issue 18: every round trip of a write makes the writes queued behind it wait)."""

    info: MemberInfo
    """The member's row: the change's answer."""
    managed: bool
    """The directory manages the member (SCIM, issue 17): their role follows its groups."""
    assigned: dict[str, int]
    """Records assigned to the member, by object type, of the types asked for (N9)."""
_MEMBER_UPDATED = {
    # per status, the columns it sets (`MemberRepository.update`)
    MemberStatus.ACTIVE: update(t.members)
    .where(_MEMBER_KEY)
    .values(
        role_id=bindparam("v_role_id"),
        status=bindparam("v_status"),
        updated_at=bindparam("v_updated_at"),
        activated_at=func.coalesce(t.members.c.activated_at, bindparam("v_activated_at", type_=t.members.c.activated_at.type)),
        disabled_at=None,
    ),
    MemberStatus.DISABLED: update(t.members)
    .where(_MEMBER_KEY)
    .values(role_id=bindparam("v_role_id"), status=bindparam("v_status"), updated_at=bindparam("v_updated_at"), disabled_at=bindparam("v_disabled_at")),
    MemberStatus.INVITED: update(t.members)
    .where(_MEMBER_KEY)
    .values(role_id=bindparam("v_role_id"), status=bindparam("v_status"), updated_at=bindparam("v_updated_at")),
}


def member_updating(workspace_id: str, member: Member, now: datetime) -> tuple[Executable, dict[str, Any]]:
    """`MemberRepository.update` as a statement to send later (`UnitOfWork.write_with_commit`)."""
    params = {"k_workspace_id": workspace_id, "k_id": member.id, "v_role_id": member.role, "v_status": member.status.value}
    return _MEMBER_UPDATED[member.status], {**params, "v_updated_at": now, "v_activated_at": now, "v_disabled_at": now}


def member_updated(info: MemberInfo, member: Member, now: datetime) -> MemberInfo:
    """The member's row as `member_updating(..., member, now)` leaves `info`: the same
    columns per status as `_MEMBER_UPDATED`."""
    if member.status is MemberStatus.ACTIVE:
        return replace(info, member=member, activated_at=info.activated_at or now, disabled_at=None)
    if member.status is MemberStatus.DISABLED:
        return replace(info, member=member, disabled_at=now)
    return replace(info, member=member)


class MemberRepository(_Repo):
    def _select(self, workspace_id: str | None = None) -> Any:
        return _MEMBERS if workspace_id is None else _MEMBERS.where(t.members.c.workspace_id == workspace_id)

    @staticmethod
    def _info(row: Any) -> MemberInfo:
        return MemberInfo(
            member=Member(row.id, row.role_id, MemberStatus(row.status)),
            user_id=row.user_id,
            email=row.email,
            name=row.display_name,
            invited_at=_aware(row.invited_at),
            activated_at=_aware(row.activated_at),
            disabled_at=_aware(row.disabled_at),
            created_at=_aware(row.created_at),
        )

    def all(self, workspace_id: str) -> list[MemberInfo]:
        rows = self.conn.execute(self._select(workspace_id).order_by(t.members.c.created_at, t.members.c.id))
        return [self._info(r) for r in rows]

    def members(self, workspace_id: str) -> list[Member]:
        m = t.members
        rows = self.conn.execute(select(m.c.id, m.c.role_id, m.c.status).where(m.c.workspace_id == workspace_id))
        return [Member(r.id, r.role_id, MemberStatus(r.status)) for r in rows]

    def some(self, workspace_id: str, member_ids: Collection[str]) -> list[MemberInfo]:
        """These members (those of the workspace among them), in one query: a page loads
        the names it shows, not the whole team."""
        if not member_ids:
            return []
        rows = self.conn.execute(self._select(workspace_id).where(t.members.c.id.in_(sorted(set(member_ids)))))
        return [self._info(r) for r in rows]

    def get(self, workspace_id: str, member_id: str) -> MemberInfo | None:
        row = self.conn.execute(_MEMBER, {"k_workspace_id": workspace_id, "k_id": member_id}).first()
        return self._info(row) if row is not None else None

    def role_change_facts(self, workspace_id: str, member_id: str, types: Sequence[str]) -> RoleChangeFacts | None:
        """The member's row with what a change of their role checks (`RoleChangeFacts`),
        None when the workspace has no such member."""
        params: dict[str, Any] = {"k_workspace_id": workspace_id, "k_id": member_id}
        params.update({f"k_type_{k}": key for k, key in enumerate(types)})
        row = self.conn.execute(_role_change_facts(len(types)), params).first()
        if row is None:
            return None
        assigned = {key: int(row._mapping[f"assigned_{k}"]) for k, key in enumerate(types)}
        return RoleChangeFacts(self._info(row), bool(row.managed), assigned)

    def by_user(self, workspace_id: str, user_id: str) -> MemberInfo | None:
        row = self.conn.execute(self._select(workspace_id).where(t.members.c.user_id == user_id)).first()
        return self._info(row) if row is not None else None

    def of_user(self, user_id: str) -> list[tuple[str, MemberInfo]]:
        """(workspace id, membership) of each workspace the user is a member of, in one query."""
        rows = self.conn.execute(self._select().where(t.members.c.user_id == user_id))
        return [(r.workspace_id, self._info(r)) for r in rows]

    def add(self, workspace_id: str, member: Member, *, user_id: str, name: str | None = None) -> None:
        now = utcnow()
        self.conn.execute(
            insert(t.members).values(
                workspace_id=workspace_id,
                id=member.id,
                user_id=user_id,
                name=name,
                role_id=member.role,
                status=member.status.value,
                invited_at=now if member.status is MemberStatus.INVITED else None,
                activated_at=now if member.status is MemberStatus.ACTIVE else None,
                created_at=now,
                updated_at=now,
            )
        )

    def update(self, workspace_id: str, member: Member) -> None:
        """Active: activated now unless it was before, not disabled; disabled: now."""
        self.conn.execute(*member_updating(workspace_id, member, utcnow()))

    def set_name(self, workspace_id: str, member_id: str, name: str | None) -> None:
        """The workspace's own name for the member (None: the person's own name)."""
        m = t.members
        self.conn.execute(update(m).where(and_(m.c.workspace_id == workspace_id, m.c.id == member_id)).values(name=name, updated_at=utcnow()))

    def references(self, workspace_id: str, member_id: str) -> list[str]:
        r = t.member_references
        rows = self.conn.execute(
            select(r.c.label).where(and_(r.c.workspace_id == workspace_id, r.c.member_id == member_id)).order_by(r.c.label)
        )
        return [str(x) for x in rows.scalars()]

    def set_reference(self, workspace_id: str, ref_id: str, *, member_id: str | None, kind: str, label: str) -> None:
        r = t.member_references
        self.conn.execute(delete(r).where(and_(r.c.workspace_id == workspace_id, r.c.id == ref_id)))
        if member_id is not None:
            self.conn.execute(insert(r).values(workspace_id=workspace_id, id=ref_id, member_id=member_id, kind=kind, label=label))


# -- records ------------------------------------------------------------------------------


def _record(row: Any) -> Record:
    parent = RecordRef(row.parent_type, row.parent_id) if row.parent_type is not None else None
    return Record(row.type, row.id, parent, row.assignee_id)


_RECORD_KEY = and_(
    t.records.c.workspace_id == bindparam("k_workspace_id"), t.records.c.type == bindparam("k_type"), t.records.c.id == bindparam("k_id")
)
_RECORD = select(t.records).where(_RECORD_KEY)
_RECORD_VALUES = ("parent_type", "parent_id", "assignee_id", "updated_at")
_RECORD_UPDATED = update(t.records).where(_RECORD_KEY).values(**{c: bindparam(f"v_{c}") for c in _RECORD_VALUES})
_RECORD_INSERTED = insert(t.records).values(
    workspace_id=bindparam("k_workspace_id"), type=bindparam("k_type"), id=bindparam("k_id"), **{c: bindparam(f"v_{c}") for c in _RECORD_VALUES}
)
_ASSIGNED_COUNT = (
    select(func.count())
    .select_from(t.records)
    .where(and_(t.records.c.workspace_id == bindparam("k_workspace_id"), t.records.c.assignee_id == bindparam("k_assignee_id")))
)
_ASSIGNED_COUNT_OF_TYPES = _ASSIGNED_COUNT.where(t.records.c.type.in_(bindparam("k_types", expanding=True)))


def record_updating(workspace_id: str, record: Record, now: datetime) -> tuple[Executable, dict[str, Any]]:
    """The update of a record that is in the index, as a statement to send later
    (`UnitOfWork.write_with_commit`); `RecordRepository.upsert` inserts it when it is not."""
    params = {
        "k_workspace_id": workspace_id,
        "k_type": record.type,
        "k_id": record.id,
        "v_parent_type": record.parent.type if record.parent else None,
        "v_parent_id": record.parent.id if record.parent else None,
        "v_assignee_id": record.assignee,
        "v_updated_at": now,
    }
    return _RECORD_UPDATED, params


class RecordRepository(_Repo):
    def get(self, workspace_id: str, ref: RecordRef) -> Record | None:
        row = self.conn.execute(_RECORD, {"k_workspace_id": workspace_id, "k_type": ref.type, "k_id": ref.id}).first()
        return _record(row) if row is not None else None

    def upsert(self, workspace_id: str, record: Record) -> None:
        _, params = record_updating(workspace_id, record, utcnow())
        done = self.conn.execute(_RECORD_UPDATED, params)
        if done.rowcount == 0:
            self.conn.execute(_RECORD_INSERTED, params)

    def delete(self, workspace_id: str, ref: RecordRef) -> None:
        r = t.records
        self.conn.execute(delete(r).where(and_(r.c.workspace_id == workspace_id, r.c.type == ref.type, r.c.id == ref.id)))

    def children(self, workspace_id: str, ref: RecordRef) -> list[Record]:
        r = t.records
        rows = self.conn.execute(
            select(r).where(and_(r.c.workspace_id == workspace_id, r.c.parent_type == ref.type, r.c.parent_id == ref.id))
        )
        return [_record(x) for x in rows]

    def assigned_count(self, workspace_id: str, member_id: str, types: Iterable[str] | None = None) -> int:
        params: dict[str, Any] = {"k_workspace_id": workspace_id, "k_assignee_id": member_id}
        if types is None:
            return int(self.conn.execute(_ASSIGNED_COUNT, params).scalar_one())
        return int(self.conn.execute(_ASSIGNED_COUNT_OF_TYPES, {**params, "k_types": list(types)}).scalar_one())

    def all(self, workspace_id: str, type_: str | None = None) -> list[Record]:
        r = t.records
        stmt = select(r).where(r.c.workspace_id == workspace_id).order_by(r.c.type, r.c.id)
        if type_ is not None:
            stmt = stmt.where(r.c.type == type_)
        return [_record(x) for x in self.conn.execute(stmt)]


# -- audit --------------------------------------------------------------------------------


def _event(row: Any) -> AuditEvent:
    return AuditEvent(
        workspace_id=row.workspace_id,
        seq=row.seq,
        id=row.id,
        at=_aware(row.at) or utcnow(),
        actor=row.actor,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        before=row.before,
        after=row.after,
        revision=row.revision,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


AdvancingShape = tuple[tuple[tuple[str, bool], ...], ...]
"""Per audit row, its (column, is `JsonText`) pairs in order."""


def advancing_statement(
    workspace_id: str, revision: int, rows: Sequence[Mapping[str, Any]], *, notify_channel: str | None = None
) -> tuple[Executable, dict[str, Any]]:
    """PostgreSQL: `AuditRepository.append_advancing` as one statement, and its
    parameters. It fails by itself (division by zero: no row appended) when the
    workspace was not at `revision - 1`, so that it may be sent unread, with the COMMIT,
    which then fails. The statement is built once per shape of `rows` (and NOTIFY or
    not): every write of one kind executes the same object."""
    shape = tuple(tuple((c, isinstance(v, JsonText)) for c, v in row.items()) for row in rows)
    params: dict[str, Any] = {"k_id": workspace_id, "k_revision": revision - 1, "v_revision": revision, "v_updated_at": utcnow()}
    for i, row in enumerate(rows):
        for c, v in row.items():
            params[f"r{i}_{c}"] = v
    if notify_channel:
        params["channel"] = notify_channel
        params["payload"] = f"{workspace_id}:{revision}"
    return _advancing(shape, bool(notify_channel)), params


@lru_cache(maxsize=64)
def _advancing(shape: AdvancingShape, notify: bool) -> Executable:
    w, a = t.workspaces, t.audit_events
    bumped = (
        update(w)
        .where(and_(w.c.id == bindparam("k_id"), w.c.revision == bindparam("k_revision")))
        .values(revision=bindparam("v_revision"), updated_at=bindparam("v_updated_at"))
        .returning(w.c.revision)
        .cte("bumped")
    )
    columns = [c for c, _ in shape[0]]
    selects = [
        select(
            *(cast(bindparam(f"r{i}_{c}", type_=String()), a.c[c].type) if json else bindparam(f"r{i}_{c}", type_=a.c[c].type) for c, json in row)
        ).select_from(bumped)
        for i, row in enumerate(shape)
    ]
    values = selects[0] if len(selects) == 1 else union_all(*selects)
    inserted = insert(a).from_select(columns, values).returning(a.c.seq).cte("inserted")
    appended = select(func.count()).select_from(inserted).scalar_subquery()
    notified = func.pg_notify(bindparam("channel", type_=String()), bindparam("payload", type_=String())) if notify else literal(None)
    return select((literal(1) / appended).label("appended"), notified.label("notified"))


class JsonText(str):
    """JSON already serialized (the text that was hashed), stored as it is."""

    __slots__ = ()


_AUDIT_HEAD = (
    select(t.audit_events.c.seq, t.audit_events.c.hash)
    .where(t.audit_events.c.workspace_id == bindparam("k_workspace_id"))
    .order_by(t.audit_events.c.seq.desc())
    .limit(1)
)
_AUDIT_INSERT = insert(t.audit_events)
_AUDIT_BETWEEN = (
    select(t.audit_events)
    .where(
        and_(
            t.audit_events.c.workspace_id == bindparam("k_workspace_id"),
            t.audit_events.c.revision > bindparam("k_after"),
            t.audit_events.c.revision <= bindparam("k_through"),
        )
    )
    .order_by(t.audit_events.c.revision, t.audit_events.c.seq)
    .limit(bindparam("k_limit"))
)


class AuditRepository(_Repo):
    def last(self, workspace_id: str) -> tuple[int, str] | None:
        row = self.conn.execute(_AUDIT_HEAD, {"k_workspace_id": workspace_id}).first()
        return (int(row.seq), str(row.hash)) if row is not None else None

    def between_revisions(self, workspace_id: str, after: int, through: int, *, limit: int) -> list[AuditEvent]:
        """The events that made the revisions after `after` up to `through`, in chain
        order, at most `limit` of them (one query, on the change feed's index)."""
        rows = self.conn.execute(_AUDIT_BETWEEN, {"k_workspace_id": workspace_id, "k_after": after, "k_through": through, "k_limit": limit})
        return [_event(r) for r in rows]

    def append(self, event: AuditEvent) -> None:
        payload = event.payload()
        payload["at"] = event.at
        self.conn.execute(insert(t.audit_events).values(hash=event.hash, **payload))

    def append_advancing(
        self, workspace_id: str, revision: int, rows: Sequence[Mapping[str, Any]], *, notify_channel: str | None = None
    ) -> None:
        """Move the workspace from `revision - 1` to `revision` and append the audit
        rows (column -> value; a `JsonText` value is stored as that very JSON text),
        NOTIFY `workspace_id:revision` on `notify_channel` at commit: one statement on
        PostgreSQL. An error, and nothing written, if the workspace was not at
        `revision - 1` (the caller must hold its lock)."""
        if self.conn.dialect.name != "postgresql":
            assert notify_channel is None, "NOTIFY is PostgreSQL's"
            if WorkspaceRepository(self.conn).bump_revision(workspace_id) != revision:
                raise RuntimeError("the workspace's revision moved while it was locked")
            self.conn.execute(_AUDIT_INSERT, [{c: (json.loads(v) if isinstance(v, JsonText) else v) for c, v in row.items()} for row in rows])
            return
        self.conn.execute(*advancing_statement(workspace_id, revision, rows, notify_channel=notify_channel))

    def all(
        self,
        workspace_id: str,
        *,
        actor: str | None = None,
        action: str | None = None,
        target_type: str | None = None,
        target_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after_seq: int = 0,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[AuditEvent]:
        """Events in chain order (or newest first), filtered: `action` without a dot is a
        family ("role" matches role.create, role.update, ...); `since` inclusive, `until`
        exclusive."""
        a = t.audit_events
        stmt = select(a).where(and_(a.c.workspace_id == workspace_id, a.c.seq > after_seq))
        for col, value in ((a.c.actor, actor), (a.c.target_type, target_type), (a.c.target_id, target_id)):
            if value is not None:
                stmt = stmt.where(col == value)
        if action is not None:
            stmt = stmt.where(or_(a.c.action == action, a.c.action.like(f"{action}.%")))
        if since is not None:
            stmt = stmt.where(a.c.at >= since)
        if until is not None:
            stmt = stmt.where(a.c.at < until)
        stmt = stmt.order_by(a.c.seq.desc() if newest_first else a.c.seq)
        if limit is not None:
            stmt = stmt.limit(limit)
        return [_event(r) for r in self.conn.execute(stmt)]


# -- API keys -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ApiKeyRow:
    id: str
    prefix: str
    secret_hash: str
    name: str
    organization_id: str
    workspace_id: str | None
    rights: frozenset[str]
    revoked: bool
    created_at: datetime | None = None


def _api_key(row: Any) -> ApiKeyRow:
    return ApiKeyRow(
        row.id,
        row.prefix,
        row.secret_hash,
        row.name,
        row.organization_id,
        row.workspace_id,
        frozenset(row.rights),
        row.revoked_at is not None,
        row.created_at,
    )


class ApiKeyRepository(_Repo):
    def add(self, key: ApiKeyRow) -> None:
        self.conn.execute(
            insert(t.api_keys).values(
                id=key.id,
                prefix=key.prefix,
                secret_hash=key.secret_hash,
                name=key.name,
                organization_id=key.organization_id,
                workspace_id=key.workspace_id,
                rights=sorted(key.rights),
            )
        )

    def by_prefix(self, prefix: str) -> ApiKeyRow | None:
        row = self.conn.execute(select(t.api_keys).where(t.api_keys.c.prefix == prefix)).first()
        return None if row is None else _api_key(row)

    def of_organization(self, organization_id: str) -> list[ApiKeyRow]:
        k = t.api_keys
        rows = self.conn.execute(select(k).where(k.c.organization_id == organization_id).order_by(k.c.created_at, k.c.prefix))
        return [_api_key(r) for r in rows]

    def revoke(self, key_id: str, at: datetime) -> None:
        self.conn.execute(update(t.api_keys).where(t.api_keys.c.id == key_id, t.api_keys.c.revoked_at.is_(None)).values(revoked_at=at))
