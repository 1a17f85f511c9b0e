"""A newer revision compiled from the previous snapshot (`compile_snapshot(previous=...)`,
issue 18): unchanged roles are reused with their decisions restamped, a changed role
is compiled again; the answers are those of a compile from scratch."""

from __future__ import annotations

from dataclasses import replace

from rolegate.domain.roles import Member, MemberStatus, role_from_system
from rolegate.engine import compile_snapshot
from rolegate.presets import load_preset


def test_unchanged_roles_are_reused_restamped_and_a_changed_one_is_compiled_again() -> None:
    schema = load_preset("natero")
    roles = {k: role_from_system(schema, r) for k, r in schema.system_roles.items()}
    members = [Member(f"m-{k}", k, MemberStatus.ACTIVE) for k in roles]
    features = schema.feature_defaults
    first = compile_snapshot(schema, features=features, roles=roles.values(), members=members, revision=1)
    assert set(first.compiled_roles) == set(roles)
    changed_key = next(k for k, r in roles.items() if r.grants)
    changed = replace(roles[changed_key], grants=frozenset())
    edited = {**roles, changed_key: changed}
    second = compile_snapshot(schema, features=features, roles=edited.values(), members=members, revision=2, previous=first)
    fresh = compile_snapshot(schema, features=features, roles=edited.values(), members=members, revision=2)
    for key in roles:
        assert second.compiled_roles[key].role == fresh.compiled_roles[key].role
        for action in schema.actions:
            assert second.check(f"m-{key}", action) == fresh.check(f"m-{key}", action)
            assert second.check(f"m-{key}", action).revision == 2
    assert second.compiled_roles[changed_key] is not first.compiled_roles[changed_key]
    kept = next(k for k in roles if k != changed_key)
    assert second.compiled_roles[kept].role is first.compiled_roles[kept].role
    # Reused, not compiled again: its decisions keep the very reasons of the first compile
    # (a fresh compile builds new ones), only their revision restamped.
    reused = {a: d.reasons for a, d in second.compiled_roles[kept].actions.items()}
    earlier = {a: d.reasons for a, d in first.compiled_roles[kept].actions.items()}
    assert all(reused[a] is earlier[a] for a in earlier)
    assert not all(fresh.compiled_roles[kept].actions[a].reasons is earlier[a] for a in earlier if earlier[a])
    # The same revision again: a reused role needs no restamping.
    third = compile_snapshot(schema, features=features, roles=edited.values(), members=members, revision=2, previous=second)
    assert third.compiled_roles[kept] is second.compiled_roles[kept]


def test_another_feature_set_compiles_every_role_again() -> None:
    schema = load_preset("email_marketing")
    roles = {k: role_from_system(schema, r) for k, r in schema.system_roles.items()}
    first = compile_snapshot(schema, features=frozenset(), roles=roles.values(), members=[], revision=1)
    second = compile_snapshot(schema, features=frozenset(schema.features), roles=roles.values(), members=[], revision=2, previous=first)
    assert all(second.compiled_roles[k] is not first.compiled_roles[k] for k in roles)


def test_the_tables_of_members_not_active_are_shared_by_compiles_of_one_revision() -> None:
    """A write compiles the acting member's snapshot, then the whole one: at one revision
    they share the tables of invited, disabled and unknown members; at another they do
    not (each decision carries its revision)."""
    schema = load_preset("natero")
    roles = [role_from_system(schema, r) for r in schema.system_roles.values()]
    invited = [Member("m-invited", roles[0].id, MemberStatus.INVITED)]
    one = compile_snapshot(schema, roles=roles, members=invited, revision=7)
    two = compile_snapshot(schema, roles=roles[:1], members=invited, revision=7)
    later = compile_snapshot(schema, roles=roles, members=invited, revision=8)
    action = next(iter(schema.actions))
    assert one.check("m-invited", action) is two.check("m-invited", action)
    assert one.check("nobody", action) is two.check("nobody", action)
    assert later.check("m-invited", action) == replace(one.check("m-invited", action), revision=8)
    assert not one.check("m-invited", action).allowed
    other = load_preset("telephony")  # another schema: its own tables, never another's
    assert compile_snapshot(other, roles=[], members=[], revision=7).check("nobody", next(iter(other.actions))).action in other.actions
    for k in range(20):  # more revisions than are held: the oldest go, answers stay right
        snap = compile_snapshot(schema, roles=roles, members=invited, revision=100 + k)
        assert snap.check("m-invited", action).revision == 100 + k


def test_a_snapshot_says_each_members_status_and_none_for_a_stranger() -> None:
    schema = load_preset("natero")
    role = role_from_system(schema, next(iter(schema.system_roles.values())))
    people = [Member("m-a", role.id, MemberStatus.ACTIVE), Member("m-i", role.id, MemberStatus.INVITED), Member("m-d", role.id, MemberStatus.DISABLED)]
    snap = compile_snapshot(schema, roles=[role], members=people, revision=1)
    assert [snap.member_status(m) for m in ("m-a", "m-i", "m-d", "nobody")] == [MemberStatus.ACTIVE, MemberStatus.INVITED, MemberStatus.DISABLED, None]
