"""Invitations (T3, T4): an administrator invites someone by email with a role; the
invited member reserves a seat of the role's level at once (N1, K2: refused with the
seat type and counts when none is free) and can do nothing until they accept. The
email carries a single-use token, stored hashed, that expires (`MailPolicy.
invitation_ttl`, 7 days by default). Accepting makes the member active and spends the
token in one conditional UPDATE (single use under concurrency). The link may set the
password only of an identity nobody uses yet (made by an invitation); an identity
already in use (a password, a joined workspace, a site to administer) is linked only
when that person is logged in as it: a link can be read by someone else (a shared
mailbox, a forwarded email), and must never hand over a login.
Resending issues a new token (the old link stops working) and a new expiry; revoking
removes the invited member, which frees the seat.

An expired invitation still holds its seat until it is resent or revoked: the
administrator decides, the seat count never changes by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rolegate.domain.errors import LoginRequiredError, NotFoundError, TokenInvalidError
from rolegate.domain.paging import DEFAULT_PAGE_SIZE, creation_key, page_of
from rolegate.domain.permissions import role_permissions
from rolegate.domain.roles import MemberStatus
from rolegate.domain.rules.team_rules import default_member_role, invitation_open_violations
from rolegate.domain.schema import AdminRight
from rolegate.domain.workspace import Actor
from rolegate.services.context import (
    WorkspaceState,
    admin_escalation,
    authorize,
    load_state,
    member_with_role,
    new_id,
    raise_if,
    record_change,
)
from rolegate.services.mail import MailPolicy
from rolegate.services.members import activate_member_locked, add_member_locked, member_json
from rolegate.services.outbox import queue_email
from rolegate.services.password_reset import check_new_password
from rolegate.services.passwords import hash_password
from rolegate.services.tokens import hash_token, new_token, same_hash
from rolegate.store.repositories import MemberInfo, utcnow
from rolegate.store.repositories_team import InvitationRow
from rolegate.store.uow import UnitOfWork

__all__ = [
    "Accepted",
    "InvitationList",
    "InvitationPreview",
    "InvitationRevoked",
    "InvitationRow",
    "Invited",
    "accept_invitation",
    "invitation_json",
    "login_required",
    "invite",
    "open_invitations",
    "preview_invitation",
    "resend_invitation",
    "revoke_invitation",
]


@dataclass(frozen=True, slots=True)
class Invited:
    member: MemberInfo
    invitation: InvitationRow
    token: str
    """Only for the caller's tests and the CLI: the API and the UI never show it."""
    revision: int


@dataclass(frozen=True, slots=True)
class InvitationRevoked:
    invitation_id: str
    member_id: str
    revision: int


@dataclass(frozen=True, slots=True)
class InvitationList:
    """The open invitations (expired ones included: they hold their seat until resent or revoked)."""

    invitations: tuple[InvitationRow, ...]
    revision: int
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class Accepted:
    workspace_id: str
    member_id: str
    user_id: str
    email: str


@dataclass(frozen=True, slots=True)
class InvitationPreview:
    workspace_name: str
    email: str
    role_name: str
    needs_password: bool
    """A new login: accepting chooses its password. Otherwise the person logs in as `user_id` first."""
    user_id: str
    name: str = ""
    """The name the inviter typed: the acceptance form starts with it (issue 15)."""


def invitation_json(inv: InvitationRow) -> dict[str, object]:
    return {"id": inv.id, "member": inv.member_id, "email": inv.email, "expires_at": inv.expires_at.isoformat(), "sent_count": inv.sent_count}


def _actor_name(uow: UnitOfWork, state: WorkspaceState, actor: Actor) -> str:
    if actor.member_id is None:
        return f"The administrators of {state.workspace.name}"
    info = uow.members.get(state.workspace.id, actor.member_id)
    return (info.name or info.email) if info is not None else "An administrator"


def _send(
    uow: UnitOfWork, state: WorkspaceState, actor: Actor, *, user_id: str, email: str, name: str, role_id: str, token: str, expires: datetime, policy: MailPolicy, now: datetime
) -> None:
    context = {
        "new_login": not uow.users.claimed(user_id),
        "name": name,
        "inviter": _actor_name(uow, state, actor),
        "workspace": state.workspace.name,
        "role": state.roles[role_id].name,
        "link": policy.link(f"/invitations/{token}"),
        "expires": expires.strftime("%Y-%m-%d %H:%M UTC"),
    }
    queue_email(uow, kind="invitation", to=email, context=context, workspace_id=state.workspace.id, now=now)


