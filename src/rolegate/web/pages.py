"""What every page handler uses: the UI, the session, a checked form, rendering."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse

from rolegate.web.errors import PageRoute
from rolegate.web.session import Session

if TYPE_CHECKING:
    from rolegate.web.app import WebUI
    from rolegate.web.context import WorkspaceContext

__all__ = ["checked_form", "page_router", "render", "session_of", "ui_of"]

FORM_LIMITS: Final = {"max_files": 0, "max_fields": 5_000, "max_part_size": 64 * 1024}
"""The admin UI's forms (`request.form(**FORM_LIMITS)`): no uploads; the role
editor posts one field per granted permission and one per field permission (the
largest preset, with an additional object of 500 fields, stays under 2,000)."""


def page_router() -> APIRouter:
    return APIRouter(route_class=PageRoute, include_in_schema=False)


def ui_of(request: Request) -> WebUI:
    ui: WebUI = request.app.state.web
    return ui


def session_of(request: Request) -> Session:
    session: Session = request.state.session
    return session


async def checked_form(request: Request) -> FormData:
    """The posted form, once its CSRF token matched the session's (else CsrfError).
    No uploads, and bounded fields (`FORM_LIMITS`): more is a 400 page."""
    form = await request.form(**FORM_LIMITS)
    session_of(request).check_csrf(request, form)
    return form


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    page: WorkspaceContext | None = None,
    status: int = 200,
    fragment: bool | None = None,
) -> HTMLResponse:
    ctx = dict(context)
    if page is not None:
        ctx["page"] = page
        ctx["user"] = page.viewer.user
    return ui_of(request).renderer.render(request, session_of(request), template, ctx, status=status, fragment=fragment)
