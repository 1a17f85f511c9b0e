"""`rolegate presets [--explain]`: the shipped presets; with --explain, each preset's
roles and a few decisions explained, computed in memory (no database)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rolegate.cli import schema as schema_cli
from rolegate.domain.roles import Member, Role, role_from_system
from rolegate.domain.schema import AdminRight, ProductSchema, Scope
from rolegate.domain.seats import seat_of
from rolegate.engine import InMemoryRecordIndex, Record, RecordRef, Snapshot, compile_snapshot
from rolegate.presets import PRESET_KEYS, load_preset

console = Console(highlight=False)


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
    snap = compile_snapshot(schema, features=features, roles=roles, members=members, records=InMemoryRecordIndex(records), revision=1)
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


def show(key: str) -> None:
    schema = load_preset(key)
    snap, roles = build_demo_snapshot(schema)
    table = Table(title=f"{schema.name} ({key})", title_justify="left")
    for col in ("role", "type", "level", "seat", "effective permissions", "landing page"):
        table.add_column(col)
    for role in roles:
        table.add_row(
            role.name,
            role.kind.value,
            schema.levels[role.level].label,
            seat_of(schema, role) or "-",
            f"{len(snap.effective_permissions(role.id))} of {len(schema.permissions)}",
            role.landing_page or "-",
        )
    console.print(table)
    off = sorted(set(schema.features) - snap.features)
    console.print(f"features on: {', '.join(sorted(snap.features)) or 'none'}; off: {', '.join(off) or 'none'}")
    for member, action, record in _questions(schema, snap, roles):
        console.print(str(snap.explain(member, action, record)), markup=False)
    console.print()


def presets(
    explain: Annotated[bool, typer.Option("--explain", help="Also show each preset's roles and a few explained decisions.")] = False,
) -> None:
    """List the shipped presets; --explain shows their roles and decisions, in memory."""
    if not explain:
        schema_cli.presets()
        return
    for key in PRESET_KEYS:
        show(key)
    console.print("`rolegate demo` puts these presets in a database; `rolegate serve` answers over HTTP.")
