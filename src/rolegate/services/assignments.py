"""Assigning records (accounts) to members, and reading who may see them.

`assign_record` is the Accounts page's and the API's one way to change an assignee:
the actor needs the assign-records right (N12, C1), the member must be allowed to be
an assignee (N9), and the change is an audit event. `visible_records` pages through
the ids a member may act on, as `lookup`'s filter compiled to SQL (never a loop of
checks); `who_can_see` lists the members who may see one record. `accounts_page` and
`account_page` are the Accounts pages' reads: they load the names they show (the
assignees on the page, the viewers, the assign menu), not the whole team.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from rolegate.domain.errors import InvalidRecordError, NotFoundError, PermissionDeniedError
from rolegate.domain.roles import MemberStatus
from rolegate.domain.schema import AdminRight
from rolegate.domain.workspace import Actor
from rolegate.engine import Decision, InMemoryRecordIndex, Record, RecordRef, Snapshot, compile_snapshot
from rolegate.services.context import WorkspaceState, authorize, load_state, member_name, raise_if
from rolegate.services.record_bulk import Change, Eligibility, eligibility, record_changes
from rolegate.store.record_lists import Page
from rolegate.store.repositories import record_updating, utcnow
from rolegate.store.uow import UnitOfWork

__all__ = [
    "AccountPage",
    "AccountsPage",
    "AssignmentWritten",
    "MemberChoice",
    "Viewer",
    "account_page",
    "accounts_page",
    "assign_record",
    "member_choices",
    "visible_records",
    "who_can_see",
]


@dataclass(frozen=True, slots=True)
class AssignmentWritten:
    record: Record
    revision: int
    """The workspace's revision after the call (the current one when nothing changed)."""
    changed: bool
    """False when the record already had that assignee (nothing written)."""


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
            return AssignmentWritten(before, state.workspace.revision, changed=False)
        if assignee is not None:
            raise_if(eligibility(state, ref.type, assignee, lambda member_id: member_name(uow, workspace_id, member_id)))
        after = Record(before.type, before.id, before.parent, assignee)
        uow.write_with_commit(*record_updating(workspace_id, after, utcnow()))  # `before` is in the index
        revision = record_changes(uow, workspace_id, actor, [Change("record.assign", ref.type, ref.id, {"assignee": before.assignee}, {"assignee": assignee})], state=state, with_commit=True)
        uow.commit()
        return AssignmentWritten(after, revision, changed=True)


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
        return _viewers(uow, state, ref)


def _viewers(uow: UnitOfWork, state: WorkspaceState, ref: RecordRef) -> tuple[Record, list[Viewer]]:
    workspace_id = state.workspace.id
    otype = state.schema.objects.get(ref.type)
    if otype is None:
        raise InvalidRecordError(f"unknown object type {ref.type!r}", fix=f"Use one of {', '.join(state.schema.objects)}.")
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
    """A member who may be assigned records of the type (N9), by name."""

    member: str
    label: str


def member_choices(uow: UnitOfWork, *, actor: Actor, workspace_id: str, object_type: str) -> list[MemberChoice]:
    """The assign menu: the members who may be assigned `object_type` records (N9), by
    name. Needs the assign-records right (N12, C1); loads the names of those members only."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.ASSIGN_RECORDS)
        return _named(uow, state, object_type, shown=(), may_assign=True)[1]


def _may_assign(state: WorkspaceState, actor: Actor) -> bool:
    try:
        authorize(state, actor, AdminRight.ASSIGN_RECORDS)
    except PermissionDeniedError:
        return False
    return True


def _named(uow: UnitOfWork, state: WorkspaceState, object_type: str, *, shown: Collection[str], may_assign: bool) -> tuple[Mapping[str, str], list[MemberChoice]]:
    """The names of the members `shown` on a page, and the assign menu when the viewer
    may assign (each member's eligibility decided once per role: `Eligibility`); the
    names come from one query for exactly those members."""
    eligible: list[str] = []
    if may_assign:
        check = Eligibility(state)
        eligible = [m.id for m in state.members if m.is_active and not check.violations(object_type, m.id)]
    names = {i.member.id: i.name or i.email for i in uow.members.some(state.workspace.id, {*shown, *eligible})}
    choices = sorted((MemberChoice(m, names[m]) for m in eligible if m in names), key=lambda c: c.label.lower())
    return names, choices


@dataclass(frozen=True, slots=True)
class AccountsPage:
    """A page of the records a member may see, with their assignees' names, and the
    assign menu when the viewer may assign records (empty otherwise)."""

    records: tuple[Record, ...]
    next_cursor: str | None
    names: Mapping[str, str]
    choices: tuple[MemberChoice, ...]
    may_assign: bool
    revision: int


def accounts_page(
    uow: UnitOfWork, snapshot: Snapshot, *, actor: Actor, workspace_id: str, member: str, action: str, object_type: str, cursor: str | None = None, limit: int = 100
) -> AccountsPage:
    """`visible_records` for `member` (the viewer), with the records themselves; a stale
    cursor raises InvalidRecordError as there."""
    f = snapshot.lookup(member, action, object_type)
    with uow:
        page = uow.records_bulk.visible_page(f, workspace_id, cursor=cursor, limit=limit)
        found = uow.records_bulk.get_many(workspace_id, [(object_type, i) for i in page.ids])
        rows = tuple(found[RecordRef(object_type, i)] for i in page.ids if RecordRef(object_type, i) in found)
        state = load_state(uow, workspace_id, lock=False)
        may = _may_assign(state, actor)
        names, choices = _named(uow, state, object_type, shown={r.assignee for r in rows if r.assignee is not None}, may_assign=may)
    return AccountsPage(rows, page.next_cursor, names, tuple(choices), may, state.workspace.revision)


@dataclass(frozen=True, slots=True)
class AccountPage:
    """One record, who can see it and why, the names shown, and the assign menu when
    the viewer may assign records."""

    record: Record
    viewers: tuple[Viewer, ...]
    names: Mapping[str, str]
    choices: tuple[MemberChoice, ...]
    may_assign: bool
    revision: int


def account_page(uow: UnitOfWork, snapshot: Snapshot, *, actor: Actor, workspace_id: str, member: str, ref: RecordRef) -> AccountPage:
    """A record `member` (the viewer) may see; one they may not is not found (N11, C3)."""
    if not snapshot.can_see(member, (ref.type, ref.id)):
        label = snapshot.schema.objects[ref.type].label.lower() if ref.type in snapshot.schema.objects else ref.type
        raise NotFoundError(f"no {label} {ref.id!r}", decision=None, fix="Choose one from the list.")
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        record, viewers = _viewers(uow, state, ref)
        may = _may_assign(state, actor)
        shown = {v.member for v in viewers} | ({record.assignee} if record.assignee is not None else set())
        names, choices = _named(uow, state, ref.type, shown=shown, may_assign=may)
    return AccountPage(record, tuple(viewers), names, tuple(choices), may, state.workspace.revision)
