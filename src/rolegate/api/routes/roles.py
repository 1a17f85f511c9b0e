"""Roles: list (T3), read, create, edit, clone, delete; and the permission matrix (T6).
Every rule is the service's: a refusal comes back as a problem naming the rule."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path, Query

from rolegate.api.deps import DEFAULT_PAGE_SIZE, AdminAccess, PageCursor, PageLimit
from rolegate.api.limits import ApiRoute
from rolegate.api.schemas.roles import (
    CloneRoleIn,
    DeleteRoleIn,
    MatrixOut,
    MatrixRoleOut,
    MatrixRowOut,
    RevisionOut,
    RoleListOut,
    RoleOut,
    RoleWritten,
)
from rolegate.services import roles as role_services
from rolegate.services.commands import NO_NUL, RoleCreateIn, RoleUpdateIn
from rolegate.services.role_views import RoleView

router = APIRouter(prefix="/v1/workspaces/{workspace_id}", tags=["roles"], route_class=ApiRoute)

RoleId = Annotated[str, Path(min_length=1, max_length=36, pattern=NO_NUL, description="The role id.")]


def role_out(view: RoleView) -> RoleOut:
    return RoleOut.model_validate(asdict(view))


def role_written(written: role_services.RoleWritten) -> RoleWritten:
    return RoleWritten(role=role_out(written.role), revision=written.revision)


@router.get("/roles", response_model=RoleListOut, summary="List roles (T3)")
def list_roles(ctx: AdminAccess, limit: PageLimit = DEFAULT_PAGE_SIZE, cursor: PageCursor = None) -> RoleListOut:
    """Per role: type, level, seat, description, active and invited members, creation
    and update dates (T3), in the order they were created (system roles first). The
    actor needs the view-roles right (T10). `next_cursor` is set exactly when more follow."""
    page = role_services.roles_page(ctx.rolegate.reader(), actor=ctx.actor, workspace_id=ctx.workspace_id, cursor=cursor, limit=limit)
    return RoleListOut(roles=[role_out(r) for r in page.roles], revision=page.revision, next_cursor=page.next_cursor)


@router.post("/roles", status_code=201, response_model=RoleWritten, summary="Create a custom role")
def create(body: RoleCreateIn, ctx: AdminAccess) -> RoleWritten:
    written = role_services.create_role_written(
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
    return role_written(written)


@router.get("/roles/{role_id}", response_model=RoleOut, summary="Read a role")
def get(role_id: RoleId, ctx: AdminAccess) -> RoleOut:
    return role_out(
        role_services.role_page(
            ctx.rolegate.reader(), actor=ctx.actor, workspace_id=ctx.workspace_id, role_id=role_id
        ).role
    )


@router.patch("/roles/{role_id}", response_model=RoleWritten, summary="Edit a role")
def update(role_id: RoleId, body: RoleUpdateIn, ctx: AdminAccess) -> RoleWritten:
    """Only the fields given change. Refusals name their rule: N6 (the CSM seat
    permission of a role whose members have accounts), K4 (system roles), T7 (the
    level's locked permissions), K6 (a custom role's level) ..."""
    written = role_services.update_role_written(
        ctx.uow(batched=True),
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
    return role_written(written)


ReplacementQuery = Annotated[
    str | None,
    Query(min_length=1, max_length=36, pattern=NO_NUL, description="The role the holders move to (N7)."),
]


@router.delete("/roles/{role_id}", response_model=RevisionOut, summary="Delete a custom role")
def delete(
    role_id: RoleId, ctx: AdminAccess, replacement: ReplacementQuery = None, body: DeleteRoleIn | None = None
) -> RevisionOut:
    """Irreversible. Refused for system roles (T8, K4) and for roles whose members have
    accounts assigned (N7). A role still held is deleted with a `replacement` (in the
    body or the query) where the product allows it (N7): its holders move to that role
    in the same transaction, seat rules applying; elsewhere it is refused (T9)."""
    chosen = body.replacement if body is not None and body.replacement is not None else replacement
    deleted = role_services.delete_role(
        ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, role_id=role_id, replacement=chosen
    )
    return RevisionOut(revision=deleted.revision)


@router.post(
    "/roles/{role_id}/clone", status_code=201, response_model=RoleWritten, summary="Clone a role into a custom role"
)
def clone(role_id: RoleId, ctx: AdminAccess, body: CloneRoleIn | None = None) -> RoleWritten:
    name = body.name if body is not None else None
    return role_written(
        role_services.clone_role_written(
            ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, role_id=role_id, name=name
        )
    )


@router.get("/matrix", response_model=MatrixOut, summary="Permission matrix: roles x permissions (T6)")
def matrix(ctx: AdminAccess) -> MatrixOut:
    """Cells: `on`, `locked` (the level's floor, T7), `inert` (feature off E5 or a
    requirement missing E6), `off`, `unavailable` (above the level's ceiling)."""
    page = role_services.matrix_page(ctx.rolegate.reader(), actor=ctx.actor, workspace_id=ctx.workspace_id)
    m = page.matrix
    return MatrixOut(
        roles=[MatrixRoleOut(id=r.id, name=r.name) for r in m.roles],
        rows=[
            MatrixRowOut.model_validate(
                {"area": r.area, "permission": r.permission, "label": r.label, "cells": [c.value for c in r.cells]}
            )
            for r in m.rows
        ],
        revision=page.revision,
    )
