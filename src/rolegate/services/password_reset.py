"""Password reset (C8): asked for by the member from the login page, or sent by an
administrator (C1: only those who manage the team). The link's token is single-use,
stored hashed and short-lived (`MailPolicy.reset_ttl`, 30 minutes by default); using
it sets the password, spends every other reset token of the user, and ends every
session of the user (their session generation moves on). Asking for a reset answers
the same whether the email exists or not."""

from __future__ import annotations

from datetime import datetime

from rolegate.domain.errors import RolegateError, TokenInvalidError
from rolegate.domain.permissions import role_permissions
from rolegate.domain.roles import MemberStatus
from rolegate.domain.schema import AdminRight
from rolegate.domain.violations import Violation
from rolegate.domain.workspace import Actor
from rolegate.services.context import admin_escalation, authorize, load_state, new_id, raise_if, record_change
from rolegate.services.login_protection import security_event
from rolegate.services.mail import MailPolicy
from rolegate.services.outbox import queue_email
from rolegate.services.passwords import hash_password
from rolegate.services.tokens import hash_token, new_token, same_hash
from rolegate.services.web_sessions import end_user_sessions
from rolegate.store.repositories import utcnow
from rolegate.store.repositories_team import PasswordResetRow
from rolegate.store.uow import UnitOfWork

__all__ = ["MIN_PASSWORD", "check_new_password", "request_password_reset", "reset_password", "send_password_reset"]

MIN_PASSWORD = 10
MAX_PASSWORD = 1024


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise RolegateError(f"A password needs at least {MIN_PASSWORD} characters.", fix="Choose a longer password (a phrase of several words works well).")
    if len(password) > MAX_PASSWORD:
        raise RolegateError(f"A password has at most {MAX_PASSWORD} characters.", fix="Choose a shorter password.")


def _expires(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _issue(
    uow: UnitOfWork, *, user_id: str, email: str, name: str, requested_by: str, reason: str, policy: MailPolicy, now: datetime, workspace_id: str | None
) -> str:
    token, digest = new_token()
    expires = now + policy.reset_ttl
    uow.password_resets.add(PasswordResetRow(new_id(), user_id, digest, requested_by, expires, None))
    context = {"name": name, "reason": reason, "link": policy.link(f"/password-reset/{token}"), "expires": _expires(expires)}
    queue_email(uow, kind="password_reset", to=email, context=context, workspace_id=workspace_id, now=now)
    return token


def request_password_reset(uow: UnitOfWork, *, email: str, policy: MailPolicy, ip: str = "", now: datetime | None = None) -> str | None:
    """C8, by the member: email a reset link if a user with a password has this email.
    Returns the token for the caller's tests only; callers must answer the same either
    way (never reveal whether the email exists)."""
    at = now or utcnow()
    with uow:
        row = uow.users.by_email(email)
        if row is None or not row.password_hash:
            security_event(uow, "password_reset.unknown_email", email=email, ip=ip, now=at)
            uow.commit()
            return None
        token = _issue(
            uow,
            user_id=str(row.id),
            email=str(row.email),
            name=str(row.name or ""),
            requested_by="self",
            reason="Someone (hopefully you) asked to reset your Rolegate password.",
            policy=policy,
            now=at,
            workspace_id=None,
        )
        security_event(uow, "password_reset.requested", user_id=str(row.id), email=email, ip=ip, now=at)
        uow.commit()
        return token


def send_password_reset(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, member_id: str, policy: MailPolicy, now: datetime | None = None
) -> str:
    """C8, by an administrator (C1: the manage-members right). Not to someone who holds
    admin rights the actor lacks (an Administrator cannot take over an Owner, T11/E7),
    and only to active members: an invited one gets their invitation again instead."""
    at = now or utcnow()
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_MEMBERS)
        member = state.member(member_id)
        if member.status is MemberStatus.INVITED:
            raise_if([Violation("C8", f"Member {member_id!r} has not accepted their invitation yet.", "Resend the invitation instead.")])
        if member.status is MemberStatus.DISABLED:
            raise_if([Violation("C8", f"Member {member_id!r} is disabled.", "Enable them first.")])
        role = state.roles[member.role]
        raise_if(admin_escalation(state, actor, role_permissions(state.schema, role, state.workspace.features), f"Member {member_id!r} (role {role.name!r})"))
        info = uow.members.get(workspace_id, member_id)
        assert info is not None  # in the locked state above
        token = _issue(
            uow,
            user_id=info.user_id,
            email=info.email,
            name=info.name,
            requested_by=actor.label,
            reason=f"An administrator of {state.workspace.name} sent you this link to choose a new Rolegate password.",
            policy=policy,
            now=at,
            workspace_id=workspace_id,
        )
        record_change(uow, workspace_id, actor, "member.password_reset", "member", member_id, None, {"sent_to": info.email})
        uow.commit()
        return token


def reset_password(uow: UnitOfWork, *, token: str, password: str, ip: str = "", now: datetime | None = None) -> str:
    """Set the password with a reset token; returns the user id. The token works once,
    before it expires; every session of the user ends."""
    check_new_password(password)
    at = now or utcnow()
    digest = hash_token(token)
    with uow:
        row = uow.password_resets.by_token_hash(digest)
        if row is None or not same_hash(row.token_hash, digest):
            raise TokenInvalidError("This password reset link is not valid.", fix="Ask for a new link from the login page.")
        if row.used_at is not None:
            raise TokenInvalidError("This password reset link was already used (each link works once).", fix="Ask for a new link from the login page.")
        if row.expires_at <= at:
            raise TokenInvalidError("This password reset link has expired.", fix="Ask for a new link from the login page.")
        uow.team.set_password(row.user_id, hash_password(password), end_sessions=True)
        end_user_sessions(uow, user_id=row.user_id, now=at)
        uow.password_resets.use_all(row.user_id, at)
        security_event(uow, "password_reset.done", user_id=row.user_id, ip=ip, now=at)
        uow.commit()
        return row.user_id
