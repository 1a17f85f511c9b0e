"""Rules about roles: creating, editing, deleting (N2, N4, N6, N7, N8, K4, K6, K7, K9,
T5, T7, T8, T9, E7). Each returns violations; none raises or does I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rolegate.domain.permissions import role_permissions
from rolegate.domain.roles import Role, role_from_system
from rolegate.domain.schema import FieldAccess, LevelMode, ProductSchema
from rolegate.domain.violations import NAME_TAKEN, UNKNOWN_KEY, Violation
from rolegate.domain.words import count_of, quoted

__all__ = [
    "HolderCounts",
    "RoleLocks",
    "assignee_permission_violations",
    "loses_assignee_action",
    "role_name_taken",
    "disabled_holder_violations",
    "field_grant_violations",
    "level_choice_violations",
    "role_deletion_violations",
    "role_locks",
    "role_name_violations",
    "role_violations",
    "system_role_violations",
]


@dataclass(frozen=True, slots=True)
class HolderCounts:
    """Who holds a role, as the store counts them."""

    active: int = 0
    invited: int = 0
    with_assigned_records: int = 0
    """Holders that have records (accounts) assigned to them (N6, N7)."""

    @property
    def total(self) -> int:
        return self.active + self.invited


def _members_have(n: int) -> str:
    """ "1 member with this role has", "3 members with this role have"."""
    return f"{count_of(n, 'member')} with this role {'has' if n == 1 else 'have'}"


def system_role_violations(schema: ProductSchema) -> list[tuple[str, Violation]]:
    """A schema whose own system roles break the role rules is a broken schema."""
    every = frozenset(schema.features)
    out: list[tuple[str, Violation]] = []
    for key, sr in schema.system_roles.items():
        role = role_from_system(schema, sr)
        out.extend((key, v) for v in role_violations(schema, role, every, system_ok=True))
    return out


def role_violations(
    schema: ProductSchema,
    role: Role,
    features: frozenset[str],
    *,
    previous: Role | None = None,
    system_ok: bool = False,
) -> list[Violation]:
    """Everything wrong with saving `role` (created when `previous` is None)."""
    out: list[Violation] = []
    if previous is None and role.is_system and not system_ok:
        out.append(
            Violation(
                schema.rule("system_role_create"), "System roles cannot be created.", "Create a custom role instead."
            )
        )
    if previous is None and not role.is_system and not schema.custom_roles_allowed:
        out.append(
            Violation(schema.rule("custom_roles_off"), f"{schema.name} has only its predefined profiles.", "Assign one of the system roles.")
        )
    if previous is not None and previous.is_system and not previous.editable and previous != role:
        out.append(
            Violation(
                schema.rule("system_role_edit"),
                f"System role {quoted(previous.name)} cannot be edited.",
                "Clone it into a custom role and edit the clone.",
            )
        )
        return out
    # In marker mode the level follows the grants (N2), so only the name is fixed.
    level_fixed = schema.level_mode is LevelMode.CHOSEN and role.level != previous.level if previous else False
    if previous is not None and previous.is_system and (role.name != previous.name or level_fixed):
        out.append(
            Violation(
                schema.rule("system_role_rename"),
                "A system role keeps its name and level; only its permissions may change.",
                "Clone it to change its name or level.",
            )
        )
    if not role.name.strip():
        out.append(Violation(schema.rule("role_definition"), "A role needs a name.", "Enter a name."))
    unknown = sorted(role.grants - schema.permissions.keys())
    if unknown:
        out.append(
            Violation(UNKNOWN_KEY, f"Unknown permissions: {', '.join(unknown)}.", "Use permission keys of the product schema.")
        )
    unknown_level = level_choice_violations(schema, role.level)
    if unknown_level:
        return out + unknown_level
    out.extend(_level_violations(schema, role, previous))
    out.extend(_grant_violations(schema, role, previous))
    out.extend(_landing_violations(schema, role, features))
    out.extend(field_grant_violations(schema, role, previous))
    return out


def level_choice_violations(schema: ProductSchema, level: str | None) -> list[Violation]:
    """N8: a role has one of the schema's levels (None: none was chosen where the
    product makes the administrator choose). Checked before anything computes
    permissions from the level, which needs it to exist."""
    fix = f"Choose one of {', '.join(schema.levels)}."
    if level is None:
        return [Violation(schema.rule("role_definition"), "A level must be chosen for this role.", fix)]
    if level not in schema.levels:
        return [Violation(UNKNOWN_KEY, f"Unknown level {level!r}.", fix)]
    return []


def role_name_violations(schema: ProductSchema, name: str, *, taken: bool) -> list[Violation]:
    """N8: role names are unique in a workspace (`taken`: the store found another)."""
    if name.strip() and taken:
        return [
            Violation(
                NAME_TAKEN, f"A role named {quoted(name.strip())} already exists.", "Choose another name."
            )
        ]
    return []


@dataclass(frozen=True, slots=True)
class RoleLocks:
    """What of a role the editor may not change, and the rule that says so: the
    editor shows these before the change is tried (the rules above refuse it)."""

    edit: bool
    """A system role that cannot be edited at all (K4)."""
    name: bool
    """A system role keeps its name (T2)."""
    level: bool
    """A saved role's level: a system role's (T2), a custom role's where levels are fixed at creation (K6)."""
    edit_rule: str
    level_rule: str


