"""The record index in bulk: the host product syncs up to 10,000 records per call.

One transaction per call, all or nothing: every record is checked (type, parent of
the right type present in the index or in the same call (C7), assignee eligible (N9))
before the call commits, and the call writes in a few statements (on PostgreSQL the
new records are inserted before the checks end, and a refusal rolls them back with
the rest). One revision per call; every
assignment change is its own audit event (who was assigned what, by whom), the rest
one summary event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC

from rolegate.domain.errors import InvalidRecordError
from rolegate.domain.permissions import role_permissions
from rolegate.domain.roles import Member
from rolegate.domain.rules.team_rules import assignee_violations, unknown_assignee_violations
from rolegate.domain.schema import AdminRight, ProductSchema
from rolegate.domain.violations import Violation
from rolegate.domain.workspace import GENESIS_HASH, Actor, AuditEvent, SealedEvent, sealed_json
from rolegate.engine.records import Record, RecordRef
from rolegate.services.context import (
    WorkspaceState,
    authorize,
    load_state,
    member_name,
    new_ids,
    next_revision,
    prepare_next,
    raise_if,
)
from rolegate.store.repositories import JsonText, utcnow
from rolegate.store.repositories_records import AuditRows
from rolegate.store.uow import UnitOfWork

__all__ = ["MAX_BULK", "BulkDeleted", "BulkWritten", "Change", "Eligibility", "delete_records", "eligibility", "record_changes", "seal_changes", "upsert_records"]

MAX_BULK = 10_000


@dataclass(frozen=True, slots=True)
class BulkWritten:
    created: int
    updated: int
    unchanged: int
    assignments: int
    revision: int
    """The workspace's revision after the call (the current one when nothing changed)."""


@dataclass(frozen=True, slots=True)
class BulkDeleted:
    deleted: int
    orphaned: int
    revision: int
    """The workspace's revision after the call (the current one when nothing changed)."""


@dataclass(frozen=True, slots=True)
class Change:
    action: str
    target_type: str
    target_id: str
    before: object
    after: object


def record_changes(
    uow: UnitOfWork, workspace_id: str, actor: Actor, changes: Sequence[Change], *, state: WorkspaceState | None = None, with_commit: bool = False
) -> int:
    """Like `context.record_change` for many events: one revision, the events chained
    in order and written in one statement. Each event's JSON is built once, for its
    hash and for the row (`sealed_json`). `state`, `with_commit`: as for `record_change`."""
    revision, last, known = next_revision(uow, workspace_id, state)
    sealed = seal_changes(workspace_id, actor, changes, revision=revision, last=last if last[0] else None)
    if known and len(sealed) <= _ONE_STATEMENT:
        uow.advance_to(workspace_id, revision, [_audit_row(s) for s in sealed], with_commit=with_commit)
    else:
        if known:
            if uow.workspaces.bump_revision(workspace_id) != revision:
                raise RuntimeError("the workspace's revision moved while it was locked")
            uow.revision_changed(workspace_id, revision)
        uow.records_bulk.append_sealed(sealed)
    said = tuple((s.event.action, s.event.target_type, s.event.target_id) for s in sealed)
    prepare_next(uow, workspace_id, revision, state, (sealed[-1].event.seq, sealed[-1].hash), said)
    return revision


def _json_text(text: str | None) -> JsonText | None:
    return None if text is None else JsonText(text)


_ONE_STATEMENT = 16
"""Up to this many events are written with the revision in one statement; more by COPY."""


def _audit_row(sealed: SealedEvent) -> dict[str, object]:
    """The row of a sealed event, its JSON columns the very texts that were hashed."""
    e = sealed.event
    return {
        "workspace_id": e.workspace_id, "seq": e.seq, "id": e.id, "at": e.at, "actor": e.actor, "action": e.action,
        "target_type": e.target_type, "target_id": e.target_id, "before": _json_text(sealed.before_json), "after": _json_text(sealed.after_json),
        "revision": e.revision, "prev_hash": e.prev_hash, "hash": sealed.hash,
    }


def seal_changes(workspace_id: str, actor: Actor, changes: Sequence[Change], *, revision: int, last: tuple[int, str] | None) -> list[SealedEvent]:
    """The audit events of `changes` at `revision`, chained after `last` (seq, hash)."""
    seq, prev = (last[0] + 1, last[1]) if last is not None else (1, GENESIS_HASH)
    now = utcnow()
    at = now.astimezone(UTC).isoformat()
    label = actor.label
    sealed: list[SealedEvent] = []
    for c, event_id in zip(changes, new_ids(len(changes)), strict=True):
        event = AuditEvent(workspace_id, seq, event_id, now, label, c.action, c.target_type, c.target_id, c.before, c.after, revision, prev)
        digest, before, after = sealed_json(event, at)
        sealed.append(SealedEvent(event, digest, before, after))
        seq, prev = seq + 1, digest
    return sealed


