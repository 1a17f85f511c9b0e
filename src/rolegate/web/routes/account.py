"""Pages reached from emails and from the login page: accepting an invitation (T4),
asking for a password reset and choosing a new password (C8), and confirming a new
email address. The link's token is the credential: a used, expired or unknown one gets
a page saying so, with the way to a new link and no form (issue 15). Accepting an
invitation signs the new member in, as a login does; an invitation for a login someone
already uses is accepted only by that login, logged in (the link alone never hands over
an identity). Changing one's own email (`/account/email`) needs the session and the
password."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from rolegate.domain.errors import LoginRequiredError, RateLimitedError, RolegateError, TokenInvalidError
from rolegate.services.commands import AcceptIn, EmailChangeIn, PasswordResetIn, PasswordResetRequestIn
from rolegate.services.email_change import clean_email, confirm_email_change, request_email_change
from rolegate.services.invitations import InvitationPreview, accept_invitation, preview_invitation
from rolegate.services.login_protection import log_in
from rolegate.services.logins import User
from rolegate.services.password_reset import MIN_PASSWORD, check_reset_link, request_password_reset, reset_password
from rolegate.services.sso import SsoRequiredError, password_log_in
from rolegate.web.context import LoginRequired, current_user, log_in_as, log_out
from rolegate.web.forms import FormInvalid, validated
from rolegate.web.pages import checked_form, page_router, render, session_of, ui_of
from rolegate.web.render import redirect

router = page_router()

RESET_SENT = (
    "If an account exists for this email, we sent a link to choose a new password. It works once, for a short time."
)


def _ip(request: Request) -> str:
    return request.client.host if request.client is not None else ""


_NEW_LINK = {
    "reset": (("Ask for a new link", "/password-reset"), ("Log in", "/login")),
    "invitation": (("Log in", "/login"), ("Forgot your password? Ask for a link", "/password-reset")),
}
"""Where a person goes from a link that no longer works: a reset (or first-password)
link is replaced from the reset form; an invitation is resent by the workspace's
administrator, or was accepted already and its login is what remains."""


def _link_refused(request: Request, exc: TokenInvalidError, kind: str) -> Response:
    """A used, expired or unknown link: what happened and where to get a new one,
    before any form is shown or typed into (410 Gone, as the API answers)."""
    ctx = {"detail": exc.message, "fix": exc.fix, "links": _NEW_LINK[kind], "code": exc.code.value}
    return render(request, "account/link_refused.html", ctx, status=exc.status)


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
        return render(
            request, "account/reset_request.html", {"email": "", "error": str(exc), "sent": False}, status=exc.status
        )
    rg = ui_of(request).rolegate
    try:
        await run_in_threadpool(rg.login_guard.check_reset, email, _ip(request))  # may wait on Redis
    except RateLimitedError as exc:
        return render(
            request,
            "account/reset_request.html",
            {"email": email, "error": str(exc), "sent": False},
            status=exc.status,
        )
    if email:
        await run_in_threadpool(
            lambda: request_password_reset(rg.uow(), email=email, policy=rg.mail_policy, ip=_ip(request))
        )
    # The same page whether the email exists or not (C8).
    return render(request, "account/reset_request.html", {"email": "", "error": None, "sent": True})


@router.get("/password-reset/{token}")
def reset_form(request: Request, token: str) -> Response:
    try:
        check_reset_link(ui_of(request).rolegate.reader(), token=token)
    except TokenInvalidError as exc:
        return _link_refused(request, exc, "reset")
    return render(request, "account/reset.html", {"token": token, "error": None, "min_length": MIN_PASSWORD})


@router.post("/password-reset/{token}")
async def reset(request: Request, token: str) -> Response:
    form = await checked_form(request)
    password = str(form.get("password") or "")
    try:
        validated(PasswordResetIn, {"password": password})
    except FormInvalid as exc:
        return render(
            request,
            "account/reset.html",
            {"token": token, "error": str(exc), "min_length": MIN_PASSWORD},
            status=exc.status,
        )
    if password != str(form.get("confirm") or ""):
        return render(
            request,
            "account/reset.html",
            {"token": token, "error": "The two passwords differ.", "min_length": MIN_PASSWORD},
            status=400,
        )
    rg = ui_of(request).rolegate
    try:
        await run_in_threadpool(lambda: reset_password(rg.uow(), token=token, password=password, ip=_ip(request)))
    except TokenInvalidError as exc:
        return _link_refused(request, exc, "reset")
    except RolegateError as exc:
        return render(
            request,
            "account/reset.html",
            {"token": token, "error": str(exc), "min_length": MIN_PASSWORD},
            status=exc.status,
        )
    session = session_of(request)
    await run_in_threadpool(log_out, ui_of(request), request, session)  # whoever this browser was logged in as
    session.flash("Your password is changed and every session has ended. Log in with the new password.")
    return redirect(request, "/login")


def _viewer_id(request: Request) -> str | None:
    """The logged-in user (a valid session), else None: these pages work logged out too."""
    try:
        return current_user(ui_of(request), session_of(request)).id
    except LoginRequired:
        return None


def _invitation_page(
    request: Request,
    token: str,
    preview: InvitationPreview,
    me: str | None,
    *,
    name: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """The acceptance form; `name` is what the person typed, else the name the
    inviter typed (issue 15: the form starts with it, and keeps it after an error)."""
    ctx = {
        "token": token,
        "invitation": preview,
        "error": error,
        "min_length": MIN_PASSWORD,
        "name": preview.name if name is None else name,
        "logged_in": me is not None,
        "is_invitee": me == preview.user_id,
        "login_url": f"/login?next=/invitations/{token}",
    }
    return render(request, "account/invitation.html", ctx, status=status)


@router.get("/invitations/{token}")
def invitation_form(request: Request, token: str) -> Response:
    try:
        preview = preview_invitation(ui_of(request).rolegate.reader(), token=token)
    except TokenInvalidError as exc:
        return _link_refused(request, exc, "invitation")
    return _invitation_page(request, token, preview, _viewer_id(request))


@router.post("/invitations/{token}")
async def accept(request: Request, token: str) -> Response:
    form = await checked_form(request)
    password = str(form.get("password") or "")
    name = str(form.get("name") or "").strip()
    rg = ui_of(request).rolegate

    def run() -> Response:
        preview = preview_invitation(rg.reader(), token=token)
        me = _viewer_id(request)
        try:
            validated(AcceptIn, {"password": password or None, "name": name})
        except FormInvalid as exc:  # after the preview: a used or unknown link is a 410 whatever was typed
            return _invitation_page(request, token, preview, me, name=name, error=str(exc), status=exc.status)
        if preview.needs_password and password != str(form.get("confirm") or ""):
            return _invitation_page(
                request, token, preview, me, name=name, error="The two passwords differ.", status=400
            )
        try:
            # A login someone already uses joins only as itself: the session says who accepts.
            done = accept_invitation(rg.uow(), token=token, password=password or None, name=name or None, as_user=me)
        except TokenInvalidError:
            raise
        except LoginRequiredError as exc:
            return _invitation_page(request, token, preview, me, error=str(exc), status=exc.status)
        except RolegateError as exc:
            return _invitation_page(request, token, preview, me, name=name, error=str(exc), status=exc.status)
        session = session_of(request)
        if preview.needs_password and not _signed_in(request, done.email, password):
            log_out(ui_of(request), request, session)  # whoever this browser was logged in as
            session.flash(f"Welcome to {preview.workspace_name}. Log in with {done.email} and your password.")
            return redirect(request, f"/login?next=/w/{done.workspace_id}/")
        session.flash(f"Welcome to {preview.workspace_name}.")
        return redirect(request, f"/w/{done.workspace_id}/")

    try:
        return await run_in_threadpool(run)
    except TokenInvalidError as exc:
        return _link_refused(request, exc, "invitation")


def _signed_in(request: Request, email: str, password: str) -> bool:
    """Issue 15: the new member lands signed in, through the login form's own path
    (an organization that requires SSO, the login throttle, the password just chosen,
    its security event), then a new session as a login makes. False when that path
    refuses: the person logs in from the login page, which says why."""
    ui = ui_of(request)
    rg = ui.rolegate
    try:
        user = password_log_in(
            rg.uow, rg.login_guard, email=email, password=password, ip=_ip(request), break_glass=rg.settings.sso_break_glass
        )
    except (SsoRequiredError, RateLimitedError):
        return False
    if user is None:
        return False
    log_in_as(ui, session_of(request), user)
    return True


# -- the email of one's own login ---------------------------------------------------------


def _email_page(
    request: Request,
    user: User,
    *,
    new_email: str = "",
    error: str | None = None,
    sent: str | None = None,
    status: int = 200,
) -> Response:
    ctx = {"user": user, "new_email": new_email, "error": error, "sent": sent}
    return render(request, "account/email.html", ctx, status=status)


@router.get("/account/email")
def email_form(request: Request) -> Response:
    return _email_page(request, current_user(ui_of(request), session_of(request)))


@router.post("/account/email")
async def email_change(request: Request) -> Response:
    """The person asks, with their password (a session left open is not enough to move
    a login away); the link goes to the new address, which must be theirs."""
    form = await checked_form(request)
    new_email = str(form.get("new_email") or "").strip()
    password = str(form.get("password") or "")
    ui = ui_of(request)
    rg = ui.rolegate

    def run() -> Response:
        me = current_user(ui, session_of(request))
        try:
            validated(EmailChangeIn, {"email": me.email, "password": password, "new_email": new_email})
        except FormInvalid as exc:
            return _email_page(request, me, error=str(exc), status=exc.status)
        try:
            user = log_in(rg.uow, rg.login_guard, email=me.email, password=password, ip=_ip(request))
        except RateLimitedError as exc:
            return _email_page(request, me, new_email=new_email, error=str(exc), status=exc.status)
        if user is None or user.id != me.id:
            return _email_page(
                request, me, new_email=new_email, error="Wrong password: your email stays as it is.", status=401
            )
        try:
            request_email_change(rg.uow(), user_id=me.id, new_email=new_email, policy=rg.mail_policy, ip=_ip(request))
        except RolegateError as exc:
            return _email_page(request, me, new_email=new_email, error=str(exc), status=exc.status)
        return _email_page(request, me, sent=clean_email(new_email))

    return await run_in_threadpool(run)


@router.get("/email-change/{token}")
def email_confirm_form(request: Request, token: str) -> Response:
    """A button, not the change: mail scanners and link previews open links with GET."""
    return render(request, "account/email_confirm.html", {"token": token, "error": None})


@router.post("/email-change/{token}")
async def email_confirm(request: Request, token: str) -> Response:
    await checked_form(request)
    rg = ui_of(request).rolegate
    try:
        done = await run_in_threadpool(
            lambda: confirm_email_change(rg.uow(), token=token, policy=rg.mail_policy, ip=_ip(request))
        )
    except TokenInvalidError:
        raise
    except RolegateError as exc:
        return render(request, "account/email_confirm.html", {"token": token, "error": str(exc)}, status=exc.status)
    session_of(request).flash(f"Your login's email is now {done.new_email}.")
    return redirect(request, "/")
