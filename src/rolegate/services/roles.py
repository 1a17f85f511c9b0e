"""Use cases on roles: read the list, one role and the matrix (each authorizes the
actor for the view-roles right); create, edit, clone, delete (one transaction each,
returning what they wrote with the workspace revision)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from rolegate.domain.errors import NotFoundError
from rolegate.domain.fields import new_role_field_access, role_field_access
from rolegate.domain.matrix import Matrix, permission_matrix
from rolegate.domain.paging import creation_key, page_of
from rolegate.domain.permissions import role_permissions
from rolegate.domain.roles import Member, Role, RoleKind
from rolegate.domain.rules.field_rules import field_permission_violations
from rolegate.domain.rules.role_rules import (
    RoleLocks,
    assignee_permission_violations,
    disabled_holder_violations,
    level_choice_violations,
    loses_assignee_action,
    role_deletion_violations,
    role_locks,
    role_name_taken,
    role_name_violations,
    role_violations,
)
from rolegate.domain.rules.team_rules import guardians_after, team_lockout_violations
from rolegate.domain.schema import AdminRight, FieldAccess, LevelMode, ProductSchema
from rolegate.domain.seats import seat_of, seat_usage, seat_violations
from rolegate.domain.violations import Violation, refuse
from rolegate.domain.words import quoted
from rolegate.domain.workspace import Actor
from rolegate.services.context import (
    WorkspaceState,
    actor_field_access,
    authorize,
    load_state,
    new_id,
    raise_if,
    record_change,
    role_escalation,
)
from rolegate.services.role_views import RoleView, WorkspaceView, role_view, workspace_view
from rolegate.store.repositories import RoleInfo, _field_json, role_updating, utcnow
from rolegate.store.uow import UnitOfWork

__all__ = [
    "FieldInput",
    "MatrixPage",
    "RoleDeleted",
    "RoleEditor",
    "RolePage",
    "RoleWritten",
    "RolesPage",
    "built_role",
    "changed_role",
    "clone_role",
    "clone_role_written",
    "create_role",
    "create_role_written",
    "delete_role",
    "matrix_page",
    "role_editor",
    "role_json",
    "role_page",
    "roles_page",
    "stored_role_view",
    "update_role",
    "update_role_written",
]

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


def _fields(schema: ProductSchema, data: FieldInput | None) -> dict[tuple[str, str], FieldAccess] | None:
    if data is None:
        return None
    out: dict[tuple[str, str], FieldAccess] = {}
    for obj, per in data.items():
        for name, access in per.items():
            raise_if(field_permission_violations(schema, access, where=f"{obj}.{name}: "))
            out[(obj, name)] = FieldAccess.parse(access)
    return out


def _name_violations(
    uow: UnitOfWork, state: WorkspaceState, name: str, except_id: str | None = None
) -> list[Violation]:
    # The state holds every role of the workspace at the locked revision: no read needed.
    taken = bool(name.strip()) and role_name_taken(state.roles.values(), name, except_id=except_id)
    return role_name_violations(state.schema, name, taken=taken)


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
    return seat_violations(
        schema, new, used=used, capacity=state.workspace.seat_capacities.get(new), extra=holders.total
    )


def _seats_used(state: WorkspaceState, seat: str) -> int:
    return seat_usage(state.schema, state.roles, state.members).get(seat, 0)


# -- reads ----------------------------------------------------------------------------------


def _viewed(
    uow: UnitOfWork, workspace_id: str, actor: Actor, right: AdminRight = AdminRight.VIEW_ROLES
) -> WorkspaceState:
    """The workspace, read without locking it, with the actor authorized for `right`."""
    state = load_state(uow, workspace_id, lock=False)
    authorize(state, actor, right)
    return state


def stored_role_view(uow: UnitOfWork, state: WorkspaceState, role_id: str) -> RoleView:
    """The role as the list shows it (dates from the store), read in the caller's transaction."""
    return role_view(_stored_role(uow, state.workspace.id, role_id), state.schema, state.workspace.features, state.members)


def _stored_role(uow: UnitOfWork, workspace_id: str, role_id: str) -> RoleInfo:
    info = uow.roles.info(workspace_id, role_id)
    if info is None:
        raise NotFoundError(f"no role {role_id!r} in this workspace", decision=None, fix="List the roles to find its id.")
    return info


@dataclass(frozen=True, slots=True)
class RolesPage:
    """T3: every role of the workspace, with its seat usage (N1, K2)."""

    roles: tuple[RoleView, ...]
    workspace: WorkspaceView
    custom_roles_allowed: bool
    revision: int
    next_cursor: str | None = None


