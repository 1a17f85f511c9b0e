"""An immutable, compiled workspace: the only thing decisions read.

One verb per meaning: `check` returns a Decision, `require` raises, `explain` says
why, `filter_fields` / `readable_fields` / `writable_fields` for fields, `lookup` for
lists. Checks without a record return Decisions built at compile time.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from rolegate.domain.errors import (
    HiddenRecordError,
    InvalidRecordError,
    NotFoundError,
    PermissionDeniedError,
    UnknownActionError,
)
from rolegate.domain.field_usage import FieldUse, usage_verdict
from rolegate.domain.fields import FieldDecision
from rolegate.domain.roles import MemberStatus, Role
from rolegate.domain.schema import AdminRight, FieldAccess, ProductSchema, Scope
from rolegate.engine.decision import Decision, Explanation, Reason, ReasonCode
from rolegate.engine.field_checks import FieldRefusal, FieldVisibility, WriteCheck
from rolegate.engine.filters import AssigneeFilter, Filter
from rolegate.engine.records import LineageIndex, MemoryLineage, Record, RecordIndex, RecordRef

__all__ = ["CompiledRole", "Snapshot"]

_EMPTY: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CompiledRole:
    role: Role
    effective: frozenset[str]
    actions: Mapping[str, Decision]
    field_access: Mapping[str, Mapping[str, FieldAccess]]
    readable: Mapping[str, frozenset[str]]
    writable: Mapping[str, frozenset[str]]
    field_decisions: Mapping[str, Mapping[str, FieldDecision]] = field(default_factory=lambda: MappingProxyType({}))
    """Why each field's access is what it is (reasons and the rule), for refusals."""


