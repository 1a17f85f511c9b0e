"""The admin UI's forms are validated with the API's request models (`api.schemas`):
the same lengths, the same refusal of NUL, the same ranges, so a value the API would
refuse with a 422 never reaches a service (or PostgreSQL) from a page either.

`validated(Model, values)` returns the model, or raises `FormInvalid`, whose
`violations` name each field; a page shows them beside its form (the role editor, the
team page ...), and any other page shows them on its 422 error page. The messages are
written for the person at the form (the field's label and what to type), not in the
validation library's words, which the API keeps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from rolegate.domain.violations import Violation, form_violations
from rolegate.domain.words import count_of

__all__ = ["FormInvalid", "field_label", "form_message", "validated"]

M = TypeVar("M", bound=BaseModel)


class FormInvalid(Exception):
    """A posted form that the API's model refuses; one violation per field."""

    status = 422
    """As the API answers a body that does not fit (`request_invalid`)."""

    def __init__(self, violations: tuple[Violation, ...]) -> None:
        super().__init__("; ".join(v.message for v in violations))
        self.violations = violations


def field_label(loc: tuple[int | str, ...]) -> str:
    """The field as its form labels it: `display_name` -> "Display name"."""
    names = [str(x) for x in loc if isinstance(x, str)]
    return names[-1].replace("_", " ").capitalize() if names else "The form"


def form_message(error: ErrorDetails) -> tuple[str, str]:
    """(message, fix) for one field that does not fit, in words."""
    label = field_label(error["loc"])
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing":
        return f"{label} is required.", f"Fill in {label.lower()}."
    if kind == "string_too_short":
        n = int(ctx.get("min_length", 1))
        if n <= 1:
            return f"{label} cannot be empty.", f"Fill in {label.lower()}."
        return f"{label} needs at least {count_of(n, 'character')}.", f"Lengthen {label.lower()}."
    if kind == "string_too_long":
        return f"{label} can be at most {count_of(int(ctx.get('max_length', 0)), 'character')}.", f"Shorten {label.lower()}."
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return f"{label} must be a whole number.", f"Type a number in {label.lower()}."
    if kind in {"greater_than_equal", "greater_than"}:
        return f"{label} must be at least {ctx.get('ge', ctx.get('gt'))}.", f"Choose a larger value for {label.lower()}."
    if kind in {"less_than_equal", "less_than"}:
        return f"{label} can be at most {ctx.get('le', ctx.get('lt'))}.", f"Choose a smaller value for {label.lower()}."
    if kind in {"bool_parsing", "bool_type"}:
        return f"{label} must be on or off.", f"Tick or untick {label.lower()}."
    if kind in {"enum", "literal_error"}:
        return f"{label} is not one of the choices.", f"Choose {label.lower()} from the list."
    message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return f"{label}: {message[:1].lower()}{message[1:]}".rstrip(".") + ".", f"Correct {label.lower()} and send the form again."


def validated(model: type[M], values: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        violations = form_violations(form_message(e) for e in exc.errors(include_url=False, include_input=False))
        raise FormInvalid(violations) from None
