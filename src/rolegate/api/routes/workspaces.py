"""Workspaces: create one (platform), read it (revision, seats), its product schema."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from rolegate.api.deps import AnyAccess, PlatformAccess, PlatformWorkspaceAccess
from rolegate.api.limits import ApiRoute
from rolegate.api.routes.members import member_out
from rolegate.api.schemas.catalog import SchemaOut
from rolegate.api.schemas.workspaces import WorkspaceCreated, WorkspaceCreateIn, WorkspaceOut, WorkspaceSettingsIn
from rolegate.api.views import schema_out
from rolegate.services.workspaces import WorkspaceView, create_workspace, update_settings, workspace_view

router = APIRouter(prefix="/v1/workspaces", tags=["workspaces"], route_class=ApiRoute)


def _out(view: WorkspaceView) -> WorkspaceOut:
    return WorkspaceOut.model_validate(asdict(view))


@router.post("", status_code=201, response_model=WorkspaceCreated, summary="Create a workspace from a product preset")
def create(body: WorkspaceCreateIn, platform: PlatformAccess) -> WorkspaceCreated:
    """Needs an organization-wide admin key. The workspace gets the preset's system
    roles, the features and seat capacities given, and a first active member (the
    owner) holding the role that keeps the team (C4, T11). An owner without a
    password receives, at their own address, a link to choose one (E1)."""
    created = create_workspace(
        platform.rolegate.uow(),
        actor=platform.actor,
        preset=body.preset,
        name=body.name,
        owner_email=body.owner_email,
        owner_name=body.owner_name,
        organization_id=platform.key.organization_id,
        features=body.features,
        seat_capacities=body.seat_capacities,
        policy=platform.rolegate.mail_policy,
    )
    return WorkspaceCreated(
        workspace=_out(created.view), owner=member_out(created.owner), revision=created.view.revision
    )


@router.get(
    "/{workspace_id}", response_model=WorkspaceOut, summary="A workspace: revision, features, seats used and capacity"
)
def get(access: AnyAccess) -> WorkspaceOut:
    return _out(workspace_view(access.rolegate.reader(), workspace_id=access.workspace_id))


@router.get("/{workspace_id}/schema", response_model=SchemaOut, summary="The resolved product schema (catalog)")
def schema(access: AnyAccess) -> SchemaOut:
    """Areas, permissions (label, description, area, requires, feature, View/Manage
    pair), levels (floor, ceiling, seat), seats, features, landing pages, objects and
    their fields, actions, and which action carries each admin right."""
    snap = access.rolegate.snapshots.get(access.workspace_id)
    return schema_out(snap.schema)


@router.put(
    "/{workspace_id}/settings", response_model=WorkspaceOut, summary="Set features (plan, add-ons) and seat capacities"
)
def settings(body: WorkspaceSettingsIn, access: PlatformWorkspaceAccess) -> WorkspaceOut:
    """Needs an organization-wide admin key (billing). A permission whose feature is off
    has no effect (E5); a capacity cannot shrink below the seats in use (N1, K2). All or
    nothing: a refused part leaves the workspace unchanged."""
    view = update_settings(
        access.writes.uow(),
        actor=access.platform.actor,
        workspace_id=access.access.workspace_id,
        features=body.features,
        seat_capacities=body.seat_capacities,
    )
    return _out(view)
