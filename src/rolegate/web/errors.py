"""An error page for each problem type, and the route class that renders them.

The same codes as the API's problems (`docs/errors.md`), as HTML: a title, what
happened, the rule that refused (its id, message and fix), and a way back. An htmx
request gets the error as a fragment (the page's htmx-config swaps 4xx responses).
Status and title come from the one table (`rolegate.domain.errors.PROBLEM_TYPES`): a
Rolegate error carries its own, the UI's own refusals have their rows there
(`csrf_failed`, `request_invalid` for a form, the router's 404/405/413 through
`http_problem`, `internal_error`). A visitor without a session is sent to
/login?next=... (htmx: HX-Redirect) instead; a NUL or over-long path parameter is a
404, a NUL in the query a 422.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from rolegate.domain.errors import (
    PROBLEM_TYPES,
    FrameworkProblem,
    NotFoundError,
    PermissionDeniedError,
    ProblemType,
    RolegateError,
    UnavailableError,
    http_problem,
)
from rolegate.domain.violations import Violation, form_violations
from rolegate.web.context import LoginRequired, open_workspace
from rolegate.web.forms import FormInvalid
from rolegate.web.render import redirect, security_headers
from rolegate.web.session import CsrfError, Session

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from rolegate.web.app import WebUI

__all__ = ["ErrorInfo", "PageRoute", "error_info", "error_response", "unavailable_page"]

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


def _info(kind: ProblemType, detail: str, fix: str = "", violations: tuple[Violation, ...] = ()) -> ErrorInfo:
    assert kind.status is not None
    return ErrorInfo(kind.status, kind.code, kind.title, detail, fix, None, violations)


def error_info(exc: Exception) -> ErrorInfo:
    if isinstance(exc, PermissionDeniedError) and not isinstance(exc, NotFoundError) and getattr(exc, "decision", None) is not None:
        # Issue 15: the member reads what their role lacks, in the decision's own words
        # (data, not the message, which names the member by id for the API's log).
        reasons = "; ".join(str(r.message) for r in getattr(exc.decision, "reasons", ()))
        detail = f"Your role does not allow this: {reasons}." if reasons else "Your role does not allow this."
        return ErrorInfo(exc.status, exc.code.value, exc.title, detail, exc.fix, exc.rule_id, exc.violations)
    if isinstance(exc, RolegateError):
        return ErrorInfo(exc.status, exc.code.value, exc.title, exc.message, exc.fix, exc.rule_id, exc.violations)
    if isinstance(exc, FormInvalid):
        return _info(
            PROBLEM_TYPES[FrameworkProblem.REQUEST_INVALID],
            str(exc),
            "Go back, correct the fields named here, and send the form again.",
            exc.violations,
        )
    if isinstance(exc, CsrfError):
        return _info(
            PROBLEM_TYPES[FrameworkProblem.CSRF_FAILED], str(exc), "Reload the page, then send the form again."
        )
    if isinstance(exc, RequestValidationError):
        where = "; ".join(
            f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg', '')}" for e in list(exc.errors())[:5]
        )
        return _info(
            PROBLEM_TYPES[FrameworkProblem.REQUEST_INVALID],
            f"The request does not fit this page: {where}.",
            "Go back and check the form.",
        )
    if isinstance(exc, StarletteHTTPException):
        kind = http_problem(exc.status_code)
        detail, fix = _HTTP_WORDS.get(exc.status_code, (str(exc.detail), ""))
        return _info(kind, detail, fix)
    return _info(
        PROBLEM_TYPES[FrameworkProblem.INTERNAL_ERROR],
        "Rolegate failed unexpectedly; the error is logged.",
        "Retry, and report it if it persists.",
    )


_HTTP_WORDS: dict[int, tuple[str, str]] = {
    404: ("There is no such page.", "Use the navigation, or go to your workspaces."),
    413: ("The form sent more data than this page takes.", "Go back, shorten what you typed, and send it again."),
    405: ("This page does not take that method.", "Use the page's links and forms."),
}
"""What the router's own errors mean on a page of the UI, and what to do."""


