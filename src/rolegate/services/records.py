"""Use cases on records: the host product tells Rolegate about the records that
record-level rules need (type, id, parent, assignee)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rolegate.domain.errors import InvalidRecordError, NotFoundError
from rolegate.domain.schema import AdminRight
from rolegate.domain.violations import Violation
from rolegate.domain.workspace import Actor
from rolegate.engine.records import Record, RecordRef
from rolegate.services.context import WorkspaceState, authorize, load_state, member_name, raise_if, record_change
from rolegate.services.record_bulk import eligibility
from rolegate.store.uow import UnitOfWork

__all__ = ["RecordDeleted", "RecordSaved", "delete_record", "read_record", "record_json", "upsert_record"]


@dataclass(frozen=True, slots=True)
class RecordSaved:
    record: Record
    revision: int
    """The workspace's revision after the call (the current one when nothing changed)."""


@dataclass(frozen=True, slots=True)
class RecordDeleted:
    removed: int
    """The record and the children deleted with it; 0 when it was not in the index."""
    revision: int


def record_json(record: Record | None) -> dict[str, Any] | None:
    if record is None:
        return None
    parent = [record.parent.type, record.parent.id] if record.parent else None
    return {"type": record.type, "id": record.id, "parent": parent, "assignee": record.assignee}


def _validate(state: WorkspaceState, uow: UnitOfWork, record: Record) -> list[Violation]:
    schema = state.schema
    otype = schema.objects.get(record.type)
    if otype is None:
        raise InvalidRecordError(f"unknown object type {record.type!r}", fix=f"Use one of {', '.join(schema.objects)}.")
    if otype.parent is not None and (record.parent is None or record.parent.type != otype.parent):
        raise InvalidRecordError(f"a {record.type} record needs a parent of type {otype.parent!r} ({schema.rule('record_parent')})", fix="Pass `parent`.")
    if otype.parent is None and record.parent is not None:
        raise InvalidRecordError(f"{record.type} records have no parent", fix="Drop `parent`.")
    if record.parent is not None and uow.records.get(state.workspace.id, record.parent) is None:
        raise InvalidRecordError(f"parent {record.parent.type} {record.parent.id!r} is not in the record index", fix="Upsert the parent first.")
    if record.assignee is None:
        return []
    if not otype.assignable:
        raise InvalidRecordError(f"{record.type} records are not assigned to members", fix="Assign the parent record.")
    return eligibility(state, record.type, record.assignee, lambda member_id: member_name(uow, state.workspace.id, member_id))


def upsert_record(uow: UnitOfWork, *, actor: Actor, workspace_id: str, record: Record) -> RecordSaved:
    """Create or update a record; changing its assignee needs the assign-records right
    (N12) and an eligible member (N9)."""
    with uow:
        state = load_state(uow, workspace_id)
        before = uow.records.get(workspace_id, record.ref)
        if (before.assignee if before else None) != record.assignee:
            authorize(state, actor, AdminRight.ASSIGN_RECORDS)
        raise_if(_validate(state, uow, record))
        if before == record:
            return RecordSaved(record, state.workspace.revision)
        uow.records.upsert(workspace_id, record)
        revision = record_change(uow, workspace_id, actor, "record.upsert", record.type, record.id, record_json(before), record_json(record))
        uow.commit()
        return RecordSaved(record, revision)


def read_record(uow: UnitOfWork, *, actor: Actor, workspace_id: str, ref: RecordRef) -> RecordSaved:
    """One record of the index as the host last told it, and the revision read; 404
    when the index does not hold it. The host reads what it wrote (no admin right, as
    for writing it), but an acting member learns only of a record they may view: one
    they may not is not found, exactly like one that does not exist."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        if ref.type not in state.schema.objects:
            raise InvalidRecordError(f"unknown object type {ref.type!r}", fix=f"Use one of {', '.join(sorted(state.schema.objects))}.")
        found = uow.records.get(workspace_id, ref)
        if found is None:
            raise NotFoundError(f"no {ref.type} {ref.id!r} in the record index", decision=None, fix="Upsert it first (PUT .../records/{type}/{id}).")
        view = state.schema.objects[ref.type].view_action
        if actor.member_id is not None and view is not None and not state.snapshot.check(actor.member_id, view, ref).allowed:
            raise NotFoundError(f"no {ref.type} {ref.id!r} in the record index", decision=None, fix="Upsert it first (PUT .../records/{type}/{id}).")
        return RecordSaved(found, state.workspace.revision)


def delete_record(uow: UnitOfWork, *, actor: Actor, workspace_id: str, ref: RecordRef) -> RecordDeleted:
    """Delete a record; its children are deleted or orphaned as the schema says."""
    with uow:
        state = load_state(uow, workspace_id)
        before = uow.records.get(workspace_id, ref)
        if before is None:
            return RecordDeleted(0, state.workspace.revision)
        if before.assignee is not None:
            authorize(state, actor, AdminRight.ASSIGN_RECORDS)
        removed = _delete_tree(state, uow, before)
        revision = record_change(uow, workspace_id, actor, "record.delete", ref.type, ref.id, record_json(before), {"deleted": removed})
        uow.commit()
    return RecordDeleted(removed, revision)


def _delete_tree(state: WorkspaceState, uow: UnitOfWork, record: Record) -> int:
    removed = 1
    for child in uow.records.children(state.workspace.id, record.ref):
        if state.schema.objects[child.type].on_parent_delete == "cascade":
            removed += _delete_tree(state, uow, child)
        else:
            uow.records.upsert(state.workspace.id, Record(child.type, child.id, None, child.assignee))
    uow.records.delete(state.workspace.id, record.ref)
    return removed
