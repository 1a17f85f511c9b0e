"""The admin UI's forms are validated with the API's request models (`api.schemas`):
the same lengths, the same refusal of NUL, the same ranges, so a value the API would
refuse with a 422 never reaches a service (or PostgreSQL) from a page either.

`validated(Model, values)` returns the model, or raises `FormInvalid`, whose
`violations` name each field; a page shows them beside its form (the role editor, the
team page ...), and any other page shows them on its 422 error page.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from rolegate.domain.violations import Violation, form_violations

__all__ = ["FormInvalid", "validated"]

M = TypeVar("M", bound=BaseModel)

"""The `rule` of a form field's violation: not a seed rule, the request's shape."""


class FormInvalid(Exception):
    """A posted form that the API's model refuses; one violation per field."""

    status = 422
    """As the API answers a body that does not fit (`request_invalid`)."""

    def __init__(self, violations: tuple[Violation, ...]) -> None:
        super().__init__("; ".join(v.message for v in violations))
        self.violations = violations


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(x) for x in loc) or "form"


def validated(model: type[M], values: Mapping[str, Any]) -> M:
    try:
        return model.model_validate(dict(values))
    except ValidationError as exc:
        violations = form_violations(
            (f"{_field(e['loc'])}: {e['msg']}.", f"Correct the field {_field(e['loc'])!r} and send the form again.")
            for e in exc.errors(include_url=False, include_input=False)
        )
        raise FormInvalid(violations) from None