def role_locks(schema: ProductSchema, role: Role | None) -> RoleLocks:
    """The locks of `role` (None: a new role, nothing locked)."""
    if role is None:
        return RoleLocks(False, False, False, schema.rule("system_role_edit"), schema.rule("system_role_rename"))
    level = schema.level_mode is LevelMode.CHOSEN and (role.is_system or not schema.level_changeable_after_create)
    return RoleLocks(
        edit=role.is_system and not role.editable,
        name=role.is_system,
        level=level,
        edit_rule=schema.rule("system_role_edit"),
        level_rule=schema.rule("system_role_rename") if role.is_system else schema.rule("level_locked"),
    )


def _level_violations(schema: ProductSchema, role: Role, previous: Role | None) -> list[Violation]:
    out: list[Violation] = []
    if schema.level_mode is LevelMode.MARKER:
        expected = schema.level_for(None, role.grants)
        if role.level != expected:
            out.append(
                Violation(
                    schema.rule("level_marker"),
                    f"With these permissions the role takes the {expected!r} level, not {role.level!r}.",
                    f"Leave the level to follow {schema.marker_permission!r}.",
                )
            )
    elif (
        previous is not None
        and not previous.is_system
        and previous.level != role.level
        and not schema.level_changeable_after_create
    ):
        out.append(
            Violation(
                schema.rule("level_locked"),
                f"The access level of a saved custom role cannot change ({previous.level!r} -> {role.level!r}).",
                "Create a new role with the other level and move its members.",
            )
        )
    return out


def _grant_violations(schema: ProductSchema, role: Role, previous: Role | None) -> list[Violation]:
    out: list[Violation] = []
    level = schema.levels[role.level]
    above = sorted((role.grants - level.ceiling) & schema.permissions.keys())
    if above:
        out.append(
            Violation(
                level.rule or schema.rule("level_ceiling"),
                f"Level {quoted(level.label)} cannot grant {', '.join(above)}.",
                "Remove them, or choose a higher level.",
            )
        )
    if not role.is_system:
        system_only = sorted(
            k for k in (role.grants | level.floor) & schema.permissions.keys() if schema.permissions[k].system_only
        )
        if system_only:
            out.append(
                Violation(
                    schema.rule("system_only_permission"),
                    f"Only system roles may hold {', '.join(system_only)}.",
                    "Leave it to the site administrators' role.",
                )
            )
    if previous is not None:
        dropped = sorted((previous.grants - role.grants) & level.floor)
        if dropped:
            out.append(
                Violation(
                    schema.rule("level_floor"),
                    f"{', '.join(dropped)} belong to level {quoted(level.label)} and cannot be disabled.",
                    "Choose a lower level to drop them.",
                )
            )
    return out


def _landing_violations(schema: ProductSchema, role: Role, features: frozenset[str]) -> list[Violation]:
    if not schema.landing_pages:
        return []
    if role.landing_page is None:
        return [
            Violation(schema.rule("landing_page"), "Every role needs a landing page.", "Choose one the role can open.")
        ]
    page = schema.landing_pages.get(role.landing_page)
    if page is None:
        return [
            Violation(
                schema.rule("landing_page"),
                f"Unknown landing page {role.landing_page!r}.",
                f"Choose one of {', '.join(schema.landing_pages)}.",
            )
        ]
    if page.requires is not None and page.requires not in role_permissions(schema, role, features):
        need = schema.permissions[page.requires].label
        return [
            Violation(
                schema.rule("landing_page"),
                f"Landing page {quoted(page.label)} needs {quoted(need)}, which this role does not effectively have.",
                f"Grant {quoted(need)} or choose another landing page.",
            )
        ]
    return []


def field_grant_violations(schema: ProductSchema, role: Role, previous: Role | None = None) -> list[Violation]:
    """Field permissions set on a role, checked only where they changed (K10: a field
    that became synced keeps its stored permission; the integration caps it)."""
    out: list[Violation] = []
    before = previous.field_access if previous is not None else {}
    for (obj, fname), access in sorted(role.field_access.items()):
        if before.get((obj, fname)) == access:
            continue
        otype = schema.objects.get(obj)
        if otype is None or fname not in otype.fields:
            out.append(Violation(schema.rule("field_definition"), f"Unknown field {obj}.{fname}.", "Use the object's fields."))
            continue
        fdef = otype.fields[fname]
        if fdef.default and access < FieldAccess.READ:
            out.append(
                Violation(
                    schema.rule("field_default_read"),
                    f"{obj}.{fname} is a default field: its read permission cannot be removed.",
                    "Keep read; only write can change.",
                )
            )
        if access == FieldAccess.WRITE and fdef.synced_from is not None:
            cap = schema.integrations[fdef.synced_from].cap(obj, fname)
            if cap < FieldAccess.WRITE:
                out.append(
                    Violation(
                        schema.rule("field_integration_cap"),
                        f"{obj}.{fname} is synced from {fdef.synced_from} and its integration user can only {cap.label} it.",
                        "Grant read only, or give the integration user write in the CRM.",
                    )
                )
                continue
        level = schema.levels[role.level]
        if access > level.field_ceiling:
            out.append(
                Violation(
                    level.rule or schema.rule("field_level_ceiling"),
                    f"Level {quoted(level.label)} cannot write fields ({obj}.{fname}).",
                    "Grant read only, or use a higher level.",
                )
            )
    return out


