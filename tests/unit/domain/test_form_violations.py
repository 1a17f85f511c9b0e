"""A form whose fields do not fit is refused under the form rule, never a seed rule."""

from __future__ import annotations

from rolegate.domain.violations import FORM_RULE, form_violations


def test_form_violations_carry_the_form_rule_with_each_message_and_fix() -> None:
    found = form_violations([("Email: not an email address.", "Enter an email address.")])
    assert [(v.rule_id, v.message, v.fix) for v in found] == [
        (FORM_RULE, "Email: not an email address.", "Enter an email address.")
    ]
    assert form_violations([]) == ()
