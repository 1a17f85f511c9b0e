"""Single sign-on pages: "Sign in with SSO" (by email: its domain finds the
organization's identity provider), the provider's callback, and the organization's SSO
settings for its site administrators (`/sites/{organization}/sso`)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from rolegate.domain.errors import RolegateError
from rolegate.domain.workspace import Actor
from rolegate.services.sso import (
    CALLBACK_PATH,
    begin_sso_login,
    claim_domain,
    complete_sso_login,
    configure_sso,
    remove_domain,
    set_jit_workspace,
    sso_settings,
    verify_domain,
)
from rolegate.web.context import viewer
from rolegate.web.pages import checked_form, page_router, render, session_of, ui_of
from rolegate.web.render import redirect, safe_next

router = page_router()

STATE_KEY = "o"
"""The session cookie's slot for the state of the sign-in this browser started."""


def redirect_uri(request: Request) -> str:
    """The callback the identity provider sends the browser back to: register exactly
    this URL at the provider (ROLEGATE_PUBLIC_URL + /sso/callback)."""
    return ui_of(request).rolegate.settings.public_url.rstrip("/") + CALLBACK_PATH


def _login_page(request: Request, *, email: str, next_path: str, error: str, status: int) -> Response:
    return render(request, "login.html", {"next": next_path, "email": email[:320].replace("\x00", ""), "error": error, "sso_email": email}, status=status)


@router.post("/sso/start")
async def sso_start(request: Request) -> Response:
    form = await checked_form(request)
    email = str(form.get("email") or "").strip()[:320]
    target = safe_next(str(form.get("next") or "/"))
    rg = ui_of(request).rolegate
    try:
        start = await run_in_threadpool(lambda: begin_sso_login(rg.uow(), email=email, redirect_uri=redirect_uri(request), next_path=target))
    except RolegateError as exc:
        return _login_page(request, email=email, next_path=target, error=exc.message, status=exc.status)
    session = session_of(request)
    session.data[STATE_KEY] = start.state
    session.dirty = True
    # Not a redirect: the pages' CSP (`form-action 'self'`) stops a form's navigation at
    # another site, so this page goes on by itself (meta refresh, or the link).
    response = render(request, "sso_redirect.html", {"url": start.url})
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get(CALLBACK_PATH)
async def sso_callback(request: Request, state: str = "", code: str = "", error: str = "") -> Response:
    session = session_of(request)
    browser_state = session.data.pop(STATE_KEY, None)
    session.dirty = True
    rg = ui_of(request).rolegate
    ip = request.client.host if request.client is not None else ""
    try:
        done = await run_in_threadpool(
            lambda: complete_sso_login(
                rg.uow,
                state=state[:200],
                code=code[:2000],
                browser_state=browser_state,
                redirect_uri=redirect_uri(request),
                secret_key=rg.settings.secret_key,
                policy=rg.session_policy,
                replaces=session.session_id,
                ip=ip,
                error=error[:200] or None,
            )
        )
    except RolegateError as exc:
        return _login_page(request, email="", next_path="/", error=exc.message, status=exc.status)
    session.login(done.session_id, done.user.session_version)
    return RedirectResponse(safe_next(done.next_path), status_code=303)


# -- the organization's SSO settings (site administrators) --------------------------------


def _actor(request: Request) -> Actor:
    v = viewer(ui_of(request), request, session_of(request))
    return Actor.site_admin(v.user.id)


@router.get("/sites/{organization_id}/sso")
def sso_settings_page(request: Request, organization_id: str) -> Response:
    actor = _actor(request)
    view = sso_settings(ui_of(request).rolegate.reader(), actor=actor, organization_id=organization_id)
    v = viewer(ui_of(request), request, session_of(request))
    workspaces = [s.workspace for s in v.sites if s.site_admin and s.workspace.organization_id == organization_id]
    return render(
        request,
        "sso_settings.html",
        {"view": view, "user": v.user, "viewer": v, "workspaces": workspaces, "redirect_uri": redirect_uri(request), "message": session_of(request).pop_flash()},
    )


@router.post("/sites/{organization_id}/sso")
async def sso_settings_save(request: Request, organization_id: str) -> Response:
    form = await checked_form(request)
    actor = _actor(request)
    rg = ui_of(request).rolegate
    action = str(form.get("action") or "")
    domain = str(form.get("domain") or "")[:253]

    def run() -> str:
        if action == "configure":
            configure_sso(
                rg.uow(),
                actor=actor,
                organization_id=organization_id,
                issuer=str(form.get("issuer") or "")[:500] or None,
                client_id=str(form.get("client_id") or "")[:300] or None,
                client_secret=str(form.get("client_secret") or "")[:2000] or None,
                sso_required=form.get("sso_required") == "1",
                secret_key=rg.settings.secret_key,
            )
            return "SSO settings saved."
        if action == "claim":
            claimed = claim_domain(rg.uow(), actor=actor, organization_id=organization_id, domain=domain)
            return f"Publish the TXT record {claimed.record} on {claimed.domain}, then verify."
        if action == "verify":
            verify_domain(rg.uow(), actor=actor, organization_id=organization_id, domain=domain)
            return f"{domain} is verified."
        if action == "remove":
            remove_domain(rg.uow(), actor=actor, organization_id=organization_id, domain=domain)
            return f"{domain} removed."
        if action == "jit":
            set_jit_workspace(
                rg.uow(),
                actor=actor,
                workspace_id=str(form.get("workspace_id") or "")[:36],
                enabled=form.get("enabled") == "1",
                role_id=str(form.get("role_id") or "")[:36] or None,
            )
            return "Just-in-time membership saved."
        return "Nothing to do."

    try:
        message = await run_in_threadpool(run)
    except RolegateError as exc:
        message = str(exc)
    session_of(request).flash(message)
    return redirect(request, f"/sites/{organization_id}/sso")
