"""Roles: list (T3), read, create, edit, clone, delete; and the permission matrix (T6).
Every rule is the service's: a refusal comes back as a problem naming the rule."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from rolegate.api.deps import AdminAccess, AdminContext
from rolegate.api.limits import ApiRoute
from rolegate.api.schemas import (
    NO_NUL,
    CloneRoleIn,
    MatrixOut,
    MatrixRoleOut,
    MatrixRowOut,
    RevisionOut,
    RoleCreateIn,
    RoleListOut,
    RoleOut,
    RoleUpdateIn,
    RoleWritten,
)
from rolegate.api.views import role_out, roles_out
from rolegate.domain.errors import NotFoundError
from rolegate.domain.matrix import permission_matrix
from rolegate.domain.schema import AdminRight
from rolegate.services.context import authorize, load_state
from rolegate.services.roles import clone_role, create_role, delete_role, update_role

router = APIRouter(prefix="/v1/workspaces/{workspace_id}", tags=["roles"], route_class=ApiRoute)

RoleId = Annotated[str, Path(min_length=1, max_length=36, pattern=NO_NUL, description="The role id.")]


def _role(ctx: AdminContext, role_id: str, *, authorize_as: AdminRight | None = None) -> RoleOut:
    with ctx.rolegate.reader() as uow:
        state = load_state(uow, ctx.workspace_id, lock=False)
        if authorize_as is not None:
            authorize(state, ctx.actor, authorize_as)
        info = next((i for i in uow.roles.all(ctx.workspace_id) if i.role.id == role_id), None)
    if info is None:
        raise NotFoundError(f"no role {role_id!r} in this workspace", decision=None, fix="List the roles to find its id.")
    return role_out(info, state.schema, state.workspace.features, state.members)


@router.get("/roles", response_model=RoleListOut, summary="List roles (T3)")
def list_roles(ctx: AdminAccess) -> RoleListOut:
    """Per role: type, level, seat, description, active and invited members, creation
    and update dates (T3). The actor needs the view-roles right (T10)."""
    with ctx.rolegate.reader() as uow:
        state = load_state(uow, ctx.workspace_id, lock=False)
        authorize(state, ctx.actor, AdminRight.VIEW_ROLES)
        infos = uow.roles.all(ctx.workspace_id)
    roles = roles_out(infos, state.schema, state.workspace.features, state.members)
    return RoleListOut(roles=roles, revision=state.workspace.revision)


@router.post("/roles", status_code=201, response_model=RoleWritten, summary="Create a custom role")
def create(body: RoleCreateIn, ctx: AdminAccess) -> RoleWritten:
    role = create_role(
        ctx.uow(),
        actor=ctx.actor,
        workspace_id=ctx.workspace_id,
        name=body.name,
        level=body.level,
        grants=body.grants,
        landing_page=body.landing_page,
        description=body.description,
        field_access=body.field_access,
    )
    return RoleWritten(role=_role(ctx, role.id), revision=ctx.revision())


@router.get("/roles/{role_id}", response_model=RoleOut, summary="Read a role")
def get(role_id: RoleId, ctx: AdminAccess) -> RoleOut:
    return _role(ctx, role_id, authorize_as=AdminRight.VIEW_ROLES)


@router.patch("/roles/{role_id}", response_model=RoleWritten, summary="Edit a role")
def update(role_id: RoleId, body: RoleUpdateIn, ctx: AdminAccess) -> RoleWritten:
    """Only the fields given change. Refusals name their rule: N6 (the CSM seat
    permission of a role whose members have accounts), K4 (system roles), T7 (the
    level's locked permissions), K6 (a custom role's level) ..."""
    update_role(
        ctx.uow(),
        actor=ctx.actor,
        workspace_id=ctx.workspace_id,
        role_id=role_id,
        name=body.name,
        level=body.level,
        grants=body.grants,
        landing_page=body.landing_page,
        description=body.description,
        field_access=body.field_access,
    )
    return RoleWritten(role=_role(ctx, role_id), revision=ctx.revision())


@router.delete("/roles/{role_id}", response_model=RevisionOut, summary="Delete a custom role")
def delete(role_id: RoleId, ctx: AdminAccess) -> RevisionOut:
    """Irreversible. Refused for system roles (T8, K4), for roles held by members (T9)
    and for roles whose members have accounts assigned (N7)."""
    delete_role(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, role_id=role_id)
    return RevisionOut(revision=ctx.revision())


@router.post("/roles/{role_id}/clone", status_code=201, response_model=RoleWritten, summary="Clone a role into a custom role")
def clone(role_id: RoleId, ctx: AdminAccess, body: CloneRoleIn | None = None) -> RoleWritten:
    name = body.name if body is not None else None
    role = clone_role(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, role_id=role_id, name=name)
    return RoleWritten(role=_role(ctx, role.id), revision=ctx.revision())


@router.get("/matrix", response_model=MatrixOut, summary="Permission matrix: roles x permissions (T6)")
def matrix(ctx: AdminAccess) -> MatrixOut:
    """Cells: `on`, `locked` (the level's floor, T7), `inert` (feature off E5 or a
    requirement missing E6), `off`, `unavailable` (above the level's ceiling)."""
    with ctx.rolegate.reader() as uow:
        state = load_state(uow, ctx.workspace_id, lock=False)
        authorize(state, ctx.actor, AdminRight.VIEW_ROLES)
        roles = [info.role for info in uow.roles.all(ctx.workspace_id)]
    m = permission_matrix(state.schema, roles, state.workspace.features)
    return MatrixOut(
        roles=[MatrixRoleOut(id=r.id, name=r.name) for r in m.roles],
        rows=[MatrixRowOut.model_validate({"area": r.area, "permission": r.permission, "label": r.label, "cells": [c.value for c in r.cells]}) for r in m.rows],
        revision=state.workspace.revision,
    )
