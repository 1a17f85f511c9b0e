"""A write's snapshot is compiled from the previous one (`compile_snapshot(previous=...)`,
issue 18: admin writes under a mixed load): only the roles that changed are compiled
again, the others reused with their decisions stamped with the new revision. Whatever
the edits, in every preset, it must decide exactly as a compile from scratch."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolegate.domain.roles import Member, MemberStatus, Role, RoleKind, role_from_system
from rolegate.domain.schema import AdminRight, ProductSchema
from rolegate.engine import Snapshot, compile_snapshot
from rolegate.presets import PRESET_KEYS, load_preset

EDITS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STATUSES = (MemberStatus.ACTIVE, MemberStatus.INVITED, MemberStatus.DISABLED)


def _start(schema: ProductSchema) -> tuple[dict[str, Role], list[Member]]:
    roles = {k: role_from_system(schema, r) for k, r in schema.system_roles.items()}
    # A custom role per level, so that edits have something to change grants on.
    for level in schema.levels:
        custom = replace(next(iter(roles.values())), id=f"custom-{level}", name=f"Custom {level}", level=level, grants=frozenset())
        roles[custom.id] = replace(custom, kind=RoleKind.CUSTOM, editable=True, deletable=True)
    members = [Member(f"m-{k}-{s.value}", k, s) for k in roles for s in STATUSES]
    return roles, members


def assert_same_decisions(schema: ProductSchema, got: Snapshot, want: Snapshot, members: list[Member]) -> None:
    assert got.revision == want.revision
    for m in [*(x.id for x in members), "nobody"]:
        for action in schema.actions:
            assert got.check(m, action) == want.check(m, action), (m, action)
        assert got.effective_permissions(m) == want.effective_permissions(m)
        for right in AdminRight:
            if right in schema.admin_actions:
                assert got.has_right(m, right) == want.has_right(m, right)
        for o, otype in schema.objects.items():
            assert got.readable_fields(m, o) == want.readable_fields(m, o)
            assert got.writable_fields(m, o) == want.writable_fields(m, o)
            for f in otype.fields:
                assert got.field_access(m, o, f) == want.field_access(m, o, f)


@pytest.mark.parametrize("preset", PRESET_KEYS)
@EDITS
@given(data=st.data())
def test_a_snapshot_compiled_from_the_previous_one_decides_as_a_fresh_compile(preset: str, data: st.DataObject) -> None:
    schema = load_preset(preset)
    features = schema.feature_defaults
    roles, members = _start(schema)
    previous = compile_snapshot(schema, features=features, roles=roles.values(), members=members, revision=1)
    permissions = sorted(schema.permissions)
    for revision in range(2, 2 + data.draw(st.integers(1, 4), label="edits")):
        if data.draw(st.booleans(), label="edit a role"):
            custom = sorted(k for k in roles if k.startswith("custom-"))
            role_id = data.draw(st.sampled_from(custom), label="role")
            grants = frozenset(data.draw(st.lists(st.sampled_from(permissions), max_size=6), label="grants"))
            roles[role_id] = replace(roles[role_id], grants=grants)
        else:
            k = data.draw(st.integers(0, len(members) - 1), label="member")
            role_id = data.draw(st.sampled_from(sorted(roles)), label="new role")
            status = data.draw(st.sampled_from(STATUSES), label="status")
            members[k] = Member(members[k].id, role_id, status)
        incremental = compile_snapshot(schema, features=features, roles=roles.values(), members=members, revision=revision, previous=previous)
        fresh = compile_snapshot(schema, features=features, roles=roles.values(), members=members, revision=revision)
        assert_same_decisions(schema, incremental, fresh, members)
        previous = incremental


def test_only_changed_roles_are_compiled_again() -> None:
    schema = load_preset("natero")
    roles, members = _start(schema)
    first = compile_snapshot(schema, features=schema.feature_defaults, roles=roles.values(), members=members, revision=1)
    changed = next(k for k in roles if k.startswith("custom-"))
    roles[changed] = replace(roles[changed], grants=frozenset(sorted(schema.permissions)[:1]))
    second = compile_snapshot(schema, features=schema.feature_defaults, roles=roles.values(), members=members, revision=2, previous=first)
    for role_id, compiled in second.compiled_roles.items():
        before = first.compiled_roles[role_id]
        assert all(d.revision == 2 for d in compiled.actions.values())
        # Reused: the same field tables (nothing there depends on the revision).
        assert (compiled.field_decisions is before.field_decisions) is (role_id != changed), role_id


def test_a_previous_snapshot_of_another_schema_object_is_not_reused() -> None:
    schema = load_preset("natero")
    roles, members = _start(schema)
    first = compile_snapshot(schema, features=schema.feature_defaults, roles=roles.values(), members=members, revision=1)
    other = replace(schema)  # equal, but another object: reuse is only for the very same schema
    second = compile_snapshot(other, features=other.feature_defaults, roles=roles.values(), members=members, revision=2, previous=first)
    assert all(second.compiled_roles[k].field_decisions is not first.compiled_roles[k].field_decisions for k in roles)
