"""The compiled engine agrees with the naive reference evaluator (DESIGN.md, Testing).

Random product schemas, roles, members, records and queries (tests/strategies.py);
every comparison goes through the engine's public API only.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from rolegate.domain.errors import NotFoundError
from rolegate.domain.schema import FieldAccess, Scope
from rolegate.engine import InMemoryRecordIndex, RecordRef, Snapshot, compile_snapshot
from tests.property.reference import (
    ref_check,
    ref_member_effective,
    ref_member_field_access,
)
from tests.strategies import MISSING_ID, World, worlds

PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def snapshot(world: World) -> tuple[Snapshot, InMemoryRecordIndex]:
    index = InMemoryRecordIndex(world.records)
    snap = compile_snapshot(
        world.schema, features=world.features, roles=world.roles, members=world.members, records=index
    )
    return snap, index


def reference(world: World, member: str, action: str, record: RecordRef | None) -> tuple[bool, Scope]:
    return ref_check(world.data, world.features, world.roles, world.members, world.records, member, action, record)


def object_actions(world: World) -> list[tuple[str, str]]:
    return [(a, spec["object"]) for a, spec in world.data["actions"].items() if spec.get("object") is not None]


@PROPERTY
@given(worlds())
def test_random_queries(world: World) -> None:
    snap, _ = snapshot(world)
    for q in world.queries:
        decision = snap.check(q.member, q.action, q.record)
        expected = reference(world, q.member, q.action, q.record)
        assert (decision.allowed, decision.scope) == expected, (q, decision)


@PROPERTY
@given(worlds())
def test_check_without_record(world: World) -> None:
    snap, _ = snapshot(world)
    for member in world.member_ids:
        for action in world.data["actions"]:
            decision = snap.check(member, action)
            expected = reference(world, member, action, None)
            assert (decision.allowed, decision.scope) == expected, (member, action, decision)


@PROPERTY
@given(worlds())
def test_check_with_record(world: World) -> None:
    snap, _ = snapshot(world)
    for member in world.member_ids:
        for action, object_type in object_actions(world):
            refs = [r.ref for r in world.records_of(object_type)] + [RecordRef(object_type, MISSING_ID)]
            for ref in refs:
                decision = snap.check(member, action, ref)
                expected = reference(world, member, action, ref)
                assert decision.allowed == expected[0], (member, action, ref, decision)
                if not decision.allowed:
                    assert decision.scope == Scope.NONE


@PROPERTY
@given(worlds())
def test_lookup_agrees_with_check(world: World) -> None:
    snap, index = snapshot(world)
    for member in world.member_ids:
        for action, object_type in object_actions(world):
            found = snap.lookup(member, action, object_type)
            for rec in world.records_of(object_type):
                allowed = snap.check(member, action, rec.ref).allowed
                assert found.matches(index, rec.ref) == allowed, (member, action, rec, found)
                assert allowed == reference(world, member, action, rec.ref)[0]


@PROPERTY
@given(worlds())
def test_field_access_and_filter_fields(world: World) -> None:
    snap, _ = snapshot(world)
    for member in world.member_ids:
        for object_type, spec in world.data["objects"].items():
            fields = list(spec.get("fields", {}))
            readable = set()
            for field in fields:
                expected = ref_member_field_access(world.data, world.roles, world.members, member, object_type, field)
                assert snap.field_access(member, object_type, field) == expected, (member, object_type, field)
                if expected >= FieldAccess.READ:
                    readable.add(field)
            row = {f: f"value of {f}" for f in fields} | {"undeclared": 1}
            if member not in {m.id for m in world.members}:
                with pytest.raises(NotFoundError):  # a member id not of the workspace: 404
                    snap.filter_fields(member, object_type, row)
                continue
            filtered = snap.filter_fields(member, object_type, row)
            assert set(filtered) == readable
            assert all(snap.field_access(member, object_type, f) >= FieldAccess.READ for f in filtered)
            assert all(filtered[f] == row[f] for f in filtered)


@PROPERTY
@given(worlds())
def test_effective_permissions(world: World) -> None:
    snap, _ = snapshot(world)
    for member in world.member_ids:
        expected = ref_member_effective(world.data, world.features, world.roles, world.members, member)
        assert set(snap.effective_permissions(member)) == expected, member
