"""A snapshot rebuilt from its document (`engine.snapshot_from_document`, what the SDK
does after `GET .../snapshot`) decides exactly as the snapshot the server compiles:
check, explain, lookup and the field decisions, over the five presets with random
roles, members, features and records, and over random schemas with a field registry."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolegate.domain.errors import NotFoundError
from rolegate.domain.field_registry import FieldRegistry, apply_registry
from rolegate.domain.roles import Member, MemberStatus, Role, RoleKind, role_from_system
from rolegate.domain.schema import ProductSchema
from rolegate.engine import (
    InMemoryRecordIndex,
    Record,
    RecordRef,
    Snapshot,
    compile_snapshot,
    snapshot_document,
    snapshot_from_document,
)
from rolegate.presets import load_preset
from rolegate.presets.loader import PRESET_KEYS, load_yaml
from tests.strategies import FieldWorld, field_worlds

PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

_SOURCES: dict[str, Any] = {k: load_yaml(resources.files("rolegate.presets").joinpath(f"{k}.yaml").read_text(encoding="utf-8")) for k in PRESET_KEYS}


def same_decisions(original: Snapshot, rebuilt: Snapshot, members: list[str], records: list[RecordRef]) -> None:
    schema = original.schema
    assert rebuilt.revision == original.revision
    for member in members:
        for action, act in schema.actions.items():
            assert rebuilt.check(member, action) == original.check(member, action)
            assert rebuilt.explain(member, action).lines == original.explain(member, action).lines
            if act.object_type is not None:
                assert rebuilt.lookup(member, action, act.object_type).to_json() == original.lookup(member, action, act.object_type).to_json()
                for ref in records:
                    if ref.type == act.object_type:
                        assert rebuilt.check(member, action, ref) == original.check(member, action, ref)
        for okey, otype in schema.objects.items():
            row: dict[str, Any] = dict.fromkeys(otype.fields, 1) | {"stray": 2}
            if original.role_of(member) is None:  # not a member: both refuse alike
                with pytest.raises(NotFoundError):
                    original.filter_fields(member, okey, row)
                with pytest.raises(NotFoundError):
                    rebuilt.filter_fields(member, okey, row)
                continue
            expected = original.filter_fields(member, okey, row)
            assert rebuilt.filter_fields(member, okey, row) == expected
            assert rebuilt.check_write(member, okey, row) == original.check_write(member, okey, row)


def round_trip(doc: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(doc))
    return out


@st.composite
def preset_workspaces(draw: st.DrawFn) -> tuple[str, ProductSchema, frozenset[str], list[Role], list[Member], list[Record]]:
    key = draw(st.sampled_from(PRESET_KEYS))
    schema = load_preset(key)
    features = frozenset(draw(st.lists(st.sampled_from(sorted(schema.features)), unique=True))) if schema.features else frozenset()
    roles = [role_from_system(schema, sr) for sr in schema.system_roles.values()]
    perms = sorted(schema.permissions)
    levels = sorted(schema.levels)
    for i in range(draw(st.integers(0, 3))):
        grants = frozenset(draw(st.lists(st.sampled_from(perms), unique=True, max_size=12)))
        roles.append(Role(id=f"custom{i}", name=f"Custom {i}", kind=RoleKind.CUSTOM, level=draw(st.sampled_from(levels)), grants=grants))
    members = [
        Member(f"m{i}", draw(st.sampled_from([r.id for r in roles])), draw(st.sampled_from(list(MemberStatus))))
        for i in range(draw(st.integers(1, 5)))
    ]
    records: list[Record] = []
    for okey, otype in schema.objects.items():
        if otype.parent is None and otype.assignable:
            for j, assignee in enumerate((None, members[0].id, "someone-else")):
                records.append(Record(okey, f"{okey}-{j}", assignee=assignee))
    return key, schema, features, roles, members, records


@PROPERTY
@given(preset_workspaces(), st.integers(0, 10_000))
def test_presets_decide_the_same_from_the_document(workspace: tuple[str, ProductSchema, frozenset[str], list[Role], list[Member], list[Record]], revision: int) -> None:
    key, schema, features, roles, members, records = workspace
    index = InMemoryRecordIndex(records)
    original = compile_snapshot(schema, features=features, roles=roles, members=members, records=index, revision=revision)
    doc = snapshot_document(
        workspace_id="ws", revision=revision, schema_source=_SOURCES[key], registry=FieldRegistry(), features=features, roles=roles, members=members
    )
    rebuilt = snapshot_from_document(round_trip(doc), records=index)
    same_decisions(original, rebuilt, [m.id for m in members] + ["not-a-member"], [RecordRef(r.type, r.id) for r in records])


@PROPERTY
@given(field_worlds())
def test_random_schemas_with_a_registry_decide_the_same(fw: FieldWorld) -> None:
    world = fw.world
    index = InMemoryRecordIndex(world.records)
    schema = apply_registry(world.schema, fw.registry)
    original = compile_snapshot(schema, features=world.features, roles=world.roles, members=world.members, records=index, revision=3)
    doc = snapshot_document(
        workspace_id="ws", revision=3, schema_source=world.data, registry=fw.registry, features=world.features, roles=world.roles, members=world.members
    )
    rebuilt = snapshot_from_document(round_trip(doc), records=index)
    same_decisions(original, rebuilt, world.member_ids, [RecordRef(r.type, r.id) for r in world.records])
