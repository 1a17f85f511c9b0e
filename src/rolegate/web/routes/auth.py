"""Logging in and out, and choosing a workspace."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from rolegate.domain.errors import RateLimitedError
from rolegate.services.commands import LoginIn
from rolegate.services.sso import SsoRequiredError, password_log_in
from rolegate.web.context import LoginRequired, current_user, log_in_as, log_out, viewer
from rolegate.web.forms import FormInvalid, validated
from rolegate.web.pages import checked_form, page_router, render, session_of, ui_of
from rolegate.web.render import redirect, safe_next

router = page_router()


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    session = session_of(request)
    if session.session_id is not None:
        try:
            current_user(ui_of(request), session)
            return redirect(request, safe_next(next))
        except LoginRequired:
            pass  # a dead session (logged out, idle): the form, not a redirect loop
    return render(request, "login.html", {"next": safe_next(next), "email": "", "error": None})


@router.post("/login")
async def login(request: Request) -> Response:
    form = await checked_form(request)
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    target = safe_next(str(form.get("next") or "/"))
    try:
        validated(LoginIn, {"email": email, "password": password})
    except FormInvalid as exc:
        return render(
            request,
            "login.html",
            {"next": target, "email": email[:320].replace("\x00", ""), "error": str(exc)},
            status=exc.status,
        )
    rg = ui_of(request).rolegate
    ip = request.client.host if request.client is not None else ""
    try:
        user = await run_in_threadpool(
            lambda: password_log_in(rg.uow, rg.login_guard, email=email, password=password, ip=ip, break_glass=rg.settings.sso_break_glass)
        )
    except SsoRequiredError as exc:
        return render(
            request, "login.html", {"next": target, "email": email, "error": exc.message, "sso_email": email}, status=exc.status
        )
    except RateLimitedError as exc:
        response = render(
            request, "login.html", {"next": target, "email": email, "error": str(exc)}, status=exc.status
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if user is None:
        return render(
            request, "login.html", {"next": target, "email": email, "error": "Wrong email or password."}, status=401
        )
    await run_in_threadpool(log_in_as, ui_of(request), session_of(request), user)
    return redirect(request, target)


@router.post("/logout")
async def logout(request: Request) -> Response:
    await checked_form(request)
    session = session_of(request)
    await run_in_threadpool(log_out, ui_of(request), request, session)
    session.flash("You are logged out.")
    return redirect(request, "/login")


@router.get("/")
def root(request: Request) -> Response:
    try:
        v = viewer(ui_of(request), request, session_of(request))
    except LoginRequired:
        return redirect(request, "/login")
    active = v.switchable
    if len(active) == 1:
        return redirect(request, f"/w/{active[0].id}/")
    return redirect(request, "/workspaces")


@router.get("/workspaces")
def workspaces(request: Request) -> Response:
    v = viewer(ui_of(request), request, session_of(request))
    return render(request, "workspaces.html", {"viewer": v, "user": v.user})


@router.get("/switch")
def switch(request: Request, to: str = "") -> Response:
    """The workspace switcher's form (works without JavaScript)."""
    v = viewer(ui_of(request), request, session_of(request))
    if any(w.id == to for w in v.switchable):
        return redirect(request, f"/w/{to}/")
    return redirect(request, "/workspaces")
