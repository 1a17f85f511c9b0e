"""Use cases on roles: create, edit, clone, delete. One transaction each."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rolegate.domain.permissions import role_permissions
from rolegate.domain.roles import Role, RoleKind
from rolegate.domain.rules.role_rules import assignee_permission_violations, role_deletion_violations, role_violations
from rolegate.domain.rules.team_rules import guardians_after, team_lockout_violations
from rolegate.domain.schema import AdminRight, FieldAccess, ProductSchema
from rolegate.domain.seats import seat_of, seat_usage, seat_violations
from rolegate.domain.violations import Violation
from rolegate.domain.workspace import Actor
from rolegate.services.context import (
    WorkspaceState,
    authorize,
    load_state,
    new_id,
    raise_if,
    record_change,
    role_escalation,
)
from rolegate.store.repositories import _field_json
from rolegate.store.uow import UnitOfWork

__all__ = ["clone_role", "create_role", "delete_role", "role_json", "update_role"]

FieldInput = Mapping[str, Mapping[str, str]]


def role_json(role: Role) -> dict[str, Any]:
    """The audit log's view of a role (before/after)."""
    return {
        "id": role.id,
        "name": role.name,
        "kind": role.kind.value,
        "level": role.level,
        "grants": sorted(role.grants),
        "landing_page": role.landing_page,
        "description": role.description,
        "field_access": _field_json(role.field_access),
    }


def _fields(data: FieldInput | None) -> dict[tuple[str, str], FieldAccess] | None:
    if data is None:
        return None
    out: dict[tuple[str, str], FieldAccess] = {}
    for obj, per in data.items():
        for name, access in per.items():
            if access not in ("none", "read", "write"):
                raise_if([Violation("K11", f"{obj}.{name}: {access!r} is not a field permission.", "Use none, read or write (write includes read).")])
            out[(obj, name)] = FieldAccess.parse(access)
    return out


def _require_level(schema: ProductSchema, level: str) -> None:
    # Checked before anything computes permissions from the level (they need it to exist).
    if level not in schema.levels:
        raise_if([Violation("N8", f"Unknown level {level!r}.", f"Choose one of {', '.join(schema.levels)}.")])


def _name_violations(uow: UnitOfWork, state: WorkspaceState, name: str, except_id: str | None = None) -> list[Violation]:
    if name.strip() and uow.roles.name_taken(state.workspace.id, name, except_id=except_id):
        return [Violation("N8", f"A role named {name.strip()!r} already exists.", "Choose another name.")]
    return []


def _seat_move_violations(uow: UnitOfWork, state: WorkspaceState, before: Role, after: Role) -> list[Violation]:
    """When a role moves to another seat type (N2: the CSM seat permission turned on),
    its holders (active and invited) move with it and must fit the new seat's capacity."""
    schema = state.schema
    old, new = seat_of(schema, before), seat_of(schema, after)
    if new is None or old == new:
        return []
    holders = uow.roles.holder_counts(state.workspace.id, before.id, ())
    if not holders.total:
        return []
    used = _seats_used(state, new)
    return seat_violations(schema, new, used=used, capacity=state.workspace.seat_capacities.get(new), extra=holders.total)


def _seats_used(state: WorkspaceState, seat: str) -> int:
    return seat_usage(state.schema, state.roles, state.members).get(seat, 0)


def create_role(
    uow: UnitOfWork,
    *,
    actor: Actor,
    workspace_id: str,
    name: str,
    level: str | None = None,
    grants: Iterable[str] = (),
    landing_page: str | None = None,
    description: str = "",
    field_access: FieldInput | None = None,
) -> Role:
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_ROLES)
        schema = state.schema
        grant_set = frozenset(grants)
        try:
            resolved_level = schema.level_for(level, grant_set)
        except ValueError:
            raise_if([Violation("N8", "A level must be chosen for this role.", f"Choose one of {', '.join(schema.levels)}.")])
            raise
        _require_level(schema, resolved_level)
        role = Role(
            id=new_id(),
            name=name.strip(),
            kind=RoleKind.CUSTOM,
            level=resolved_level,
            grants=grant_set | (schema.levels[resolved_level].floor if resolved_level in schema.levels else frozenset()),
            landing_page=landing_page,
            description=description,
            field_access=_fields(field_access) or {},
        )
        raise_if(
            role_violations(schema, role, state.workspace.features)
            + _name_violations(uow, state, role.name)
            + role_escalation(state, actor, role, f"Role {role.name!r}")
        )
        uow.roles.add(workspace_id, role)
        record_change(uow, workspace_id, actor, "role.create", "role", role.id, None, role_json(role))
        uow.commit()
        return role