def roles_page(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, cursor: str | None = None, limit: int | None = None
) -> RolesPage:
    """The roles in the order they were created (the system roles first); a page of
    `limit` of them after `cursor` for the API, all of them without a limit."""
    with uow:
        state = _viewed(uow, workspace_id, actor)
        infos = uow.roles.all(workspace_id)
    page = page_of(infos, key=lambda i: creation_key(i.created_at, i.role.id), cursor=cursor, limit=limit or len(infos) or 1)
    roles = tuple(role_view(info, state.schema, state.workspace.features, state.members) for info in page.items)
    ws = workspace_view(state.workspace, state.schema, state.roles, state.members)
    return RolesPage(roles, ws, state.schema.custom_roles_allowed, state.workspace.revision, page.next_cursor)


@dataclass(frozen=True, slots=True)
class RolePage:
    role: RoleView
    revision: int


def role_page(uow: UnitOfWork, *, actor: Actor, workspace_id: str, role_id: str) -> RolePage:
    with uow:
        state = _viewed(uow, workspace_id, actor)
        return RolePage(stored_role_view(uow, state, role_id), state.workspace.revision)


@dataclass(frozen=True, slots=True)
class RoleEditor:
    """What the role editor shows: the role (None: a new one), the schema and features
    its boxes are drawn from, and what the rules lock before anything is tried."""

    role: Role | None
    schema: ProductSchema
    features: frozenset[str]
    locks: RoleLocks
    rules: Mapping[str, str]
    """The rule ids the editor cites: level_marker (N2), landing_page (N4)."""
    revision: int


def role_editor(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, role_id: str | None, right: AdminRight = AdminRight.VIEW_ROLES
) -> RoleEditor:
    """The editor of a saved role (`role_id`) or of a new one, for an actor holding
    `right` (the view-roles right; the new-role form asks for the manage-roles right)."""
    with uow:
        state = _viewed(uow, workspace_id, actor, right)
    role = state.role(role_id) if role_id is not None else None
    schema = state.schema
    rules = {name: schema.rule(name) for name in ("level_marker", "landing_page")}
    return RoleEditor(role, schema, state.workspace.features, role_locks(schema, role), rules, state.workspace.revision)


@dataclass(frozen=True, slots=True)
class MatrixPage:
    """T6: every role x every permission."""

    matrix: Matrix
    schema: ProductSchema
    preset: str
    revision: int


def matrix_page(uow: UnitOfWork, *, actor: Actor, workspace_id: str) -> MatrixPage:
    with uow:
        state = _viewed(uow, workspace_id, actor)
        roles = [info.role for info in uow.roles.all(workspace_id)]
    m = permission_matrix(state.schema, roles, state.workspace.features)
    return MatrixPage(m, state.schema, state.workspace.preset, state.workspace.revision)


# -- what a change builds (the preview shows the same role) ---------------------------------


def built_role(
    schema: ProductSchema,
    *,
    name: str,
    level: str | None,
    grants: Iterable[str],
    landing_page: str | None = None,
    description: str = "",
    field_access: FieldInput | None = None,
    role_id: str | None = None,
) -> Role:
    """The custom role `create_role` saves: its level resolved (N2), its floor added (T7)."""
    grant_set = frozenset(grants)
    try:
        resolved = schema.level_for(level, grant_set)
    except ValueError:
        refuse(*level_choice_violations(schema, None))
    raise_if(level_choice_violations(schema, resolved))
    return Role(
        id=role_id or new_id(),
        name=name.strip(),
        kind=RoleKind.CUSTOM,
        level=resolved,
        grants=grant_set | schema.levels[resolved].floor,
        landing_page=landing_page,
        description=description,
        field_access=_fields(schema, field_access) or {},
    )


def changed_role(
    schema: ProductSchema,
    before: Role,
    *,
    name: str | None = None,
    level: str | None = None,
    grants: Iterable[str] | None = None,
    landing_page: str | None = None,
    description: str | None = None,
    field_access: FieldInput | None = None,
    field_changes: FieldInput | None = None,
) -> Role:
    """`before` as `update_role` saves it: only what is given changes; in marker mode the
    level follows the grants (N2)."""
    new_fields = _fields(schema, field_access)
    if field_changes is not None:
        new_fields = {
            **(new_fields if new_fields is not None else before.field_access),
            **(_fields(schema, field_changes) or {}),
        }
    new_grants = frozenset(grants) if grants is not None else before.grants
    new_level = level if level is not None else before.level
    if schema.level_mode is LevelMode.MARKER:
        new_level = schema.level_for(None, new_grants)
    elif grants is not None and new_level in schema.levels:
        new_grants |= schema.levels[new_level].floor  # the level's locked floor is implied (T7), never restated
    raise_if(level_choice_violations(schema, new_level))
    return before.with_changes(
        name=name.strip() if name is not None else None,
        description=description,
        level=new_level,
        grants=new_grants,
        landing_page=landing_page,
        field_access=new_fields,
    )


