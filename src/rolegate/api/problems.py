"""Errors as `application/problem+json` (RFC 9457).

Every error body has a stable `type` (``https://rolegate.dev/problems/<code>``) and the
same `code` on its own, a `title`, the HTTP `status`, a `detail` that says what to do,
`rule` when a seed rule refused, and `violations` (rule, message, fix) for each rule
that did. `docs/errors.md` lists every code; `tests/api/test_errors_doc.py` keeps them
in sync.

Mapping:

    RuleViolationError             409 rule_violation
    PermissionDeniedError          403 permission_denied
    NotFoundError                  404 not_found
    UnknownActionError             422 unknown_action
    InvalidRecordError             422 invalid_record
    SchemaError                    422 schema_invalid
    TokenInvalidError              410 token_invalid
    RateLimitedError               429 rate_limited (with Retry-After)
    StoreUnavailableError          503 store_unavailable (with Retry-After; logged once per kind per interval)
    the driver's "unreachable" errors (store.availability.UNAVAILABLE_ERRORS), raised
    inside a use case           503 store_unavailable, the same
    LoginRequiredError             403 login_required
    ActorRefusedError              403 actor_refused
    any other RolegateError        400 bad_request
    ApiError (keys, from deps)     401 unauthenticated / 403 key_forbidden
    RequestValidationError         422 request_invalid
    Starlette HTTPException        404 not_found, 405 method_not_allowed, 413 body_too_large
                                   (with Connection: close), else http_error
    anything else                  500 internal_error (a bug: never on bad input)
    /readyz, database not migrated 503 not_ready (with Retry-After)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rolegate.api.schemas import Problem, ProblemError, ProblemViolation
from rolegate.domain.errors import (
    ActorRefusedError,
    ErrorCode,
    InvalidRecordError,
    LoginRequiredError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RevisionNotReachedError,
    RolegateError,
    RuleViolationError,
    SchemaError,
    StoreUnavailableError,
    TokenInvalidError,
    UnknownActionError,
)
from rolegate.store.availability import UNAVAILABLE_ERRORS, failure_kind

__all__ = [
    "PROBLEM_BASE",
    "PROBLEM_MEDIA_TYPE",
    "PROBLEM_STATUS",
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


class ApiProblem(StrEnum):
    """Problem codes of the HTTP layer itself (the domain's are `ErrorCode`)."""

    UNAUTHENTICATED = "unauthenticated"
    KEY_FORBIDDEN = "key_forbidden"
    REQUEST_INVALID = "request_invalid"
    BAD_REQUEST = "bad_request"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    BODY_TOO_LARGE = "body_too_large"
    HTTP_ERROR = "http_error"
    INTERNAL_ERROR = "internal_error"
    NOT_READY = "not_ready"


TITLES: Mapping[str, str] = {
    ErrorCode.SCHEMA_INVALID: "Product schema problem",
    ErrorCode.UNKNOWN_ACTION: "Unknown action",
    ErrorCode.INVALID_RECORD: "Invalid record",
    ErrorCode.PERMISSION_DENIED: "Permission denied",
    ErrorCode.NOT_FOUND: "Not found",
    ErrorCode.RULE_VIOLATION: "Refused by a rule",
    ErrorCode.REVISION_NOT_REACHED: "Revision not reached yet",
    ErrorCode.TOKEN_INVALID: "Link not valid",
    ErrorCode.RATE_LIMITED: "Too many attempts",
    ErrorCode.STORE_UNAVAILABLE: "Database unavailable",
    ErrorCode.LOGIN_REQUIRED: "Log in first",
    ErrorCode.ACTOR_REFUSED: "Acting party refused",
    ApiProblem.UNAUTHENTICATED: "API key missing or invalid",
    ApiProblem.KEY_FORBIDDEN: "API key may not do this",
    ApiProblem.REQUEST_INVALID: "Invalid request",
    ApiProblem.BAD_REQUEST: "Bad request",
    ApiProblem.METHOD_NOT_ALLOWED: "Method not allowed",
    ApiProblem.BODY_TOO_LARGE: "Request body too large",
    ApiProblem.HTTP_ERROR: "HTTP error",
    ApiProblem.INTERNAL_ERROR: "Internal error",
    ApiProblem.NOT_READY: "Not ready",
}

STATUS_OF: Mapping[type[RolegateError], int] = {
    RuleViolationError: 409,
    NotFoundError: 404,
    PermissionDeniedError: 403,
    UnknownActionError: 422,
    InvalidRecordError: 422,
    SchemaError: 422,
    RevisionNotReachedError: 409,
    TokenInvalidError: 410,
    RateLimitedError: 429,
    StoreUnavailableError: 503,
    LoginRequiredError: 403,
    ActorRefusedError: 403,
}

PROBLEM_STATUS: Mapping[str, int | None] = {
    ErrorCode.RULE_VIOLATION: 409,
    ErrorCode.PERMISSION_DENIED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.UNKNOWN_ACTION: 422,
    ErrorCode.INVALID_RECORD: 422,
    ErrorCode.SCHEMA_INVALID: 422,
    ErrorCode.REVISION_NOT_REACHED: 409,
    ErrorCode.TOKEN_INVALID: 410,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.STORE_UNAVAILABLE: 503,
    ErrorCode.LOGIN_REQUIRED: 403,
    ErrorCode.ACTOR_REFUSED: 403,
    ApiProblem.UNAUTHENTICATED: 401,
    ApiProblem.KEY_FORBIDDEN: 403,
    ApiProblem.REQUEST_INVALID: 422,
    ApiProblem.BAD_REQUEST: 400,
    ApiProblem.METHOD_NOT_ALLOWED: 405,
    ApiProblem.BODY_TOO_LARGE: 413,
    ApiProblem.HTTP_ERROR: None,
    ApiProblem.INTERNAL_ERROR: 500,
    ApiProblem.NOT_READY: 503,
}
"""Every problem code and its HTTP status (None: the status of the HTTP error), as
`docs/errors.md` lists them."""

_LEADING_RULE = re.compile(r"^\[([A-Z]+\d+)\]")


class ApiError(Exception):
    """An error of the HTTP layer (authentication, key rights), raised by deps."""

    def __init__(self, code: ApiProblem, status: int, detail: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.code = code
        self.status = status
        self.detail = detail
        self.headers = dict(headers or {})


def problem_response(
    code: str,
    status: int,
    detail: str,
    *,
    rule: str | None = None,
    violations: Sequence[ProblemViolation] = (),
    errors: Sequence[ProblemError] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        type=PROBLEM_BASE + code,
        code=code,
        title=TITLES.get(code, "Error"),
        status=status,
        detail=detail,
        rule=rule,
        violations=list(violations),
        errors=list(errors),
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=dict(headers or {}))


def _status(exc: RolegateError) -> int:
    for cls in type(exc).__mro__:
        status = STATUS_OF.get(cls)
        if status is not None:
            return status
    return 400


def rolegate_problem(exc: RolegateError, *, pointer: str = "") -> JSONResponse:
    """The problem for any Rolegate error; `pointer` prefixes the detail (e.g. `checks[3]`)."""
    status = _status(exc)
    code: str = exc.code.value if status != 400 else ApiProblem.BAD_REQUEST.value
    violations: list[ProblemViolation] = []
    errors: list[ProblemError] = []
    rule: str | None = None
    if isinstance(exc, RuleViolationError):
        violations = [ProblemViolation(rule=v.rule_id, message=v.message, fix=v.fix) for v in exc.violations]
        rule = exc.rule_id
    elif isinstance(exc, PermissionDeniedError):
        # The services tag an admin-right refusal with its rule id ("[N12] ...").
        match = _LEADING_RULE.match(exc.message)
        rule = getattr(exc, "rule_id", None) or (match.group(1) if match else None)
    elif isinstance(exc, ActorRefusedError):
        rule = exc.rule_id
    elif isinstance(exc, SchemaError):
        errors = [ProblemError(loc=[p.path] if p.path else [], msg=p.message, hint=p.hint) for p in exc.problems]
    detail = str(exc)
    if pointer:
        detail = f"{pointer}: {detail}"
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimitedError | StoreUnavailableError) else None
    return problem_response(code, status, detail, rule=rule, violations=violations, errors=errors, headers=headers)


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
        rolegate.incidents.warning(f"store_unavailable:{error.kind}", f"database unreachable ({error.kind}): answering 503 with Retry-After")
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
    return problem_response(ApiProblem.REQUEST_INVALID.value, 422, detail, errors=errors)


def body_too_large(limit: int | None) -> JSONResponse:
    """413 for a body above the route's limit (`api.limits`). `Connection: close` makes
    the server drop the connection instead of reading (and discarding) the rest of the
    upload."""
    what = f"{limit:,} bytes" if isinstance(limit, int) else "its limit"
    detail = f"The request body is larger than this route takes ({what}). Send less: split a bulk call into several (see README, Limits)."
    return problem_response(ApiProblem.BODY_TOO_LARGE.value, 413, detail, headers={"Connection": "close"})


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 413:
        limit = request.scope.get(BODY_LIMIT_SCOPE_KEY)
        return body_too_large(limit if isinstance(limit, int) else None)
    if exc.status_code == 404:
        code, detail = ErrorCode.NOT_FOUND.value, "No such route. See /docs for the API."
    elif exc.status_code == 405:
        code, detail = ApiProblem.METHOD_NOT_ALLOWED.value, "This route does not take that method; the Allow header lists those it takes."
    else:
        code, detail = ApiProblem.HTTP_ERROR.value, str(exc.detail)
    return problem_response(code, exc.status_code, detail, headers=exc.headers)


async def _on_unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return problem_response(ApiProblem.INTERNAL_ERROR.value, 500, "Rolegate failed unexpectedly; the error is logged. Retry, and report it if it persists.")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RolegateError, _on_rolegate_error)
    unavailable: tuple[type[Exception], ...] = (StoreUnavailableError, *UNAVAILABLE_ERRORS)
    for cls in unavailable:
        app.add_exception_handler(cls, _on_store_unavailable)
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
