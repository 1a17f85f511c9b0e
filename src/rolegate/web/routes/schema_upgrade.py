"""After a schema upgrade (issue 19): the banner on workspace pages ("New permissions
available: review your custom roles"), loaded by htmx only for a workspace past
version 1, the page of what changed for this workspace, and closing the banner (per
member)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from rolegate.domain.errors import PermissionDeniedError
from rolegate.services import schema_upgrade
from rolegate.web.context import open_workspace
from rolegate.web.pages import checked_form, page_router, render, session_of, ui_of
from rolegate.web.render import redirect

router = page_router()


@router.get("/w/{workspace_id}/upgrade/notice")
def notice(request: Request, workspace_id: str) -> Response:
    page = open_workspace(ui_of(request), request, session_of(request), workspace_id)
    try:
        found = schema_upgrade.upgrade_notice(page.viewer.ui.rolegate.reader(), actor=page.actor, workspace_id=workspace_id)
    except PermissionDeniedError:
        found = None  # the banner is for those who review roles; others see nothing
    if found is None or found.dismissed:
        return HTMLResponse("")
    return render(request, "upgrade/notice.html", {"notice": found}, page=page, fragment=True)


@router.get("/w/{workspace_id}/upgrade")
def changes(request: Request, workspace_id: str) -> Response:
    page = open_workspace(ui_of(request), request, session_of(request), workspace_id, current="upgrade")
    found = schema_upgrade.upgrade_notice(page.viewer.ui.rolegate.reader(), actor=page.actor, workspace_id=workspace_id)
    return render(request, "upgrade/page.html", {"notice": found}, page=page)


@router.post("/w/{workspace_id}/upgrade/dismiss")
async def dismiss(request: Request, workspace_id: str) -> Response:
    await checked_form(request)
    page = open_workspace(ui_of(request), request, session_of(request), workspace_id)
    schema_upgrade.dismiss_upgrade_notice(page.viewer.ui.rolegate.uow(), actor=page.actor, workspace_id=workspace_id)
    session_of(request).flash("Closed: the changes stay listed on the upgrade page.")
    return redirect(request, f"{page.base}/upgrade")
