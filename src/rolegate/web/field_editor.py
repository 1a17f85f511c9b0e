"""The Field permissions tab's view model: per object, per field, a read box and a write
box, each checked, locked or capped with the reason (K7 default fields, K1 the level's
ceiling, K9 the integration user), and which fields the role never configured (K8).

Nothing here decides: the boxes come from the domain's `field_decision`; saving goes
through `services.fields.set_role_field_access`, which refuses with the rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.datastructures import FormData

from rolegate.domain.fields import field_decision, new_role_field_access
from rolegate.domain.roles import Role, RoleKind
from rolegate.domain.rules.field_rules import write_without_read_violations
from rolegate.domain.schema import FieldAccess, ProductSchema
from rolegate.domain.violations import Violation

__all__ = ["FieldBox", "FieldRow", "ObjectTable", "field_tables", "new_role_tables", "parse_field_form"]


@dataclass(frozen=True, slots=True)
class FieldBox:
    checked: bool
    disabled: bool
    state: str
    """on | off | locked (K7) | capped (K1, K9)"""
    rule: str = ""
    reason: str = ""


@dataclass(frozen=True, slots=True)
class FieldRow:
    object_type: str
    name: str
    label: str
    read: FieldBox
    write: FieldBox
    synced_from: str | None
    new: bool
    """Not configured on the role (K8): it has what its level hands out."""

    @property
    def key(self) -> str:
        return f"{self.object_type}.{self.name}"


@dataclass(frozen=True, slots=True)
class ObjectTable:
    key: str
    label: str
    rows: tuple[FieldRow, ...]

    @property
    def new_count(self) -> int:
        return sum(1 for r in self.rows if r.new)


def field_tables(schema: ProductSchema, role: Role, *, read_only: bool) -> list[ObjectTable]:
    level = schema.levels[role.level]
    default_read, cap_rule = schema.rule("field_default_read"), schema.rule("field_integration_cap")
    ceiling_rule = level.rule or schema.rule("field_level_ceiling")
    tables: list[ObjectTable] = []
    for okey, otype in schema.objects.items():
        rows = []
        for fname, fdef in otype.fields.items():
            d = field_decision(schema, role, okey, fname)
            if d.read_locked:
                read = FieldBox(
                    True,
                    True,
                    "locked",
                    default_read,
                    "Default field: its read permission cannot be removed.",
                )
            else:
                read = FieldBox(
                    d.access >= FieldAccess.READ, read_only, "on" if d.access >= FieldAccess.READ else "off"
                )
            if level.field_ceiling < FieldAccess.WRITE:
                write = FieldBox(
                    False,
                    True,
                    "capped",
                    ceiling_rule,
                    f"The {level.label} level never writes fields.",
                )
            elif d.cap < FieldAccess.WRITE:
                source = schema.integrations.get(fdef.synced_from or "")
                integ = source.label if source is not None else "an integration"
                write = FieldBox(
                    False,
                    True,
                    "capped",
                    cap_rule,
                    f"Synced from {integ}, whose integration user can only {d.cap.label} it: write is locked for every role.",
                )
            else:
                write = FieldBox(
                    d.access >= FieldAccess.WRITE, read_only, "on" if d.access >= FieldAccess.WRITE else "off"
                )
            new = not role.mirror_integration and (okey, fname) not in role.field_access
            rows.append(FieldRow(okey, fname, fdef.label, read, write, fdef.synced_from, new))
        tables.append(ObjectTable(okey, otype.label, tuple(rows)))
    return tables


def parse_field_form(
    form: FormData, schema: ProductSchema, tables: list[ObjectTable]
) -> tuple[dict[str, dict[str, str]], list[Violation]]:
    """The changes the form makes: each field whose access differs from what the role
    has now. Disabled boxes are not posted: a locked read stays read (K7); a capped
    write box is shown unticked, so a role's stored write on a field that became capped
    is not touched (K10) unless its read changes. `bulk` = `<object>:read|none` sets every
    read box of the object first (write unchanged, except none, which clears it)."""
    bulk_obj, _, bulk_to = str(form.get("bulk") or "").partition(":")
    changes: dict[str, dict[str, str]] = {}
    violations: list[Violation] = []
    for table in tables:
        for row in table.rows:
            read = row.read.checked if row.read.disabled else f"read:{row.key}" in form
            # A capped write box is not posted by a browser; one posted anyway goes to
            # the service, which refuses it with its rule (K9, K1) rather than being dropped.
            write = f"write:{row.key}" in form
            if table.key == bulk_obj and bulk_to in ("read", "none"):
                read = row.read.disabled or bulk_to == "read"
                write = write and bulk_to == "read"
            refused = write_without_read_violations(schema, f"{row.label} ({row.key})", read=read, write=write)
            if refused:
                violations += refused
                continue
            access = "write" if write else "read" if read else "none"
            before = "write" if row.write.checked else "read" if row.read.checked else "none"
            if access != before:
                changes.setdefault(row.object_type, {})[row.name] = access
    return changes, violations


def new_role_tables(
    schema: ProductSchema, level: str, chosen: Mapping[str, Mapping[str, str]] | None = None
) -> list[ObjectTable]:
    """The field boxes of a role being created (K6): its starting selection (K8: the
    standard objects as the level and the integration allow, additional objects
    unselected), with what the user ticked over it."""
    start = new_role_field_access(schema, level)
    for obj, per in (chosen or {}).items():
        for name, access in per.items():
            start[(obj, name)] = FieldAccess.parse(access)
    draft = Role(id="", name="", kind=RoleKind.CUSTOM, level=level, grants=frozenset(), field_access=start)
    return field_tables(schema, draft, read_only=False)
