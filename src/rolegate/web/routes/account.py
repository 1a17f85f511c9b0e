"""Pages reached from emails and from the login page: accepting an invitation (T4),
asking for a password reset and choosing a new password (C8). No login needed: the
link's token is the credential, and a bad one gets the `token_invalid` page."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from rolegate.api.schemas import AcceptIn, PasswordResetIn, PasswordResetRequestIn
from rolegate.domain.errors import RateLimitedError, RolegateError, TokenInvalidError
from rolegate.services.invitations import accept_invitation, preview_invitation
from rolegate.services.password_reset import MIN_PASSWORD, request_password_reset, reset_password
from rolegate.web.forms import FormInvalid, validated
from rolegate.web.pages import checked_form, page_router, render, session_of, ui_of
from rolegate.web.render import redirect

router = page_router()

RESET_SENT = "If an account exists for this email, we sent a link to choose a new password. It works once, for a short time."


def _ip(request: Request) -> str:
    return request.client.host if request.client is not None else ""


@router.get("/password-reset")
def reset_request_form(request: Request) -> Response:
    return render(request, "account/reset_request.html", {"email": "", "error": None, "sent": False})


@router.post("/password-reset")
async def reset_request(request: Request) -> Response:
    form = await checked_form(request)
    email = str(form.get("email") or "").strip()
    try:
        if email:
            validated(PasswordResetRequestIn, {"email": email})
    except FormInvalid as exc:
        return render(request, "account/reset_request.html", {"email": "", "error": str(exc), "sent": False}, status=422)
    rg = ui_of(request).rolegate
    try:
        rg.login_guard.check_reset(email, _ip(request), datetime.now(UTC))
    except RateLimitedError as exc:
        return render(request, "account/reset_request.html", {"email": email, "error": exc.message, "sent": False}, status=429)
    if email:
        await run_in_threadpool(lambda: request_password_reset(rg.uow(), email=email, policy=rg.mail_policy, ip=_ip(request)))
    # The same page whether the email exists or not (C8).
    return render(request, "account/reset_request.html", {"email": "", "error": None, "sent": True})


@router.get("/password-reset/{token}")
def reset_form(request: Request, token: str) -> Response:
    return render(request, "account/reset.html", {"token": token, "error": None, "min_length": MIN_PASSWORD})


@router.post("/password-reset/{token}")
async def reset(request: Request, token: str) -> Response:
    form = await checked_form(request)
    password = str(form.get("password") or "")
    try:
        validated(PasswordResetIn, {"password": password})
    except FormInvalid as exc:
        return render(request, "account/reset.html", {"token": token, "error": str(exc), "min_length": MIN_PASSWORD}, status=422)
    if password != str(form.get("confirm") or ""):
        return render(request, "account/reset.html", {"token": token, "error": "The two passwords differ.", "min_length": MIN_PASSWORD}, status=400)
    rg = ui_of(request).rolegate
    try:
        await run_in_threadpool(lambda: reset_password(rg.uow(), token=token, password=password, ip=_ip(request)))
    except TokenInvalidError:
        raise
    except RolegateError as exc:
        return render(request, "account/reset.html", {"token": token, "error": str(exc), "min_length": MIN_PASSWORD}, status=400)
    session = session_of(request)
    session.logout()
    session.flash("Your password is changed and every session has ended. Log in with the new password.")
    return redirect(request, "/login")


@router.get("/invitations/{token}")
def invitation_form(request: Request, token: str) -> Response:
    preview = preview_invitation(ui_of(request).rolegate.uow(), token=token)
    return render(request, "account/invitation.html", {"token": token, "invitation": preview, "error": None, "min_length": MIN_PASSWORD, "name": ""})


@router.post("/invitations/{token}")
async def accept(request: Request, token: str) -> Response:
    form = await checked_form(request)
    password = str(form.get("password") or "")
    name = str(form.get("name") or "").strip()
    rg = ui_of(request).rolegate
    preview = await run_in_threadpool(lambda: preview_invitation(rg.uow(), token=token))
    ctx = {"token": token, "invitation": preview, "min_length": MIN_PASSWORD, "name": name}
    try:
        validated(AcceptIn, {"password": password or None, "name": name})
    except FormInvalid as exc:  # after the preview: a used or unknown link is a 410 whatever was typed
        return render(request, "account/invitation.html", {**ctx, "name": "", "error": str(exc)}, status=422)
    if preview.needs_password and password != str(form.get("confirm") or ""):
        return render(request, "account/invitation.html", {**ctx, "error": "The two passwords differ."}, status=400)
    try:
        done = await run_in_threadpool(lambda: accept_invitation(rg.uow(), token=token, password=password or None, name=name or None))
    except TokenInvalidError:
        raise
    except RolegateError as exc:
        return render(request, "account/invitation.html", {**ctx, "error": str(exc)}, status=400)
    session = session_of(request)
    session.logout()
    session.flash(f"Welcome to {preview.workspace_name}. Log in with {done.email} and your password.")
    return redirect(request, f"/login?next=/w/{done.workspace_id}/")
