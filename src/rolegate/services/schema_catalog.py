"""The catalog of a product schema as the doors show it: areas, permissions with their
grants, levels with floor and ceiling, seats, features, landing pages, objects and
actions. A read model (plain values), built once per schema object: presets are
loaded once, so their catalog is too."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from rolegate.domain.schema import ProductSchema

__all__ = [
    "ActionEntry",
    "AreaEntry",
    "FeatureEntry",
    "FieldEntry",
    "GrantEntry",
    "LandingPageEntry",
    "LevelEntry",
    "ObjectEntry",
    "PermissionEntry",
    "SchemaCatalog",
    "SeatEntry",
    "schema_catalog",
]


@dataclass(frozen=True, slots=True)
class AreaEntry:
    key: str
    label: str
    description: str


@dataclass(frozen=True, slots=True)
class GrantEntry:
    action: str
    scope: str
    feature: str | None = None
    """E4: the grant takes effect only while this feature is on."""


@dataclass(frozen=True, slots=True)
class PermissionEntry:
    key: str
    label: str
    description: str
    area: str
    grants: tuple[GrantEntry, ...]
    requires: tuple[str, ...]
    feature: str | None
    pair: Mapping[str, str] | None
    """T7: `{row, column}` when shown as a View/Manage pair."""
    system_only: bool


@dataclass(frozen=True, slots=True)
class LevelEntry:
    key: str
    label: str
    description: str
    rank: int
    seat: str | None
    floor: tuple[str, ...]
    ceiling: tuple[str, ...]
    field_ceiling: str


@dataclass(frozen=True, slots=True)
class SeatEntry:
    key: str
    label: str
    description: str


@dataclass(frozen=True, slots=True)
class FeatureEntry:
    key: str
    label: str
    description: str
    default: bool


@dataclass(frozen=True, slots=True)
class LandingPageEntry:
    key: str
    label: str
    requires: str | None


@dataclass(frozen=True, slots=True)
class FieldEntry:
    name: str
    label: str
    default: bool
    synced_from: str | None


@dataclass(frozen=True, slots=True)
class ObjectEntry:
    key: str
    label: str
    parent: str | None
    assignable: bool
    view_action: str | None
    fields: tuple[FieldEntry, ...]


@dataclass(frozen=True, slots=True)
class ActionEntry:
    key: str
    label: str
    object: str | None


@dataclass(frozen=True, slots=True)
class SchemaCatalog:
    key: str
    name: str
    description: str
    level_mode: str
    custom_roles_allowed: bool
    areas: tuple[AreaEntry, ...]
    permissions: tuple[PermissionEntry, ...]
    levels: tuple[LevelEntry, ...]
    seats: tuple[SeatEntry, ...]
    features: tuple[FeatureEntry, ...]
    landing_pages: tuple[LandingPageEntry, ...]
    objects: tuple[ObjectEntry, ...]
    actions: tuple[ActionEntry, ...]
    admin_actions: Mapping[str, str]
    """Admin right -> the action that carries it (N12, C1, K13, T10, E7)."""
    words: Mapping[str, str]
    """The product's own words for roles, their types, levels and seats."""
    role_delete_with_members: str = "refuse"
    """`replace`: a role still held is deleted with a replacement for its holders (N7)."""


_catalogs: dict[str, tuple[ProductSchema, SchemaCatalog]] = {}
_lock = threading.Lock()


def schema_catalog(schema: ProductSchema) -> SchemaCatalog:
    """The catalog of `schema`, built once per schema object (a workspace's own objects
    and fields make another schema object, and so another catalog)."""
    hit = _catalogs.get(schema.key)
    if hit is not None and hit[0] is schema:
        return hit[1]
    catalog = _catalog(schema)
    with _lock:
        _catalogs[schema.key] = (schema, catalog)
    return catalog


def _catalog(schema: ProductSchema) -> SchemaCatalog:
    return SchemaCatalog(
        key=schema.key,
        name=schema.name,
        description=schema.description,
        level_mode=schema.level_mode.value,
        custom_roles_allowed=schema.custom_roles_allowed,
        areas=tuple(AreaEntry(a.key, a.label, a.description) for a in schema.areas.values()),
        permissions=tuple(
            PermissionEntry(
                key=p.key,
                label=p.label,
                description=p.description,
                area=p.area,
                grants=tuple(GrantEntry(g.action, g.scope.label, g.feature) for g in p.grants),
                requires=tuple(sorted(p.requires)),
                feature=p.feature,
                pair={"row": p.pair_row, "column": p.pair_column}
                if p.pair_row is not None and p.pair_column is not None
                else None,
                system_only=p.system_only,
            )
            for p in schema.permissions.values()
        ),
        levels=tuple(
            LevelEntry(
                key=lv.key,
                label=lv.label,
                description=lv.description,
                rank=lv.rank,
                seat=lv.seat,
                floor=tuple(sorted(lv.floor)),
                ceiling=tuple(sorted(lv.ceiling)),
                field_ceiling=lv.field_ceiling.label,
            )
            for lv in schema.levels_by_rank()
        ),
        seats=tuple(SeatEntry(s.key, s.label, s.description) for s in schema.seats.values()),
        features=tuple(FeatureEntry(f.key, f.label, f.description, f.default) for f in schema.features.values()),
        landing_pages=tuple(LandingPageEntry(lp.key, lp.label, lp.requires) for lp in schema.landing_pages.values()),
        objects=tuple(
            ObjectEntry(
                key=o.key,
                label=o.label,
                parent=o.parent,
                assignable=o.assignable,
                view_action=o.view_action,
                fields=tuple(FieldEntry(f.name, f.label, f.default, f.synced_from) for f in o.fields.values()),
            )
            for o in schema.objects.values()
        ),
        actions=tuple(ActionEntry(a.key, a.label, a.object_type) for a in schema.actions.values()),
        admin_actions={right.value: action for right, action in schema.admin_actions.items()},
        words=asdict(schema.words),
        role_delete_with_members=schema.role_delete_with_members,
    )