def invite(
    uow: UnitOfWork,
    *,
    actor: Actor,
    workspace_id: str,
    email: str,
    role_id: str | None,
    name: str = "",
    policy: MailPolicy,
    now: datetime | None = None,
) -> Invited:
    """Invite by email (T4): the member, the invitation and its email in one transaction.
    `role_id` None: the workspace's default role (E7: an administrator record, created
    by someone who may not assign roles)."""
    at = now or utcnow()
    with uow:
        state = load_state(uow, workspace_id)
        assigns_role = role_id is not None
        if role_id is None:
            role_id = default_member_role(state.schema, state.roles.values(), state.workspace.features).id
        added = add_member_locked(
            uow, state, actor=actor, email=email, role_id=role_id, name=name, password=None, status=MemberStatus.INVITED, assigns_role=assigns_role
        )
        info = added.member
        token, digest = new_token()
        row = InvitationRow(workspace_id, new_id(), info.member.id, info.email, digest, actor.label, at + policy.invitation_ttl, 1, None, None, at)
        uow.invitations.add(row)
        _send(uow, state, actor, user_id=info.user_id, email=info.email, name=name, role_id=role_id, token=token, expires=row.expires_at, policy=policy, now=at)
        uow.commit()
    return Invited(info, row, token, added.revision)


