"""The product schema as frozen domain objects, resolved and cross-checked.

Built by `schema_build.build_schema` from a `ProductSchemaSpec`; nothing here reads files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag, StrEnum
from types import MappingProxyType
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")

__all__ = [
    "DEFAULT_RULE_IDS",
    "SEED_RULE_PATTERN",
    "Action",
    "AdminRight",
    "Area",
    "Feature",
    "FieldAccess",
    "FieldDef",
    "Grant",
    "Guardian",
    "Integration",
    "LandingPage",
    "Level",
    "Lineage",
    "LevelMode",
    "ObjectType",
    "Permission",
    "ProductSchema",
    "Scope",
    "Seat",
    "SystemRole",
    "frozen_map",
    "is_seed_rule",
]


class Scope(IntFlag):
    """On which records an action is granted, relative to the member.

    `ASSIGNED`: records assigned to the member; `UNASSIGNED`: records assigned to no
    one; `OTHERS`: records assigned to someone else. `ALL` is the three together.
    """

    NONE = 0
    ASSIGNED = 1
    UNASSIGNED = 2
    OTHERS = 4
    ALL = 7

    @classmethod
    def parse(cls, text: str) -> Scope:
        return _SCOPE_NAMES[text]

    @property
    def label(self) -> str:
        if self is Scope.ALL:
            return "all"
        if self is Scope.NONE:
            return "none"
        return "+".join(n for n, s in _SCOPE_NAMES.items() if s is not Scope.ALL and self & s)


_SCOPE_NAMES: dict[str, Scope] = {
    "all": Scope.ALL,
    "assigned": Scope.ASSIGNED,
    "unassigned": Scope.UNASSIGNED,
    "others": Scope.OTHERS,
}


class FieldAccess(IntEnum):
    """K11: write implies read; ordered so that `min` clamps and `max` raises."""

    NONE = 0
    READ = 1
    WRITE = 2

    @classmethod
    def parse(cls, text: str) -> FieldAccess:
        return cls[text.upper()]

    @property
    def label(self) -> str:
        return self.name.lower()


class LevelMode(StrEnum):
    CHOSEN = "chosen"
    MARKER = "marker"


class AdminRight(StrEnum):
    VIEW_ROLES = "view_roles"
    MANAGE_ROLES = "manage_roles"
    MANAGE_MEMBERS = "manage_members"
    ASSIGN_ROLES = "assign_roles"
    ASSIGN_RECORDS = "assign_records"
    VIEW_AUDIT = "view_audit"


@dataclass(frozen=True, slots=True)
class Seat:
    key: str
    label: str
    description: str = ""
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class Feature:
    key: str
    label: str
    description: str = ""
    default: bool = False


@dataclass(frozen=True, slots=True)
class Integration:
    key: str
    label: str
    default_cap: FieldAccess
    field_caps: Mapping[str, FieldAccess]

    def cap(self, object_type: str, field_name: str) -> FieldAccess:
        return self.field_caps.get(f"{object_type}.{field_name}", self.default_cap)


@dataclass(frozen=True, slots=True)
class FieldDef:
    object_type: str
    name: str
    label: str
    default: bool = False
    synced_from: str | None = None


@dataclass(frozen=True, slots=True)
class ObjectType:
    key: str
    label: str
    parent: str | None
    assignable: bool
    assignee_action: str | None
    view_action: str | None
    on_parent_delete: str
    fields: Mapping[str, FieldDef]
    ancestors: tuple[str, ...] = ()
    """Types above this one, nearest first (C7)."""
    carrier_offset: int | None = None
    """How many steps up the record that carries the assignment is (0 = itself)."""
    additional: bool = False
    """K8: an additional object, not granted automatically to a new custom role."""


@dataclass(frozen=True, slots=True)
class Action:
    key: str
    label: str
    object_type: str | None = None


@dataclass(frozen=True, slots=True)
class Area:
    key: str
    label: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Grant:
    action: str
    scope: Scope
    feature: str | None = None
    """E4: the grant takes effect only while this workspace feature is on."""

    def active(self, features: frozenset[str]) -> bool:
        return self.feature is None or self.feature in features


@dataclass(frozen=True, slots=True)
class Permission:
    key: str
    label: str
    description: str
    area: str
    grants: tuple[Grant, ...]
    requires: frozenset[str]
    feature: str | None = None
    pair_row: str | None = None
    pair_column: str | None = None
    system_only: bool = False
    seat_only: bool = False
    """Its only effect is a seat (N12): handing it out is no escalation."""


@dataclass(frozen=True, slots=True)
class Level:
    key: str
    label: str
    description: str
    rank: int
    seat: str | None
    floor: frozenset[str]
    ceiling: frozenset[str]
    field_ceiling: FieldAccess
    new_field_access: FieldAccess
    rule: str | None = None
    offered_to_custom_roles: bool = True


@dataclass(frozen=True, slots=True)
class LandingPage:
    key: str
    label: str
    requires: str | None = None


@dataclass(frozen=True, slots=True)
class SystemRole:
    key: str
    name: str
    description: str
    level: str | None
    grants: frozenset[str]
    landing_page: str | None
    editable: bool
    deletable: bool
    mirror_integration: bool
    field_access: Mapping[tuple[str, str], FieldAccess]


@dataclass(frozen=True, slots=True)
class Guardian:
    """C4/T11: at least one active member of this kind must remain."""

    rule_id: str
    role: str | None = None
    level: str | None = None
    right: AdminRight | None = None
    several_owners: bool = False
    """A transfer of ownership may leave more owners than before (default: it may not)."""

    @property
    def label(self) -> str:
        if self.role is not None:
            return f"member with role {self.role!r}"
        if self.level is not None:
            return f"member at level {self.level!r}"
        return f"member with the {self.right} right"


@dataclass(frozen=True, slots=True)
class Words:
    """What the product calls Rolegate's notions, as its article writes them
    (`schema_format.WordsSpec`); the defaults are Rolegate's own words."""

    role: str = "Role"
    roles: str = "Roles"
    roles_page: str = "Roles & Permissions"
    role_type: str = "Type"
    system_role: str = "System"
    system_roles: str = "System roles"
    custom_role: str = "Custom"
    custom_roles: str = "Custom roles"
    level: str = "Level"
    seat: str = "Seat"
    seats: str = "Seats"


