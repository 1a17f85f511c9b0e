"""docs/errors.md lists every error code, with the HTTP status it is answered with,
and nothing else: a new error class, framework problem or admin UI code fails here
until it is documented. One table (`PROBLEM_TYPES`) maps codes to statuses; the API
and the admin UI both answer from it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from rolegate.api.problems import ApiProblem, rolegate_problem
from rolegate.domain import errors as domain_errors
from rolegate.domain.errors import PROBLEM_TYPES, ErrorCode, FrameworkProblem, RolegateError, SchemaError
from rolegate.domain.violations import FORM_RULE, Violation
from rolegate.web.errors import error_info
from rolegate.web.forms import FormInvalid
from rolegate.web.session import CsrfError

DOC = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
ROW = re.compile(r"^\| `([a-z_]+)` \| (\d{3}|4xx) \| (.+?) \| (.+?) \|$", re.MULTILINE)


def documented() -> dict[str, tuple[str, str, str]]:
    return {
        code: (status, meaning, todo) for code, status, meaning, todo in ROW.findall(DOC.read_text(encoding="utf-8"))
    }


def _error_classes() -> list[type[RolegateError]]:
    return [c for c in vars(domain_errors).values() if isinstance(c, type) and issubclass(c, RolegateError)]


def _web_errors() -> list[Exception]:
    """One of every kind of failure the admin UI renders as an error page."""
    return [
        CsrfError("no token"),
        FormInvalid((Violation(FORM_RULE, "name: required", "Fill it in."),)),
        RequestValidationError([{"loc": ("query", "x"), "msg": "bad", "type": "value_error"}]),
        StarletteHTTPException(404),
        StarletteHTTPException(405),
        StarletteHTTPException(413),
        RuntimeError("a bug"),
    ]


def test_every_error_code_is_documented() -> None:
    rows = documented()
    codes = {c.value for c in ErrorCode} | {p.value for p in FrameworkProblem}
    assert sorted(codes - rows.keys()) == [], "add these codes to docs/errors.md"
    assert sorted(rows.keys() - codes) == [], "docs/errors.md lists codes Rolegate no longer has"
    assert set(PROBLEM_TYPES) == codes


def test_documented_statuses_are_the_ones_answered() -> None:
    rows = documented()
    for code, kind in PROBLEM_TYPES.items():
        assert rows[code][0] == (str(kind.status) if kind.status is not None else "4xx"), code


def test_every_error_class_answers_its_row_of_the_table() -> None:
    classes = _error_classes()
    assert len(classes) >= 18
    for cls in classes:
        kind = PROBLEM_TYPES[cls.code]
        assert (kind.status, kind.title) == (cls.status, cls.title), cls.__name__


def test_the_api_answers_from_the_error_class() -> None:
    error = domain_errors.ConflictError("the workspace moved on", fix="Read it again.")
    body = rolegate_problem(error)
    assert body.status_code == 409
    assert b'"code":"conflict"' in body.body
    assert b'"title":"Conflict"' in body.body
    assert ApiProblem is FrameworkProblem


@pytest.mark.parametrize("exc", _web_errors(), ids=lambda e: type(e).__name__)
def test_every_code_the_admin_ui_shows_is_documented(exc: Exception) -> None:
    """csrf_failed included: the UI's own codes are rows of the same table and doc."""
    info = error_info(exc)
    rows = documented()
    assert info.code in rows, f"add {info.code} to docs/errors.md"
    assert rows[info.code][0] in (str(info.status), "4xx"), info.code
    assert PROBLEM_TYPES[info.code].title == info.title


def test_the_admin_ui_answers_domain_errors_like_the_api() -> None:
    for cls in _error_classes():
        error = cls.__new__(cls)  # each class's own constructor takes its own data
        RolegateError.__init__(error, "refused", fix="Do otherwise.")
        if isinstance(error, SchemaError):
            error.problems = ()
        info = error_info(error)
        assert (info.status, info.code, info.title) == (cls.status, cls.code.value, cls.title), cls.__name__
        assert rolegate_problem(error).status_code == cls.status, cls.__name__


def test_every_row_says_what_it_means_and_what_to_do() -> None:
    for code, (_status, meaning, todo) in documented().items():
        assert len(meaning) > 20, code
        assert len(todo) > 10, code