def assignee_permission_violations(
    schema: ProductSchema,
    before: frozenset[str],
    after: frozenset[str],
    holders_with_assigned: Mapping[str, int],
) -> list[Violation]:
    """N6: a role whose holders have records assigned cannot lose what lets them be assignees.

    `before`/`after` are the role's effective permissions; `holders_with_assigned` counts,
    per object type, holders that have records of that type assigned to them.
    """
    out: list[Violation] = []
    for otype in schema.objects.values():
        if otype.assignee_action is None or not holders_with_assigned.get(otype.key):
            continue
        had = _grants_action(schema, before, otype.assignee_action)
        has = _grants_action(schema, after, otype.assignee_action)
        if had and not has:
            perms = [
                schema.permissions[p].label
                for p in sorted(before - after)
                if otype.assignee_action in {g.action for g in schema.permissions[p].grants}
            ]
            out.append(
                Violation(
                    schema.rule("role_seat_in_use"),
                    f"{', '.join(perms) or 'This change'} cannot be turned off: {_members_have(holders_with_assigned[otype.key])} {otype.label.lower()} records assigned.",
                    f"Unassign those {otype.label.lower()} records or switch them to other members first.",
                )
            )
    return out


def loses_assignee_action(schema: ProductSchema, before: frozenset[str], after: frozenset[str]) -> bool:
    """Whether going from effective permissions `before` to `after` takes away an action
    that lets holders be assignees: only then can N6 refuse the change, so only then do
    the holders' assigned records need counting (`assignee_permission_violations`)."""
    return any(
        o.assignee_action is not None and _grants_action(schema, before, o.assignee_action) and not _grants_action(schema, after, o.assignee_action)
        for o in schema.objects.values()
    )


def role_name_taken(roles: Iterable[Role], name: str, *, except_id: str | None = None) -> bool:
    """N8: whether another of the workspace's roles (`roles`: all of them) has the name,
    compared as the store keys it (trimmed, case-folded)."""
    key = name.strip().casefold()
    return any(r.id != except_id and r.name.strip().casefold() == key for r in roles)


def _grants_action(schema: ProductSchema, perms: frozenset[str], action: str) -> bool:
    return any(action == g.action for p in perms for g in schema.permissions[p].grants)


def disabled_holder_violations(
    schema: ProductSchema, role: Role, *, held_by_disabled: bool, replaced: bool = False
) -> list[Violation]:
    """Disabled members still hold their role (C2: exactly one), so they keep it from
    deletion too (T9), unless they move to a replacement with the others (N7)."""
    if not held_by_disabled or (replaced and schema.role_delete_with_members == "replace"):
        return []
    return [
        Violation(
            schema.rule("role_in_use"),
            f"Role {quoted(role.name)} is held by disabled members.",
            "Give them another role first.",
        )
    ]


def role_deletion_violations(
    schema: ProductSchema, role: Role, holders: HolderCounts, *, replacement: Role | None = None
) -> list[Violation]:
    """Whether `role` can be deleted, its holders moving to `replacement` if one is named.
    A product whose article allows it (`role_delete_with_members: replace`, N7) deletes a
    role still held once no holder has accounts assigned; one that forbids it (T9)
    refuses while anybody holds it, replacement or not."""
    out: list[Violation] = []
    if role.is_system and not role.deletable:
        out.append(
            Violation(
                schema.rule("system_role_delete"),
                f"System role {quoted(role.name)} cannot be deleted.",
                "Only custom roles can be deleted.",
            )
        )
        return out
    if holders.with_assigned_records:
        out.append(
            Violation(
                schema.rule("role_delete_assigned"),
                f"Role {quoted(role.name)} is held by {count_of(holders.with_assigned_records, 'member')} with assigned {schema.assigned_records()}.",
                f"Unassign their {schema.assigned_records()} or switch them to other members, then move the members to another role.",
            )
        )
    replaces = schema.role_delete_with_members == "replace"
    if replaces and replacement is not None and replacement.id == role.id:
        out.append(
            Violation(
                schema.rule("role_in_use"),
                f"Role {quoted(role.name)} cannot replace itself.",
                "Choose another role for its members.",
            )
        )
    elif holders.total and not (replaces and replacement is not None):
        fix = (
            "Name the role its members move to (replacement), or give them another role first; deletion is irreversible."
            if replaces
            else "Give those members another role first; deletion is irreversible."
        )
        out.append(
            Violation(
                schema.rule("role_in_use"),
                f"Role {quoted(role.name)} is assigned to {holders.active} active and {count_of(holders.invited, 'invited member')}.",
                fix,
            )
        )
    return out

