"""The admin UI's sessions, held server-side: the cookie carries a random session id,
the store keeps only its SHA-256 (`web_sessions`). A session ends when the user logs
out (the row is revoked, so a copy of the cookie replayed later is refused), when it
has not been used for `SessionPolicy.idle`, when `SessionPolicy.max_age` has passed
since the login however busy it was, and when the user's password is reset (C8: every
session of theirs is revoked).

Using a session records when it was last seen, but at most once per
`SessionPolicy.touch_every`, so a busy page does not write on every request. The idle
time is counted from that record, which lags the real last use by less than
`touch_every`: a session may end up to that much early, never late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rolegate.config import Settings
from rolegate.services.login_protection import security_event
from rolegate.services.logins import User, user_in
from rolegate.services.tokens import hash_token, new_token
from rolegate.store.repositories import utcnow
from rolegate.store.uow import UnitOfWork

__all__ = ["SessionPolicy", "end_session", "end_user_sessions", "resume_session", "start_session"]


@dataclass(frozen=True, slots=True)
class SessionPolicy:
    idle: timedelta = timedelta(minutes=30)
    max_age: timedelta = timedelta(hours=12)
    touch_every: timedelta = timedelta(minutes=1)

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionPolicy:
        return cls(idle=timedelta(minutes=settings.session_idle_minutes), max_age=timedelta(hours=settings.session_max_hours))


def start_session(uow: UnitOfWork, *, user_id: str, policy: SessionPolicy, replaces: str | None = None, now: datetime | None = None) -> str:
    """A new session for a user who just proved who they are; returns the session id
    for the cookie (never stored). `replaces`, the browser's previous session id, is
    revoked: logging in again never leaves an older session usable behind."""
    at = now or utcnow()
    token, digest = new_token()
    with uow:
        if replaces:
            uow.web_sessions.revoke(hash_token(replaces), at)
        # The user's dead sessions go at their next login: the table stays the size of
        # the live sessions without a sweeper.
        uow.web_sessions.purge(user_id, idle_before=at - policy.idle, created_before=at - policy.max_age)
        uow.web_sessions.add(digest, user_id, at)
        uow.commit()
    return token


def resume_session(uow: UnitOfWork, *, token: str, policy: SessionPolicy, now: datetime | None = None) -> User | None:
    """The user of a live session, else None (unknown, revoked, idle or too old)."""
    at = now or utcnow()
    digest = hash_token(token)
    with uow:
        row = uow.web_sessions.get(digest)
        if row is None or row.revoked_at is not None:
            return None
        if at - row.last_seen_at > policy.idle or at - row.created_at > policy.max_age:
            return None
        user = user_in(uow, row.user_id)
        if user is not None and at - row.last_seen_at >= policy.touch_every:
            uow.web_sessions.touch(digest, at)
            uow.commit()
        return user


def end_session(uow: UnitOfWork, *, token: str, ip: str = "", now: datetime | None = None) -> None:
    """Logout: the session is revoked, so the same cookie never works again."""
    at = now or utcnow()
    digest = hash_token(token)
    with uow:
        row = uow.web_sessions.get(digest)
        if row is None or not uow.web_sessions.revoke(digest, at):
            return
        security_event(uow, "logout", user_id=row.user_id, ip=ip, now=at)
        uow.commit()


def end_user_sessions(uow: UnitOfWork, *, user_id: str, now: datetime) -> int:
    """Revoke every session of the user, in the caller's open transaction (C8)."""
    return uow.web_sessions.revoke_all(user_id, now)