def eligibility(
    state: WorkspaceState, object_type: str, member_id: str, name_of: Callable[[str], str] | None = None
) -> list[Violation]:
    """N9: may `member_id` be the assignee of a record of `object_type`? `name_of`
    names the member in a refusal as the team knows them (a lookup, done only for a
    refusal); without it the refusal says "This member", never the id."""
    member = next((m for m in state.members if m.id == member_id), None)
    if member is None:
        return unknown_assignee_violations(state.schema, member=member_id)
    eff = role_permissions(state.schema, state.roles[member.role], state.workspace.features)
    return _assignee(state, object_type, member, eff, name_of)


def _assignee(
    state: WorkspaceState, object_type: str, member: Member, eff: frozenset[str], name_of: Callable[[str], str] | None
) -> list[Violation]:
    found = assignee_violations(state.schema, object_type=object_type, member="This member", effective=eff, active=member.is_active)
    if found and name_of is not None:
        found = assignee_violations(state.schema, object_type=object_type, member=name_of(member.id), effective=eff, active=member.is_active)
    return found


class Eligibility:
    """N9 for many assignees at once: the members by id, each role's effective
    permissions computed once; a refusal still names its member."""

    __slots__ = ("_effective", "_members", "_name_of", "_ok", "_state")

    def __init__(self, state: WorkspaceState, name_of: Callable[[str], str] | None = None) -> None:
        self._state = state
        self._name_of = name_of
        self._members = {m.id: m for m in state.members}
        self._effective: dict[str, frozenset[str]] = {}
        self._ok: set[tuple[str, str]] = set()
        """(object type, role) pairs already found eligible."""

    def violations(self, object_type: str, member_id: str) -> list[Violation]:
        """What `eligibility` says, from the caches."""
        member = self._members.get(member_id)
        if member is None:
            return eligibility(self._state, object_type, member_id, self._name_of)
        if member.is_active and (object_type, member.role) in self._ok:
            return []
        state = self._state
        eff = self._effective.get(member.role)
        if eff is None:
            eff = self._effective[member.role] = role_permissions(state.schema, state.roles[member.role], state.workspace.features)
        found = _assignee(state, object_type, member, eff, self._name_of)
        if not found and member.is_active:
            self._ok.add((object_type, member.role))
        return found


def _check_shapes(schema: ProductSchema, records: Sequence[Record], missing: set[tuple[str, str]]) -> None:
    """`missing`: the parents named in the call that are neither in the index nor in the call."""
    for i, rec in enumerate(records):
        otype = schema.objects.get(rec.type)
        where = f"records[{i}] ({rec.type} {rec.id!r})"
        if otype is None:
            raise InvalidRecordError(f"{where}: unknown object type {rec.type!r}", fix=f"Use one of {', '.join(schema.objects)}.")
        if otype.parent is not None and (rec.parent is None or rec.parent.type != otype.parent):
            raise InvalidRecordError(f"{where}: a {rec.type} record needs a parent of type {otype.parent!r} ({schema.rule('record_parent')})", fix="Pass `parent`.")
        if otype.parent is None and rec.parent is not None:
            raise InvalidRecordError(f"{where}: {rec.type} records have no parent", fix="Drop `parent`.")
        if rec.parent is not None and (rec.parent.type, rec.parent.id) in missing:
            raise InvalidRecordError(
                f"{where}: parent {rec.parent.type} {rec.parent.id!r} is not in the record index ({schema.rule('record_parent')})", fix="Upsert the parent first, or in the same call."
            )
        if rec.assignee is not None and not otype.assignable:
            raise InvalidRecordError(f"{where}: {rec.type} records are not assigned to members", fix="Assign the parent record.")


@dataclass(frozen=True, slots=True)
class _Plan:
    """What an upsert call does, given the records it found."""

    created: list[Record]
    updated: list[Record]
    moved: list[tuple[Record, str | None]]
    """Each record whose assignee changes, with its assignee before."""
    unchanged: int

    def changes(self) -> list[Change]:
        out = [Change("record.assign", r.type, r.id, {"assignee": was}, {"assignee": r.assignee}) for r, was in self.moved]
        summary = {"created": len(self.created), "updated": len(self.updated), "unchanged": self.unchanged}
        out.append(Change("records.upsert", "records", "bulk", None, summary))
        return out


def _plan(batch: Sequence[Record], before: dict[RecordRef, Record]) -> _Plan:
    created: list[Record] = []
    updated: list[Record] = []
    moved: list[tuple[Record, str | None]] = []
    for r in batch:
        old = before.get(RecordRef(r.type, r.id))
        if old is None:
            created.append(r)
            if r.assignee is not None:
                moved.append((r, None))
        elif old != r:
            updated.append(r)
            if old.assignee != r.assignee:
                moved.append((r, old.assignee))
    return _Plan(created, updated, moved, len(batch) - len(created) - len(updated))