def open_invitations(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> InvitationList:
    """A page of the invitations neither accepted nor revoked, oldest first; seeing them
    needs the view-roles right (T10), as the team does."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_ROLES)
        rows = uow.invitations.all(workspace_id, open_only=True)
    page = page_of(rows, key=lambda i: creation_key(i.created_at, i.id), cursor=cursor, limit=limit)
    return InvitationList(page.items, state.workspace.revision, page.next_cursor)


def _open_invitation(uow: UnitOfWork, state: WorkspaceState, invitation_id: str) -> InvitationRow:
    inv = uow.invitations.get(state.workspace.id, invitation_id)
    if inv is None:
        raise NotFoundError(f"no invitation {invitation_id!r} in this workspace", decision=None, fix="List the invitations to find its id.")
    raise_if(invitation_open_violations(state.schema, accepted=inv.accepted_at is not None, revoked=inv.revoked_at is not None))
    return inv


def _guard_member(uow: UnitOfWork, state: WorkspaceState, actor: Actor, member_id: str) -> None:
    member = state.member(member_id)
    role = state.roles[member.role]
    perms = role_permissions(state.schema, role, state.workspace.features)
    raise_if(admin_escalation(state, actor, perms, lambda: member_with_role(uow, state, member_id)))


def resend_invitation(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, invitation_id: str, policy: MailPolicy, now: datetime | None = None
) -> Invited:
    """A new token and a new expiry; the previous link stops working."""
    at = now or utcnow()
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_MEMBERS)
        inv = _open_invitation(uow, state, invitation_id)
        _guard_member(uow, state, actor, inv.member_id)
        token, digest = new_token()
        expires = at + policy.invitation_ttl
        uow.invitations.renew(workspace_id, inv.id, token_hash=digest, expires_at=expires)
        info = uow.members.get(workspace_id, inv.member_id)
        assert info is not None  # an open invitation's member exists (revoking removes both)
        _send(uow, state, actor, user_id=info.user_id, email=inv.email, name=info.name, role_id=info.member.role, token=token, expires=expires, policy=policy, now=at)
        revision = record_change(uow, workspace_id, actor, "invitation.resend", "member", inv.member_id, invitation_json(inv), {**invitation_json(inv), "expires_at": expires.isoformat(), "sent_count": inv.sent_count + 1})
        uow.commit()
    return Invited(info, InvitationRow(inv.workspace_id, inv.id, inv.member_id, inv.email, digest, inv.invited_by, expires, inv.sent_count + 1, None, None, inv.created_at), token, revision)


def revoke_invitation(uow: UnitOfWork, *, actor: Actor, workspace_id: str, invitation_id: str, now: datetime | None = None) -> InvitationRevoked:
    """The link stops working and the invited member is removed: their seat is free (T3)."""
    at = now or utcnow()
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_MEMBERS)
        inv = _open_invitation(uow, state, invitation_id)
        _guard_member(uow, state, actor, inv.member_id)
        member = state.member(inv.member_id)
        uow.invitations.close(workspace_id, inv.id, revoked_at=at)
        if member.status is MemberStatus.INVITED:
            uow.team.delete_member(workspace_id, member.id)
        revision = record_change(uow, workspace_id, actor, "invitation.revoke", "member", member.id, {**member_json(member, inv.email), "invitation": inv.id}, None)
        uow.commit()
    return InvitationRevoked(inv.id, member.id, revision)


def _valid(uow: UnitOfWork, token: str, at: datetime) -> InvitationRow:
    digest = hash_token(token)
    inv = uow.invitations.by_token_hash(digest)
    if inv is None or not same_hash(inv.token_hash, digest):
        raise TokenInvalidError("This invitation link is not valid (a newer one may have been sent).", fix="Use the link of the latest invitation email, or ask for a new invitation.")
    if inv.accepted_at is not None:
        raise TokenInvalidError("This invitation was already accepted (each link works once).", fix="Log in with your email and password.")
    if inv.revoked_at is not None:
        raise TokenInvalidError("This invitation was revoked.", fix="Ask an administrator of the workspace to invite you again.")
    if inv.expires_at <= at:
        raise TokenInvalidError("This invitation has expired.", fix="Ask an administrator of the workspace to resend it.")
    return inv


def preview_invitation(uow: UnitOfWork, *, token: str, now: datetime | None = None) -> InvitationPreview:
    """What the acceptance page shows; TokenInvalidError as accepting would raise."""
    at = now or utcnow()
    with uow:
        inv = _valid(uow, token, at)
        state = load_state(uow, inv.workspace_id, lock=False)
        info = uow.members.get(inv.workspace_id, inv.member_id)
        if info is None:
            raise TokenInvalidError("This invitation was revoked.", fix="Ask an administrator of the workspace to invite you again.")
        claimed = uow.users.claimed(info.user_id)
        role = state.roles[info.member.role].name
    return InvitationPreview(
        state.workspace.name, inv.email, role, needs_password=not claimed, user_id=info.user_id, name=info.name or ""
    )


def login_required(email: str) -> LoginRequiredError:
    return LoginRequiredError(
        f"This invitation is for {email}, which already has a Rolegate login: it is accepted by that person, logged in.",
        email=email,
        fix=f"Log in as {email}, then open the invitation link again. No password yet? Choose one with \"Forgot your password?\" on the login page.",
    )


def accept_invitation(
    uow: UnitOfWork, *, token: str, password: str | None = None, name: str | None = None, as_user: str | None = None, now: datetime | None = None
) -> Accepted:
    """T4: the invitation becomes an active member, once (the token is spent by a
    conditional UPDATE). A new login (an identity made by an invitation, never used)
    chooses its password and name here; an identity already in use is linked only when
    `as_user`, the person logged in, is that identity: its password and name stay."""
    at = now or utcnow()
    digest = hash_token(token)
    with uow:
        first = _valid(uow, token, at)
        state = load_state(uow, first.workspace_id)
        inv = _valid(uow, token, at)
        info = uow.members.get(inv.workspace_id, inv.member_id)
        if info is None:
            raise TokenInvalidError("This invitation was revoked.", fix="Ask an administrator of the workspace to invite you again.")
        if not uow.invitations.consume(inv.workspace_id, inv.id, token_hash=digest, at=at):
            raise TokenInvalidError("This invitation was already accepted (each link works once).", fix="Log in with your email and password.")
        if uow.users.claimed(info.user_id):
            if as_user != info.user_id:
                raise login_required(info.email)
            if not info.name:
                uow.members.set_name(inv.workspace_id, inv.member_id, None)  # joined: their own name shows from now on
        else:
            check_new_password(password or "")
            if not uow.team.set_first_password(info.user_id, hash_password(password or "")):
                raise login_required(info.email)  # another acceptance gave this identity its password first
            if name and name.strip():
                uow.team.set_name(info.user_id, name.strip()[:200])
                uow.members.set_name(inv.workspace_id, inv.member_id, None)
        activate_member_locked(uow, state, actor=Actor.member(inv.member_id), member_id=inv.member_id)
        uow.commit()
    return Accepted(inv.workspace_id, inv.member_id, info.user_id, info.email)
