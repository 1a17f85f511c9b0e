"""A rule's refusal: which rule, what is wrong, and what to do instead.

Rules are functions of the domain that return violations; a use case raises them
with `raise_if` (nothing to refuse: it goes on) or `refuse` (a path that cannot go
on). The rule id comes from the product schema (`schema.rule(name)`), never a literal
outside the domain. `rule_id` is the product's own seed rule (`T9`) or, where its article
has none, a product-neutral code (`role_in_use`): `seed_rule` tells which."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from rolegate.domain.errors import RuleViolationError
from rolegate.domain.schema import is_seed_rule

__all__ = [
    "EMAIL_INVALID",
    "FORM_RULE",
    "NAME_TAKEN",
    "UNKNOWN_KEY",
    "Violation",
    "form_violations",
    "raise_if",
    "refuse",
]


@dataclass(frozen=True, slots=True)
class Violation:
    rule_id: str
    message: str
    fix: str

    @property
    def seed_rule(self) -> str | None:
        """The seed rule that refused (`T9`), or None for a product-neutral code
        (`role_in_use`, `form`): the API's `rule`; `rule_id` is always the code."""
        return self.rule_id if is_seed_rule(self.rule_id) else None

    def __str__(self) -> str:
        return f"[{self.rule_id}] {self.message}"


def raise_if(violations: Sequence[Violation]) -> None:
    """Refuse the change when any rule returned a violation; otherwise do nothing."""
    if violations:
        raise RuleViolationError(violations)


def refuse(first: Violation, *more: Violation) -> NoReturn:
    """Refuse the change: for a path the use case cannot go on from."""
    raise RuleViolationError((first, *more))


FORM_RULE = "form"
"""The rule of a form or query whose shape is wrong (no seed rule refused it)."""

UNKNOWN_KEY = "unknown_key"
"""Plain validation: a key (permission, object, field) the product schema does not have."""

NAME_TAKEN = "name_taken"
"""Plain validation: a name already used where names are unique (a role's)."""

EMAIL_INVALID = "email_invalid"
"""Plain validation: not an email address."""


def form_violations(problems: Iterable[tuple[str, str]]) -> tuple[Violation, ...]:
    """Each (message, fix) of a form's fields that do not fit, as the form rule's violations."""
    return tuple(Violation(FORM_RULE, message, fix) for message, fix in problems)
