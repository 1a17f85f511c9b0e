"""The record index: the host product tells Rolegate about the records record-level
rules need (type, id, parent, assignee)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from rolegate.api.deps import AdminAccess
from rolegate.api.schemas import NO_NUL, RecordIn, RecordWritten, RevisionOut
from rolegate.api.views import record_out
from rolegate.engine import Record, RecordRef
from rolegate.services.records import delete_record, upsert_record

router = APIRouter(prefix="/v1/workspaces/{workspace_id}/records", tags=["records"])

RecordType = Annotated[str, Path(min_length=1, max_length=64, pattern=NO_NUL, description="The object type, e.g. `account`.")]
RecordId = Annotated[str, Path(min_length=1, max_length=200, pattern=NO_NUL, description="The record's id in your product.")]


@router.put("/{record_type}/{record_id}", response_model=RecordWritten, summary="Create or update a record")
def put(record_type: RecordType, record_id: RecordId, body: RecordIn, ctx: AdminAccess) -> RecordWritten:
    """A child object needs its parent (C7), upserted first. Changing the assignee needs
    the assign-records right (N12) and a member who may be assigned (N9)."""
    parent = RecordRef(body.parent.type, body.parent.id) if body.parent is not None else None
    record = upsert_record(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, record=Record(record_type, record_id, parent, body.assignee))
    return RecordWritten(record=record_out(record), revision=ctx.revision())


@router.delete("/{record_type}/{record_id}", response_model=RevisionOut, summary="Delete a record")
def delete(record_type: RecordType, record_id: RecordId, ctx: AdminAccess) -> RevisionOut:
    """Its children are deleted or orphaned as the product schema says. Deleting a
    record that is not there changes nothing."""
    delete_record(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, ref=RecordRef(record_type, record_id))
    return RevisionOut(revision=ctx.revision())
