"""Rules about fields as pure functions: no escalation through a synced field's
integration cap (K9 with Catalyst's escalation rule, K13)."""

from __future__ import annotations

from rolegate.domain.rules.field_rules import integration_access_escalation_violations
from rolegate.domain.schema import FieldAccess
from rolegate.presets import load_preset

CATALYST = load_preset("catalyst")
NONE, READ, WRITE = FieldAccess.NONE, FieldAccess.READ, FieldAccess.WRITE


def test_K9_raising_the_integration_cap_beyond_what_the_actor_holds_is_refused() -> None:
    (v,) = integration_access_escalation_violations(CATALYST, "account", "contract_value", before=READ, after=WRITE, actor_access=READ)
    assert v.rule_id == CATALYST.rule("escalation") == "K13"
    assert v.message == (
        "Raising what the Salesforce integration user may do on Account: Contract Value from read to write would let roles write it, "
        "and you can only read it yourself."
    )
    assert "K13" not in v.message  # customers read the words; the rule id travels beside them
    assert v.fix.startswith("Leave it at read, or ask a member whose role can write that field")


def test_K9_an_actor_who_holds_part_of_the_raise_is_told_how_far_they_may_go() -> None:
    (v,) = integration_access_escalation_violations(CATALYST, "account", "arr", before=NONE, after=WRITE, actor_access=READ)
    assert "from none to write" in v.message
    assert v.fix.startswith("Raise it at most to read,")
    (hidden,) = integration_access_escalation_violations(CATALYST, "account", "arr", before=NONE, after=READ, actor_access=NONE)
    assert "you cannot see it yourself" in hidden.message
    assert hidden.fix.startswith("Leave it at none,")


def test_K9_lowering_keeping_or_raising_within_the_actors_own_access_hands_out_nothing() -> None:
    check = integration_access_escalation_violations
    assert check(CATALYST, "account", "arr", before=WRITE, after=READ, actor_access=NONE) == []  # lowering
    assert check(CATALYST, "account", "arr", before=READ, after=READ, actor_access=NONE) == []  # keeping
    assert check(CATALYST, "account", "arr", before=READ, after=WRITE, actor_access=WRITE) == []  # held
    assert check(CATALYST, "account", "arr", before=NONE, after=READ, actor_access=READ) == []


def test_K8_a_new_custom_role_starts_with_the_standard_objects_as_level_and_integration_allow() -> None:
    from rolegate.domain.fields import new_role_field_access

    standard = new_role_field_access(CATALYST, "standard")
    assert standard[("account", "arr")] == WRITE
    assert standard[("account", "contract_value")] == READ  # K9: the integration user reads only
    assert not any(obj == "custom_object" for obj, _ in standard)  # K8: additional objects unselected
    assert set(new_role_field_access(CATALYST, "limited").values()) == {READ}  # K1: Limited reads

