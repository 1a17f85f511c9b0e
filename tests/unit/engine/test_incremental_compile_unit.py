"""A newer revision compiled from the previous snapshot (`compile_snapshot(previous=...)`,
issue 18): unchanged roles are reused with their decisions restamped, a changed role
is compiled again; the answers are those of a compile from scratch."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rolegate.domain.errors import UnknownActionError
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


def test_decisions_of_reused_roles_and_of_members_not_active_are_made_when_first_read() -> None:
    """A compile that reuses roles restamps none of their decisions, nor makes any for
    invited, disabled or unknown members, until a check reads them; what a check reads
    is what a compile from scratch answers, and a table still holds every action."""
    schema = load_preset("natero")
    roles = [role_from_system(schema, r) for r in schema.system_roles.values()]
    people = [Member(f"m-{r.id}", r.id, MemberStatus.ACTIVE) for r in roles] + [
        Member("m-invited", roles[0].id, MemberStatus.INVITED),
        Member("m-disabled", roles[0].id, MemberStatus.DISABLED),
    ]
    first = compile_snapshot(schema, roles=roles, members=people, revision=1)
    second = compile_snapshot(schema, roles=roles, members=people, revision=2, previous=first)
    third = compile_snapshot(schema, roles=roles, members=people, revision=3, previous=second)
    fresh = compile_snapshot(schema, roles=roles, members=people, revision=3)
    made = [role.actions._made for role in third.compiled_roles.values()]  # type: ignore[attr-defined]
    assert all(m == {} for m in made)
    for m in [p.id for p in people] + ["nobody"]:
        for action in schema.actions:
            assert third.check(m, action) == fresh.check(m, action), (m, action)
            assert third.check(m, action) is third.check(m, action)  # made once, then held
    kept = third.compiled_roles[roles[0].id]
    assert kept.actions.origin is first.compiled_roles[roles[0].id].actions  # type: ignore[attr-defined]
    assert list(kept.actions) == list(schema.actions)
    assert len(kept.actions) == len(schema.actions)
    assert dict(kept.actions.items()) == dict(fresh.compiled_roles[roles[0].id].actions.items())
    assert kept.actions == fresh.compiled_roles[roles[0].id].actions
    assert "no.such.action" not in kept.actions
    assert kept.actions.get("no.such.action") is None
    with pytest.raises(UnknownActionError):
        third.check("m-invited", "no.such.action")
    with pytest.raises(UnknownActionError):
        third.check(f"m-{roles[0].id}", "no.such.action")
    assert compile_snapshot(schema, roles=roles, members=people, revision=3, previous=third).compiled_roles[roles[0].id] is kept


def test_a_snapshot_says_each_members_status_and_none_for_a_stranger() -> None:
    schema = load_preset("natero")
    role = role_from_system(schema, next(iter(schema.system_roles.values())))
    people = [Member("m-a", role.id, MemberStatus.ACTIVE), Member("m-i", role.id, MemberStatus.INVITED), Member("m-d", role.id, MemberStatus.DISABLED)]
    snap = compile_snapshot(schema, roles=[role], members=people, revision=1)
    assert [snap.member_status(m) for m in ("m-a", "m-i", "m-d", "nobody")] == [MemberStatus.ACTIVE, MemberStatus.INVITED, MemberStatus.DISABLED, None]
