"""Assigning records (accounts) to members, and reading who may see them.

`assign_record` is the Accounts page's and the API's one way to change an assignee:
the actor needs the assign-records right (N12, C1), the member must be allowed to be
an assignee (N9), and the change is an audit event. `visible_records` pages through
the ids a member may act on, as `lookup`'s filter compiled to SQL (never a loop of
checks); `who_can_see` lists the members who may see one record.
"""

from __future__ import annotations

from dataclasses import dataclass

from rolegate.domain.errors import InvalidRecordError, NotFoundError
from rolegate.domain.roles import MemberStatus
from rolegate.domain.schema import AdminRight
from rolegate.domain.workspace import Actor
from rolegate.engine import Decision, InMemoryRecordIndex, Record, RecordRef, Snapshot, compile_snapshot
from rolegate.services.context import authorize, load_state, raise_if
from rolegate.services.record_bulk import Change, eligibility, record_changes
from rolegate.store.record_lists import Page
from rolegate.store.uow import UnitOfWork

__all__ = ["AssignmentWritten", "MemberChoice", "Viewer", "assign_record", "member_choices", "visible_records", "who_can_see"]


@dataclass(frozen=True, slots=True)
class AssignmentWritten:
    record: Record
    revision: int | None
    """None when the record already had that assignee (nothing written)."""


def assign_record(uow: UnitOfWork, *, actor: Actor, workspace_id: str, ref: RecordRef, assignee: str | None) -> AssignmentWritten:
    """Make `assignee` (or no one, with None) the assignee of a record in the index."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.ASSIGN_RECORDS)
        before = uow.records.get(workspace_id, ref)
        if before is None:
            raise NotFoundError(f"no {ref.type} {ref.id!r} in the record index", decision=None, fix="Upsert the record first (PUT .../records/{type}/{id}).")
        otype = state.schema.objects[ref.type]
        if not otype.assignable:
            raise InvalidRecordError(f"{otype.label} records are not assigned to members", fix="Assign the parent record instead.")
        if before.assignee == assignee:
            return AssignmentWritten(before, None)
        if assignee is not None:
            raise_if(eligibility(state, ref.type, assignee))
        after = Record(before.type, before.id, before.parent, assignee)
        uow.records.upsert(workspace_id, after)
        revision = record_changes(uow, workspace_id, actor, [Change("record.assign", ref.type, ref.id, {"assignee": before.assignee}, {"assignee": assignee})])
        uow.commit()
        return AssignmentWritten(after, revision)


def visible_records(uow: UnitOfWork, snapshot: Snapshot, *, workspace_id: str, member: str, action: str, object_type: str, cursor: str | None = None, limit: int = 100) -> Page:
    """One page of the ids of `object_type` records that `member` may `action`, in id
    order, with a cursor exactly when more follow (`store.record_lists`)."""
    f = snapshot.lookup(member, action, object_type)
    with uow:
        return uow.records_bulk.visible_page(f, workspace_id, cursor=cursor, limit=limit)


@dataclass(frozen=True, slots=True)
class Viewer:
    member: str
    role: str
    decision: Decision | None
    """None for an object type without a view action: every active member sees it."""


def who_can_see(uow: UnitOfWork, *, workspace_id: str, ref: RecordRef) -> tuple[Record, list[Viewer]]:
    """The active members who may see the record (its view action, C7 through its
    parents), each with the decision that says why. Reads the record's lineage once
    and decides every member in memory."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        otype = state.schema.objects.get(ref.type)
        if otype is None:
            raise InvalidRecordError(f"unknown object type {ref.type!r}", fix=f"use one of {', '.join(state.schema.objects)}")
        chain: list[Record] = []
        at: RecordRef | None = ref
        while at is not None and len(chain) <= len(otype.ancestors):
            rec = uow.records.get(workspace_id, at)
            if rec is None:
                break
            chain.append(rec)
            at = rec.parent
        if not chain:
            raise NotFoundError(f"no {ref.type} {ref.id!r} in the record index", decision=None, fix="Check the id.")
    snap = compile_snapshot(
        state.schema, features=state.workspace.features, roles=state.roles.values(), members=state.members, records=InMemoryRecordIndex(chain), revision=state.workspace.revision
    )
    action = otype.view_action
    viewers = []
    for m in state.members:
        if m.status is not MemberStatus.ACTIVE:
            continue
        decision = snap.check(m.id, action, ref) if action is not None else None
        if decision is None or decision.allowed:
            viewers.append(Viewer(m.id, state.roles[m.role].name, decision))
    return chain[0], viewers


@dataclass(frozen=True, slots=True)
class MemberChoice:
    member: str
    label: str
    eligible: bool
    """May be assigned records of the type (N9)."""


def member_choices(uow: UnitOfWork, *, workspace_id: str, object_type: str) -> list[MemberChoice]:
    """Every member by name, with whether they may be assigned `object_type` records (N9)."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        infos = uow.members.all(workspace_id)
    return sorted(
        (MemberChoice(i.member.id, i.name or i.email, not eligibility(state, object_type, i.member.id)) for i in infos),
        key=lambda c: c.label.lower(),
    )