# -- writes -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoleWritten:
    """A role as a write left it: the domain role, its read model, the revision."""

    written: Role
    role: RoleView
    revision: int


@dataclass(frozen=True, slots=True)
class RoleDeleted:
    role: Role
    revision: int


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
    start_fields: bool = False,
) -> Role:
    """The role created (see `create_role_written` for its read model and revision).
    By default exactly as given (roles as code, copies); `start_fields`: see there."""
    return create_role_written(
        uow,
        actor=actor,
        workspace_id=workspace_id,
        name=name,
        level=level,
        grants=grants,
        landing_page=landing_page,
        description=description,
        field_access=field_access,
        start_fields=start_fields,
    ).written


def _start_fields(state: WorkspaceState, actor: Actor, level: str) -> dict[tuple[str, str], FieldAccess]:
    """K8: a new role's starting field selection, no more than the creator holds on each
    field (K11: nobody hands out field access they do not have)."""
    start = new_role_field_access(state.schema, level)
    held = actor_field_access(state, actor)
    if held is None:
        return start
    return {key: min(access, held.get(key, FieldAccess.NONE)) for key, access in start.items()}


def create_role_written(
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
    start_fields: bool = True,
) -> RoleWritten:
    """A new custom role (the API's and the UI's create). `start_fields` (K8): the
    fields it does not set start as a new role's do, the standard objects selected as
    the level and the integration allow; off, it has exactly `field_access`."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_ROLES)
        role = built_role(
            state.schema,
            name=name,
            level=level,
            grants=grants,
            landing_page=landing_page,
            description=description,
            field_access=field_access,
        )
        # K8: the standard objects' fields start selected as the level and the integration
        # allow; what the creator sets per field in the same step wins (K6).
        if start_fields:
            role = replace(role, field_access={**_start_fields(state, actor, role.level), **role.field_access})
        raise_if(
            role_violations(state.schema, role, state.workspace.features)
            + _name_violations(uow, state, role.name)
            + role_escalation(state, actor, role, f"Role {quoted(role.name)}")
        )
        uow.roles.add(workspace_id, role)
        revision = record_change(uow, workspace_id, actor, "role.create", "role", role.id, None, role_json(role))
        written = RoleWritten(role, stored_role_view(uow, state, role.id), revision)
        uow.commit()
        return written


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
    """The role as saved (see `update_role_written` for its read model and revision)."""
    return update_role_written(
        uow,
        actor=actor,
        workspace_id=workspace_id,
        role_id=role_id,
        name=name,
        level=level,
        grants=grants,
        landing_page=landing_page,
        description=description,
        field_access=field_access,
        field_changes=field_changes,
    ).written


def update_role_written(
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
) -> RoleWritten:
    """`field_access` replaces the role's field permissions; `field_changes` changes
    only the fields it names (in the same transaction, so no edit is lost)."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_ROLES)
        schema = state.schema
        before = state.role(role_id)
        after = changed_role(
            schema,
            before,
            name=name,
            level=level,
            grants=grants,
            landing_page=landing_page,
            description=description,
            field_access=field_access,
            field_changes=field_changes,
        )
        feats = state.workspace.features
        if after == before:
            return RoleWritten(before, stored_role_view(uow, state, role_id), state.workspace.revision)
        violations = role_violations(schema, after, feats, previous=before)
        violations += _name_violations(uow, state, after.name, except_id=before.id)
        had, has = role_permissions(schema, before, feats), role_permissions(schema, after, feats)
        # Only a change that takes an assignee's action away can be refused for the
        # holders' records (N6): count them only then.
        holders = uow.roles.assigned_holders_by_type(workspace_id, role_id) if loses_assignee_action(schema, had, has) else {}
        violations += assignee_permission_violations(schema, had, has, holders)
        violations += _seat_move_violations(uow, state, before, after)
        violations += role_escalation(state, actor, after, f"The change to role {quoted(before.name)}", before=before)
        violations += team_lockout_violations(
            schema,
            guardians_after(schema, state.members, state.roles, feats),
            guardians_after(schema, state.members, {**state.roles, role_id: after}, feats),
            what=f"This change to role {before.name!r}",
        )
        raise_if(violations)
        # The answer is `after` (the update is sent with the commit, unread) with the
        # role's creation date, which the inputs know but for a role made since.
        created_at = state.role_created.get(role_id) or _stored_role(uow, workspace_id, role_id).created_at
        now = utcnow()
        uow.write_with_commit(*role_updating(workspace_id, after, now))
        revision = record_change(
            uow, workspace_id, actor, "role.update", "role", role_id, role_json(before), role_json(after), state=state.changed(role=after), with_commit=True
        )
        written = RoleWritten(after, role_view(RoleInfo(after, created_at, now), schema, feats, state.members), revision)
        uow.commit()
        return written


