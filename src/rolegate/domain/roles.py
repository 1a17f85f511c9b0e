"""Roles and members as plain frozen values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

from rolegate.domain.schema import FieldAccess, ProductSchema, SystemRole, frozen_map

__all__ = ["Member", "MemberStatus", "Role", "RoleKind", "role_from_system", "FieldGrants"]

FieldGrants = Mapping[tuple[str, str], FieldAccess]
"""(object type, field) -> access, as an administrator set it on a role."""

_NO_FIELDS: FieldGrants = MappingProxyType({})


class RoleKind(StrEnum):
    SYSTEM = "system"
    CUSTOM = "custom"


class MemberStatus(StrEnum):
    INVITED = "invited"
    ACTIVE = "active"
    DISABLED = "disabled"


@dataclass(frozen=True, slots=True)
class Role:
    """A role of one workspace. C2: a member holds exactly one."""

    id: str
    name: str
    kind: RoleKind
    level: str
    grants: frozenset[str]
    landing_page: str | None = None
    description: str = ""
    field_access: FieldGrants = field(default_factory=lambda: _NO_FIELDS)
    mirror_integration: bool = False
    """K5: the role's field access mirrors the integration owner."""
    editable: bool = True
    deletable: bool = True

    @property
    def is_system(self) -> bool:
        return self.kind is RoleKind.SYSTEM

    def with_changes(
        self,
        *,
        name: str | None = None,
        description: str | None = None,
        level: str | None = None,
        grants: Iterable[str] | None = None,
        landing_page: str | None = None,
        field_access: FieldGrants | None = None,
    ) -> Role:
        return replace(
            self,
            name=self.name if name is None else name,
            description=self.description if description is None else description,
            level=self.level if level is None else level,
            grants=self.grants if grants is None else frozenset(grants),
            landing_page=self.landing_page if landing_page is None else landing_page,
            field_access=self.field_access if field_access is None else frozen_map(field_access),
        )


@dataclass(frozen=True, slots=True)
class Member:
    """A user's membership of one workspace: a status and exactly one role (C2)."""

    id: str
    role: str
    status: MemberStatus = MemberStatus.ACTIVE

    @property
    def is_active(self) -> bool:
        return self.status is MemberStatus.ACTIVE


def role_from_system(schema: ProductSchema, system: SystemRole, *, role_id: str | None = None) -> Role:
    """A workspace's copy of one of the schema's system roles."""
    return Role(
        id=role_id or system.key,
        name=system.name,
        kind=RoleKind.SYSTEM,
        level=schema.level_for(system.level, system.grants),
        grants=system.grants,
        landing_page=system.landing_page,
        description=system.description,
        field_access=system.field_access,
        mirror_integration=system.mirror_integration,
        editable=system.editable,
        deletable=system.deletable,
    )