class Snapshot:
    """Decisions for one workspace at one revision. Build it with `compile_snapshot`."""

    __slots__ = (
        "_denials",
        "_lineage",
        "_member_roles",
        "_member_status",
        "_memory",
        "_records",
        "_roles",
        "_tables",
        "_unknown",
        "features",
        "memo",
        "revision",
        "schema",
    )

    def __init__(
        self,
        *,
        schema: ProductSchema,
        features: frozenset[str],
        revision: int,
        roles: Mapping[str, CompiledRole],
        tables: dict[str, Mapping[str, Decision]],
        unknown_table: Mapping[str, Decision],
        member_roles: Mapping[str, str],
        member_status: Mapping[str, MemberStatus],
        records: RecordIndex | None,
    ) -> None:
        self.schema = schema
        self.features = features
        self.revision = revision
        self._roles = roles
        self._tables = tables
        self._unknown = unknown_table
        self._member_roles = member_roles
        self._member_status = member_status
        self._records = records
        # An index over SQL answers a record and its parents in one query (C7).
        self._lineage = records.lineage if isinstance(records, LineageIndex) else None
        self._memory = records.lineage_in_memory if isinstance(records, MemoryLineage) else None
        self._denials: dict[tuple[int, int, int], Decision] = {}
        self.memo: dict[str, dict[int, Any]] = {}
        """What callers derive from this snapshot's decisions (e.g. their JSON), by kind,
        then by `id(decision)`: every decision `check` returns is held by the snapshot
        (its tables, its denials), so an id names one decision for as long as the memo
        lives, and the memo goes with the snapshot instead of keeping its decisions alive."""

    @property
    def compiled_roles(self) -> Mapping[str, CompiledRole]:
        """Each role as compiled (role id -> CompiledRole): a newer revision's compile
        reuses the unchanged ones (`compile_snapshot(previous=...)`)."""
        return self._roles

    def member_status(self, member: str) -> MemberStatus | None:
        """The member's status at this revision; None for no member of the workspace."""
        return self._member_status.get(member)

    # -- decisions ------------------------------------------------------------------------

    def check(self, member: str, action: str, record: RecordRef | tuple[str, str] | None = None) -> Decision:
        """May `member` perform `action` (on `record`)? Never raises for a denial."""
        try:
            decision = self._tables.get(member, self._unknown)[action]
        except KeyError:
            raise self._unknown_action(action) from None
        if record is None:
            return decision
        return self._check_record(member, decision, record)

    def check_in_memory(self, member: str, action: str, record: RecordRef | tuple[str, str]) -> Decision | None:
        """`check` on a record without reading storage: the same decision when the record
        index holds every record it needs in memory (or needs none), else None (then
        `check`, off the event loop). Raises as `check` does."""
        try:
            decision = self._tables.get(member, self._unknown)[action]
        except KeyError:
            raise self._unknown_action(action) from None
        plan = self._record_plan(decision, record)
        if not plan:
            return decision
        memory = self._memory
        chain = memory(RecordRef(record[0], record[1]), plan[-1][0]) if memory is not None else None
        return None if chain is None else self._check_lineage(member, decision, chain)

    def require(self, member: str, action: str, record: RecordRef | tuple[str, str] | None = None) -> Decision:
        """Like `check`, but raises PermissionDeniedError, or NotFoundError when the
        member may not even see the record (so its existence is not revealed)."""
        decision = self.check(member, action, record)
        if decision.allowed:
            return decision
        message = f"{member!r} may not {action!r}: " + "; ".join(r.message for r in decision.reasons)
        if record is not None and not self.can_see(member, record):
            raise HiddenRecordError(f"no such {record[0]} {record[1]!r}", decision=decision, fix="Check the id, or ask an administrator for access.")
        raise PermissionDeniedError(message, decision=decision, fix="Ask an administrator for a role that grants it.")

    def can_see(self, member: str, record: RecordRef | tuple[str, str]) -> bool:
        otype = self.schema.objects.get(record[0])
        if otype is None:
            raise InvalidRecordError(f"unknown object type {record[0]!r}", fix=f"Use one of {', '.join(self.schema.objects)}.")
        if otype.view_action is None:
            return True
        return self.check(member, otype.view_action, record).allowed

    def explain(self, member: str, action: str, record: RecordRef | tuple[str, str] | None = None) -> Explanation:
        decision = self.check(member, action, record)
        role_id = self._member_roles.get(member)
        compiled = self._roles.get(role_id) if role_id is not None else None
        verdict = "ALLOWED" if decision.allowed else "DENIED"
        target = f" on {record[0]} {record[1]!r}" if record is not None else ""
        lines = [f"{verdict}: {member} -> {action}{target} (revision {decision.revision})"]
        if compiled is not None:
            status = self._member_status.get(member)
            lines.append(f"member {member!r} ({status}) holds role {compiled.role.name!r} at level {compiled.role.level!r}")
        if decision.allowed and record is None:
            lines.append(f"scope: {decision.scope.label}")
        lines.extend(f"- {r.message}" + (f" [{r.rule_id}]" if r.rule_id else "") for r in decision.reasons)
        return Explanation(
            decision=decision,
            member=member,
            role=compiled.role.id if compiled else None,
            level=compiled.role.level if compiled else None,
            lines=tuple(lines),
        )

    def has_right(self, member: str, right: AdminRight) -> Decision:
        """Admin rights (manage roles, manage members ...) are actions of the schema
        (N12, C1, K13, T10, E7), decided like any other."""
        return self.check(member, self.schema.admin_actions[right])

    def effective_permissions(self, member: str) -> frozenset[str]:
        compiled = self._active_role(member)
        return compiled.effective if compiled is not None else _EMPTY

    def role_of(self, member: str) -> Role | None:
        role_id = self._member_roles.get(member)
        return self._roles[role_id].role if role_id is not None else None

    # -- fields -------------------------------------------------------------------------

    def field_access(self, member: str, object_type: str, field: str) -> FieldAccess:
        self._object(object_type)
        compiled = self._active_role(member)
        if compiled is None:
            return FieldAccess.NONE
        return compiled.field_access[object_type].get(field, FieldAccess.NONE)

    def readable_fields(self, member: str, object_type: str) -> frozenset[str]:
        self._object(object_type)
        compiled = self._active_role(member)
        return compiled.readable[object_type] if compiled is not None else _EMPTY

    def writable_fields(self, member: str, object_type: str) -> frozenset[str]:
        self._object(object_type)
        compiled = self._active_role(member)
        return compiled.writable[object_type] if compiled is not None else _EMPTY

    def filter_fields(self, member: str, object_type: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """The record without the fields the member may not read (K12). Keys the
        schema does not declare are dropped too: a field nobody configured is hidden (K8).
        A member id not of this workspace is a NotFoundError (404), as in the field
        decisions below."""
        readable = self.readable_fields(member, object_type)
        self._known(member)
        return {k: v for k, v in record.items() if k in readable}

    def filter_records(self, member: str, object_type: str, records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """`filter_fields` for a page of records: the readable set is looked up once.
        (Measured in bench/fields.py: a comprehension per record beats copying and
        deleting the hidden keys, and reusing one key layout across records, whose
        safety check costs as much as it saves.)"""
        readable = self.readable_fields(member, object_type)
        self._known(member)
        return [{k: v for k, v in record.items() if k in readable} for record in records]

    def check_write(self, member: str, object_type: str, changes: Iterable[str] | Mapping[str, Any]) -> WriteCheck:
        """May `member` write every field of `changes` (field names, or a dict of new
        values)? Names every field it may not touch, each with its rule (K8, K9, K11, K1)."""
        self._object(object_type)
        self._known(member)
        names = tuple(dict.fromkeys(changes))
        compiled = self._active_role(member)
        refused: list[FieldRefusal] = []
        writable: list[str] = []
        for name in names:
            refusal = self._write_refusal(member, compiled, object_type, name)
            if refusal is None:
                writable.append(name)
            else:
                refused.append(refusal)
        return WriteCheck(object_type, not refused, tuple(writable), tuple(refused), self.revision)

    def visible_fields(self, member: str, object_type: str, uses: Iterable[FieldUse] = ()) -> FieldVisibility:
        """What `member` sees of `object_type` (K12): readable and writable fields, every
        declared field's access, and for each place that uses fields (filter, segment,
        layout, note, dashboard module) whether it is shown, hidden or redacted."""
        readable = self.readable_fields(member, object_type)
        self._known(member)
        writable = self.writable_fields(member, object_type)
        declared = self.schema.objects[object_type].fields
        access = tuple((f, FieldAccess.WRITE if f in writable else FieldAccess.READ if f in readable else FieldAccess.NONE) for f in declared)
        verdicts = tuple(usage_verdict(self.schema, u, readable, writable) for u in uses)
        return FieldVisibility(object_type, readable, writable, access, verdicts, self.revision)

    def field_decision(self, member: str, object_type: str, field_name: str) -> FieldDecision | None:
        """Why `member` has what it has on a field; None for an inactive member or an
        undeclared field."""
        self._object(object_type)
        compiled = self._active_role(member)
        if compiled is None:
            return None
        return compiled.field_decisions.get(object_type, {}).get(field_name)

    def _write_refusal(self, member: str, compiled: CompiledRole | None, object_type: str, name: str) -> FieldRefusal | None:
        if compiled is None:  # a known member (`_known`), not active
            return FieldRefusal(name, FieldAccess.NONE, self.schema.rule("field_hidden"), f"{object_type}.{name}: the member is {self._member_status[member].value}")
        decision = compiled.field_decisions.get(object_type, {}).get(name)
        if decision is None:
            return FieldRefusal(name, FieldAccess.NONE, self.schema.rule("field_not_configured"), f"{object_type}.{name} is not a field of this workspace: nobody configured it{self.schema.cite('field_not_configured')}")
        if decision.access >= FieldAccess.WRITE:
            return None
        what = "neither read nor write" if decision.access is FieldAccess.NONE else "read only"
        return FieldRefusal(name, decision.access, decision.rule_id, f"{object_type}.{name}: {what} ({'; '.join(decision.reasons)})")

    # -- lists --------------------------------------------------------------------------

    def lookup(self, member: str, action: str, object_type: str) -> Filter:
        """Which records of `object_type` the member may `action`: a filter, never a loop."""
        decision = self.check(member, action)
        if decision.object_type != object_type:
            raise InvalidRecordError(f"action {action!r} is not on {object_type!r}", fix=f"Use an action on {object_type!r}.")
        if not decision.allowed:
            return Filter(object_type, nothing=True)
        lineage = (object_type, *self.schema.objects[object_type].ancestors)
        terms = tuple(AssigneeFilter(member, depth, lineage[1 : depth + 1], Scope(scope)) for depth, scope, _own in decision.plan)
        return Filter(object_type, terms)

    # -- internals ----------------------------------------------------------------------

    def _active_role(self, member: str) -> CompiledRole | None:
        if self._member_status.get(member) is not MemberStatus.ACTIVE:
            return None
        return self._roles[self._member_roles[member]]

    def _known(self, member: str) -> None:
        if member not in self._member_status:
            raise NotFoundError(f"no member {member!r} in this workspace", decision=None, fix="List the members to find their id.")

    def _object(self, object_type: str) -> None:
        if object_type not in self.schema.objects:
            hint = difflib.get_close_matches(object_type, list(self.schema.objects), n=1)
            raise InvalidRecordError(f"unknown object type {object_type!r}", fix=f"Did you mean {hint[0]!r}?" if hint else "Declare it under `objects:`.")

    def _unknown_action(self, action: str) -> UnknownActionError:
        hint = difflib.get_close_matches(action, list(self.schema.actions), n=1)
        return UnknownActionError(action, hint[0] if hint else None)

    def _record_plan(self, decision: Decision, record: RecordRef | tuple[str, str]) -> tuple[tuple[int, int, bool], ...]:
        """The decision's plan on `record` (empty: the record is not needed); raises for a
        record of another type, or when a needed record has no index to come from."""
        if record[0] != decision.object_type:
            raise InvalidRecordError(
                f"action {decision.action!r} is on {decision.object_type or 'no object'}, not on {record[0]!r}",
                fix="Pass a record of the action's object type, or none.",
            )
        plan = decision.plan  # empty when denied, or when no constraint needs the record
        if plan and self._records is None:
            raise InvalidRecordError("this snapshot has no record index", fix="Pass `records=` to compile_snapshot.")
        return plan

    def _check_record(self, member: str, decision: Decision, record: RecordRef | tuple[str, str]) -> Decision:
        plan = self._record_plan(decision, record)
        if not plan:
            return decision
        index = self._records
        assert index is not None  # _record_plan
        lineage = self._lineage
        if lineage is not None and plan[-1][0] > 0:
            return self._check_lineage(member, decision, lineage(RecordRef(record[0], record[1]), plan[-1][0]))
        # RecordRef is a tuple: a plain (type, id) tuple looks up the same.
        rec = index.get(record)  # type: ignore[arg-type]
        at = 0
        for depth, scope, is_own in plan:
            while at < depth and rec is not None:
                parent = rec.parent
                rec = index.get(parent) if parent is not None else None
                at += 1
            if rec is None:
                return self._denial(decision, depth, 0, is_own)
            assignee = rec.assignee
            # Plain ints, not Scope flags: this is the hot path of record checks.
            relation = 2 if assignee is None else 1 if assignee == member else 4
            if not relation & scope:
                return self._denial(decision, depth, relation, is_own)
        return decision

    def _check_lineage(self, member: str, decision: Decision, chain: Sequence[Record | None]) -> Decision:
        """The same rule as the step-by-step walk, on a chain fetched at once."""
        for depth, scope, is_own in decision.plan:
            rec = chain[depth] if depth < len(chain) else None
            if rec is None:
                return self._denial(decision, depth, 0, is_own)
            assignee = rec.assignee
            relation = 2 if assignee is None else 1 if assignee == member else 4
            if not relation & scope:
                return self._denial(decision, depth, relation, is_own)
        return decision

    def _denial(self, decision: Decision, depth: int, relation: int, is_own: bool) -> Decision:
        """One denial Decision per (decision, depth, relation), built on first use: the
        record's id is the caller's; the reason says which relation failed."""
        key = (id(decision), depth, relation)
        cached = self._denials.get(key)
        if cached is not None:
            return cached
        assert decision.object_type is not None  # only actions on objects have a plan
        lineage = (decision.object_type, *self.schema.objects[decision.object_type].ancestors)
        which = f"the {lineage[depth]} record" if depth == 0 else f"its {lineage[depth]} record"
        if relation == 0:
            code, rule, text = ReasonCode.RECORD_NOT_FOUND, None, f"{which} is not in the record index"
        elif is_own:
            code, rule = ReasonCode.RECORD_OUT_OF_SCOPE, self.schema.seed_rule("record_out_of_scope")
            text = f"{which} is {_relation_text(Scope(relation))}; the role grants scope {decision.scope.label}"
        else:
            code, rule = ReasonCode.PARENT_NOT_ACCESSIBLE, self.schema.seed_rule("record_parent")
            text = f"{which} is not accessible ({_relation_text(Scope(relation))}){self.schema.cite('record_parent')}"
        denial = Decision(
            decision.action,
            False,
            Scope.NONE,
            (*decision.reasons, Reason(code, text, rule_id=rule)),
            decision.revision,
            decision.object_type,
        )
        # Decisions live as long as the snapshot, so their ids stay unique keys.
        return self._denials.setdefault(key, denial)


def _relation_text(relation: Scope) -> str:
    if relation is Scope.ASSIGNED:
        return "assigned to the member"
    if relation is Scope.UNASSIGNED:
        return "assigned to no one"
    return "assigned to someone else"
