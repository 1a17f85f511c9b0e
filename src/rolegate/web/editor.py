"""The role editor's view model: the form as the user left it, and every permission's
box (checked, locked by the level's floor, above the ceiling, inert without its
feature or requirement), grouped by area, as View/Manage columns where the product
schema pairs them (T7).

Nothing here decides whether a change is allowed: the states come from the domain's
`resolve_permissions` (what the level and features make of the grants), and saving
goes through the services, which refuse with the rule's message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from starlette.datastructures import FormData

from rolegate.domain.permissions import PermissionStatus, locked_permissions, resolve_permissions
from rolegate.domain.roles import Role, RoleKind
from rolegate.domain.schema import Level, LevelMode, Permission, ProductSchema, is_seed_rule
from rolegate.domain.seats import seat_rule
from rolegate.domain.violations import Violation
from rolegate.domain.words import without_rule_ids

__all__ = [
    "AreaGrid",
    "PermCell",
    "PermRow",
    "RoleForm",
    "area_permissions",
    "bulk_toggled",
    "display_level",
    "grid_columns",
    "permission_grid",
    "seat_refusals",
    "ticked_elsewhere",
]


@dataclass(frozen=True, slots=True)
class RoleForm:
    """The editor's fields, as the user left them."""

    name: str = ""
    description: str = ""
    level: str | None = None
    landing_page: str | None = None
    grants: frozenset[str] = frozenset()
    field_access: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """A new role's field permissions as ticked (K6), over its starting selection (K8)."""

    @classmethod
    def of_role(cls, role: Role) -> RoleForm:
        # A system role's description is the preset's, which cites seed rules for the
        # spec's readers; the customer reads it without them (the "Why?" names rules).
        description = without_rule_ids(role.description) if role.kind is RoleKind.SYSTEM else role.description
        return cls(role.name, description, role.level, role.landing_page, role.grants)

    @classmethod
    def new(cls, schema: ProductSchema) -> RoleForm:
        first = schema.levels_by_rank()[0].key
        landing = next(iter(schema.landing_pages), None)
        return cls(level=first, landing_page=landing)

    @classmethod
    def parse(cls, form: FormData, schema: ProductSchema, before: Role | None) -> RoleForm:
        """Disabled boxes are not posted: a locked box (the floor, T7) keeps what the role
        stored, so an unchanged form saves an unchanged role; a new role gets its level's
        floor from `create_role`. The level of a role whose level is fixed keeps its value."""
        level = str(form.get("level") or "") or (before.level if before is not None else None)
        if schema.level_mode is LevelMode.MARKER:
            level = None
        grants = frozenset(str(g) for g in form.getlist("grants"))
        if before is not None:
            shown = display_level(schema, level or before.level, grants)
            grants |= before.grants & schema.levels[shown].floor
        landing = str(form.get("landing_page") or "") or None
        return cls(
            name=str(form.get("name") or ""),
            description=str(form.get("description") or ""),
            level=level,
            landing_page=landing if schema.landing_pages else None,
            grants=grants,
        )


def display_level(schema: ProductSchema, level: str | None, grants: frozenset[str]) -> str:
    """The level the form stands for: chosen, or following the marker permission (N2)."""
    if schema.level_mode is LevelMode.MARKER:
        return schema.level_for(None, grants)
    if level in schema.levels:
        assert level is not None
        return level
    return schema.levels_by_rank()[0].key


@dataclass(frozen=True, slots=True)
class PermCell:
    key: str
    label: str
    description: str
    checked: bool
    disabled: bool
    state: str
    """locked | unavailable | inert | gated | on | off"""
    note: str = ""
    title: str = ""
    """The explanation in the product's words: never a rule code (issue 15)."""
    requires: tuple[str, ...] = ()
    rule: str = ""
    """The seed rule behind the lock or the note, for the row's "Why?" (empty: none)."""


@dataclass(frozen=True, slots=True)
class PermRow:
    label: str
    cells: dict[str, PermCell] = field(default_factory=dict)
    """Paired permissions: column (view, manage ...) -> box."""
    single: PermCell | None = None


