"""Field-level security over HTTP (K5-K12): the workspace's objects and fields (host),
a role's field permissions, and the decisions `fields/check-write` and
`fields/visible` (`fields/filter` lives with the other decisions). Every rule is the
domain's; a refusal comes back as a problem naming it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path

from rolegate.api.deps import AdminAccess, DecideAccess
from rolegate.api.limits import ApiRoute
from rolegate.api.routes.decisions import decision_snapshot
from rolegate.api.routes.roles import RoleId, role_written
from rolegate.api.schemas.fields import (
    FieldCheckWriteIn,
    FieldDefOut,
    FieldRefusalOut,
    FieldRegistryOut,
    FieldUseOut,
    FieldVisibleIn,
    FieldVisibleOut,
    FieldWrittenOut,
    IntegrationAccessIn,
    NewFieldIn,
    NewObjectIn,
    ObjectFieldsOut,
    ObjectWrittenOut,
    RoleFieldsIn,
    SyncFieldIn,
    WriteCheckOut,
)
from rolegate.api.schemas.roles import RoleWritten
from rolegate.domain.field_usage import FieldUse, UsageKind
from rolegate.services import fields as field_services
from rolegate.services.commands import NO_NUL

router = APIRouter(prefix="/v1/workspaces/{workspace_id}", tags=["fields"], route_class=ApiRoute)

ObjectKey = Annotated[str, Path(min_length=1, max_length=64, pattern=NO_NUL, description="The object type.")]
FieldName = Annotated[str, Path(min_length=1, max_length=64, pattern=NO_NUL, description="The field.")]


# -- decisions ----------------------------------------------------------------------------


@router.post("/fields/check-write", response_model=WriteCheckOut, summary="May this member write these fields?")
async def check_write(body: FieldCheckWriteIn, access: DecideAccess) -> WriteCheckOut:
    """Names every field the change may not touch, each with its rule: K11 (read only
    or neither), K8 (never configured), K9 (the integration user's cap), K1 (Limited:
    never write). Refuse the whole change when `allowed` is false. A member id not of
    this workspace is a 404 (`not_found`); a disabled or invited member writes nothing (K12)."""
    snap = await decision_snapshot(access, body.min_revision)  # a compile or a read off the event loop
    result = snap.check_write(body.member, body.object, body.changes if body.changes is not None else body.fields or [])
    return WriteCheckOut(
        object=result.object_type,
        allowed=result.allowed,
        writable=list(result.writable),
        refused=[
            FieldRefusalOut(field=r.field, access=r.access.label, rule=r.rule_id, message=r.message)
            for r in result.refused
        ],
        revision=result.revision,
    )


@router.post(
    "/fields/visible", response_model=FieldVisibleOut, summary="The fields a member sees, and what that hides (K12)"
)
async def visible(body: FieldVisibleIn, access: DecideAccess) -> FieldVisibleOut:
    """For filters, segments, layouts, notes and dashboard modules: the readable and
    writable fields, and per `uses` entry whether it is shown, hidden (a filter, a
    segment or a dashboard module on a hidden field) or shown redacted (K12).
    A member id not of this workspace is a 404 (`not_found`)."""
    snap = await decision_snapshot(access, body.min_revision)  # a compile or a read off the event loop
    uses = [FieldUse(UsageKind(u.kind), u.id, tuple(u.fields)) for u in body.uses]
    seen = snap.visible_fields(body.member, body.object, uses)
    return FieldVisibleOut(
        object=seen.object_type,
        readable=sorted(seen.readable),
        writable=sorted(seen.writable),
        read_only=sorted(seen.read_only),
        fields={name: a.label for name, a in seen.access},
        uses=[
            FieldUseOut(
                kind=v.kind.value,
                id=v.id,
                visible=v.visible,
                flagged=v.flagged,
                hidden_fields=list(v.hidden_fields),
                read_only_fields=list(v.read_only_fields),
                editable_fields=list(v.editable_fields),
                reason=v.reason,
                rule=v.rule_id,
            )
            for v in seen.uses
        ],
        revision=seen.revision,
    )


# -- the registry ---------------------------------------------------------------------------


def _field_out(f: field_services.FieldView) -> FieldDefOut:
    return FieldDefOut.model_validate(asdict(f))


def _object_out(o: field_services.ObjectView) -> ObjectFieldsOut:
    return ObjectFieldsOut(key=o.key, label=o.label, added=o.added, fields=[_field_out(f) for f in o.fields])


def _field_written(written: field_services.FieldWritten) -> FieldWrittenOut:
    return FieldWrittenOut(object=written.object, field=_field_out(written.field), revision=written.revision)


@router.get("/fields", response_model=FieldRegistryOut, summary="Objects and fields of the workspace")
def list_fields(ctx: AdminAccess) -> FieldRegistryOut:
    """The preset's objects and fields with the host's additions (`added`, K8),
    conversions (`synced_from`, K10) and integration caps (`integration_access`, K9)."""
    page = field_services.field_registry_page(ctx.rolegate.reader(), actor=ctx.actor, workspace_id=ctx.workspace_id)
    return FieldRegistryOut(objects=[_object_out(o) for o in page.objects], revision=page.revision)


@router.post("/objects", status_code=201, response_model=ObjectWrittenOut, summary="Add an object (K6, K8)")
def add_object(body: NewObjectIn, ctx: AdminAccess) -> ObjectWrittenOut:
    written = field_services.add_object(
        ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, key=body.key, label=body.label
    )
    return ObjectWrittenOut(object=_object_out(written.object), revision=written.revision)


@router.post(
    "/objects/{object_key}/fields", status_code=201, response_model=FieldWrittenOut, summary="Add a field (K8, K9)"
)
def add_field(object_key: ObjectKey, body: NewFieldIn, ctx: AdminAccess) -> FieldWrittenOut:
    """Standard and Limited custom roles do not get it until configured (K8)."""
    written = field_services.add_field(
        ctx.uow(),
        actor=ctx.actor,
        workspace_id=ctx.workspace_id,
        object_type=object_key,
        name=body.name,
        label=body.label,
        synced_from=body.synced_from,
        integration_access=body.integration_access,
    )
    return _field_written(written)


@router.post(
    "/objects/{object_key}/fields/{name}/sync",
    response_model=FieldWrittenOut,
    summary="Convert a local field to synced (K10)",
)
def sync_field(object_key: ObjectKey, name: FieldName, body: SyncFieldIn, ctx: AdminAccess) -> FieldWrittenOut:
    """No role changes: each keeps its permission, capped by the integration user (K9)."""
    return _field_written(
        field_services.convert_to_synced(
            ctx.uow(),
            actor=ctx.actor,
            workspace_id=ctx.workspace_id,
            object_type=object_key,
            name=name,
            integration=body.integration,
        )
    )


@router.put(
    "/objects/{object_key}/fields/{name}/integration-access",
    response_model=FieldWrittenOut,
    summary="The integration user's permission on a synced field (K9)",
)
def integration_access(
    object_key: ObjectKey, name: FieldName, body: IntegrationAccessIn, ctx: AdminAccess
) -> FieldWrittenOut:
    return _field_written(
        field_services.set_integration_access(
            ctx.uow(),
            actor=ctx.actor,
            workspace_id=ctx.workspace_id,
            object_type=object_key,
            name=name,
            access=body.access,
        )
    )


@router.patch(
    "/roles/{role_id}/fields",
    response_model=RoleWritten,
    summary="Change some field permissions of a role (K6, K7, K9, K11)",
)
def role_fields(role_id: RoleId, body: RoleFieldsIn, ctx: AdminAccess) -> RoleWritten:
    """Fields not named keep their permission. Refused: a default field's read (K7),
    write on a field the integration user only reads (K9), write at Limited (K1)."""
    return role_written(
        field_services.set_role_field_access(
            ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, role_id=role_id, changes=body.fields
        )
    )
