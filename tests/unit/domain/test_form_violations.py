"""A form whose shape is wrong is refused by the form rule, one violation per field."""

from __future__ import annotations

from rolegate.domain.violations import FORM_RULE, form_violations


def test_each_problem_of_a_form_is_a_violation_of_the_form_rule() -> None:
    found = form_violations([("name: too long", "Use at most 200 characters."), ("level: unknown", "Pick a level.")])
    assert [(v.rule_id, v.message, v.fix) for v in found] == [
        (FORM_RULE, "name: too long", "Use at most 200 characters."),
        (FORM_RULE, "level: unknown", "Pick a level."),
    ]
