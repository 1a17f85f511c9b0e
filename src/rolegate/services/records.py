"""Use cases on records: the host product tells Rolegate about the records that
record-level rules need (type, id, parent, assignee)."""

from __future__ import annotations

from typing import Any

from rolegate.domain.errors import InvalidRecordError
from rolegate.domain.permissions import role_permissions
from rolegate.domain.rules.team_rules import assignee_violations
from rolegate.domain.schema import AdminRight
from rolegate.domain.violations import Violation
from rolegate.domain.workspace import Actor
from rolegate.engine.records import Record, RecordRef
from rolegate.services.context import WorkspaceState, authorize, load_state, raise_if, record_change
from rolegate.store.uow import UnitOfWork

__all__ = ["delete_record", "record_json", "upsert_record"]


def record_json(record: Record | None) -> dict[str, Any] | None:
    if record is None:
        return None
    parent = [record.parent.type, record.parent.id] if record.parent else None
    return {"type": record.type, "id": record.id, "parent": parent, "assignee": record.assignee}


def _validate(state: WorkspaceState, uow: UnitOfWork, record: Record) -> list[Violation]:
    schema = state.schema
    otype = schema.objects.get(record.type)
    if otype is None:
        raise InvalidRecordError(f"unknown object type {record.type!r}", fix=f"use one of {', '.join(schema.objects)}")
    if otype.parent is not None and (record.parent is None or record.parent.type != otype.parent):
        raise InvalidRecordError(f"a {record.type} record needs a parent of type {otype.parent!r} (C7)", fix="pass `parent`")
    if otype.parent is None and record.parent is not None:
        raise InvalidRecordError(f"{record.type} records have no parent", fix="drop `parent`")
    if record.parent is not None and uow.records.get(state.workspace.id, record.parent) is None:
        raise InvalidRecordError(f"parent {record.parent.type} {record.parent.id!r} is not in the record index", fix="upsert the parent first")
    if record.assignee is None:
        return []
    if not otype.assignable:
        raise InvalidRecordError(f"{record.type} records are not assigned to members", fix="assign the parent record")
    member = next((m for m in state.members if m.id == record.assignee), None)
    if member is None:
        return [Violation("N9", f"No member {record.assignee!r} in this workspace.", "Assign the record to a member of the workspace.")]
    role = state.roles[member.role]
    eff = role_permissions(schema, role, state.workspace.features)
    return assignee_violations(schema, object_type=record.type, member=member.id, effective=eff, active=member.is_active)


def upsert_record(uow: UnitOfWork, *, actor: Actor, workspace_id: str, record: Record) -> Record:
    """Create or update a record; changing its assignee needs the assign-records right
    (N12) and an eligible member (N9)."""
    with uow:
        state = load_state(uow, workspace_id)
        before = uow.records.get(workspace_id, record.ref)
        if (before.assignee if before else None) != record.assignee:
            authorize(state, actor, AdminRight.ASSIGN_RECORDS)
        raise_if(_validate(state, uow, record))
        if before == record:
            return record
        uow.records.upsert(workspace_id, record)
        record_change(uow, workspace_id, actor, "record.upsert", record.type, record.id, record_json(before), record_json(record))
        uow.commit()
        return record


def delete_record(uow: UnitOfWork, *, actor: Actor, workspace_id: str, ref: RecordRef) -> None:
    """Delete a record; its children are deleted or orphaned as the schema says."""
    with uow:
        state = load_state(uow, workspace_id)
        before = uow.records.get(workspace_id, ref)
        if before is None:
            return
        if before.assignee is not None:
            authorize(state, actor, AdminRight.ASSIGN_RECORDS)
        removed = _delete_tree(state, uow, before)
        record_change(uow, workspace_id, actor, "record.delete", ref.type, ref.id, record_json(before), {"deleted": removed})
        uow.commit()


def _delete_tree(state: WorkspaceState, uow: UnitOfWork, record: Record) -> int:
    removed = 1
    for child in uow.records.children(state.workspace.id, record.ref):
        if state.schema.objects[child.type].on_parent_delete == "cascade":
            removed += _delete_tree(state, uow, child)
        else:
            uow.records.upsert(state.workspace.id, Record(child.type, child.id, None, child.assignee))
    uow.records.delete(state.workspace.id, record.ref)
    return removed
