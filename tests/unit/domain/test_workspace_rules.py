"""A workspace's settings as pure rules (E4, N1, K2), on the presets that state them."""

from __future__ import annotations

from dataclasses import replace

from rolegate.domain.rules.workspace_rules import capacity_violations, feature_violations, seat_key_violations
from rolegate.presets import load_preset

NATERO = load_preset("natero")
CATALYST = load_preset("catalyst")
EMAIL = load_preset("email_marketing")


def test_E4_only_the_products_features_are_turned_on() -> None:
    assert feature_violations(EMAIL, ["sms", "basic_crm"], fix="f") == []
    [v] = feature_violations(EMAIL, ["warp", "sms", "beam"], fix="Use one of sms.")
    assert (v.rule_id, v.message, v.fix) == ("E4", "Unknown features: beam, warp.", "Use one of sms.")


def test_N1_only_the_products_seats_have_a_capacity() -> None:
    assert seat_key_violations(NATERO, {"csm": 1, "analyst": None}, fix="f") == []
    [v] = seat_key_violations(NATERO, {"gold": 1}, fix="f")
    assert (v.rule_id, v.message) == ("N1", "Unknown seats: gold.")


def test_N1_K2_a_capacity_shrinks_only_down_to_the_seats_in_use() -> None:
    assert capacity_violations(NATERO, {"csm": 2, "analyst": None, "gold": 0}, used={"csm": 2}) == []
    [v] = capacity_violations(NATERO, {"csm": 1}, used={"csm": 2})
    assert (v.rule_id, v.message) == ("N1", "csm: 2 in use, capacity 1 is too small.")
    assert [v.rule_id for v in capacity_violations(CATALYST, {"editor": -1}, used={})] == ["K2"]  # the seat's own rule


def test_a_seat_without_a_rule_of_its_own_cites_the_products_capacity_rule() -> None:
    bare = replace(NATERO, seats={"csm": replace(NATERO.seats["csm"], rule=None)}, rule_ids={"seat_capacity": "X1"})
    assert [v.rule_id for v in capacity_violations(bare, {"csm": 0}, used={"csm": 1})] == ["X1"]
