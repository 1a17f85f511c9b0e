"""A write authorizes its actor through a snapshot of the actor alone
(`WorkspaceState.member_snapshot`): it must decide exactly as the whole workspace's
snapshot does, for every right, permission and field, in every preset, for active,
invited, disabled and unknown members (issue 18: a write compiled every role while it
held the workspace's lock)."""

from __future__ import annotations

import pytest

from rolegate.domain.roles import Member, MemberStatus, role_from_system
from rolegate.domain.schema import AdminRight
from rolegate.domain.workspace import Workspace
from rolegate.engine import Snapshot, compile_snapshot
from rolegate.presets import PRESET_KEYS, load_preset
from rolegate.services.context import WorkspaceState


@pytest.mark.parametrize("preset", PRESET_KEYS)
def test_the_actors_own_snapshot_decides_as_the_whole_one(preset: str) -> None:
    schema = load_preset(preset)
    roles = {k: role_from_system(schema, r) for k, r in schema.system_roles.items()}
    statuses = [MemberStatus.ACTIVE, MemberStatus.INVITED, MemberStatus.DISABLED]
    members = [Member(f"m-{k}-{s.value}", k, s) for k in roles for s in statuses]
    ws = Workspace("w", "o", "W", preset, 1, schema.feature_defaults, {}, 7)
    whole = compile_snapshot(schema, features=ws.features, roles=roles.values(), members=members, revision=7)
    compiled: list[int] = []

    def compile_whole() -> Snapshot:
        compiled.append(1)
        return whole

    state = WorkspaceState(ws, schema, roles, members, compile_whole)
    for m in [*members, Member("nobody", "x")]:
        alone = state.member_snapshot(m.id)
        assert alone.revision == whole.revision
        for right in AdminRight:
            if right in schema.admin_actions:
                assert alone.has_right(m.id, right) == whole.has_right(m.id, right), (m, right)
        assert alone.effective_permissions(m.id) == whole.effective_permissions(m.id)
        for o, otype in schema.objects.items():
            for f in otype.fields:
                assert alone.field_access(m.id, o, f) == whole.field_access(m.id, o, f)
        assert state.member_snapshot(m.id) is alone  # compiled once per member
    assert compiled == []  # the whole snapshot was never compiled
    assert state.snapshot is whole
    assert state.member_snapshot(members[0].id) is whole  # once there, it serves everyone
