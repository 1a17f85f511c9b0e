"""The embeddable portal's pages (issue 15): the single-use link a SaaS backend got
from `POST /v1/workspaces/{ws}/portal-sessions` opens here (`/portal/{token}`) and
becomes a session bound to that workspace; `/w/{ws}/brand.css` themes the pages
with the organization's brand (CSS variables over the one stylesheet)."""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from rolegate.services.portal import PortalSettings, open_portal_link
from rolegate.web.context import open_workspace
from rolegate.web.pages import page_router, session_of, ui_of
from rolegate.web.render import redirect

__all__ = ["announce", "brand_css", "router"]

router = page_router()

_PAGES = {"home": "/", "team": "/team", "roles": "/roles", "matrix": "/matrix", "audit": "/audit", "explain": "/explain"}


@router.get("/portal/{token}")
async def enter(request: Request, token: str) -> Response:
    """Use the link once: the browser (the host page's iframe) gets a session of the
    member, bound to the workspace, and lands on the page the link names."""
    ui = ui_of(request)
    rg = ui.rolegate
    ip = request.client.host if request.client is not None else ""
    entry = await run_in_threadpool(
        lambda: open_portal_link(rg.uow(), token=token, policy=rg.session_policy, ip=ip)
    )
    session_of(request).enter_portal(entry.session_id, entry.session_version, entry.workspace_id)
    return redirect(request, f"/w/{entry.workspace_id}{_PAGES.get(entry.page, '/')}")


def brand_css(settings: PortalSettings) -> str:
    """The brand as CSS variables; values were checked when saved (a #rrggbb color,
    a font-family list), so none can end a declaration."""
    lines = [":root {"]
    if settings.brand_color:
        lines.append(f"  --accent: {settings.brand_color};")
        lines.append(f"  --brand: {settings.brand_color};")
    if settings.font:
        lines.append(f"  --font: {settings.font};")
    lines.append("}")
    return "\n".join(lines) + "\n"


@router.get("/w/{workspace_id}/brand.css")
def brand(request: Request, workspace_id: str) -> Response:
    page = open_workspace(ui_of(request), request, session_of(request), workspace_id)
    scope = page.viewer.portal
    css = brand_css(scope.settings) if scope is not None else ""
    return Response(css, media_type="text/css")


def announce(request: Request, kind: str, **data: str) -> None:
    """Tell the host page what happened (`postMessage` from the next full page), in a
    portal session whose link named the host's origin; nothing otherwise."""
    scope = getattr(request.state, "portal", None)
    if scope is None or scope.parent_origin is None:
        return
    event = {"source": "rolegate", "type": kind, "workspace_id": scope.workspace_id, **data}
    session_of(request).announce(json.dumps(event, separators=(",", ":")))