def upsert_records(uow: UnitOfWork, *, actor: Actor, workspace_id: str, records: Sequence[Record]) -> BulkWritten:
    """Create or update up to 10,000 records. Changing an assignee needs the
    assign-records right (N12) and an eligible member (N9)."""
    if len(records) > MAX_BULK:
        raise InvalidRecordError(f"{len(records)} records in one call; at most {MAX_BULK}", fix="Split the records into calls of 10,000.")
    latest: dict[tuple[str, str], Record] = {}
    for rec in records:  # the last write of a record in the call wins
        latest[(rec.type, rec.id)] = rec
    batch = list(latest.values())
    with uow:
        state = load_state(uow, workspace_id)
        bulk = uow.records_bulk
        # The revision this call will make and the event it chains to, known under the
        # workspace lock, so that the audit rows can be built while the records are
        # written; the revision is bumped (and checked) when the call writes.
        revision = state.workspace.revision + 1
        last = uow.audit.last(workspace_id)

        def prepare(before: dict[RecordRef, Record]) -> tuple[_Plan, AuditRows]:
            plan = _plan(batch, before)
            return plan, bulk.audit_rows(seal_changes(workspace_id, actor, plan.changes(), revision=revision, last=last))

        # On PostgreSQL the new records are inserted by this lookup, and Python builds the
        # audit rows meanwhile as if every record were new (a sync of new records); the
        # guess is used only if it was right. Nothing is kept unless every check below passes.
        before, missing, guess = bulk.upsert_lookup(workspace_id, batch, meanwhile=lambda: prepare({}))
        _check_shapes(state.schema, batch, missing)
        plan, rows = guess if guess is not None and not before else prepare(before)
        if plan.moved:
            authorize(state, actor, AdminRight.ASSIGN_RECORDS)
            eligible = Eligibility(state, lambda member_id: member_name(uow, workspace_id, member_id))
            violations: list[Violation] = []
            for r, _ in plan.moved:
                if r.assignee is None:
                    continue
                violations.extend(eligible.violations(r.type, r.assignee))
                if len(violations) >= 10:
                    break
            raise_if(violations)
        if not plan.created and not plan.updated:
            return BulkWritten(0, 0, plan.unchanged, 0, state.workspace.revision)
        bulk.insert_new(workspace_id, plan.created)
        bulk.update_many(workspace_id, plan.updated)
        if uow.workspaces.bump_revision(workspace_id) != revision:
            raise RuntimeError("the workspace's revision moved while it was locked")
        bulk.append_audit_rows(rows)
        uow.revision_changed(workspace_id, revision)
        uow.commit()
        return BulkWritten(len(plan.created), len(plan.updated), plan.unchanged, len(plan.moved), revision)


def delete_records(uow: UnitOfWork, *, actor: Actor, workspace_id: str, refs: Sequence[RecordRef]) -> BulkDeleted:
    """Delete up to 10,000 records; their children are deleted or orphaned as the
    schema's `on_parent_delete` says, at any depth. Records not in the index are
    skipped. Deleting an assigned record needs the assign-records right (N12)."""
    if len(refs) > MAX_BULK:
        raise InvalidRecordError(f"{len(refs)} records in one call; at most {MAX_BULK}", fix="Split the records into calls of 10,000.")
    with uow:
        state = load_state(uow, workspace_id)
        bulk = uow.records_bulk
        found = bulk.get_many(workspace_id, refs)
        if not found:
            return BulkDeleted(0, 0, state.workspace.revision)
        if any(r.assignee is not None for r in found.values()):
            authorize(state, actor, AdminRight.ASSIGN_RECORDS)
        doomed: set[tuple[str, str]] = set(found)
        orphans: dict[tuple[str, str], Record] = {}
        frontier: list[tuple[str, str]] = list(found)
        while frontier:
            cascade: list[tuple[str, str]] = []
            for child in bulk.children_of(workspace_id, frontier):
                key = (child.type, child.id)
                if key in doomed:
                    continue
                if state.schema.objects[child.type].on_parent_delete == "cascade":
                    doomed.add(key)
                    cascade.append(key)
                else:
                    orphans[key] = Record(child.type, child.id, None, child.assignee)
            frontier = cascade
        orphaned = [rec for key, rec in orphans.items() if key not in doomed]
        bulk.delete_many(workspace_id, doomed)
        bulk.update_many(workspace_id, orphaned)
        changes = [
            Change("record.assign", r.type, r.id, {"assignee": r.assignee}, {"assignee": None, "deleted": True})
            for r in found.values()
            if r.assignee is not None
        ]
        after = {"deleted": len(doomed), "orphaned": len(orphaned), "requested": [[r.type, r.id] for r in found.values()]}
        changes.append(Change("records.delete", "records", "bulk", None, after))
        revision = record_changes(uow, workspace_id, actor, changes)
        uow.commit()
        return BulkDeleted(len(doomed), len(orphaned), revision)