def update_role(
    uow: UnitOfWork,
    *,
    actor: Actor,
    workspace_id: str,
    role_id: str,
    name: str | None = None,
    level: str | None = None,
    grants: Iterable[str] | None = None,
    landing_page: str | None = None,
    description: str | None = None,
    field_access: FieldInput | None = None,
    field_changes: FieldInput | None = None,
) -> Role:
    """`field_access` replaces the role's field permissions; `field_changes` changes
    only the fields it names (in the same transaction, so no edit is lost)."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_ROLES)
        schema = state.schema
        before = state.role(role_id)
        new_fields = _fields(field_access)
        if field_changes is not None:
            new_fields = {**(new_fields if new_fields is not None else before.field_access), **(_fields(field_changes) or {})}
        new_grants = frozenset(grants) if grants is not None else before.grants
        new_level = level if level is not None else before.level
        if schema.level_mode.value == "marker":
            new_level = schema.level_for(None, new_grants)
        _require_level(schema, new_level)
        after = before.with_changes(
            name=name.strip() if name is not None else None,
            description=description,
            level=new_level,
            grants=new_grants,
            landing_page=landing_page,
            field_access=new_fields,
        )
        if after == before:
            return before
        feats = state.workspace.features
        violations = role_violations(schema, after, feats, previous=before)
        violations += _name_violations(uow, state, after.name, except_id=before.id)
        violations += assignee_permission_violations(
            schema,
            role_permissions(schema, before, feats),
            role_permissions(schema, after, feats),
            uow.roles.assigned_holders_by_type(workspace_id, role_id),
        )
        violations += _seat_move_violations(uow, state, before, after)
        violations += role_escalation(state, actor, after, f"The change to role {before.name!r}", before=before)
        violations += team_lockout_violations(
            schema,
            guardians_after(schema, state.members, state.roles, feats),
            guardians_after(schema, state.members, {**state.roles, role_id: after}, feats),
            what=f"This change to role {before.name!r}",
        )
        raise_if(violations)
        uow.roles.update(workspace_id, after)
        record_change(uow, workspace_id, actor, "role.update", "role", role_id, role_json(before), role_json(after))
        uow.commit()
        return after


def clone_role(uow: UnitOfWork, *, actor: Actor, workspace_id: str, role_id: str, name: str | None = None) -> Role:
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_ROLES)
        source = state.role(role_id)
        clone = Role(
            id=new_id(),
            name=(name or f"{source.name} (copy)").strip(),
            kind=RoleKind.CUSTOM,
            level=source.level,
            grants=source.grants - {k for k in source.grants if state.schema.permissions[k].system_only},
            landing_page=source.landing_page,
            description=source.description,
            field_access=source.field_access,
        )
        raise_if(
            role_violations(state.schema, clone, state.workspace.features)
            + _name_violations(uow, state, clone.name)
            + role_escalation(state, actor, clone, f"Role {clone.name!r}")
        )
        uow.roles.add(workspace_id, clone)
        record_change(uow, workspace_id, actor, "role.clone", "role", clone.id, role_json(source), role_json(clone))
        uow.commit()
        return clone


def delete_role(uow: UnitOfWork, *, actor: Actor, workspace_id: str, role_id: str) -> None:
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_ROLES)
        role = state.role(role_id)
        assignable = [o.key for o in state.schema.objects.values() if o.assignable]
        holders = uow.roles.holder_counts(workspace_id, role_id, assignable)
        raise_if(role_deletion_violations(state.schema, role, holders))
        # Disabled members still hold the role (C2: exactly one); they keep it from deletion too.
        if any(m.role == role_id for m in state.members):
            raise_if([Violation(state.schema.rule("role_in_use"), f"Role {role.name!r} is held by disabled members.", "Give them another role first.")])
        uow.roles.delete(workspace_id, role_id)
        record_change(uow, workspace_id, actor, "role.delete", "role", role_id, role_json(role), None)
        uow.commit()
