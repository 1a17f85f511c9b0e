"""The record index: the host product tells Rolegate about the records record-level
rules need (type, id, parent, assignee)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from rolegate.api.deps import AdminAccess, DecideAccess
from rolegate.api.limits import ApiRoute
from rolegate.api.schemas.records import (
    BulkDeleteIn,
    BulkDeleteOut,
    BulkUpsertIn,
    BulkUpsertOut,
    RecordIn,
    RecordOut,
    RecordWritten,
    VisibleIn,
    VisibleOut,
)
from rolegate.api.schemas.roles import RevisionOut
from rolegate.engine import Record, RecordRef
from rolegate.services.assignments import assign_record, visible_records
from rolegate.services.commands import NO_NUL, AssigneeIn
from rolegate.services.record_bulk import delete_records, upsert_records
from rolegate.services.records import delete_record, read_record, upsert_record

router = APIRouter(prefix="/v1/workspaces/{workspace_id}/records", tags=["records"], route_class=ApiRoute)

def record_out(record: Record) -> RecordOut:
    parent = {"type": record.parent.type, "id": record.parent.id} if record.parent else None
    return RecordOut(type=record.type, id=record.id, parent=parent, assignee=record.assignee)


RecordType = Annotated[str, Path(min_length=1, max_length=64, pattern=NO_NUL, description="The object type, e.g. `account`.")]
RecordId = Annotated[str, Path(min_length=1, max_length=200, pattern=NO_NUL, description="The record's id in your product.")]


@router.get("/{record_type}/{record_id}", response_model=RecordWritten, summary="Read a record")
def get(record_type: RecordType, record_id: RecordId, ctx: AdminAccess) -> RecordWritten:
    """The record as the index holds it (parent, assignee) and the revision read; 404
    when the index does not hold it."""
    found = read_record(ctx.rolegate.reader(), actor=ctx.actor, workspace_id=ctx.workspace_id, ref=RecordRef(record_type, record_id))
    return RecordWritten(record=record_out(found.record), revision=found.revision)


@router.put("/{record_type}/{record_id}", response_model=RecordWritten, summary="Create or update a record")
def put(record_type: RecordType, record_id: RecordId, body: RecordIn, ctx: AdminAccess) -> RecordWritten:
    """A child object needs its parent (C7), upserted first. Changing the assignee needs
    the assign-records right (N12) and a member who may be assigned (N9)."""
    parent = RecordRef(body.parent.type, body.parent.id) if body.parent is not None else None
    done = upsert_record(ctx.uow(batched=True), actor=ctx.actor, workspace_id=ctx.workspace_id, record=Record(record_type, record_id, parent, body.assignee))
    return RecordWritten(record=record_out(done.record), revision=done.revision)


@router.delete("/{record_type}/{record_id}", response_model=RevisionOut, summary="Delete a record")
def delete(record_type: RecordType, record_id: RecordId, ctx: AdminAccess) -> RevisionOut:
    """Its children are deleted or orphaned as the product schema says. Deleting a
    record that is not there changes nothing."""
    done = delete_record(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, ref=RecordRef(record_type, record_id))
    return RevisionOut(revision=done.revision)


# -- in bulk, assignments, pages of visible records ---------------------------------------


@router.post("/bulk", response_model=BulkUpsertOut, summary="Create or update up to 10,000 records")
def put_many(body: BulkUpsertIn, ctx: AdminAccess) -> BulkUpsertOut:
    """All or nothing, one revision. A child's parent may come in the same call (C7).
    Assignee changes need the assign-records right (N12) and eligible members (N9);
    each is an audit event. Repeating a record in the call: the last one wins."""
    records = [
        Record(r.type, r.id, RecordRef(r.parent.type, r.parent.id) if r.parent is not None else None, r.assignee) for r in body.records
    ]
    done = upsert_records(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, records=records)
    return BulkUpsertOut(created=done.created, updated=done.updated, unchanged=done.unchanged, assignments=done.assignments, revision=done.revision)


@router.post("/delete", response_model=BulkDeleteOut, summary="Delete up to 10,000 records")
def delete_many(body: BulkDeleteIn, ctx: AdminAccess) -> BulkDeleteOut:
    """Children are deleted or orphaned as the product schema says, at any depth.
    Records not in the index are skipped."""
    done = delete_records(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, refs=[RecordRef(r.type, r.id) for r in body.records])
    return BulkDeleteOut(deleted=done.deleted, orphaned=done.orphaned, revision=done.revision)


@router.put("/{record_type}/{record_id}/assignee", response_model=RecordWritten, summary="Assign or unassign a record")
def put_assignee(record_type: RecordType, record_id: RecordId, body: AssigneeIn, ctx: AdminAccess) -> RecordWritten:
    """Needs the assign-records right (N12, C1); the member must be allowed to be
    assigned (N9). Audited as `record.assign`."""
    done = assign_record(ctx.uow(batched=True), actor=ctx.actor, workspace_id=ctx.workspace_id, ref=RecordRef(record_type, record_id), assignee=body.assignee)
    return RecordWritten(record=record_out(done.record), revision=done.revision)


@router.post("/visible", response_model=VisibleOut, summary="A page of the ids a member may act on")
def visible(body: VisibleIn, access: DecideAccess) -> VisibleOut:
    """`lookup`'s filter run on the record index: ids in id order, `limit` at most,
    `next_cursor` exactly when more follow (never a silently cut list). For lists in
    your own database, use `POST .../lookup` instead."""
    snap = access.rolegate.snapshots.get(access.workspace_id, min_revision=body.min_revision)
    page = visible_records(
        access.rolegate.reader(), snap, workspace_id=access.workspace_id, member=body.member, action=body.action, object_type=body.object, cursor=body.cursor, limit=body.limit
    )
    return VisibleOut(ids=list(page.ids), next_cursor=page.next_cursor, revision=snap.revision)
