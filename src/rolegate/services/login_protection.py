"""Login protection: throttling of failed logins and of password reset requests, and
security events (logins, failures, refusals, resets) kept in their own table
(`security_events`), apart from the workspaces' audit chains: a login changes no
workspace, so it bumps no revision.

Failed logins are counted per account *and* client address together, with a delay that
doubles at each further failure (`ProgressiveDelay`), plus a looser limit per address
across accounts. Never per account alone: then anyone could lock a person out from
anywhere by failing on purpose with their email. Reset requests likewise count per
account and address, per address, and per account only loosely (no mail flood).

The counts live in this process's memory: enough for one server, and for several
behind a load balancer each holds its own (an attacker gets at most the limits times
the number of processes). Wrong passwords cost an argon2 verification each, which is
the real brake; the throttles stop a patient guesser.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from rolegate.domain.errors import RateLimitedError
from rolegate.metrics import RATE_LIMIT_REFUSALS
from rolegate.services.context import new_id
from rolegate.services.logins import User, authenticate_user
from rolegate.store.repositories import utcnow
from rolegate.store.repositories_team import SecurityEventRow
from rolegate.store.uow import UnitOfWork

__all__ = ["Backoff", "Limit", "LoginGuard", "ProgressiveDelay", "RateLimiter", "log_in", "security_event"]


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


@dataclass(frozen=True, slots=True)
class Backoff:
    free: int
    """Failures allowed before any wait (typos happen)."""
    first: float
    """Seconds to wait after the first failure beyond `free`; each further one doubles it."""
    cap: float
    """The longest wait, in seconds."""
    forget: float
    """Seconds after the last failure when the count starts over."""


class ProgressiveDelay:
    """Per key: after `backoff.free` failures, the next attempt waits `first` seconds
    from the last failure, then twice that after one more failure, and so on up to
    `cap`: a guesser slows down exponentially, a person who mistyped waits seconds."""

    def __init__(self, backoff: Backoff, *, max_keys: int = 100_000) -> None:
        self.backoff = backoff
        self.max_keys = max_keys
        self._failures: dict[str, tuple[int, float]] = {}
        """key -> (failures, time of the last one)"""
        self._lock = threading.Lock()

    def _count(self, key: str, now: float) -> tuple[int, float]:
        failures, last = self._failures.get(key, (0, now))
        if failures and now - last >= self.backoff.forget:
            del self._failures[key]
            return 0, now
        return failures, last

    def retry_after(self, key: str, now: float) -> int:
        """0 when an attempt is allowed now, else the seconds to wait."""
        with self._lock:
            failures, last = self._count(key, now)
        b = self.backoff
        if failures < b.free:
            return 0
        wait = min(b.cap, b.first * 2 ** min(failures - b.free, 62))
        left = last + wait - now
        return math.ceil(left) if left > 0 else 0

    def fail(self, key: str, now: float) -> None:
        with self._lock:
            failures, _ = self._count(key, now)
            if key not in self._failures and len(self._failures) >= self.max_keys:
                self._failures.clear()  # memory stays bounded; a flood forgets counts rather than the process dying
            self._failures[key] = (failures + 1, now)

    def clear(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


def _seconds(now: datetime) -> float:
    return now.timestamp()


@dataclass
class LoginGuard:
    """The throttles of one process. Failed logins count per (account, address): the
    email typed, existing or not, so a refusal tells nothing, and only from where the
    failures came, so an attacker elsewhere cannot lock its owner out. 5 free failures,
    then 15 s, 30 s, ... up to 15 minutes between attempts; and at most 30 failures per
    address in 15 minutes, whatever the accounts. Reset requests count every request."""

    login_pair: ProgressiveDelay = field(default_factory=lambda: ProgressiveDelay(Backoff(free=5, first=15, cap=15 * 60, forget=60 * 60)))
    login_ip: RateLimiter = field(default_factory=lambda: RateLimiter(Limit(30, 15 * 60)))
    reset_pair: RateLimiter = field(default_factory=lambda: RateLimiter(Limit(3, 60 * 60)))
    reset_ip: RateLimiter = field(default_factory=lambda: RateLimiter(Limit(10, 60 * 60)))
    reset_account: RateLimiter = field(default_factory=lambda: RateLimiter(Limit(10, 60 * 60)))
    """Loose: bounds the emails one inbox can receive from many addresses."""

    @staticmethod
    def _refuse(kind: str, what: str, wait: int) -> RateLimitedError:
        RATE_LIMIT_REFUSALS.labels(kind=kind).inc()
        return RateLimitedError(f"Too many {what}: try again in {wait} seconds.", retry_after=wait)

    def check_login(self, email: str, ip: str, now: datetime) -> None:
        t = _seconds(now)
        wait = max(self.login_pair.retry_after(_pair(email, ip), t), self.login_ip.retry_after(ip, t))
        if wait:
            raise self._refuse("login", "failed logins", wait)

    def login_failed(self, email: str, ip: str, now: datetime) -> None:
        t = _seconds(now)
        self.login_pair.fail(_pair(email, ip), t)
        self.login_ip.hit(ip, t)

    def login_succeeded(self, email: str, ip: str) -> None:
        self.login_pair.clear(_pair(email, ip))

    def check_reset(self, email: str, ip: str, now: datetime) -> None:
        t = _seconds(now)
        pair, account = _pair(email, ip), _account(email)
        wait = max(self.reset_pair.retry_after(pair, t), self.reset_ip.retry_after(ip, t), self.reset_account.retry_after(account, t))
        if wait:
            raise self._refuse("password_reset", "password reset requests", wait)
        self.reset_pair.hit(pair, t)
        self.reset_ip.hit(ip, t)
        self.reset_account.hit(account, t)


def _account(email: str) -> str:
    return email.strip().lower()


def _pair(email: str, ip: str) -> str:
    return f"{_account(email)}\x00{ip}"


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
            guard.login_succeeded(email, ip)
            security_event(u, "login.succeeded", user_id=user.id, email=email, ip=ip, now=at)
        u.commit()
    return user
