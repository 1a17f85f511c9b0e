"""A form's fields that do not fit are refused under the form rule, never a seed rule."""

from __future__ import annotations

from rolegate.domain.violations import FORM_RULE, Violation, form_violations


def test_each_misfit_field_is_a_violation_of_the_form_rule() -> None:
    assert form_violations([("email: not an email", "Type an address."), ("name: empty", "Type a name.")]) == (
        Violation(FORM_RULE, "email: not an email", "Type an address."),
        Violation(FORM_RULE, "name: empty", "Type a name."),
    )
    assert form_violations([]) == ()