LineageKind = str
"""`permission`, `action`, `level`, `object` or `field` (a field's key is `object.field`)."""


@dataclass(frozen=True, slots=True)
class Lineage:
    """How this version of a schema relates to the previous one (upgrades): keys renamed,
    permissions split, keys removed with what replaces them. Empty for a first version."""

    renamed: Mapping[tuple[LineageKind, str], str] = field(default_factory=lambda: frozen_map({}))
    """(kind, old key) -> new key; a field's keys are `object.field`, the object's new key."""
    split: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: frozen_map({}))
    """Old permission -> the permissions it was split into (sorted)."""
    removed: Mapping[tuple[LineageKind, str], str | None] = field(default_factory=lambda: frozen_map({}))
    """(kind, old key) -> the key that replaces it, or None (dropped)."""

    @property
    def empty(self) -> bool:
        return not (self.renamed or self.split or self.removed)


# Every product-neutral rule name, with the seed rule it was first written from. These ids
# are NOT fallbacks: a workspace cites a seed rule only where its own preset maps the name
# (`rule_ids:`), otherwise the name itself (see `ProductSchema.rule`, docs/errors.md).
# `site_admin` is also the rule of the site (E1), which is no workspace's product.
DEFAULT_RULE_IDS: Mapping[str, str] = MappingProxyType(
    {
        "system_role_create": "T8",
        "system_role_edit": "K4",
        "system_role_rename": "T2",
        "system_role_delete": "T8",
        "role_in_use": "T9",
        "record_out_of_scope": "N11",
        "admin_right": "N12",
        "escalation": "T11",
        "level_ceiling": "T5",  # a level's ceiling, where the level names no rule of its own
        "level_locked": "K6",  # a saved custom role's level when levels are fixed at creation
        # roles: what a role, its copy to another workspace and its field permissions are refused by
        "role_definition": "N8",  # a role's name and level: missing, unknown, taken
        "role_copy": "E9",  # copying a role to other workspaces of the site
        "level_marker": "N2",  # the level follows the marker permission (and with it the seat)
        "landing_page": "N4",  # every role lands on a page it can open
        "field_access": "K11",  # a field permission: none, read or write (write includes read)
        "field_default_read": "K7",  # a default field's read cannot be removed
        "field_integration_cap": "K9",  # a synced field: the integration user caps every role
        "field_level_ceiling": "K1",  # a level that never writes fields, where it names no rule
        "field_not_configured": "K8",  # fields a custom role never configured
        "field_mirror": "K5",  # a system role mirroring the integration owner
        "field_definition": "K6",  # an object's or a field's key and label
        "field_convert": "K10",  # converting a local field into a synced one
        "field_hidden": "K12",  # what a member without read on a field no longer sees
        "custom_roles_off": "C3",  # a product with only its predefined roles
        "system_only_permission": "E7",  # a permission only system roles hold
        "level_floor": "T7",  # the permissions of a role's level stay on
        "role_seat_in_use": "N6",  # the assignee permission of a role whose holders have records
        "role_delete_assigned": "N7",  # a role whose holders have records assigned
        # org: workspaces, sites, the audit log, administrator records, password resets
        "feature_unknown": "E4",
        "feature_required": "E4",  # a permission that does something only with a feature
        "feature_off": "E5",  # a granted permission whose feature is off has no effect
        "requirement_missing": "E6",  # a permission that needs another
        "seat_unknown": "N1",
        "seat_capacity": "N1",  # a seat's capacity, where the seat names no rule of its own
        "site_admin": "E1",
        "audit_log": "E8",
        "member_record": "E7",
        "password_reset": "C8",
        # team: members, invitations and the records assigned to them
        "membership": "C2",  # one membership per person, by a valid email
        "invitation": "T4",  # an invitation is accepted once, by the invited person
        "assignee": "N9",  # who may be assigned records, and moving them
        "record_parent": "C7",  # a child record lives under its parent
        "seat_held": "T3",  # invited members hold a seat until revoked or disabled
        "self_change": "C5",  # nobody disables or deletes themselves
        "member_in_use": "C6",  # a member assigned records or named in the host product stays
    }
)