@dataclass(frozen=True, slots=True)
class AreaGrid:
    key: str
    label: str
    description: str
    columns: tuple[str, ...]
    rows: tuple[PermRow, ...]

    @property
    def cells(self) -> tuple[PermCell, ...]:
        return tuple(c for r in self.rows for c in ((r.single,) if r.single is not None else tuple(r.cells.values())))

    @property
    def changeable(self) -> tuple[PermCell, ...]:
        """The boxes the role may change: a locked, capped or read-only box stays as it is."""
        return tuple(c for c in self.cells if not c.disabled)

    @property
    def all_on(self) -> bool:
        """Every box the role may change is ticked: the area's bulk toggle unticks them."""
        return bool(self.changeable) and all(c.checked for c in self.changeable)


def grid_columns(grid: Iterable[AreaGrid]) -> tuple[str, ...]:
    """The columns of the one table of a role: every area's paired columns (view,
    manage ...) in the schema's order, so a column stays in place from area to area;
    empty when the product pairs no permission (one box per permission)."""
    columns: list[str] = []
    for area in grid:
        columns += [c for c in area.columns if c not in columns]
    return tuple(columns)


def bulk_toggled(
    schema: ProductSchema, grid: Iterable[AreaGrid], grants: frozenset[str], area: str, *, on: bool
) -> frozenset[str]:
    """The grants after the area's bulk toggle: every box of the area the role may
    change is ticked (with what they need, E6, where it may be ticked too) or unticked;
    locked and capped boxes keep their state. The preview then shows what the rules make
    of it, exactly as for boxes ticked one by one."""
    areas = list(grid)
    free = {c.key for a in areas for c in a.changeable}
    chosen = {c.key for a in areas if a.key == area for c in a.changeable}
    if not on:
        return grants - chosen
    out, todo = set(grants) | chosen, list(chosen)
    while todo:
        for needed in schema.permissions[todo.pop()].requires:
            if needed in free and needed not in out:
                out.add(needed)
                todo.append(needed)
    return frozenset(out)


def _cell(
    schema: ProductSchema,
    perm: Permission,
    level: Level,
    grants: frozenset[str],
    features: frozenset[str],
    status: PermissionStatus,
    missing: tuple[str, ...],
    *,
    locked: bool,
    is_system: bool,
    read_only: bool,
) -> PermCell:
    key = perm.key
    rule = level.rule or schema.rule("level_ceiling")
    marker = schema.level_mode is LevelMode.MARKER and key == schema.marker_permission
    system_only = perm.system_only and not is_system
    checked = key in grants or locked
    word = schema.words.level.lower()  # the product's word: license, access level ...

    def make(checked: bool, disabled: bool, state: str, note: str = "", title: str = "", rule: str = "") -> PermCell:
        return PermCell(
            key,
            perm.label,
            without_rule_ids(perm.description),
            checked,
            disabled,
            state,
            note,
            title,
            tuple(sorted(perm.requires)),
            rule if is_seed_rule(rule) else "",
        )

    if locked:
        return make(
            True,
            True,
            "locked",
            f"{level.label} {word}",
            f"Part of the {level.label} {word}: it cannot be disabled. Choose a lower {word} to drop it.",
            rule,
        )
    if key not in level.ceiling and not marker:
        return make(
            checked,
            True,
            "unavailable",
            f"not in {level.label}",
            f"Above the {level.label} {word}: choose a higher {word} to grant it.",
            rule,
        )
    if system_only:
        return make(
            checked,
            True,
            "unavailable",
            "system roles only",
            "Only system roles may hold it.",
            schema.rule("system_only_permission"),
        )
    note, title, state, why = "", without_rule_ids(perm.description), "on" if checked else "off", ""
    if perm.feature is not None and perm.feature not in features:
        feature = schema.features[perm.feature].label if perm.feature in schema.features else perm.feature
        note = f"needs {feature}"
        title = f"Has no effect while the workspace lacks {feature}: it can be granted, and works once {feature} is on."
        state, why = ("inert" if checked else "gated"), schema.rule("feature_off")
    elif checked and status is PermissionStatus.REQUIREMENT_MISSING:
        labels = ", ".join(schema.permissions[m].label for m in missing)
        note, title, state = f"needs {labels}", f"Has no effect without {labels}.", "inert"
        why = schema.rule("requirement_missing")
    elif marker:
        seats = {lv.seat for lv in schema.levels.values() if lv.seat is not None}
        if schema.marker_levels is not None:
            seat = schema.levels[schema.marker_levels[0]].seat
            if seat is not None and seat in schema.seats and len(seats) > 1:
                note = f"takes {_a(schema.seats[seat].label)}"
                title = (
                    f"A role with it takes {_a(schema.seats[seat].label)}; without it, {_a(_other_seat(schema, seat))}."
                )
                why = schema.rule("level_marker")
    return make(checked, read_only, state, note, title, why)