def error_response(ui: WebUI, request: Request, exc: Exception) -> Response:
    session = getattr(request.state, "session", None) or ui.sessions.load(request)
    if isinstance(exc, LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response = redirect(request, f"/login?next={quote(target)}")
    else:
        info = error_info(exc)
        if info.status >= 500:
            log.exception("unexpected error in the admin UI", exc_info=exc)
        response = ui.renderer.render(request, session, "error.html", {"error": info, **_navigation(ui, request, session)}, status=info.status)
    ui.sessions.save(request, response, session)
    return response


def _navigation(ui: WebUI, request: Request, session: Session) -> dict[str, Any]:
    """The workspace's navigation on its error pages (a 404 or 403 under /w/{ws}/ keeps
    the member in their workspace), only where the visitor may open that workspace:
    the same lookup as every page, so an error page reveals nothing more. A portal
    session's error pages belong to its one workspace whatever the path: opening it
    finds the portal's scope, whose frame origins the page is then served with (the
    host page shows the error in its frame, not a blocked frame)."""
    workspace_id = session.portal_workspace
    if workspace_id is None:
        parts = request.url.path.split("/")
        if len(parts) < 3 or parts[1] != "w" or not parts[2] or len(parts[2]) > MAX_PATH_PARAM or "\x00" in parts[2]:
            return {}
        workspace_id = parts[2]
    try:
        page = open_workspace(ui, request, session, workspace_id)
    except Exception:  # not logged in, not theirs, the store down: the page without navigation
        return {}
    return {"page": page, "user": page.viewer.user}


MAX_PATH_PARAM = 200
"""No id, key or token of a page's URL is longer (record ids: 200)."""


def _check_url(request: Request) -> None:
    """Every page looks its path's ids up in the store, where PostgreSQL refuses a NUL:
    such an id names no page (404). A query's NUL is a 422 naming the parameter."""
    for value in request.path_params.values():
        if isinstance(value, str) and ("\x00" in value or len(value) > MAX_PATH_PARAM):
            raise StarletteHTTPException(404)
    bad = form_violations(
        (f"{name}: a NUL character is not allowed.", f"Remove it from {name!r}.")
        for name, value in request.query_params.multi_items()
        if "\x00" in name + value
    )
    if bad:
        raise FormInvalid(bad)


def _portal_reaches(request: Request, workspace_id: str) -> bool:
    """A portal session's pages: its workspace's, the link it came by, and logout."""
    path = request.url.path
    base = f"/w/{workspace_id}"
    return path == base or path.startswith((base + "/", "/portal/")) or path == "/logout"


def _page_headers(request: Request, response: Response) -> None:
    """Every page's security headers (a portal's frame origins included), where the
    response did not set its own."""
    for name, value in _headers(request).items():
        response.headers.setdefault(name, value)


def _headers(request: Request) -> dict[str, str]:
    scope = getattr(request.state, "portal", None)
    if scope is None:
        return security_headers()
    logo = scope.settings.logo_origin
    return security_headers(scope.settings.frame_origins, (logo,) if logo else ())


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
                bound = request.state.session.portal_workspace
                if bound is not None and not _portal_reaches(request, bound):
                    raise StarletteHTTPException(404)  # another workspace, an account page: not for a portal session
                _check_url(request)
                response = await handler(request)
                ui.sessions.save(request, response, request.state.session)
            except Exception as exc:  # every failure gets its page, as the API gives every failure a problem
                response = error_response(ui, request, exc)
            _page_headers(request, response)
            if response.status_code == 413:  # the server then drops the rest of the upload instead of reading it
                response.headers["Connection"] = "close"
            return response

        return page_handler


def unavailable_page(app: Starlette, ui: WebUI) -> Callable[[Scope, UnavailableError], ASGIApp | None]:
    """How a page of the UI says a change could not be made (`rolegate serve
    --write-process` restarting its write process): its error page, as every page's
    refusal is, with `Retry-After`. None for a path that is not a page's."""

    def answer(scope: Scope, error: UnavailableError) -> ASGIApp | None:
        # The API's routes are matched first, and no path of theirs is a page's.
        for route in ui.pages:
            if route.matches(scope)[0] is Match.FULL:
                return _ErrorPage(app, ui, error)
        return None

    return answer


@dataclass(frozen=True)
class _ErrorPage:
    app: Starlette
    ui: WebUI
    error: UnavailableError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Asked before the app's own call, which would have put itself in the scope.
        request = Request({**scope, "app": self.app}, receive)
        response = await run_in_threadpool(error_response, self.ui, request, self.error)  # its navigation reads the store
        _page_headers(request, response)
        if self.error.retry_after is not None:
            response.headers["Retry-After"] = str(self.error.retry_after)
        await response(scope, receive, send)
