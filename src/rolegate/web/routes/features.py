"""The Features page (E4, E5): each feature of the workspace's product, on or off, the
permissions it unlocks by area, and the roles whose access it changes. A site
administrator turns one on or off (turning one off asks first); a workspace
administrator reads them, told whom to ask (`domain.rules.feature_rules`)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from rolegate.domain.violations import form_violations
from rolegate.services.features import features_page
from rolegate.services.workspaces import turn_feature
from rolegate.web.context import WorkspaceContext, open_workspace
from rolegate.web.forms import FormInvalid
from rolegate.web.pages import checked_form, page_router, render, session_of, ui_of
from rolegate.web.render import redirect

router = page_router()

SWITCH = {"1": True, "0": False}
"""The posted `on` field: turn the feature on (1) or off (0)."""


def _page(request: Request, workspace_id: str) -> WorkspaceContext:
    return open_workspace(ui_of(request), request, session_of(request), workspace_id, current="features")


@router.get("/w/{workspace_id}/features")
def features(request: Request, workspace_id: str) -> Response:
    page = _page(request, workspace_id)
    read = features_page(page.viewer.ui.rolegate.reader(), actor=page.actor, workspace_id=workspace_id)
    return render(request, "features/page.html", {"read": read, "schema": read.schema}, page=page)


@router.post("/w/{workspace_id}/features/{feature}")
async def switch(request: Request, workspace_id: str, feature: str) -> Response:
    form = await checked_form(request)
    on = SWITCH.get(str(form.get("on", "")))

    def run() -> Response:
        page = _page(request, workspace_id)
        if on is None:
            raise FormInvalid(form_violations([("on: choose 1 (on) or 0 (off).", "Use the page's buttons.")]))
        turn_feature(page.viewer.ui.rolegate.uow(), actor=page.actor, workspace_id=workspace_id, feature=feature, on=on)
        label = page.schema.features[feature].label
        session_of(request).flash(f"{label} is {'on' if on else 'off'}.")
        return redirect(request, f"{page.base}/features#feature-{feature}")

    return await run_in_threadpool(run)
