"""Errors as `application/problem+json` (RFC 9457).

Every error body has a stable `type` (``https://rolegate.dev/problems/<code>``) and the
same `code` on its own, a `title`, the HTTP `status`, a `detail` that says what to do,
`rule` when a seed rule refused, and `violations` (rule, message, fix) for each rule
that did. `docs/errors.md` lists every code; `tests/api/test_errors_doc.py` keeps them
in sync.

Status and title come from the one table, `rolegate.domain.errors.PROBLEM_TYPES`: a
Rolegate error carries its own (`exc.status`, `exc.code`, `exc.title`, and what refused
as data: `exc.rule_id`, `exc.violations`, `exc.retry_after`), the framework's errors
(API keys, request validation, 404/405/413 of the router, anything unexpected) have
their `FrameworkProblem` rows there. The driver's "unreachable" errors
(`services.availability.UNAVAILABLE_ERRORS`) raised inside a use case are answered as
`StoreUnavailableError` (503, Retry-After, logged once per kind per interval); a 413 has
`Connection: close`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rolegate.api.schemas.problems import Problem, ProblemError, ProblemViolation
from rolegate.domain.errors import (
    PROBLEM_TYPES,
    ErrorCode,
    FrameworkProblem,
    RolegateError,
    SchemaError,
    StoreUnavailableError,
    http_problem,
)
from rolegate.domain.schema import is_seed_rule
from rolegate.services.availability import UNAVAILABLE_ERRORS, failure_kind

__all__ = [
    "PROBLEM_BASE",
    "PROBLEM_MEDIA_TYPE",
    "ApiError",
    "BODY_LIMIT_SCOPE_KEY",
    "ApiProblem",
    "body_too_large",
    "install_problem_handlers",
    "problem_response",
    "rolegate_problem",
]

log = logging.getLogger("rolegate.api")

BODY_LIMIT_SCOPE_KEY = "rolegate.body_limit"
"""The request's body limit in bytes, set by `api.limits.BodyLimit`."""

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://rolegate.dev/problems/"


ApiProblem = FrameworkProblem
"""The API's own problem codes (keys, request validation, readiness): rows of the one table."""


def _answered(code: str, status: int | None) -> int:
    """The status of `code` from the table; a status given must agree with it (only
    `http_error` takes the status of its HTTP error)."""
    table = PROBLEM_TYPES[code].status
    if table is not None and status not in (None, table):
        raise ValueError(f"{code} is answered with {table}, not {status}")
    answered = status if status is not None else table
    if answered is None:
        raise ValueError(f"{code} needs the status of its HTTP error")
    return answered


class ApiError(Exception):
    """An error of the HTTP layer (authentication, key rights), raised by deps. Its
    status is its code's row of the table; a `status` given must agree with it."""

    def __init__(
        self, code: ApiProblem, status: int | None = None, detail: str = "", *, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.status = _answered(code, status)
        self.detail = detail
        self.headers = dict(headers or {})


def problem_response(
    code: str,
    status: int | None,
    detail: str,
    *,
    rule: str | None = None,
    violations: Sequence[ProblemViolation] = (),
    errors: Sequence[ProblemError] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The problem body of `code`; `status` None: the code's own (from the table)."""
    kind = PROBLEM_TYPES[code]
    answered = _answered(code, status)
    body = Problem(
        type=PROBLEM_BASE + code,
        code=code,
        title=kind.title,
        status=answered,
        detail=detail,
        rule=rule,
        violations=list(violations),
        errors=list(errors),
    )
    return JSONResponse(
        body.model_dump(mode="json"), status_code=answered, media_type=PROBLEM_MEDIA_TYPE, headers=dict(headers or {})
    )


def rolegate_problem(exc: RolegateError, *, pointer: str = "") -> JSONResponse:
    """The problem for any Rolegate error; `pointer` prefixes the detail (e.g. `checks[3]`)."""
    # `rule` is a seed rule or null; a product-neutral code (`role_in_use`) is the `code`.
    violations = [ProblemViolation(rule=v.seed_rule, code=v.rule_id, message=v.message, fix=v.fix) for v in exc.violations]
    errors = (
        [ProblemError(loc=[p.path] if p.path else [], msg=p.message, hint=p.hint) for p in exc.problems]
        if isinstance(exc, SchemaError)
        else []
    )
    detail = str(exc)
    if pointer:
        detail = f"{pointer}: {detail}"
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
    return problem_response(
        exc.code.value, exc.status, detail, rule=exc.rule_id if is_seed_rule(exc.rule_id) else None, violations=violations, errors=errors, headers=headers
    )


async def _on_rolegate_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RolegateError)
    return rolegate_problem(exc)


async def _on_store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database cannot be reached: 503 with Retry-After, never a 500 or a dropped
    connection, and one log line per kind of failure per interval (not a traceback per
    request: in an outage every request fails alike)."""
    error = exc if isinstance(exc, StoreUnavailableError) else StoreUnavailableError(failure_kind(exc))
    rolegate = getattr(request.app.state, "rolegate", None)
    if rolegate is not None:
        rolegate.incidents.warning(
            f"store_unavailable:{error.kind}", f"database unreachable ({error.kind}): answering 503 with Retry-After"
        )
    return rolegate_problem(error)


async def _on_api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return problem_response(exc.code.value, exc.status, exc.detail, headers=exc.headers)


def _loc(loc: Sequence[Any]) -> list[str | int]:
    return [x if isinstance(x, int) else str(x) for x in loc]


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        ProblemError(loc=_loc(e.get("loc", ())), msg=str(e.get("msg", "")), hint=str(e.get("type", "")))
        for e in jsonable_encoder(exc.errors())
    ]
    where = "; ".join(f"{'.'.join(str(x) for x in e.loc)}: {e.msg}" for e in errors[:5])
    detail = f"The request does not match the API: {where}. Fix these fields (see /docs)."
    return problem_response(ApiProblem.REQUEST_INVALID.value, None, detail, errors=errors)


def body_too_large(limit: int | None) -> JSONResponse:
    """413 for a body above the route's limit (`api.limits`). `Connection: close` makes
    the server drop the connection instead of reading (and discarding) the rest of the
    upload."""
    what = f"{limit:,} bytes" if isinstance(limit, int) else "its limit"
    detail = f"The request body is larger than this route takes ({what}). Send less: split a bulk call into several (see README, Limits)."
    return problem_response(ApiProblem.BODY_TOO_LARGE.value, None, detail, headers={"Connection": "close"})


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 413:
        limit = request.scope.get(BODY_LIMIT_SCOPE_KEY)
        return body_too_large(limit if isinstance(limit, int) else None)
    kind = http_problem(exc.status_code)
    if kind.code == ErrorCode.NOT_FOUND:
        detail = "No such route. See /docs for the API."
    elif kind.code == ApiProblem.METHOD_NOT_ALLOWED:
        detail = "This route does not take that method; the Allow header lists those it takes."
    else:
        detail = str(exc.detail)
    return problem_response(kind.code, kind.status, detail, headers=exc.headers)


async def _on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return problem_response(
        ApiProblem.INTERNAL_ERROR.value,
        None,
        "Rolegate failed unexpectedly; the error is logged. Retry, and report it if it persists.",
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RolegateError, _on_rolegate_error)
    unavailable: tuple[type[Exception], ...] = (StoreUnavailableError, *UNAVAILABLE_ERRORS)
    for cls in unavailable:
        app.add_exception_handler(cls, _on_store_unavailable)
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