def clone_role(uow: UnitOfWork, *, actor: Actor, workspace_id: str, role_id: str, name: str | None = None) -> Role:
    """The clone (see `clone_role_written` for its read model and revision)."""
    return clone_role_written(uow, actor=actor, workspace_id=workspace_id, role_id=role_id, name=name).written


def clone_role_written(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, role_id: str, name: str | None = None
) -> RoleWritten:
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
            # The source's effective field access, made explicit: a system role's mirrored
            # access (K5) becomes the clone's own, which an administrator then edits (K6).
            field_access=role_field_access(state.schema, source),
        )
        raise_if(
            role_violations(state.schema, clone, state.workspace.features)
            + _name_violations(uow, state, clone.name)
            + role_escalation(state, actor, clone, f"Role {quoted(clone.name)}")
        )
        uow.roles.add(workspace_id, clone)
        revision = record_change(
            uow, workspace_id, actor, "role.clone", "role", clone.id, role_json(source), role_json(clone)
        )
        written = RoleWritten(clone, stored_role_view(uow, state, clone.id), revision)
        uow.commit()
        return written


def delete_role(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, role_id: str, replacement: str | None = None
) -> RoleDeleted:
    """Delete a custom role. Where the product allows it (N7) a role still held is deleted
    by naming `replacement`, the role its holders move to in the same transaction (seat
    rules apply, each move audited); elsewhere (T9) it must be held by nobody."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_ROLES)
        schema = state.schema
        role = state.role(role_id)
        target = state.role(replacement) if replacement is not None else None
        assignable = [o.key for o in schema.objects.values() if o.assignable]
        holders = uow.roles.holder_counts(workspace_id, role_id, assignable)
        raise_if(role_deletion_violations(schema, role, holders, replacement=target))
        raise_if(
            disabled_holder_violations(
                schema, role, held_by_disabled=any(m.role == role_id for m in state.members), replaced=target is not None
            )
        )
        moving = [m for m in state.members if m.role == role_id]
        if target is not None and moving:
            _move_holders(uow, state, actor, role, target, moving)
        uow.roles.delete(workspace_id, role_id)
        revision = record_change(uow, workspace_id, actor, "role.delete", "role", role_id, role_json(role), None)
        uow.commit()
        return RoleDeleted(role, revision)


def _move_holders(
    uow: UnitOfWork, state: WorkspaceState, actor: Actor, role: Role, target: Role, moving: list[Member]
) -> None:
    """N7: the holders of `role` move to `target` before it goes: assigning a role is the
    actor's right to check, the target's seats must hold them (N1), the target must not
    hand out more than the actor holds, and the team keeps its guardian."""
    authorize(state, actor, AdminRight.ASSIGN_ROLES)
    schema, feats, workspace_id = state.schema, state.workspace.features, state.workspace.id
    after = [Member(m.id, target.id, m.status) if m.role == role.id else m for m in state.members]
    raise_if(
        _seat_move_violations(uow, state, role, target)
        + role_escalation(state, actor, target, f"Role {quoted(target.name)}")
        + team_lockout_violations(
            schema,
            guardians_after(schema, state.members, state.roles, feats),
            guardians_after(schema, after, state.roles, feats),
            what=f"Moving the members of role {role.name!r} to {target.name!r}",
        )
    )
    for m in moving:
        moved = Member(m.id, target.id, m.status)
        uow.members.update(workspace_id, moved)
        record_change(
            uow, workspace_id, actor, "member.change_role", "member", m.id, _member_json(m), _member_json(moved)
        )


def _member_json(member: Member) -> dict[str, Any]:
    return {"id": member.id, "role": member.role, "status": member.status.value}
