"""The shipped presets at a glance (`rolegate presets [--explain]`): each preset's size,
and with the tour its roles and a few decisions explained, computed in memory on a
small made-up workspace (no database)."""

from __future__ import annotations

from dataclasses import dataclass

from rolegate.domain.roles import Member, Role, role_from_system
from rolegate.domain.schema import AdminRight, ProductSchema, Scope
from rolegate.domain.seats import seat_of
from rolegate.engine import Explanation, InMemoryRecordIndex, Record, RecordRef, Snapshot, compile_snapshot
from rolegate.presets import PRESET_KEYS, load_preset

__all__ = ["PresetSummary", "PresetTour", "RoleLine", "build_demo_snapshot", "preset_summaries", "preset_tours"]


@dataclass(frozen=True, slots=True)
class PresetSummary:
    key: str
    name: str
    permissions: int
    system_roles: int


@dataclass(frozen=True, slots=True)
class RoleLine:
    name: str
    kind: str
    level: str
    """The level's label."""
    seat: str | None
    effective_permissions: int
    landing_page: str | None


@dataclass(frozen=True, slots=True)
class PresetTour:
    summary: PresetSummary
    roles: list[RoleLine]
    features_on: list[str]
    features_off: list[str]
    explanations: list[Explanation]


def preset_summaries() -> list[PresetSummary]:
    return [_summary(key, load_preset(key)) for key in PRESET_KEYS]


def preset_tours() -> list[PresetTour]:
    return [_tour(key, load_preset(key)) for key in PRESET_KEYS]


def _summary(key: str, schema: ProductSchema) -> PresetSummary:
    return PresetSummary(key, schema.name, len(schema.permissions), len(schema.system_roles))


def build_demo_snapshot(schema: ProductSchema) -> tuple[Snapshot, list[Role]]:
    """One active member per system role (member id = role id), one account each for
    the first two members, one unassigned, with every feature on but the first."""
    roles = [role_from_system(schema, sr) for sr in schema.system_roles.values()]
    members = [Member(f"{r.id}", r.id) for r in roles]
    records: list[Record] = []
    for otype in schema.objects.values():
        if otype.parent is None and otype.assignable:
            holders = [m.id for m in members[:2]]
            records += [Record(otype.key, f"{otype.key}-{i}", assignee=h) for i, h in enumerate(holders)]
            records.append(Record(otype.key, f"{otype.key}-free"))
    features = frozenset(list(schema.features)[1:])
    snap = compile_snapshot(
        schema, features=features, roles=roles, members=members, records=InMemoryRecordIndex(records), revision=1
    )
    return snap, roles


def _questions(schema: ProductSchema, snap: Snapshot, roles: list[Role]) -> list[tuple[str, str, RecordRef | None]]:
    ranked = sorted(roles, key=lambda r: schema.levels[r.level].rank)
    low, high = ranked[0], ranked[-1]
    qs: list[tuple[str, str, RecordRef | None]] = [
        (high.id, schema.admin_actions[AdminRight.MANAGE_ROLES], None),
        (low.id, schema.admin_actions[AdminRight.MANAGE_ROLES], None),
    ]
    gated = next((p for p in schema.permissions.values() if p.feature and p.feature not in snap.features), None)
    if gated is not None and gated.grants:
        qs.append((high.id, gated.grants[0].action, None))
    for role in roles:
        for action, act in schema.actions.items():
            d = snap.check(role.id, action)
            if act.object_type and d.allowed and d.scope is not Scope.ALL:
                qs.append((role.id, action, RecordRef(act.object_type, f"{act.object_type}-0")))
                qs.append((role.id, action, RecordRef(act.object_type, f"{act.object_type}-free")))
                return qs
    return qs


def _tour(key: str, schema: ProductSchema) -> PresetTour:
    snap, roles = build_demo_snapshot(schema)
    lines = [
        RoleLine(
            role.name,
            role.kind.value,
            schema.levels[role.level].label,
            seat_of(schema, role),
            len(snap.effective_permissions(role.id)),
            role.landing_page,
        )
        for role in roles
    ]
    return PresetTour(
        _summary(key, schema),
        lines,
        sorted(snap.features),
        sorted(set(schema.features) - snap.features),
        [snap.explain(member, action, record) for member, action, record in _questions(schema, snap, roles)],
    )
