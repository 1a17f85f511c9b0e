"""The engine's less travelled paths: the record walk through a lineage index (the
store's one query per chain) and the step by step one, denials that name the relation
that failed, parents without a view action, members without an active role, and the
small value types (reasons, decisions, filters, the in-memory index)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from types import MappingProxyType
from typing import Any

import pytest

from rolegate.domain.errors import InvalidRecordError, RolegateError
from rolegate.domain.roles import Member
from rolegate.domain.schema import FieldAccess, ProductSchema, Scope
from rolegate.domain.schema_build import parse_schema
from rolegate.engine import InMemoryRecordIndex, ReasonCode, Record, RecordRef, Snapshot, compile_snapshot
from rolegate.engine.decision import Reason
from rolegate.engine.filters import AssigneeFilter, Filter, MatchAll, MatchNone
from tests.unit.engine.conftest import A, B, U, crm_schema_data, custom


class LineageRecords(InMemoryRecordIndex):
    """The in-memory index with the store's `lineage`: a record and its ancestors at once."""

    def lineage(self, ref: RecordRef, depth: int) -> Sequence[Record | None]:
        chain: list[Record | None] = [self.get(ref)]
        while len(chain) <= depth and chain[-1] is not None:
            parent = chain[-1].parent
            chain.append(self.get(parent) if parent is not None else None)
        return chain


def crm_records(index: type[InMemoryRecordIndex] = InMemoryRecordIndex) -> InMemoryRecordIndex:
    return index(
        [
            Record("account", "a-ann", assignee="ann"),
            Record("account", "a-bob", assignee="bob"),
            Record("account", "a-free"),
            Record("task", "t-ann", parent=A),
            Record("task", "t-bob", parent=B),
            Record("task", "t-orphan", parent=RecordRef("account", "gone")),
        ]
    )


def compiled(
    schema: ProductSchema, records: InMemoryRecordIndex, *roles: Any, members: Sequence[Member] = ()
) -> Snapshot:
    return compile_snapshot(
        schema, features=frozenset(), roles=list(roles), members=list(members), records=records, revision=3
    )


@pytest.fixture(params=["step by step", "lineage"])
def walk(request: pytest.FixtureRequest, crm: ProductSchema) -> Snapshot:
    """Ann: her own accounts (view) and every task (tasks.view on all): a task is
    visible only through an account she sees (C7). Una: unassigned accounts only."""
    index = LineageRecords if request.param == "lineage" else InMemoryRecordIndex
    return compiled(
        crm,
        crm_records(index),
        custom("own", "editor", "accounts.own", "accounts.tasks"),
        custom("free", "viewer", "accounts.unassigned"),
        members=[Member("ann", "own"), Member("una", "free")],
    )


def test_a_task_of_an_account_out_of_scope_is_out_of_scope(walk: Snapshot) -> None:
    assert walk.check("ann", "tasks.view", ("task", "t-ann")).allowed
    denied = walk.check("ann", "tasks.view", ("task", "t-bob"))
    assert not denied.allowed
    last = denied.reasons[-1]
    assert (last.code, last.rule_id) == (ReasonCode.RECORD_OUT_OF_SCOPE, None)  # no rule_ids: no seed rule
    assert last.message.startswith("its account record is assigned to someone else;")


def test_a_child_whose_parent_is_gone_is_not_found(walk: Snapshot) -> None:
    denied = walk.check("ann", "tasks.view", ("task", "t-orphan"))
    assert not denied.allowed
    assert denied.reasons[-1].code is ReasonCode.RECORD_NOT_FOUND
    assert denied.reasons[-1].message == "its account record is not in the record index"


def test_an_account_of_another_member_is_out_of_an_unassigned_scope(walk: Snapshot) -> None:
    assert walk.check("una", "accounts.view", U).allowed
    denied = walk.check("una", "accounts.view", B)
    assert (
        denied.reasons[-1].message == "the account record is assigned to someone else; the role grants scope unassigned"
    )


def test_the_relation_assigned_to_the_member_is_named(crm: ProductSchema) -> None:
    snap = compiled(
        crm, crm_records(), custom("free", "viewer", "accounts.unassigned"), members=[Member("ann", "free")]
    )
    denied = snap.check("ann", "accounts.view", A)
    assert not denied.allowed
    assert denied.reasons[-1].code is ReasonCode.RECORD_OUT_OF_SCOPE
    assert denied.reasons[-1].message.startswith("the account record is assigned to the member;")


