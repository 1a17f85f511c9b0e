"""Password reset (C8): asked for by the member from the login page, or sent by an
administrator (C1: only those who manage the team). The link's token is single-use,
stored hashed and short-lived (`MailPolicy.reset_ttl`, 30 minutes by default); using
it sets the password, spends every other reset token of the user, and ends every
session of the user (their session generation moves on); the token is spent by one
conditional UPDATE, so of simultaneous uses exactly one succeeds. Asking for a reset
answers the same, and after the same time (`Pace`), whether the email exists or not.

A person without a password (an owner created over the API, a site administrator)
gets a link to choose one (`send_set_password`, from the API or `rolegate users
set-password`; or from the login page): always at their own address, never shown to
whoever asked for it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from rolegate.domain.errors import NotFoundError, RolegateError, TokenInvalidError
from rolegate.domain.permissions import role_permissions
from rolegate.domain.rules.reset_rules import reset_target_violations
from rolegate.domain.schema import AdminRight
from rolegate.domain.workspace import Actor
from rolegate.services.context import (
    admin_escalation,
    authorize,
    load_state,
    member_name,
    member_with_role,
    new_id,
    raise_if,
    record_change,
)
from rolegate.services.login_protection import security_event
from rolegate.services.mail import MailPolicy
from rolegate.services.outbox import queue_email
from rolegate.services.passwords import hash_password
from rolegate.services.tokens import hash_token, new_token, same_hash
from rolegate.services.web_sessions import end_user_sessions
from rolegate.store.repositories import utcnow
from rolegate.store.repositories_team import PasswordResetRow
from rolegate.store.uow import UnitOfWork

__all__ = [
    "MIN_PASSWORD",
    "Pace",
    "check_new_password",
    "check_reset_link",
    "request_password_reset",
    "reset_password",
    "send_password_reset",
    "send_set_password",
    "set_password_if_none_locked",
]

MIN_PASSWORD = 10
MAX_PASSWORD = 1024


@dataclass(frozen=True, slots=True)
class Pace:
    """How long asking for a reset takes, whatever the email. For a known email the
    request writes a token and an email to the outbox, for an unknown one it does not:
    milliseconds apart, which a stopwatch over many requests would tell. So every
    request ends `seconds` after it began (after the commit: no lock is held while
    waiting). Requests are throttled per address, so the wait ties up little."""

    seconds: float = 0.3
    clock: Callable[[], float] = field(default=time.monotonic)
    sleep: Callable[[float], None] = field(default=time.sleep)

    def wait_from(self, start: float) -> None:
        left = start + self.seconds - self.clock()
        if left > 0:
            self.sleep(left)


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise RolegateError(
            f"A password needs at least {MIN_PASSWORD} characters.",
            fix="Choose a longer password (a phrase of several words works well).",
        )
    if len(password) > MAX_PASSWORD:
        raise RolegateError(f"A password has at most {MAX_PASSWORD} characters.", fix="Choose a shorter password.")


def _expires(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _issue(
    uow: UnitOfWork,
    *,
    user_id: str,
    email: str,
    name: str,
    requested_by: str,
    reason: str,
    policy: MailPolicy,
    now: datetime,
    workspace_id: str | None,
    first: bool = False,
) -> str:
    """A reset link (or, `first`, a link to choose a first password: the same token,
    another email and the longer life of an invitation) queued to the user's own address."""
    token, digest = new_token()
    expires = now + (policy.invitation_ttl if first else policy.reset_ttl)
    uow.password_resets.add(PasswordResetRow(new_id(), user_id, digest, requested_by, expires, None))
    context = {
        "name": name,
        "reason": reason,
        "link": policy.link(f"/password-reset/{token}"),
        "expires": _expires(expires),
    }
    queue_email(
        uow,
        kind="set_password" if first else "password_reset",
        to=email,
        context=context,
        workspace_id=workspace_id,
        now=now,
    )
    return token


def request_password_reset(
    uow: UnitOfWork,
    *,
    email: str,
    policy: MailPolicy,
    ip: str = "",
    now: datetime | None = None,
    pace: Pace | None = None,
) -> str | None:
    """C8, by the member: email a reset link if a user with a password has this email.
    Returns the token for the caller's tests only; callers must answer the same either
    way (never reveal whether the email exists), and it returns after the same time."""
    pace = pace or Pace()
    start = pace.clock()
    try:
        return _request_reset(uow, email=email, policy=policy, ip=ip, at=now or utcnow())
    finally:
        pace.wait_from(start)


