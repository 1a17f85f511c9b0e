"""Read models of roles and of a workspace's seats: what the doors show (the API turns
them into its response bodies, the admin UI renders them), built from domain values
and store rows so no door composes them itself."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from rolegate.domain.fields import role_field_access
from rolegate.domain.permissions import effective_permissions
from rolegate.domain.roles import Member, MemberStatus, Role
from rolegate.domain.schema import ProductSchema
from rolegate.domain.seats import seat_holders, seat_of
from rolegate.domain.workspace import Workspace
from rolegate.store.repositories import RoleInfo

__all__ = ["RoleView", "SeatUsageView", "WorkspaceView", "role_view", "workspace_view"]


@dataclass(frozen=True, slots=True)
class RoleView:
    """T3: a role with its type, level, seat, description, active and invited members, dates."""

    id: str
    name: str
    type: str
    level: str
    level_label: str
    seat: str | None
    description: str
    landing_page: str | None
    grants: tuple[str, ...]
    effective: tuple[str, ...]
    """Permissions in effect: floor and ceiling applied, features and requirements met."""
    field_access: Mapping[str, Mapping[str, str]]
    """object -> field -> none / read / write, as the role stores them; for a system role
    that mirrors the integration owner (K5), what it effectively has."""
    editable: bool
    deletable: bool
    active_members: int
    invited_members: int
    created_at: datetime
    updated_at: datetime


def role_view(info: RoleInfo, schema: ProductSchema, features: frozenset[str], members: Iterable[Member]) -> RoleView:
    role = info.role
    counts = Counter(m.status for m in members if m.role == role.id)
    fields: dict[str, dict[str, str]] = {}
    # A system role mirroring the integration owner stores nothing: show what it has (K5).
    stored = role_field_access(schema, role) if role.mirror_integration else role.field_access
    for (obj, name), access in sorted(stored.items()):
        fields.setdefault(obj, {})[name] = access.label
    level = schema.levels.get(role.level)
    return RoleView(
        id=role.id,
        name=role.name,
        type=role.kind.value,
        level=role.level,
        level_label=level.label if level else role.level,
        seat=seat_of(schema, role) if level else None,
        description=role.description,
        landing_page=role.landing_page,
        grants=tuple(sorted(role.grants)),
        effective=tuple(sorted(effective_permissions(schema, role.level, role.grants, features))) if level else (),
        field_access=fields,
        editable=role.editable,
        deletable=role.deletable,
        active_members=counts[MemberStatus.ACTIVE],
        invited_members=counts[MemberStatus.INVITED],
        created_at=info.created_at,
        updated_at=info.updated_at,
    )


@dataclass(frozen=True, slots=True)
class SeatUsageView:
    label: str
    used: int
    """Seats held: active plus invited members (an invitation reserves its seat)."""
    active: int
    invited: int
    capacity: int | None


@dataclass(frozen=True, slots=True)
class WorkspaceView:
    id: str
    organization_id: str
    name: str
    preset: str
    schema_version: int
    features: tuple[str, ...]
    seats: Mapping[str, SeatUsageView]
    revision: int


def workspace_view(
    ws: Workspace, schema: ProductSchema, roles: Mapping[str, Role], members: Iterable[Member]
) -> WorkspaceView:
    holders = seat_holders(schema, roles, members)
    return WorkspaceView(
        id=ws.id,
        organization_id=ws.organization_id,
        name=ws.name,
        preset=ws.preset,
        schema_version=ws.schema_version,
        features=tuple(sorted(ws.features)),
        seats={
            key: SeatUsageView(
                seat.label, holders[key].used, holders[key].active, holders[key].invited, ws.seat_capacities.get(key)
            )
            for key, seat in schema.seats.items()
        },
        revision=ws.revision,
    )
