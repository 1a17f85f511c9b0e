"""Copying a custom role into other workspaces of the same site (E9): a preview of
what it would do in each, then the copy through the role services (same rules, same
audit in every target)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rolegate.domain.errors import NotFoundError, PermissionDeniedError
from rolegate.domain.role_copy import (
    CopyPreview,
    copy_choice_violations,
    copy_name_violations,
    copy_preview,
    copy_source_violations,
)
from rolegate.domain.roles import Role
from rolegate.domain.rules.site_rules import copy_target_violations
from rolegate.domain.schema import AdminRight, ProductSchema
from rolegate.domain.seats import seat_usage
from rolegate.domain.words import quoted
from rolegate.domain.workspace import Actor
from rolegate.services.context import authorize, load_state, raise_if, role_escalation
from rolegate.services.roles import create_role, update_role
from rolegate.services.sites import actor_for_user, user_of_actor
from rolegate.store.repositories import _field_json
from rolegate.store.uow import UnitOfWork

__all__ = ["CopyResult", "RoleCopyPage", "copy_role", "preview_copy", "role_copy_page"]


@dataclass(frozen=True, slots=True)
class CopyResult:
    previews: list[CopyPreview]
    roles: dict[str, Role]
    """Target workspace id -> the role created or updated there."""


@dataclass(frozen=True, slots=True)
class _Source:
    role: Role
    schema: ProductSchema
    preset: str
    organization: str
    user_id: str | None


def _source(uow: UnitOfWork, actor: Actor, workspace_id: str, role_id: str) -> _Source:
    state = load_state(uow, workspace_id, lock=False)
    authorize(state, actor, AdminRight.VIEW_ROLES)
    role = state.role(role_id)
    raise_if(copy_source_violations(state.schema, role))
    return _Source(
        role,
        state.schema,
        state.workspace.preset,
        state.workspace.organization_id,
        user_of_actor(uow, workspace_id, actor),
    )


@dataclass(frozen=True, slots=True)
class RoleCopyPage:
    """The copy form: the role to copy (any role; copying a system role is refused, E9)."""

    role: Role
    rule: str
    """The rule the page cites: copying a role to other workspaces of the site (E9)."""
    revision: int


def role_copy_page(uow: UnitOfWork, *, actor: Actor, workspace_id: str, role_id: str) -> RoleCopyPage:
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_ROLES)
    return RoleCopyPage(state.role(role_id), state.schema.rule("role_copy"), state.workspace.revision)


def preview_copy(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, role_id: str, targets: Sequence[str]
) -> list[CopyPreview]:
    """What copying would do in each target, refusals included; writes nothing."""
    with uow:
        source = _source(uow, actor, workspace_id, role_id)
        role, preset, org, user_id = source.role, source.preset, source.organization, source.user_id
        raise_if(copy_choice_violations(source.schema, workspace_id, targets))
        out = []
        for target_id in dict.fromkeys(targets):
            target = uow.workspaces.get(target_id)
            if target is None:
                raise NotFoundError(f"no workspace {target_id!r}", decision=None, fix="Choose workspaces of this site.")
            target_actor = actor_for_user(uow, target, user_id, fallback=actor)
            violations = copy_target_violations(
                source.schema,
                source_preset=preset,
                source_organization=org,
                target_name=target.name,
                target_preset=target.preset,
                target_organization=target.organization_id,
                administers_target=target_actor is not None and _may_manage(uow, target_id, target_actor),
            )
            if violations:
                out.append(CopyPreview(target.id, target.name, "refused", role.level, violations=tuple(violations)))
                continue
            state = load_state(uow, target_id, lock=False)
            existing = next(
                (r for r in state.roles.values() if r.name.strip().lower() == role.name.strip().lower()), None
            )
            holders = 0
            violations += copy_name_violations(state.schema, role, target_name=target.name, existing=existing)
            if existing is not None and not existing.is_system:
                holders = sum(1 for m in state.members if m.role == existing.id and m.status.value != "disabled")
            if existing is None or not existing.is_system:
                # What create_role / update_role will refuse, refused here for every
                # target first, so a copy is never written to some targets only.
                assert target_actor is not None  # administers_target above
                written = (
                    role
                    if existing is None
                    else existing.with_changes(
                        level=role.level,
                        grants=role.grants,
                        landing_page=role.landing_page,
                        description=role.description,
                        field_access=role.field_access,
                    )
                )
                violations += role_escalation(state, target_actor, written, f"Role {quoted(role.name)}", before=existing)
            out.append(
                copy_preview(
                    state.schema,
                    role,
                    workspace_id=target.id,
                    workspace_name=target.name,
                    features=target.features,
                    existing=existing,
                    holders=holders,
                    seats_used=seat_usage(state.schema, state.roles, state.members),
                    seat_capacities=dict(target.seat_capacities),
                    violations=violations,
                )
            )
        return out


def _may_manage(uow: UnitOfWork, workspace_id: str, actor: Actor) -> bool:
    try:
        authorize(load_state(uow, workspace_id, lock=False), actor, AdminRight.MANAGE_ROLES)
    except PermissionDeniedError:
        return False
    return True


def copy_role(uow: UnitOfWork, *, actor: Actor, workspace_id: str, role_id: str, targets: Sequence[str]) -> CopyResult:
    """All targets are checked first: if any is refused, nothing is copied. Each target
    is then written by `create_role` / `update_role`, as the user is there (its site
    administrator, or their membership), in its own transaction with its own audit event."""
    previews = preview_copy(uow, actor=actor, workspace_id=workspace_id, role_id=role_id, targets=targets)
    raise_if([v for p in previews for v in p.violations])
    with uow:
        source = _source(uow, actor, workspace_id, role_id)
        role, user_id = source.role, source.user_id
        actors: dict[str, Actor] = {}
        for p in previews:
            target = uow.workspaces.get(p.workspace_id)
            assert target is not None  # previewed above
            found = actor_for_user(uow, target, user_id, fallback=actor)
            assert found is not None  # previewed above: the user administers the target
            actors[p.workspace_id] = found
    written: dict[str, Role] = {}
    fields = _field_json(role.field_access)
    for p in previews:
        target_actor = actors[p.workspace_id]
        if p.action == "create":
            written[p.workspace_id] = create_role(
                uow,
                actor=target_actor,
                workspace_id=p.workspace_id,
                name=role.name,
                level=role.level,
                grants=role.grants,
                landing_page=role.landing_page,
                description=role.description,
                field_access=fields,
            )
        elif p.action == "update":
            with uow:
                existing = next(
                    r.role
                    for r in uow.roles.all(p.workspace_id)
                    if r.role.name.strip().lower() == role.name.strip().lower()
                )
            written[p.workspace_id] = update_role(
                uow,
                actor=target_actor,
                workspace_id=p.workspace_id,
                role_id=existing.id,
                level=role.level,
                grants=role.grants,
                landing_page=role.landing_page,
                description=role.description,
                field_access=fields,
            )
    return CopyResult(previews, written)