def _request_reset(uow: UnitOfWork, *, email: str, policy: MailPolicy, ip: str, at: datetime) -> str | None:
    with uow:
        row = uow.users.by_email(email)
        # An identity nobody uses yet (made by an invitation) joins through its invitation.
        if row is None or not uow.users.claimed(str(row.id)):
            security_event(uow, "password_reset.unknown_email", email=email, ip=ip, now=at)
            uow.commit()
            return None
        first = not row.password_hash
        token = _issue(
            uow,
            user_id=str(row.id),
            email=str(row.email),
            name=str(row.name or ""),
            requested_by="self",
            reason="Someone (hopefully you) asked for a link to choose your Rolegate password."
            if first
            else "Someone (hopefully you) asked to reset your Rolegate password.",
            policy=policy,
            now=at,
            workspace_id=None,
            first=first,
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
        who = member_name(uow, workspace_id, member_id) if not member.is_active else ""
        raise_if(reset_target_violations(who, member.status, rule_id=state.schema.rule("password_reset")))
        role = state.roles[member.role]
        raise_if(
            admin_escalation(
                state,
                actor,
                role_permissions(state.schema, role, state.workspace.features),
                lambda: member_with_role(uow, state, member_id),
            )
        )
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
        record_change(
            uow, workspace_id, actor, "member.password_reset", "member", member_id, None, {"sent_to": info.email}
        )
        uow.commit()
        return token


def send_set_password(
    uow: UnitOfWork, *, organization_id: str | None, email: str, policy: MailPolicy, now: datetime | None = None
) -> str:
    """Email a person without a password (an owner created over the API, a site
    administrator) a link to choose one, at their own address only; returns the token for
    the caller's tests and the CLI (the API never shows it). `organization_id` is the
    asking platform's organization: the person must be a member of one of its workspaces
    or one of its site administrators, else NotFoundError (another tenant's people are
    not found); None is the operator (`rolegate users set-password`). Refused when the
    person has a password: they reset it themselves from the login page."""
    at = now or utcnow()
    with uow:
        row = uow.users.by_email(email)
        if row is None or (organization_id is not None and not uow.sites.reaches_user(organization_id, str(row.id))):
            raise NotFoundError(
                f"no person with the email {email.strip().lower()} in this organization",
                decision=None,
                fix="Check the address; the person must be a member of one of its workspaces or a site administrator.",
            )
        if row.password_hash:
            raise RolegateError(
                f"{row.email} already has a password.",
                fix='They can choose a new one themselves: "Forgot your password?" on the login page sends a link to their address.',
            )
        token = _queue_set_password(
            uow, user_id=str(row.id), email=str(row.email), name=str(row.name or ""),
            requested_by="platform" if organization_id is not None else "operator", policy=policy, now=at,
        )
        uow.commit()
        return token


def _queue_set_password(
    uow: UnitOfWork, *, user_id: str, email: str, name: str, requested_by: str, policy: MailPolicy, now: datetime
) -> str:
    token = _issue(
        uow,
        user_id=user_id,
        email=email,
        name=name,
        requested_by=requested_by,
        reason="Your Rolegate login has no password yet. Choose one to log in.",
        policy=policy,
        now=now,
        workspace_id=None,
        first=True,
    )
    security_event(uow, "password_set.link_sent", user_id=user_id, email=email, now=now)
    return token


def set_password_if_none_locked(uow: UnitOfWork, *, user_id: str, policy: MailPolicy, now: datetime | None = None) -> bool:
    """E1: inside the caller's open transaction, queue the set-password email for a new
    site administrator or owner who has no password yet, at their own address only (the
    link is never returned to whoever created them). Returns whether an email was queued."""
    row = uow.users.get(user_id)
    if row is None or row.password_hash:
        return False
    _queue_set_password(
        uow, user_id=user_id, email=str(row.email), name=str(row.name or ""), requested_by="platform",
        policy=policy, now=now or utcnow(),
    )
    return True


def _usable_link(uow: UnitOfWork, digest: str, at: datetime) -> PasswordResetRow:
    """The reset link's row, else TokenInvalidError saying why (unknown, used, expired)."""
    row = uow.password_resets.by_token_hash(digest)
    if row is None or not same_hash(row.token_hash, digest):
        raise TokenInvalidError("This password reset link is not valid.", fix="Ask for a new link from the login page.")
    if row.used_at is not None:
        raise TokenInvalidError(
            "This password reset link was already used (each link works once).",
            fix="Ask for a new link from the login page.",
        )
    if row.expires_at <= at:
        raise TokenInvalidError("This password reset link has expired.", fix="Ask for a new link from the login page.")
    return row


def check_reset_link(uow: UnitOfWork, *, token: str, now: datetime | None = None) -> None:
    """Issue 15: a used or expired link is refused before its form is shown, not after
    the person typed a new password twice. Spends nothing."""
    with uow:
        _usable_link(uow, hash_token(token), now or utcnow())


def reset_password(uow: UnitOfWork, *, token: str, password: str, ip: str = "", now: datetime | None = None) -> str:
    """Set the password with a reset token; returns the user id. The token works once
    (spent by a conditional UPDATE: of simultaneous uses exactly one succeeds), before
    it expires; every session of the user ends."""
    check_new_password(password)
    at = now or utcnow()
    digest = hash_token(token)
    new_hash = hash_password(password)  # argon2 is slow: outside the transaction
    with uow:
        row = _usable_link(uow, digest, at)
        if not uow.password_resets.consume(digest, at):
            raise TokenInvalidError(
                "This password reset link was already used (each link works once).",
                fix="Ask for a new link from the login page.",
            )
        uow.team.set_password(row.user_id, new_hash, end_sessions=True)
        end_user_sessions(uow, user_id=row.user_id, now=at)
        uow.password_resets.use_all(row.user_id, at)
        security_event(uow, "password_reset.done", user_id=row.user_id, ip=ip, now=at)
        uow.commit()
        return row.user_id