def _a(label: str) -> str:
    """`label` with its indefinite article ("a CSM seat", "an Analyst seat")."""
    return f"{'an' if label[:1].lower() in 'aeiou' else 'a'} {label}"


def _other_seat(schema: ProductSchema, seat: str) -> str:
    """The seat a role takes without the marker permission (N2)."""
    assert schema.marker_levels is not None
    other = schema.levels[schema.marker_levels[1]].seat
    return schema.seats[other].label if other is not None and other in schema.seats else "no seat"


def permission_grid(
    schema: ProductSchema,
    features: frozenset[str],
    *,
    level: str,
    grants: frozenset[str],
    is_system: bool,
    read_only: bool = False,
) -> list[AreaGrid]:
    lv = schema.levels[level]
    states = resolve_permissions(schema, level, grants & schema.permissions.keys(), features, system_role=is_system)
    locked = locked_permissions(schema, level, system_role=is_system)
    grid: list[AreaGrid] = []
    for area in schema.areas.values():
        perms = [p for p in schema.permissions.values() if p.area == area.key]
        if not perms:
            continue
        columns: list[str] = []
        rows: list[PermRow] = []
        paired: dict[str, PermRow] = {}
        for p in perms:
            st = states[p.key]
            cell = _cell(
                schema,
                p,
                lv,
                grants,
                features,
                st.status,
                st.missing,
                locked=p.key in locked,
                is_system=is_system,
                read_only=read_only,
            )
            if p.pair_row is not None and p.pair_column is not None:
                if p.pair_column not in columns:
                    columns.append(p.pair_column)
                row = paired.get(p.pair_row)
                if row is None:
                    label = area.label if p.pair_row == area.key else p.pair_row.replace("_", " ").capitalize()
                    row = paired[p.pair_row] = PermRow(label)
                    rows.append(row)
                row.cells[p.pair_column] = cell
            else:
                rows.append(PermRow(p.label, single=cell))
        grid.append(AreaGrid(area.key, area.label, without_rule_ids(area.description), tuple(columns), tuple(rows)))
    return grid


def ticked_elsewhere(
    schema: ProductSchema, area: str, before: frozenset[str], after: frozenset[str]
) -> tuple[str, ...]:
    """The labels a bulk toggle of `area` ticked in other areas (what its boxes need,
    E6), in the schema's order: said beside the toggle that caused it."""
    added = after - before
    return tuple(p.label for p in schema.permissions.values() if p.key in added and p.area != area)


def seat_refusals(
    schema: ProductSchema,
    violations: Iterable[Violation],
    *,
    seat_before: str | None,
    seat_after: str | None,
) -> dict[str, tuple[Violation, ...]]:
    """A full seat (N1) refusing a change, said at the box that moved the role to that
    seat: the marker permission, where it decides the seat (N2). Empty otherwise (a
    chosen level moves the seat: its refusal stays in the preview)."""
    marker = schema.marker_permission
    if (
        schema.level_mode is not LevelMode.MARKER
        or marker is None
        or seat_after == seat_before
        or seat_after is None
        or seat_after not in schema.seats
    ):
        return {}
    found = tuple(v for v in violations if v.rule_id == seat_rule(schema, seat_after))
    return {marker: found} if found else {}


def area_permissions(schema: ProductSchema, keys: Iterable[str]) -> list[tuple[str, list[str]]]:
    """Labels of `keys`, grouped by area, in the schema's order."""
    chosen = set(keys)
    out: list[tuple[str, list[str]]] = []
    for area in schema.areas.values():
        labels = [p.label for p in schema.permissions.values() if p.area == area.key and p.key in chosen]
        if labels:
            out.append((area.label, labels))
    return out
