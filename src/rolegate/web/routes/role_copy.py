"""Copy a custom role to other workspaces of the site (E9): choose the workspaces,
preview what the copy does in each (permissions inert there, level, what holders gain
or lose, seats), then copy. The preview and the copy are the same service's answer."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from rolegate.domain.errors import RuleViolationError
from rolegate.domain.role_copy import CopyPreview
from rolegate.domain.violations import Violation
from rolegate.services.commands import RoleCopyIn
from rolegate.services.role_copy import copy_role, preview_copy, role_copy_page
from rolegate.web.context import WorkspaceContext, open_workspace
from rolegate.web.forms import FormInvalid, validated
from rolegate.web.pages import checked_form, page_router, render, session_of, ui_of
from rolegate.web.render import redirect

router = page_router()


def _page(request: Request, workspace_id: str) -> WorkspaceContext:
    return open_workspace(ui_of(request), request, session_of(request), workspace_id, current="roles")


def _render(
    request: Request,
    page: WorkspaceContext,
    role_id: str,
    *,
    chosen: list[str],
    previews: list[CopyPreview] | None = None,
    violations: tuple[Violation, ...] = (),
    status: int = 200,
) -> Response:
    read = role_copy_page(
        page.viewer.ui.rolegate.reader(), actor=page.actor, workspace_id=page.workspace.id, role_id=role_id
    )
    targets = [
        w
        for w in page.viewer.switchable
        if w.id != page.workspace.id and w.organization_id == page.workspace.organization_id
    ]
    return render(
        request,
        "roles/copy.html",
        {
            "role": read.role,
            "copy_rule": read.rule,
            "targets": targets,
            "chosen": chosen,
            "previews": previews,
            "violations": violations,
        },
        page=page,
        status=status,
    )


@router.get("/w/{workspace_id}/roles/{role_id}/copy")
def copy_form(request: Request, workspace_id: str, role_id: str) -> Response:
    return _render(request, _page(request, workspace_id), role_id, chosen=[])


@router.post("/w/{workspace_id}/roles/{role_id}/copy")
async def copy(request: Request, workspace_id: str, role_id: str) -> Response:
    form = await checked_form(request)
    chosen = [str(t) for t in form.getlist("targets")]
    confirm = form.get("confirm") == "1"

    def run() -> Response:
        page = _page(request, workspace_id)
        try:
            if chosen:  # none chosen: the service says so (E9)
                validated(RoleCopyIn, {"targets": chosen})
        except FormInvalid as exc:
            return _render(request, page, role_id, chosen=[], violations=exc.violations, status=exc.status)
        uow = page.viewer.ui.rolegate.uow()
        try:
            previews = preview_copy(uow, actor=page.actor, workspace_id=workspace_id, role_id=role_id, targets=chosen)
        except RuleViolationError as exc:
            if chosen:  # refused as a whole: the error page, as for any refusal
                raise
            return _render(request, page, role_id, chosen=[], violations=exc.violations, status=exc.status)
        if not confirm or any(p.refused for p in previews):
            return _render(
                request,
                page,
                role_id,
                chosen=chosen,
                previews=previews,
                status=409 if any(p.refused for p in previews) else 200,
            )
        try:
            result = copy_role(uow, actor=page.actor, workspace_id=workspace_id, role_id=role_id, targets=chosen)
        except RuleViolationError as exc:
            return _render(
                request, page, role_id, chosen=chosen, previews=previews, violations=exc.violations, status=exc.status
            )
        names = (
            ", ".join(p.workspace_name for p in result.previews if p.action != "unchanged")
            or "nowhere (already the same)"
        )
        session_of(request).flash(f"Role copied to {names}.")
        return redirect(request, f"{page.base}/roles")

    return await run_in_threadpool(run)
