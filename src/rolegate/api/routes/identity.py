"""A person's own login over HTTP (issue 12): changing its email through a link sent to
the new address, and a link to choose a first password for a person without one.

An identity is not tenant data: no API key changes it. The email change is asked for
with the login's own email and password (rate limited as logins are) and happens when
the link sent to the new address is used. The platform may have a set-password link
sent to a person of its organization who has no password; the link goes to that
person's own address and is never in the answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from rolegate.api.deps import PUBLIC_OPERATION, PlatformAccess
from rolegate.api.schemas.identity import EmailChangedOut, QueuedOut, SetPasswordEmailIn
from rolegate.bootstrap import Rolegate
from rolegate.domain.errors import RolegateError
from rolegate.services.commands import EmailChangeIn, Token
from rolegate.services.email_change import clean_email, confirm_email_change, request_email_change
from rolegate.services.login_protection import log_in
from rolegate.services.password_reset import send_set_password

router = APIRouter(tags=["identity"])

TokenPath = Annotated[Token, Path(description="The token of the emailed link.")]


def _rg(request: Request) -> Rolegate:
    rg: Rolegate = request.app.state.rolegate
    return rg


def _client_ip(request: Request) -> str:
    return request.client.host if request.client is not None else ""


@router.post("/v1/email-changes", openapi_extra=PUBLIC_OPERATION, status_code=202, response_model=QueuedOut, summary="Ask to change the email of one's login (no API key)")
async def ask_email_change(body: EmailChangeIn, request: Request) -> QueuedOut:
    """The login's email and password, and the new address: a confirmation link goes to
    the new address (the login changes when it is used), and the answer is the same
    whether that address is free or already someone's login."""
    rg = _rg(request)
    ip = _client_ip(request)
    user = await run_in_threadpool(lambda: log_in(rg.uow, rg.login_guard, email=body.email, password=body.password, ip=ip, now=datetime.now(UTC)))
    if user is None:
        raise RolegateError("Wrong email or password: nothing was changed.", fix="Send the login's current email and its password.")
    new_email = clean_email(body.new_email)
    await run_in_threadpool(lambda: request_email_change(rg.uow(), user_id=user.id, new_email=new_email, policy=rg.mail_policy, ip=ip))
    return QueuedOut(detail=f"A confirmation link is on its way to {new_email}; the login stays {user.email} until it is used.")


@router.post("/v1/email-changes/{token}", openapi_extra=PUBLIC_OPERATION, response_model=EmailChangedOut, summary="Confirm a new email with the link's token (no API key)")
def confirm_change(token: TokenPath, request: Request) -> EmailChangedOut:
    """The token works once, before it expires; the previous address gets a notice."""
    rg = _rg(request)
    done = confirm_email_change(rg.uow(), token=token, policy=rg.mail_policy, ip=_client_ip(request))
    return EmailChangedOut(email=done.new_email)


@router.post("/v1/users/set-password-email", status_code=202, response_model=QueuedOut, summary="Email a person without a password a link to choose one")
def set_password_email(body: SetPasswordEmailIn, platform: PlatformAccess) -> QueuedOut:
    """For an owner created over the API, or a site administrator, of the key's
    organization: the link goes to their own address only. Someone who has a password
    resets it themselves from the login page."""
    send_set_password(platform.rolegate.uow(), organization_id=platform.key.organization_id, email=body.email, policy=platform.rolegate.mail_policy)
    return QueuedOut(detail=f"A link to choose a password is on its way to {body.email.strip().lower()}.")
