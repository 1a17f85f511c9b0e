"""Rules on the paths the preset tests do not take: a guardian by admin right (N12),
disabled members in guardian and seat counts, refusals of unknown objects, fields,
levels and integrations, and the registry's own lookups."""

from __future__ import annotations

import pytest

from rolegate.domain.field_registry import FieldRegistry, RegisteredField, RegisteredObject, apply_registry
from rolegate.domain.fields import field_access, field_decision
from rolegate.domain.permissions import role_permissions
from rolegate.domain.roles import Member, MemberStatus, Role, RoleKind
from rolegate.domain.rules.field_rules import field_addition_violations, integration_access_violations
from rolegate.domain.rules.role_rules import role_violations
from rolegate.domain.rules.team_rules import assignee_violations, guardians_after, is_guardian
from rolegate.domain.schema import AdminRight, FieldAccess, Guardian, Scope
from rolegate.domain.seats import seat_holders
from rolegate.presets import load_preset


def role(role_id: str, level: str, *grants: str, kind: RoleKind = RoleKind.CUSTOM) -> Role:
    return Role(id=role_id, name=role_id.title(), kind=kind, level=level, grants=frozenset(grants))


def test_natero_guardians_are_the_members_who_may_configure_users_N12() -> None:
    natero = load_preset("natero")
    admin = role("admin", "csm", *natero.permissions)
    csm = role("csm", "csm", "accounts.csm_seat")
    assert natero.guardian.right is AdminRight.MANAGE_MEMBERS
    assert is_guardian(natero, admin, role_permissions(natero, admin, frozenset()))
    assert not is_guardian(natero, csm, role_permissions(natero, csm, frozenset()))
    members = [Member("a", "admin"), Member("b", "admin", MemberStatus.DISABLED), Member("c", "csm")]
    assert guardians_after(natero, members, {"admin": admin, "csm": csm}, frozenset()) == {"a"}


def test_a_disabled_member_holds_no_seat_and_a_role_without_a_seat_takes_none() -> None:
    telephony = load_preset("telephony")
    level = next(iter(telephony.levels))
    r = role("r", level)
    members = [Member("a", "r"), Member("b", "r", MemberStatus.DISABLED), Member("c", "r", MemberStatus.INVITED)]
    holders = seat_holders(telephony, {"r": r}, members)
    assert sum(h.used for h in holders.values()) == (2 if telephony.levels[level].seat else 0)


def test_a_guardian_describes_itself() -> None:
    assert Guardian("N12", right=AdminRight.MANAGE_MEMBERS).label == "member with the manage_members right"
    assert Guardian("T11", level="owner").label == "member at level 'owner'"
    assert Guardian("C4", role="administrator").label == "member with role 'administrator'"


def test_scope_labels() -> None:
    assert Scope.NONE.label == "none"
    assert Scope.ALL.label == "all"
    assert Scope.ASSIGNED.label == "assigned"


def test_a_product_with_chosen_levels_needs_a_level() -> None:
    telephony = load_preset("telephony")
    with pytest.raises(ValueError, match="a level must be chosen"):
        telephony.level_for(None, frozenset())


def test_a_role_at_an_unknown_level_is_refused_and_checked_no_further() -> None:
    natero = load_preset("natero")
    violations = role_violations(natero, role("odd", "giant", "accounts.csm_seat"), frozenset())
    assert [(v.rule_id, v.message) for v in violations] == [("unknown_key", "Unknown level 'giant'.")]


def test_only_assignable_records_have_assignees_N9() -> None:
    natero = load_preset("natero")
    [v] = assignee_violations(natero, object_type="task", member="m", effective=frozenset(), active=True)
    assert (v.rule_id, v.message) == ("N9", "Task records are not assigned to members.")


def test_a_field_needs_a_label_and_an_integration_cap_a_known_field_K6_K9() -> None:
    catalyst = load_preset("catalyst")
    assert [(v.rule_id, v.message) for v in field_addition_violations(catalyst, "account", "budget", "  ")] == [
        ("K6", "A field needs a label.")
    ]
    [v] = integration_access_violations(catalyst, "account", "nope", "read")
    assert (v.rule_id, v.message) == ("K9", "Unknown field account.nope.")
    [v] = integration_access_violations(catalyst, "planet", "name", "read")
    assert v.message == "Unknown field planet.name."


def test_the_registry_finds_its_fields_and_skips_fields_of_unknown_objects() -> None:
    catalyst = load_preset("catalyst")
    budget = RegisteredField("project", "budget", "Budget", added=True)
    stray = RegisteredField("planet", "mass", "Mass", added=True)
    registry = FieldRegistry(
        objects=(RegisteredObject("project", "Project"), RegisteredObject("account", "Account again")),
        fields=(budget, stray),
    )
    assert registry.field("project", "budget") is budget
    assert registry.field("project", "nope") is None
    schema = apply_registry(catalyst, registry)
    assert "budget" in schema.objects["project"].fields
    assert "planet" not in schema.objects
    assert schema.objects["account"].label == catalyst.objects["account"].label  # a known object keeps its own


def test_field_access_is_the_decision_s_access() -> None:
    catalyst = load_preset("catalyst")
    reader = Role(
        id="r",
        name="R",
        kind=RoleKind.CUSTOM,
        level="standard",
        grants=frozenset(),
        field_access={("account", "arr"): FieldAccess.READ},
    )
    decision = field_decision(catalyst, reader, "account", "arr")
    assert field_access(catalyst, reader, "account", "arr") is decision.access
