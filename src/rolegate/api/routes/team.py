"""Team management over HTTP: invitations (create, list, resend, revoke; accept by the
link's token), password reset (C8: sent by an administrator, or asked for by the member;
set with the link's token), transfer of a member's records (N9), ownership transfer (T11).

Accepting an invitation and resetting a password are called by the person the email
went to, who has no API key: the token is their credential (single use, hashed,
expiring). Asking for a reset answers 202 whether the email exists or not, and is
rate limited per account and per address, as logins are.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from rolegate.api.deps import DEFAULT_PAGE_SIZE, PUBLIC_OPERATION, AdminAccess, PageCursor, PageLimit
from rolegate.api.limits import ApiRoute
from rolegate.api.routes.members import member_out
from rolegate.api.schemas.identity import QueuedOut
from rolegate.api.schemas.team import (
    AcceptedOut,
    InvitationListOut,
    InvitationOut,
    InvitationWritten,
    OwnershipOut,
    TransferredOut,
)
from rolegate.bootstrap import Rolegate
from rolegate.services.commands import (
    NO_NUL,
    AcceptIn,
    InviteIn,
    OwnershipIn,
    PasswordResetIn,
    PasswordResetRequestIn,
    Token,
    TransferIn,
)
from rolegate.services.invitations import (
    InvitationRow,
    Invited,
    accept_invitation,
    invite,
    open_invitations,
    resend_invitation,
    revoke_invitation,
)
from rolegate.services.password_reset import request_password_reset, reset_password, send_password_reset
from rolegate.services.team import transfer_ownership, transfer_records

router = APIRouter(tags=["team"], route_class=ApiRoute)

WS = "/v1/workspaces/{workspace_id}"
InvitationId = Annotated[str, Path(min_length=1, max_length=36, pattern=NO_NUL, description="The invitation id.")]
MemberId = Annotated[str, Path(min_length=1, max_length=36, pattern=NO_NUL, description="The member id.")]
TokenPath = Annotated[Token, Path(description="The token of the emailed link.")]

RESET_QUEUED = "If an account exists for this email, a password reset link is on its way. It works once, for a short time."


def _rg(request: Request) -> Rolegate:
    rg: Rolegate = request.app.state.rolegate
    return rg


def _client_ip(request: Request) -> str:
    return request.client.host if request.client is not None else ""


def invitation_out(inv: InvitationRow) -> InvitationOut:
    return InvitationOut(
        id=inv.id, member=inv.member_id, email=inv.email, expires_at=inv.expires_at, expired=inv.expires_at <= datetime.now(UTC), sent_count=inv.sent_count
    )


def _written(sent: Invited) -> InvitationWritten:
    return InvitationWritten(invitation=invitation_out(sent.invitation), member=member_out(sent.member), revision=sent.revision)


@router.get(WS + "/invitations", response_model=InvitationListOut, summary="List the open invitations")
def list_invitations(ctx: AdminAccess, limit: PageLimit = DEFAULT_PAGE_SIZE, cursor: PageCursor = None) -> InvitationListOut:
    """Invitations neither accepted nor revoked (expired ones included: they still hold their seat until resent or revoked),
    oldest first. Answers `{"invitations": [...], "revision": n, "next_cursor": ...}` (the shape of every list);
    `next_cursor` is set exactly when more follow."""
    found = open_invitations(ctx.rolegate.reader(), actor=ctx.actor, workspace_id=ctx.workspace_id, cursor=cursor, limit=limit)
    return InvitationListOut(invitations=[invitation_out(r) for r in found.invitations], revision=found.revision, next_cursor=found.next_cursor)


@router.post(WS + "/invitations", status_code=201, response_model=InvitationWritten, summary="Invite someone by email")
def create_invitation(body: InviteIn, ctx: AdminAccess) -> InvitationWritten:
    """T4: the invited member reserves a seat of their role's level (refused with the
    seat type and counts when none is free) and gets an email with a single-use link."""
    return _written(invite(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, email=body.email, role_id=body.role, name=body.name, policy=ctx.rolegate.mail_policy))


@router.post(WS + "/invitations/{invitation_id}/resend", response_model=InvitationWritten, summary="Resend an invitation")
def resend(invitation_id: InvitationId, ctx: AdminAccess) -> InvitationWritten:
    """A new link and a new expiry; the previous link stops working."""
    return _written(resend_invitation(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, invitation_id=invitation_id, policy=ctx.rolegate.mail_policy))


@router.delete(WS + "/invitations/{invitation_id}", response_model=QueuedOut, summary="Revoke an invitation")
def revoke(invitation_id: InvitationId, ctx: AdminAccess) -> QueuedOut:
    """The link stops working and the invited member is removed, which frees the seat (T3)."""
    done = revoke_invitation(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, invitation_id=invitation_id)
    return QueuedOut(detail=f"Invitation revoked; the workspace is at revision {done.revision}.")


@router.post("/v1/invitations/{token}/accept", openapi_extra=PUBLIC_OPERATION, response_model=AcceptedOut, summary="Accept an invitation (no API key: the token)")
def accept(token: TokenPath, body: AcceptIn, request: Request) -> AcceptedOut:
    """T4: the invited member becomes active. A new login chooses its password here; an
    invitation for a login someone already uses is refused (`login_required`): the link
    never sets or resets an existing login's password, so that person accepts it in the
    admin UI, logged in."""
    done = accept_invitation(_rg(request).uow(), token=token, password=body.password, name=body.name or None)
    return AcceptedOut(workspace=done.workspace_id, member=done.member_id, email=done.email)


@router.post(WS + "/members/{member_id}/password-reset", status_code=202, response_model=QueuedOut, summary="Send a member a password reset email")
def send_reset(member_id: MemberId, ctx: AdminAccess) -> QueuedOut:
    """C8, by an administrator (C1)."""
    send_password_reset(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, member_id=member_id, policy=ctx.rolegate.mail_policy)
    return QueuedOut(detail="The password reset email is queued.")


@router.post("/v1/password-resets", openapi_extra=PUBLIC_OPERATION, status_code=202, response_model=QueuedOut, summary="Ask for a password reset email (no API key)")
async def ask_reset(body: PasswordResetRequestIn, request: Request) -> QueuedOut:
    """C8, by the member. The answer is the same whether the email exists or not."""
    rg = _rg(request)
    ip = _client_ip(request)
    await run_in_threadpool(rg.login_guard.check_reset, body.email, ip)  # may wait on Redis
    await run_in_threadpool(lambda: request_password_reset(rg.uow(), email=body.email, policy=rg.mail_policy, ip=ip))
    return QueuedOut(detail=RESET_QUEUED)


@router.post("/v1/password-resets/{token}", openapi_extra=PUBLIC_OPERATION, response_model=QueuedOut, summary="Set a new password with a reset token (no API key)")
def do_reset(token: TokenPath, body: PasswordResetIn, request: Request) -> QueuedOut:
    """The token works once, before it expires; every session of the user ends."""
    reset_password(_rg(request).uow(), token=token, password=body.password, ip=_client_ip(request))
    return QueuedOut(detail="The password is changed; every session of this user has ended. Log in with the new password.")


@router.post(WS + "/members/{member_id}/transfer", response_model=TransferredOut, summary="Transfer a member's records to another member")
def transfer(member_id: MemberId, body: TransferIn, ctx: AdminAccess) -> TransferredOut:
    """N9: every record assigned to the member, and every playbook task naming them, goes
    to `to` in one transaction; then the member can be disabled (C6)."""
    done = transfer_records(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, from_member=member_id, to_member=body.to)
    return TransferredOut(records=done.records, references=done.references, revision=done.revision)


@router.post(WS + "/ownership", response_model=OwnershipOut, summary="Transfer ownership")
def ownership(body: OwnershipIn, ctx: AdminAccess) -> OwnershipOut:
    """T11: the acting owner hands their role to `to` and takes `new_role`, in one change."""
    done = transfer_ownership(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, to_member=body.to, new_role=body.new_role)
    return OwnershipOut(owner=member_out(done.owner), former_owner=member_out(done.former_owner), revision=done.revision)
