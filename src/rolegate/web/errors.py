"""An error page for each problem type, and the route class that renders them.

The same codes as the API's problems (`docs/errors.md`), as HTML: a title, what
happened, the rule that refused (its id, message and fix), and a way back. An htmx
request gets the error as a fragment (the page's htmx-config swaps 4xx responses).

    LoginRequired                  303 to /login?next=...  (htmx: HX-Redirect)
    CsrfError                      403 csrf_failed
    RuleViolationError             409 rule_violation
    NotFoundError                  404 not_found
    PermissionDeniedError          403 permission_denied
    RevisionNotReachedError        409 revision_not_reached
    TokenInvalidError              410 token_invalid
    RateLimitedError               429 rate_limited
    other RolegateError            400 bad_request
    RequestValidationError         422 request_invalid
    FormInvalid                    422 request_invalid (each field's violation)
    a NUL or over-long path param  404 not_found; a NUL in the query: 422
    Starlette HTTPException        its status (404 not_found, 413 body_too_large ...)
    anything else                  500 internal_error (logged)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from rolegate.domain.errors import (
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RevisionNotReachedError,
    RolegateError,
    RuleViolationError,
    TokenInvalidError,
)
from rolegate.domain.violations import Violation
from rolegate.web.context import LoginRequired
from rolegate.web.forms import FORM_RULE, FormInvalid
from rolegate.web.render import SECURITY_HEADERS, redirect
from rolegate.web.session import CsrfError

if TYPE_CHECKING:
    from rolegate.web.app import WebUI

__all__ = ["ErrorInfo", "PageRoute", "error_info", "error_response"]

log = logging.getLogger("rolegate.web")


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    status: int
    code: str
    title: str
    detail: str
    fix: str = ""
    rule: str | None = None
    violations: tuple[Violation, ...] = ()


def error_info(exc: Exception) -> ErrorInfo:
    if isinstance(exc, FormInvalid):
        return ErrorInfo(422, "request_invalid", "Invalid form", str(exc), "Go back, correct the fields named here, and send the form again.", None, exc.violations)
    if isinstance(exc, CsrfError):
        return ErrorInfo(403, "csrf_failed", "The form could not be checked", str(exc), "Reload the page, then send the form again.")
    if isinstance(exc, RuleViolationError):
        return ErrorInfo(409, exc.code.value, "Refused by a rule", exc.message, exc.fix, exc.rule_id, exc.violations)
    if isinstance(exc, NotFoundError):
        return ErrorInfo(404, exc.code.value, "Not found", exc.message, exc.fix)
    if isinstance(exc, PermissionDeniedError):
        return ErrorInfo(403, exc.code.value, "You may not do this", exc.message, exc.fix, exc.rule_id)
    if isinstance(exc, RevisionNotReachedError):
        return ErrorInfo(409, exc.code.value, "Not up to date yet", exc.message, exc.fix)
    if isinstance(exc, TokenInvalidError):
        return ErrorInfo(410, exc.code.value, "This link does not work", exc.message, exc.fix)
    if isinstance(exc, RateLimitedError):
        return ErrorInfo(429, exc.code.value, "Too many attempts", exc.message, exc.fix)
    if isinstance(exc, RolegateError):
        return ErrorInfo(400, "bad_request", "Bad request", exc.message, exc.fix)
    if isinstance(exc, RequestValidationError):
        where = "; ".join(f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg', '')}" for e in list(exc.errors())[:5])
        return ErrorInfo(422, "request_invalid", "Invalid request", f"The request does not fit this page: {where}.", "Go back and check the form.")
    if isinstance(exc, StarletteHTTPException):
        if exc.status_code == 404:
            return ErrorInfo(404, "not_found", "Not found", "There is no such page.", "Use the navigation, or go to your workspaces.")
        if exc.status_code == 413:
            return ErrorInfo(413, "body_too_large", "Too much data", "The form sent more data than this page takes.", "Go back, shorten what you typed, and send it again.")
        if exc.status_code == 405:
            return ErrorInfo(405, "method_not_allowed", "Method not allowed", "This page does not take that method.", "Use the page's links and forms.")
        return ErrorInfo(exc.status_code, "http_error", "Error", str(exc.detail))
    return ErrorInfo(500, "internal_error", "Something went wrong", "Rolegate failed unexpectedly; the error is logged.", "Retry, and report it if it persists.")


def error_response(ui: WebUI, request: Request, exc: Exception) -> Response:
    session = getattr(request.state, "session", None) or ui.sessions.load(request)
    if isinstance(exc, LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response = redirect(request, f"/login?next={quote(target)}")
    else:
        info = error_info(exc)
        if info.status >= 500:
            log.exception("unexpected error in the admin UI", exc_info=exc)
        response = ui.renderer.render(request, session, "error.html", {"error": info}, status=info.status)
    ui.sessions.save(request, response, session)
    return response


MAX_PATH_PARAM = 200
"""No id, key or token of a page's URL is longer (record ids: 200)."""


def _check_url(request: Request) -> None:
    """Every page looks its path's ids up in the store, where PostgreSQL refuses a NUL:
    such an id names no page (404). A query's NUL is a 422 naming the parameter."""
    for value in request.path_params.values():
        if isinstance(value, str) and ("\x00" in value or len(value) > MAX_PATH_PARAM):
            raise StarletteHTTPException(404)
    bad = tuple(
        Violation(FORM_RULE, f"{name}: a NUL character is not allowed.", f"Remove it from {name!r}.") for name, value in request.query_params.multi_items() if "\x00" in name + value
    )
    if bad:
        raise FormInvalid(bad)


class PageRoute(APIRoute):
    """A route of the admin UI: the session is loaded before the endpoint runs and
    saved on its response; every error becomes its HTML error page; every response
    gets the security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            ui: WebUI = request.app.state.web
            request.state.session = ui.sessions.load(request)
            try:
                _check_url(request)
                response = await handler(request)
                ui.sessions.save(request, response, request.state.session)
            except Exception as exc:  # every failure gets its page, as the API gives every failure a problem
                response = error_response(ui, request, exc)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            if response.status_code == 413:  # the server then drops the rest of the upload instead of reading it
                response.headers["Connection"] = "close"
            return response

        return page_handler
