"""Login protection: per-account and per-address rate limits on logins and password
reset requests, and security events (logins, failures, refusals, resets) kept in
their own table (`security_events`), apart from the workspaces' audit chains: a login
changes no workspace, so it bumps no revision.

The limits are sliding windows counted in this process's memory: enough for one
server, and for several behind a load balancer each holds its own counts (an attacker
gets at most the limit times the number of processes). Wrong passwords cost an argon2
verification each, which is the real brake; the windows stop a patient guesser.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from rolegate.domain.errors import RateLimitedError
from rolegate.services.context import new_id
from rolegate.services.logins import User, authenticate_user
from rolegate.store.repositories import utcnow
from rolegate.store.repositories_team import SecurityEventRow
from rolegate.store.uow import UnitOfWork

__all__ = ["Limit", "LoginGuard", "RateLimiter", "log_in", "security_event"]


@dataclass(frozen=True, slots=True)
class Limit:
    attempts: int
    window: float
    """seconds"""


class RateLimiter:
    """At most `limit.attempts` hits per key within any `limit.window` seconds."""

    def __init__(self, limit: Limit, *, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._hits.clear()  # memory stays bounded; a flood forgets counts rather than the process dying
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self.limit.window:
            hits.popleft()
        return hits

    def retry_after(self, key: str, now: float) -> int:
        """0 when one more attempt is allowed, else the seconds to wait."""
        with self._lock:
            hits = self._recent(key, now)
            if len(hits) < self.limit.attempts:
                return 0
            return max(1, math.ceil(hits[0] + self.limit.window - now))

    def hit(self, key: str, now: float) -> None:
        with self._lock:
            self._recent(key, now).append(now)

    def clear(self, key: str) -> None:
        with self._lock:
            self._hits.pop(key, None)


def _seconds(now: datetime) -> float:
    return now.timestamp()


@dataclass
class LoginGuard:
    """The limits of one process. Failed logins count per account (the email typed,
    existing or not, so a refusal tells nothing) and per client address; reset
    requests count every request."""

    login_account: RateLimiter = field(default_factory=lambda: RateLimiter(Limit(5, 15 * 60)))
    login_ip: RateLimiter = field(default_factory=lambda: RateLimiter(Limit(30, 15 * 60)))
    reset_account: RateLimiter = field(default_factory=lambda: RateLimiter(Limit(3, 60 * 60)))
    reset_ip: RateLimiter = field(default_factory=lambda: RateLimiter(Limit(10, 60 * 60)))

    @staticmethod
    def _refuse(what: str, wait: int) -> RateLimitedError:
        return RateLimitedError(f"Too many {what}: try again in {wait} seconds.", retry_after=wait)

    def check_login(self, email: str, ip: str, now: datetime) -> None:
        t = _seconds(now)
        wait = max(self.login_account.retry_after(_account(email), t), self.login_ip.retry_after(ip, t))
        if wait:
            raise self._refuse("failed logins", wait)

    def login_failed(self, email: str, ip: str, now: datetime) -> None:
        t = _seconds(now)
        self.login_account.hit(_account(email), t)
        self.login_ip.hit(ip, t)

    def login_succeeded(self, email: str) -> None:
        self.login_account.clear(_account(email))

    def check_reset(self, email: str, ip: str, now: datetime) -> None:
        t = _seconds(now)
        wait = max(self.reset_account.retry_after(_account(email), t), self.reset_ip.retry_after(ip, t))
        if wait:
            raise self._refuse("password reset requests", wait)
        self.reset_account.hit(_account(email), t)
        self.reset_ip.hit(ip, t)


def _account(email: str) -> str:
    return email.strip().lower()


def security_event(
    uow: UnitOfWork, kind: str, *, user_id: str | None = None, email: str = "", ip: str = "", detail: str = "", now: datetime | None = None
) -> None:
    """Append a security event in the open transaction."""
    uow.security_events.add(SecurityEventRow(new_id(), now or utcnow(), kind, user_id, _account(email), ip, detail))


def log_in(
    uow: Callable[[], UnitOfWork], guard: LoginGuard, *, email: str, password: str, ip: str, now: datetime | None = None
) -> User | None:
    """The user whose email and password these are, else None; RateLimitedError when the
    account or the address failed too often. Every attempt is a security event."""
    at = now or utcnow()
    try:
        guard.check_login(email, ip, at)
    except RateLimitedError:
        with uow() as u:
            security_event(u, "login.rate_limited", email=email, ip=ip, now=at)
            u.commit()
        raise
    user = authenticate_user(uow(), email=email, password=password)
    with uow() as u:
        if user is None:
            guard.login_failed(email, ip, at)
            security_event(u, "login.failed", email=email, ip=ip, now=at)
        else:
            guard.login_succeeded(email)
            security_event(u, "login.succeeded", user_id=user.id, email=email, ip=ip, now=at)
        u.commit()
    return user
