"""The API's problems (RFC 9457) as exceptions, one class per problem code.

Each class is also the engine's own error class for that code (`rolegate.domain.errors`),
so one `except` catches a refusal whether it was decided locally or by the server:
`except NotFoundError` catches the local snapshot's and the API's 404 alike, and
`except InvalidInputError` the whole 422 family (`unknown_action`, `invalid_record`,
`schema_invalid`, and the API's `request_invalid`). Problem codes of the HTTP layer
only (`unauthenticated`, `key_forbidden`, ...) get classes of their own, in the family
of their status (403 under `ForbiddenError`, 422 under `InvalidInputError`).
"""

from __future__ import annotations

from typing import Any

from rolegate.domain import errors as domain

__all__ = [
    "ApiError",
    "BodyTooLarge",
    "InternalError",
    "KeyForbidden",
    "MethodNotAllowed",
    "NotReady",
    "RequestInvalid",
    "Unauthenticated",
    "error_for",
]


class ApiError(domain.RolegateError):
    """A problem answered by the Rolegate API: `status`, `code`, `detail` and the
    whole problem body (`problem`: `rule`, `violations`, `errors`, ...)."""

    def __init__(self, status: int, problem: dict[str, Any], retry_after: int | None = None) -> None:
        detail = str(problem.get("detail") or problem.get("title") or f"HTTP {status}")
        domain.RolegateError.__init__(self, detail)
        self.http_status = status
        self.problem = problem
        self.problem_code = str(problem.get("code") or "http_error")
        self.detail = detail
        self.rule_id = problem.get("rule")
        self.retry_after = retry_after
        # What the engine's error classes carry, for code written against them.
        self.decision = None
        self.violations = ()

    def __str__(self) -> str:
        return f"{self.problem_code} ({self.http_status}): {self.detail}"


class Unauthenticated(ApiError):
    """401 `unauthenticated`: no API key, or not a valid one."""


class KeyForbidden(ApiError, domain.ForbiddenError):
    """403 `key_forbidden`: the key lacks the right (decide/admin) or the reach."""


class RequestInvalid(ApiError, domain.InvalidInputError):
    """422 `request_invalid`: the request does not match the API."""


class MethodNotAllowed(ApiError):
    """405 `method_not_allowed`."""


class BodyTooLarge(ApiError):
    """413 `body_too_large`."""


class InternalError(ApiError):
    """500 `internal_error`: a bug in Rolegate (retry; report it if it persists)."""


class NotReady(ApiError, domain.UnavailableError):
    """503 `not_ready`."""


_FRAMEWORK: dict[str, type[ApiError]] = {
    "unauthenticated": Unauthenticated,
    "key_forbidden": KeyForbidden,
    "request_invalid": RequestInvalid,
    "method_not_allowed": MethodNotAllowed,
    "body_too_large": BodyTooLarge,
    "internal_error": InternalError,
    "not_ready": NotReady,
}


def _domain_classes(cls: type[domain.RolegateError] = domain.RolegateError) -> list[type[domain.RolegateError]]:
    out = [cls]
    for sub in cls.__subclasses__():
        if not issubclass(sub, ApiError):
            out += _domain_classes(sub)
    return out


def _classes() -> dict[str, type[ApiError]]:
    table: dict[str, type[ApiError]] = dict(_FRAMEWORK)
    for cls in _domain_classes():
        code = cls.code.value
        if code in table:
            continue  # the parent (e.g. NotFoundError before HiddenRecordError) stands for the code
        name = "Api" + cls.__name__.removesuffix("Error")
        table[code] = type(name, (ApiError, cls), {"__doc__": f"`{code}` answered by the API (also a {cls.__name__})."})
    return table


_BY_CODE = _classes()


def error_for(status: int, problem: dict[str, Any], retry_after: int | None = None) -> ApiError:
    """The exception for one problem answer (an unknown code: its status's family)."""
    cls = _BY_CODE.get(str(problem.get("code")))
    if cls is None:
        cls = {404: _BY_CODE["not_found"], 403: _BY_CODE["forbidden"], 409: _BY_CODE["conflict"], 422: _BY_CODE["invalid_input"], 503: _BY_CODE["unavailable"]}.get(status, ApiError)
    return cls(status, problem, retry_after)