SEED_RULE_PATTERN = re.compile(r"[A-Z][0-9]+")
"""A seed rule id: a product letter and a number (N8, C2, K11, T9, E7)."""


def is_seed_rule(code: str | None) -> bool:
    """Whether `code` is a seed rule id (`T9`) rather than a product-neutral code (`role_in_use`)."""
    return code is not None and SEED_RULE_PATTERN.fullmatch(code) is not None


def frozen_map(items: Mapping[K, V]) -> Mapping[K, V]:
    """A read-only copy, so a frozen object cannot be changed through its mappings."""
    return MappingProxyType(dict(items))


@dataclass(frozen=True, slots=True)
class ProductSchema:
    key: str
    name: str
    description: str
    source: str
    seats: Mapping[str, Seat]
    features: Mapping[str, Feature]
    integrations: Mapping[str, Integration]
    objects: Mapping[str, ObjectType]
    actions: Mapping[str, Action]
    areas: Mapping[str, Area]
    permissions: Mapping[str, Permission]
    levels: Mapping[str, Level]
    level_mode: LevelMode
    level_changeable_after_create: bool
    marker_permission: str | None
    marker_levels: tuple[str, str] | None
    """(level when the marker permission is granted, level when it is not)."""
    landing_pages: Mapping[str, LandingPage]
    custom_roles_allowed: bool
    system_roles: Mapping[str, SystemRole]
    admin_actions: Mapping[AdminRight, str]
    guardian: Guardian
    permissions_by_action: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    rule_ids: Mapping[str, str] = field(default_factory=dict)
    words: Words = field(default_factory=Words)
    version: int = 1
    """Upgrades: the schema's version; a workspace records the version it runs on."""
    lineage: Lineage = field(default_factory=Lineage)
    """Upgrades: how this version maps the previous one's keys."""
    role_delete_with_members: str = "refuse"
    """`replace`: a role still held is deleted by naming a replacement role (N7);
    `refuse`: it is deleted only once nobody holds it (T9)."""
    default_role: str | None = None
    """The system role a role picker starts on and E7's records get (issue 15: safe by
    default); None: the narrowest system role (`default_member_role`)."""

    def rule(self, name: str) -> str:
        """The code this product cites for a refusal of the product-neutral rule `name`:
        its own seed rule id where the schema maps one (`rule_ids:`), otherwise `name`
        itself, a product-neutral code that is no seed rule (`is_seed_rule` tells them
        apart). A workspace never cites another product's rule."""
        if name not in DEFAULT_RULE_IDS:
            raise KeyError(name)
        return self.rule_ids.get(name) or name

    def cite(self, name: str) -> str:
        """" (K9)" after an explanation where this product states rule `name`, else ""."""
        seed = self.seed_rule(name)
        return f" ({seed})" if seed else ""

    def assigned_records(self, count: int | None = None) -> str:
        """What members are assigned, in the product's words, for refusals that name what
        to transfer first: "accounts", or with a count "1 account", "3 accounts"."""
        labels = [o.label.lower() for o in self.objects.values() if o.assignable]
        one = labels[0] if len(labels) == 1 else "record"
        return f"{one}s" if count is None else f"{count} {one}" if count == 1 else f"{count} {one}s"

    def seed_rule(self, name: str) -> str | None:
        """This product's own seed rule for `name`, or None where its article has none."""
        code = self.rule(name)
        return code if is_seed_rule(code) else None

    def level_for(self, chosen: str | None, grants: frozenset[str]) -> str:
        """The level a role has: chosen, or following the marker permission (N2)."""
        if self.level_mode is LevelMode.MARKER:
            assert self.marker_levels is not None  # set with the mode by schema_build
            return self.marker_levels[0 if self.marker_permission in grants else 1]
        if chosen is None:
            offered = self.custom_role_levels
            if len(offered) == 1:  # E2: a level is optional where custom roles are offered one
                return offered[0]
            raise ValueError("a level must be chosen for this product")
        return chosen

    @property
    def custom_role_levels(self) -> tuple[str, ...]:
        """The levels new custom roles are offered, lowest rank first (E2: one, or several)."""
        return tuple(lv.key for lv in self.levels_by_rank() if lv.offered_to_custom_roles)

    def levels_offered(self, current: str | None = None) -> list[Level]:
        """The levels a role editor offers, lowest rank first: those offered to custom
        roles (E2), and the role's own `current` level where it is another (a system
        role's, or a level no longer offered)."""
        return [lv for lv in self.levels_by_rank() if lv.offered_to_custom_roles or lv.key == current]

    def levels_by_rank(self) -> list[Level]:
        return sorted(self.levels.values(), key=lambda lv: lv.rank)

    @property
    def feature_defaults(self) -> frozenset[str]:
        return frozenset(k for k, f in self.features.items() if f.default)