def test_a_parent_not_viewable_denies_the_child_without_a_record(crm: ProductSchema) -> None:
    """tasks.view granted, accounts.view not: no task is reachable (C7), decided at compile
    time. A product that states the parent rule cites its own id; one that does not, none."""
    for rule_ids, cited in (({"record_parent": "C7"}, "C7"), ({}, None)):
        schema = dataclasses.replace(crm, rule_ids=MappingProxyType(rule_ids))
        snap = compiled(schema, crm_records(), custom("tasks", "editor", "accounts.tasks"), members=[Member("ann", "tasks")])
        d = snap.check("ann", "tasks.view")
        assert not d.allowed
        assert d.scope is Scope.NONE
        assert d.reasons[-1].rule_id == cited
        assert d.reasons[-1].message.endswith(" (C7)" if cited else "'accounts.view'")


def schema_with(**extra_objects: Any) -> ProductSchema:
    data = crm_schema_data()
    data["objects"].update(extra_objects)
    for key, obj in extra_objects.items():
        for action in (obj.get("view_action"), obj.get("assignee_action")):
            if action:
                data["actions"][action] = {"object": key}
    data["permissions"]["extra.view"] = {
        "label": "Extra",
        "area": "accounts",
        "grants": [o["view_action"] for o in extra_objects.values() if o.get("view_action")],
    }
    return parse_schema(data)


def test_an_object_without_a_view_action_is_seen_by_everyone() -> None:
    schema = schema_with(
        folder={"label": "Folder"}, page={"label": "Page", "parent": "folder", "view_action": "pages.view"}
    )
    index = InMemoryRecordIndex([Record("folder", "f1"), Record("page", "p1", parent=RecordRef("folder", "f1"))])
    snap = compiled(schema, index, custom("reader", "viewer", "extra.view"), members=[Member("ann", "reader")])
    assert snap.can_see("ann", ("folder", "f1"))
    assert snap.check("ann", "pages.view", ("page", "p1")).allowed  # the parent asks for nothing


def test_a_parent_without_an_assignee_above_and_not_granted_denies_the_child() -> None:
    schema = schema_with(note={"label": "Note", "parent": "report", "view_action": "notes.view"})
    snap = compiled(
        schema, InMemoryRecordIndex(), custom("notes", "viewer", "extra.view"), members=[Member("ann", "notes")]
    )
    d = snap.check("ann", "notes.view")
    assert not d.allowed
    assert d.reasons[-1].code is ReasonCode.PARENT_NOT_ACCESSIBLE


def test_a_child_assignable_under_an_assignable_parent_is_refused_by_C7_for_the_parent() -> None:
    """Deals are assigned themselves and sit under accounts: a deal in the member's
    scope (all) under an account out of it (another member's) is refused by C7."""
    schema = schema_with(
        deal={
            "label": "Deal",
            "parent": "account",
            "assignable": True,
            "assignee_action": "deals.be_assigned",
            "view_action": "deals.view",
        }
    )
    index = InMemoryRecordIndex(
        [
            Record("account", "a-bob", assignee="bob"),
            Record("account", "a-ann", assignee="ann"),
            Record("deal", "d1", parent=B),
            Record("deal", "d2", parent=A),
        ]
    )
    snap = compiled(
        schema, index, custom("deals", "editor", "extra.view", "accounts.own"), members=[Member("ann", "deals")]
    )
    assert snap.check("ann", "deals.view", ("deal", "d2")).allowed
    last = snap.check("ann", "deals.view", ("deal", "d1")).reasons[-1]
    assert (last.code, last.rule_id) == (ReasonCode.PARENT_NOT_ACCESSIBLE, None)  # no rule_ids: no seed rule
    assert last.message == "its account record is not accessible (assigned to someone else)"


def test_can_see_an_unknown_object_type_is_invalid(walk: Snapshot) -> None:
    with pytest.raises(InvalidRecordError, match="unknown object type 'planet'"):
        walk.can_see("ann", ("planet", "p1"))


def test_an_inactive_or_unknown_member_has_no_field_access(snap: Snapshot) -> None:
    assert snap.field_access("ivy", "account", "arr") is FieldAccess.NONE  # invited
    assert snap.field_decision("ivy", "account", "arr") is None
    assert snap.field_access("zed", "account", "arr") is FieldAccess.NONE  # unknown


