"""The Webhooks page (issue 16), for site administrators: the organization's endpoints
(from any of its workspaces), where delivery stands in each workspace, the recent
attempts; registering an endpoint, enabling or disabling it, rotating its secret,
deleting it. A secret is shown once, on the page that made it (never put in the
session cookie). Anyone else gets "not found", as for a page that does not exist."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from rolegate.domain.errors import InvalidInputError
from rolegate.services import webhooks
from rolegate.services.commands import WebhookEndpointIn
from rolegate.web.context import WorkspaceContext, open_workspace
from rolegate.web.forms import FormInvalid, validated
from rolegate.web.pages import checked_form, page_router, render, session_of, ui_of
from rolegate.web.render import redirect

router = page_router()


def _page(request: Request, workspace_id: str) -> WorkspaceContext:
    return open_workspace(ui_of(request), request, session_of(request), workspace_id, current="webhooks")


def _render(request: Request, page: WorkspaceContext, *, status: int = 200, **extra: Any) -> Response:
    found = webhooks.webhooks_page(page.viewer.ui.rolegate.reader(), actor=page.actor, organization_id=page.workspace.organization_id)
    ctx = {"hooks": found, "error": None, "new_secret": None, "form": {}, **extra}
    return render(request, "webhooks/list.html", ctx, page=page, status=status)


@router.get("/w/{workspace_id}/webhooks")
def webhooks_list(request: Request, workspace_id: str) -> Response:
    return _render(request, _page(request, workspace_id))


@router.post("/w/{workspace_id}/webhooks")
async def create(request: Request, workspace_id: str) -> Response:
    form = await checked_form(request)
    sent = {k: str(form.get(k) or "") for k in ("url", "description", "event_types")}

    def run() -> Response:
        page = _page(request, workspace_id)
        rg = page.viewer.ui.rolegate
        types = [t for t in (p.strip() for p in sent["event_types"].replace(",", " ").split()) if t]
        try:
            # The API's model: a URL or description too long is refused, never cut short.
            body = validated(WebhookEndpointIn, {"url": sent["url"], "event_types": types, "description": sent["description"]})
            made = webhooks.create_endpoint(
                rg.uow(), actor=page.actor, organization_id=page.workspace.organization_id, url=body.url,
                event_types=body.event_types, description=body.description, allow_private=rg.settings.webhooks_allow_private,
            )
        except FormInvalid as exc:
            return _render(request, page, status=exc.status, error=InvalidInputError(str(exc), fix="Correct the field and send the form again."), form=sent)
        except InvalidInputError as exc:
            return _render(request, page, status=exc.status, error=exc, form=sent)
        return _render(request, page, status=201, new_secret=(made.view.endpoint, made.secret))

    return await run_in_threadpool(run)


@router.post("/w/{workspace_id}/webhooks/{endpoint_id}/{action}")
async def act(request: Request, workspace_id: str, endpoint_id: str, action: str) -> Response:
    """`enable`, `disable`, `rotate` (the new secret shown on the page) or `delete`."""
    await checked_form(request)

    def run() -> Response:
        page = _page(request, workspace_id)
        rg = page.viewer.ui.rolegate
        org = page.workspace.organization_id
        if action == "rotate":
            rotated = webhooks.rotate_secret(rg.uow(), actor=page.actor, organization_id=org, endpoint_id=endpoint_id)
            return _render(request, page, new_secret=(rotated.view.endpoint, rotated.secret))
        if action == "delete":
            webhooks.delete_endpoint(rg.uow(), actor=page.actor, organization_id=org, endpoint_id=endpoint_id)
            session_of(request).flash("Webhook endpoint deleted.")
        elif action in ("enable", "disable"):
            change = webhooks.EndpointChange(enabled=action == "enable")
            webhooks.update_endpoint(rg.uow(), actor=page.actor, organization_id=org, endpoint_id=endpoint_id, change=change)
            session_of(request).flash(f"Webhook endpoint {action}d.")
        else:
            return _render(request, page, status=404, error=InvalidInputError(f"no action {action!r}"))
        return redirect(request, f"{page.base}/webhooks")

    return await run_in_threadpool(run)
