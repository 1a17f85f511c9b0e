"""A person changes the email of their own login (issue 12). An identity is not tenant
data: the same login may reach workspaces of several organizations and administer a
site, so no administrator edits it; the person asks (logged in, with their password),
and the change happens only when they open the link sent to the new address, which
proves they hold it. The old address gets a notice, so a stolen password cannot move
a login away unseen.

The link's token is single use (spent by a conditional UPDATE: of simultaneous uses
exactly one succeeds), stored as its SHA-256 and expires (`MailPolicy.email_change_ttl`,
24 hours). A newer request spends the older links. Asking for an address that already
belongs to a login tells the asker nothing (the same answer); that address gets a
notice instead of a link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rolegate.domain.errors import NotFoundError, RolegateError, TokenInvalidError
from rolegate.services.context import new_id
from rolegate.services.login_protection import security_event
from rolegate.services.mail import MailPolicy
from rolegate.services.outbox import queue_email
from rolegate.services.tokens import hash_token, new_token, same_hash
from rolegate.store.repositories import utcnow
from rolegate.store.repositories_team import EmailChangeRow
from rolegate.store.uow import UnitOfWork

__all__ = ["EmailChanged", "clean_email", "confirm_email_change", "request_email_change"]

AGAIN = "Ask for the change again from your account page."


@dataclass(frozen=True, slots=True)
class EmailChanged:
    user_id: str
    old_email: str
    new_email: str


def clean_email(email: str) -> str:
    clean = email.strip().lower()
    if "@" not in clean or len(clean) > 320 or clean.startswith("@") or clean.endswith("@"):
        raise RolegateError(f"{email.strip()!s} is not an email address.", fix="Enter the new address in full, like name@example.com.")
    return clean


def request_email_change(uow: UnitOfWork, *, user_id: str, new_email: str, policy: MailPolicy, ip: str = "", now: datetime | None = None) -> str | None:
    """For the person `user_id`, already authenticated by the caller (the web session
    and their password, or the API's email and password): email a confirmation link to
    `new_email`. Returns the token for the caller's tests only (None when the address is
    taken); callers answer the same either way."""
    at = now or utcnow()
    clean = clean_email(new_email)
    with uow:
        user = uow.users.get(user_id)
        if user is None:
            raise NotFoundError("no such login", decision=None, fix="Log in again.")
        if clean == user.email:
            raise RolegateError(f"{clean} is already your email address.", fix="Enter the new address you want to use.")
        uow.email_changes.use_all(user_id, at)
        if uow.users.by_email(clean) is not None:
            queue_email(uow, kind="email_in_use", to=clean, context={"new_email": clean}, now=at)
            security_event(uow, "email_change.address_in_use", user_id=user_id, email=clean, ip=ip, now=at)
            uow.commit()
            return None
        token, digest = new_token()
        expires = at + policy.email_change_ttl
        uow.email_changes.add(EmailChangeRow(new_id(), user_id, clean, digest, expires, None))
        context = {
            "name": str(user.name or ""),
            "old_email": str(user.email),
            "new_email": clean,
            "link": policy.link(f"/email-change/{token}"),
            "expires": expires.strftime("%Y-%m-%d %H:%M UTC"),
        }
        queue_email(uow, kind="email_change", to=clean, context=context, now=at)
        security_event(uow, "email_change.requested", user_id=user_id, email=clean, ip=ip, now=at)
        uow.commit()
        return token


def confirm_email_change(uow: UnitOfWork, *, token: str, policy: MailPolicy, ip: str = "", now: datetime | None = None) -> EmailChanged:
    """Use the link: the login's email becomes the new address, once; the old address
    gets a notice. Every other open email change of the person is spent."""
    at = now or utcnow()
    digest = hash_token(token)
    with uow:
        row = uow.email_changes.by_token_hash(digest)
        if row is None or not same_hash(row.token_hash, digest):
            raise TokenInvalidError("This email confirmation link is not valid (a newer one may have been sent).", fix=AGAIN)
        if row.used_at is not None:
            raise TokenInvalidError("This email confirmation link was already used (each link works once).", fix=AGAIN)
        if row.expires_at <= at:
            raise TokenInvalidError("This email confirmation link has expired.", fix=AGAIN)
        if not uow.email_changes.consume(digest, at):
            raise TokenInvalidError("This email confirmation link was already used (each link works once).", fix=AGAIN)
        user = uow.users.get(row.user_id)
        if user is None:
            raise TokenInvalidError("This email confirmation link is not valid.", fix=AGAIN)
        old = str(user.email)
        if uow.sites.email_taken(row.new_email, except_user=row.user_id):
            raise RolegateError(f"{row.new_email} belongs to another Rolegate login by now, so your login stays {old}.", fix="Choose another address.")
        uow.team.set_email(row.user_id, row.new_email)
        uow.email_changes.use_all(row.user_id, at)
        context = {"name": str(user.name or ""), "old_email": old, "new_email": row.new_email, "login": policy.link("/login")}
        queue_email(uow, kind="email_changed", to=old, context=context, now=at)
        security_event(uow, "email_change.done", user_id=row.user_id, email=row.new_email, ip=ip, detail=f"from {old}", now=at)
        uow.commit()
    return EmailChanged(row.user_id, old, row.new_email)