def test_explaining_for_an_unknown_member_names_no_role(snap: Snapshot) -> None:
    lines = snap.explain("zed", "accounts.view").lines
    assert lines[0] == "DENIED: zed -> accounts.view (revision 7)"
    assert not any("holds role" in line for line in lines)


def test_reasons_print_as_their_message_and_decisions_as_their_verdict(snap: Snapshot) -> None:
    reason = Reason(ReasonCode.RECORD_NOT_FOUND, "gone")
    assert str(reason) == "gone"
    assert bool(snap.check("max", "accounts.view")) is True
    assert bool(snap.check("nil", "accounts.view")) is False


def test_filters_match_and_print_every_shape(records: InMemoryRecordIndex) -> None:
    assert MatchAll().matches(records, A)
    assert not MatchAll().matches(records, RecordRef("account", "nope"))
    assert not MatchNone().matches(records, A)
    both = Filter(
        "comment",
        (
            AssigneeFilter("ann", 2, ("task", "account"), Scope.ASSIGNED),
            AssigneeFilter("ann", 2, ("task", "account"), Scope.ASSIGNED | Scope.UNASSIGNED),
        ),
    )
    body = both.to_json()["filter"]
    assert isinstance(body, dict)
    assert body["op"] == "and"
    assert [arg["include"] for arg in body["args"]] == [["assigned"], ["assigned", "unassigned"]]
    assert both.matches(records, RecordRef("comment", "c-ann"))
    assert not both.matches(records, RecordRef("comment", "c-bob"))


def test_the_in_memory_index_deletes_and_counts() -> None:
    index = crm_records()
    assert len(index) == 6
    index.delete(A)
    index.delete(A)  # deleting what is gone is a no-op
    assert len(index) == 5
    assert index.get(A) is None


def test_a_role_at_an_unknown_level_does_not_compile(crm: ProductSchema) -> None:
    with pytest.raises(RolegateError, match="role 'odd' has unknown level 'giant'"):
        compiled(crm, InMemoryRecordIndex(), custom("odd", "giant"))


class HalfInMemory(LineageRecords):
    """An index that holds only the records of `held` in memory (`MemoryLineage`)."""

    def __init__(self, records: InMemoryRecordIndex, held: set[RecordRef]) -> None:
        super().__init__(records)
        self.held = held

    def lineage_in_memory(self, ref: RecordRef, depth: int) -> Sequence[Record | None] | None:
        chain = self.lineage(ref, depth)
        refs = [ref, *(r.parent for r in chain[:-1] if r is not None and r.parent is not None)]
        return chain if all(r in self.held for r in refs[: len(chain)]) else None


def test_check_in_memory_is_check_when_the_records_are_held_and_none_otherwise(crm: ProductSchema) -> None:
    roles = (custom("own", "editor", "accounts.own", "accounts.tasks"), custom("free", "viewer", "accounts.unassigned"))
    members = [Member("ann", "own"), Member("una", "free")]
    everything = {r.ref for r in crm_records()} | {RecordRef("account", "ghost"), RecordRef("account", "gone")}  # held as absent too
    held = compiled(crm, HalfInMemory(crm_records(), everything), *roles, members=members)
    nothing = compiled(crm, HalfInMemory(crm_records(), set()), *roles, members=members)
    plain = compiled(crm, crm_records(LineageRecords), *roles, members=members)
    refs = [A, B, U, RecordRef("task", "t-ann"), RecordRef("task", "t-bob"), RecordRef("task", "t-orphan"), RecordRef("account", "ghost")]
    for member in ("ann", "una", "nobody"):
        for action in ("accounts.view", "tasks.view"):
            for ref in refs:
                if ref.type != action.partition(".")[0][:-1]:
                    continue
                want = held.check(member, action, ref)
                assert held.check_in_memory(member, action, ref) == want
                needs_records = bool(held.check(member, action).plan)
                assert (nothing.check_in_memory(member, action, ref) is None) is needs_records
                assert (plain.check_in_memory(member, action, ref) is None) is needs_records  # no memory: always read
    with pytest.raises(InvalidRecordError):
        held.check_in_memory("ann", "accounts.view", RecordRef("task", "t-ann"))
    with pytest.raises(RolegateError):
        held.check_in_memory("ann", "accounts.fly", A)
