"""Field-level security, for random products, registries, roles and records (K5-K12):

- `filter_fields` (and `filter_records`) never return a field whose access is `none`,
  and return exactly the record's readable fields;
- `check_write` accepts exactly the writable fields of a change and names every other;

with access taken from the plain reference evaluator on the raw schema, to which the
registry is applied by hand (a naive peer of `apply_registry`).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from rolegate.domain.errors import NotFoundError
from rolegate.domain.field_registry import FieldRegistry, apply_registry
from rolegate.domain.roles import role_from_system
from rolegate.domain.schema import FieldAccess
from rolegate.engine import compile_snapshot
from tests.property.reference import ref_member_field_access
from tests.strategies import SYSTEM_ROLE, FieldWorld, field_worlds

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def naive_registry(data: dict[str, Any], registry: FieldRegistry) -> dict[str, Any]:
    """The raw schema with the host's objects, fields, conversions and caps, by hand."""
    out = copy.deepcopy(data)
    for obj in registry.objects:
        out["objects"].setdefault(obj.key, {"label": obj.label, "fields": {}})
    for f in registry.fields:
        spec = out["objects"][f.object_type].setdefault("fields", {})
        if f.name not in spec:
            spec[f.name] = {"label": f.label} | ({"synced_from": f.synced_from} if f.synced_from else {})
        elif f.synced_from is not None:
            spec[f.name]["synced_from"] = f.synced_from
        synced = spec[f.name].get("synced_from")
        if synced is not None and f.integration_access is not None:
            out["integrations"][synced].setdefault("field_caps", {})[f"{f.object_type}.{f.name}"] = f.integration_access.label
    return out


@PROPERTY
@given(field_worlds())
def test_K12_filter_fields_never_returns_a_field_without_access_and_K11_check_write_accepts_exactly_the_writable(fw: FieldWorld) -> None:
    world = fw.world
    schema = apply_registry(world.schema, fw.registry)
    # The system role is rebuilt from the extended schema, as a workspace's would be.
    roles = [role_from_system(schema, schema.system_roles[SYSTEM_ROLE]) if r.id == SYSTEM_ROLE else r for r in world.roles]
    snap = compile_snapshot(schema, features=world.features, roles=roles, members=world.members)
    raw = naive_registry(world.data, fw.registry)
    declared = raw["objects"]

    def access(member: str, obj: str, field: str) -> FieldAccess:
        if field not in declared[obj].get("fields", {}):
            return FieldAccess.NONE  # undeclared: nobody configured it (K8)
        return ref_member_field_access(raw, roles, world.members, member, obj, field)

    known = {m.id for m in world.members}
    for page in fw.pages:
        if page.member not in known:  # a member id not of the workspace: 404 in every field decision
            with pytest.raises(NotFoundError):
                snap.filter_records(page.member, page.object_type, page.records)
            with pytest.raises(NotFoundError):
                snap.check_write(page.member, page.object_type, page.changes)
            continue
        filtered = snap.filter_records(page.member, page.object_type, page.records)
        assert len(filtered) == len(page.records)
        for record, out in zip(page.records, filtered, strict=True):
            assert out == snap.filter_fields(page.member, page.object_type, record)
            for key in out:
                assert access(page.member, page.object_type, key) is not FieldAccess.NONE, key
            assert set(out) == {k for k in record if access(page.member, page.object_type, k) >= FieldAccess.READ}
            assert all(out[k] == record[k] for k in out)
        result = snap.check_write(page.member, page.object_type, page.changes)
        expected = [k for k in dict.fromkeys(page.changes) if access(page.member, page.object_type, k) is FieldAccess.WRITE]
        assert list(result.writable) == expected
        assert result.allowed == (len(expected) == len(set(page.changes)))
        assert set(result.refused_fields) == set(page.changes) - set(expected)
        for refusal in result.refused:
            assert refusal.access is access(page.member, page.object_type, refusal.field)
            assert refusal.rule_id
        visible = snap.visible_fields(page.member, page.object_type)
        assert visible.readable == {k for k in declared[page.object_type].get("fields", {}) if access(page.member, page.object_type, k) >= FieldAccess.READ}
        assert visible.writable <= visible.readable
