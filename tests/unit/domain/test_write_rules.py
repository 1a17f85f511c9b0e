"""The checks a write runs under the workspace lock only when they can refuse it
(issue 18: fewer reads per write): N6/N9 count assigned records only for the object
types a change could leave without an assignee, N8 compares names in memory."""

from __future__ import annotations

from dataclasses import replace

from rolegate.domain.permissions import effective_permissions
from rolegate.domain.roles import role_from_system
from rolegate.domain.rules.role_rules import loses_assignee_action, role_name_taken
from rolegate.domain.rules.team_rules import unassignable_types
from rolegate.domain.words import plural_of
from rolegate.presets import load_preset


def _eff(preset: str, key: str) -> frozenset[str]:
    schema = load_preset(preset)
    role = role_from_system(schema, schema.system_roles[key])
    return effective_permissions(schema, role.level, role.grants, frozenset())


def test_N9_only_the_types_the_new_role_cannot_hold_are_counted() -> None:
    natero = load_preset("natero")
    assert unassignable_types(natero, _eff("natero", "csm")) == []
    assert unassignable_types(natero, _eff("natero", "guest")) == ["account"]


def test_N6_only_a_change_that_takes_the_assignee_action_away_needs_the_holders_counted() -> None:
    natero = load_preset("natero")
    csm, guest = _eff("natero", "csm"), _eff("natero", "guest")
    assert loses_assignee_action(natero, csm, guest)
    assert not loses_assignee_action(natero, guest, csm)
    assert not loses_assignee_action(natero, csm, csm)


def test_N8_a_name_is_taken_as_the_store_keys_it_except_by_the_role_itself() -> None:
    natero = load_preset("natero")
    roles = [role_from_system(natero, r) for r in natero.system_roles.values()]
    csm = next(r for r in roles if r.id == "csm")
    assert role_name_taken(roles, f"  {csm.name.upper()} ")
    assert not role_name_taken(roles, csm.name, except_id=csm.id)
    assert not role_name_taken([replace(csm, name="Renewals")], "CSM")


def test_an_empty_word_has_an_empty_plural() -> None:
    assert plural_of("") == ""
