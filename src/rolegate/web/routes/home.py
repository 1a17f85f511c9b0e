"""A workspace's home: the member lands on their role's landing page (N4), else on the
roles page when they may see it, else on a page about their own role."""

from __future__ import annotations

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from rolegate.domain.errors import NotFoundError
from rolegate.domain.roles import MemberStatus
from rolegate.domain.schema import AdminRight
from rolegate.services.landing import landing_view
from rolegate.web.context import WorkspaceContext, open_workspace
from rolegate.web.editor import area_permissions
from rolegate.web.pages import page_router, render, session_of, ui_of
from rolegate.web.render import redirect

router = page_router()


def _page(request: Request, workspace_id: str, current: str) -> WorkspaceContext:
    return open_workspace(ui_of(request), request, session_of(request), workspace_id, current=current)


@router.get("/w/{workspace_id}/")
def landing(request: Request, workspace_id: str) -> Response:
    page = _page(request, workspace_id, "home")
    if page.membership is None:  # a site administrator who is not a member (E1)
        return redirect(request, f"{page.base}/roles")
    role = page.snapshot.role_of(page.member.member.id)
    if page.member.member.status is MemberStatus.ACTIVE and role is not None:
        if role.landing_page is not None and role.landing_page in page.schema.landing_pages:
            return redirect(request, f"{page.base}/pages/{role.landing_page}")
        if page.can(AdminRight.VIEW_ROLES):
            return redirect(request, f"{page.base}/roles")
    return redirect(request, f"{page.base}/home")


@router.get("/w/{workspace_id}/home")
def home(request: Request, workspace_id: str) -> Response:
    page = _page(request, workspace_id, "home")
    if page.membership is None:
        return redirect(request, f"{page.base}/roles")
    effective = page.snapshot.effective_permissions(page.member.member.id)
    return render(request, "home.html", {"areas": area_permissions(page.schema, effective)}, page=page)


@router.get("/w/{workspace_id}/pages/{landing_page}")
def landing_page(request: Request, workspace_id: str, landing_page: str) -> Response:
    """The role's landing page. The host product renders the real one; here it lists
    the top-level records the member may view, as the engine's `lookup` filters them."""
    page = _page(request, workspace_id, "home")
    if page.membership is None:
        if landing_page not in page.schema.landing_pages:
            raise NotFoundError(f"no landing page {landing_page!r}", decision=None, fix="Use the navigation.")
        return redirect(request, f"{page.base}/roles")
    view = landing_view(
        ui_of(request).rolegate.reader(),
        page.snapshot,
        workspace_id=workspace_id,
        member_id=page.member.member.id,
        landing_page=landing_page,
    )
    return render(request, "landing.html", {"landing": view.landing, "sections": view.sections}, page=page)


@router.api_route("/w/{rest:path}", methods=["GET", "POST"])
def not_found(rest: str) -> Response:
    raise StarletteHTTPException(404)
