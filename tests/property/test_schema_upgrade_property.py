"""Schema upgrades, as properties (issue 19), for every preset and its version 2
(tests/fixtures/upgrades/<preset>_v2.yaml: a renamed, a split and a replaced
permission, a new feature, object with fields, action, area, permission, seat type and
level): for random custom roles, members and features,

- every member's effective permissions and field access after the upgrade equal those
  a snapshot compiled from scratch on the new schema with the migrated roles gives;
- nobody loses anything (the fixtures remove nothing without a replacement): what a
  member held, under its new key, is still effective;
- K8: no new object or field reaches a custom role of a level that hands nothing out
  to unconfigured fields (Standard, Limited).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolegate.domain.fields import role_field_access
from rolegate.domain.permissions import role_permissions
from rolegate.domain.roles import Member, MemberStatus, Role, RoleKind, role_from_system
from rolegate.domain.schema import FieldAccess, LevelMode, ProductSchema
from rolegate.domain.schema_upgrade import KeyMap, upgrade_workspace
from rolegate.engine import compile_snapshot
from rolegate.presets import PRESET_KEYS, load_preset, load_schema_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "upgrades"


def _v2(key: str) -> ProductSchema:
    return load_schema_file(FIXTURES / f"{key}_v2.yaml")


@st.composite
def workspaces(draw: st.DrawFn, old: ProductSchema) -> tuple[dict[str, Role], list[Member], frozenset[str]]:
    roles = {k: role_from_system(old, s, role_id=k) for k, s in old.system_roles.items()}
    if old.custom_roles_allowed:
        for i in range(draw(st.integers(0, 4))):
            level = draw(st.sampled_from(old.custom_role_levels)) if old.level_mode is LevelMode.CHOSEN else None
            pool = sorted(p for p, perm in old.permissions.items() if not perm.system_only)
            grants = frozenset(draw(st.lists(st.sampled_from(pool), max_size=len(pool), unique=True)))
            fields = sorted((o, f) for o, obj in old.objects.items() for f in obj.fields)
            chosen = draw(st.lists(st.sampled_from(fields), unique=True, max_size=6)) if fields else []
            access = {k: draw(st.sampled_from(list(FieldAccess))) for k in chosen}
            rid = f"custom-{i}"
            roles[rid] = Role(rid, f"Custom {i}", RoleKind.CUSTOM, old.level_for(level, grants), grants, field_access=access)
    members = [
        Member(f"m-{rid}-{j}", rid, draw(st.sampled_from(list(MemberStatus))))
        for rid in roles
        for j in range(draw(st.integers(1, 2)))
    ]
    features = frozenset(draw(st.lists(st.sampled_from(sorted(old.features)), unique=True))) if old.features else frozenset()
    return roles, members, features


@pytest.mark.parametrize("key", PRESET_KEYS)
def test_an_upgrade_equals_the_new_schema_from_scratch_loses_nothing_and_keeps_k8(key: str) -> None:
    old, new = load_preset(key), _v2(key)
    keys = KeyMap(old, new)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(workspaces(old))
    def check(ws: tuple[dict[str, Role], list[Member], frozenset[str]]) -> None:
        roles, members, features = ws
        up = upgrade_workspace(
            old, new, roles=roles, system_keys={k: k for k in old.system_roles}, members=members,
            features=features, seat_capacities=dict.fromkeys(old.seats),
        )
        assert up.problems == ()
        assert up.k8 == ()
        snap = compile_snapshot(new, features=up.features, roles=up.roles.values(), members=members)
        fields = [(o, f) for o, obj in new.objects.items() for f in obj.fields]
        active = {m.id for m in members if m.is_active}
        for change in up.member_changes:
            if change.member_id in active:  # the engine decides nothing for an invited or disabled member
                assert change.permissions == snap.effective_permissions(change.member_id)
                for o, f in fields:
                    assert change.field_access[(o, f)] == snap.field_access(change.member_id, o, f)
            # No loss: what the member held, under its new key, is still effective.
            held = role_permissions(old, roles[change.role_id], features)
            assert keys.permissions(held) <= change.permissions
            assert change.lost == ()
            # Field access held on a field that still exists is kept.
            before = keys.fields(role_field_access(old, roles[change.role_id]))
            for field, access in before.items():
                assert change.field_access[field] >= access, (change.role_id, field)
        # K8, checked directly: custom roles of a level that hands nothing out get
        # nothing of a new field beyond the read every default field gives (K7).
        for rid, role in up.roles.items():
            if role.is_system or new.levels[role.level].new_field_access is not FieldAccess.NONE:
                continue
            reach = role_field_access(new, up.roles[rid])
            for o, f in keys.new_fields():
                floor = FieldAccess.READ if new.objects[o].fields[f].default else FieldAccess.NONE
                assert reach[(o, f)] <= floor

    check()


def test_the_fixtures_exercise_every_kind_of_change() -> None:
    for key in PRESET_KEYS:
        old, new = load_preset(key), _v2(key)
        lin = new.lineage
        assert new.version == old.version + 1
        assert any(k == "permission" for k, _ in lin.renamed), key
        assert lin.split, key
        assert any(v is not None for v in lin.removed.values()), key
        assert set(new.levels) - set(old.levels) - set(lin.renamed.values()), key
        assert set(new.objects) - set(old.objects), key
        assert set(new.seats) - set(old.seats), key
        assert set(new.features) - set(old.features), key
        assert set(new.permissions) - set(old.permissions) - set(lin.renamed.values()), key
