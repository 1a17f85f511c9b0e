"""Login protection: throttling of failed logins and of password reset requests, and
security events (logins, failures, refusals, resets) kept in their own table
(`security_events`), apart from the workspaces' audit chains: a login changes no
workspace, so it bumps no revision.

Failed logins are counted per account *and* client address together, with a delay that
doubles at each further failure (`ProgressiveDelay`), plus a looser limit per address
across accounts. Never per account alone: then anyone could lock a person out from
anywhere by failing on purpose with their email. Reset requests likewise count per
account and address, per address, and per account only loosely (no mail flood).

Where the counts live is one seam, `Counters` (storages in `store.throttles`): this
process's memory by default; with `ROLEGATE_REDIS_URL`, Redis, so every process of a
deployment counts together (`rolegate serve --workers N`, or several machines). When
Redis does not answer, each process falls back to its own memory (see `Counters`):
the throttles never stop, and never lock everyone out. Wrong passwords cost an argon2
verification each, which is the real brake; the throttles stop a patient guesser.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from limits import RateLimitItemPerSecond
from limits.strategies import MovingWindowRateLimiter

from rolegate.domain.errors import RateLimitedError
from rolegate.metrics import RATE_LIMIT_REFUSALS
from rolegate.services.context import new_id
from rolegate.services.logins import User, authenticate_user
from rolegate.store.repositories import utcnow
from rolegate.store.repositories_team import SecurityEventRow
from rolegate.store.throttles import StorageError, ThrottleStorage, memory_storage
from rolegate.store.uow import UnitOfWork
from rolegate.throttled_log import ThrottledLog

__all__ = ["LOGIN_BACKOFF", "Backoff", "Counters", "Limit", "LoginGuard", "ProgressiveDelay", "RateLimiter", "log_in", "security_event"]

T = TypeVar("T")

SHARED_DOWN = "throttles.shared_unreachable"
"""The incident kind logged (one line per interval) while Redis does not answer."""


class Counters:
    """The storages of the throttles: `local` (this process's memory) and, when
    configured, `shared` (Redis, every process's).

    Without `shared`, everything is counted in `local`. With it, counts go to `shared`,
    and `local` takes only the ones `shared` could not: while Redis does not answer
    (refused, timed out), each process counts in its own memory, as before Redis, so
    an attacker gets at most the limits times the number of processes, and nobody is
    locked out by the outage. A wait is the longer of the two, so what was counted
    during an outage still holds after it. After a failure `shared` is not asked again
    for `retry_every` seconds (no login waits for Redis's timeout twice in a row), and
    the outage is logged once per interval through `incidents`, its end once.
    """

    def __init__(
        self,
        shared: ThrottleStorage | None = None,
        *,
        incidents: ThrottledLog | None = None,
        retry_every: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.local = memory_storage()
        self.shared = shared
        self._incidents = incidents or ThrottledLog(logging.getLogger("rolegate.incidents"))
        self._retry_every = retry_every
        self._clock = clock
        self._down_until: float | None = None
        """Set while `shared` is taken as down: when to ask it again."""

    def _on_shared(self, op: Callable[[ThrottleStorage], T]) -> tuple[bool, T | None]:
        """(True, op(shared)) when it answered, else (False, None)."""
        if self.shared is None:
            return False, None
        down_until = self._down_until
        if down_until is not None and self._clock() < down_until:
            return False, None
        try:
            value = op(self.shared)
        except StorageError as exc:
            self._down_until = self._clock() + self._retry_every
            cause = exc.storage_error
            self._incidents.warning(
                SHARED_DOWN,
                f"the shared rate-limit storage ({self.shared.kind}) does not answer ({cause.__class__.__name__}: {cause}): "
                "login throttles count in each process's memory until it answers again",
            )
            return False, None
        if down_until is not None:
            self._down_until = None
            self._incidents.recovered(SHARED_DOWN, f"the shared rate-limit storage ({self.shared.kind}) answers again: login throttles are shared again")
        return True, value

    def read(self, op: Callable[[ThrottleStorage], int]) -> int:
        """The larger of `op` on this process's memory and on the shared storage."""
        local = op(self.local)
        answered, shared = self._on_shared(op)
        return max(local, shared) if answered and shared is not None else local

    def write(self, op: Callable[[ThrottleStorage], object]) -> None:
        """`op` on the shared storage, or on this process's memory when there is none or
        it does not answer."""
        answered, _ = self._on_shared(op)
        if not answered:
            op(self.local)

    def clear(self, op: Callable[[ThrottleStorage], object]) -> None:
        """`op` on both: a count is gone wherever it was kept."""
        op(self.local)
        self._on_shared(op)

    def close(self) -> None:
        if self.shared is not None:
            self.shared.close()


def _key(name: str, key: str) -> str:
    """The stored key: the throttle's name and a digest, so no email or address is
    written to Redis in clear, and every key has the same small size."""
    return f"{name}:{hashlib.sha256(key.encode()).hexdigest()[:32]}"


@dataclass(frozen=True, slots=True)
class Limit:
    attempts: int
    window: float
    """seconds"""


class RateLimiter:
    """At most `limit.attempts` hits per key within any `limit.window` seconds: a moving
    window of the `limits` library, on its clock (the wall clock)."""

    def __init__(self, limit: Limit, *, name: str = "limit", counters: Counters | None = None) -> None:
        self.limit = limit
        self.name = name
        self.counters = counters or Counters()
        self._item = RateLimitItemPerSecond(limit.attempts, math.ceil(limit.window), namespace="rolegate")

    def _wait(self, storage: ThrottleStorage, key: str) -> int:
        stats = MovingWindowRateLimiter(storage.windows).get_window_stats(self._item, key)
        if stats.remaining > 0:
            return 0
        return max(1, math.ceil(stats.reset_time - time.time()))

    def retry_after(self, key: str) -> int:
        """0 when one more attempt is allowed, else the seconds to wait."""
        k = _key(self.name, key)
        return self.counters.read(lambda storage: self._wait(storage, k))

    def hit(self, key: str) -> None:
        k = _key(self.name, key)
        self.counters.write(lambda storage: MovingWindowRateLimiter(storage.windows).hit(self._item, k))

    def clear(self, key: str) -> None:
        k = _key(self.name, key)
        self.counters.clear(lambda storage: MovingWindowRateLimiter(storage.windows).clear(self._item, k))


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


LOGIN_BACKOFF = Backoff(free=5, first=15, cap=15 * 60, forget=60 * 60)


class ProgressiveDelay:
    """Per key: after `backoff.free` failures, the next attempt waits `first` seconds
    from the last failure, then twice that after one more failure, and so on up to
    `cap`: a guesser slows down exponentially, a person who mistyped waits seconds.
    Times are the caller's `now` (seconds), kept with the count."""

    def __init__(self, backoff: Backoff, *, name: str = "delay", counters: Counters | None = None) -> None:
        self.backoff = backoff
        self.name = name
        self.counters = counters or Counters()

    def _wait(self, failures: int, last: float, now: float) -> int:
        b = self.backoff
        if failures < b.free or now - last >= b.forget:
            return 0
        wait = min(b.cap, b.first * 2 ** min(failures - b.free, 62))
        left = last + wait - now
        return math.ceil(left) if left > 0 else 0

    def retry_after(self, key: str, now: float) -> int:
        """0 when an attempt is allowed now, else the seconds to wait."""
        k = _key(self.name, key)
        return self.counters.read(lambda storage: self._wait(*storage.failures.get(k), now))

    def fail(self, key: str, now: float) -> None:
        k = _key(self.name, key)
        self.counters.write(lambda storage: storage.failures.add(k, now, self.backoff.forget))

    def clear(self, key: str) -> None:
        k = _key(self.name, key)
        self.counters.clear(lambda storage: storage.failures.clear(k))


def _seconds(now: datetime) -> float:
    return now.timestamp()


class LoginGuard:
    """The throttles, counted in `counters` (this process's memory, or Redis shared by
    every process). Failed logins count per (account, address): the email typed,
    existing or not, so a refusal tells nothing, and only from where the failures came,
    so an attacker elsewhere cannot lock its owner out. 5 free failures, then 15 s,
    30 s, ... up to 15 minutes between attempts; and at most 30 failures per address in
    15 minutes, whatever the accounts. Reset requests count every request."""

    def __init__(
        self,
        counters: Counters | None = None,
        *,
        login_pair: ProgressiveDelay | None = None,
        login_ip: RateLimiter | None = None,
        reset_pair: RateLimiter | None = None,
        reset_ip: RateLimiter | None = None,
        reset_account: RateLimiter | None = None,
    ) -> None:
        c = self.counters = counters or Counters()
        self.login_pair = login_pair or ProgressiveDelay(LOGIN_BACKOFF, name="login_pair", counters=c)
        self.login_ip = login_ip or RateLimiter(Limit(30, 15 * 60), name="login_ip", counters=c)
        self.reset_pair = reset_pair or RateLimiter(Limit(3, 60 * 60), name="reset_pair", counters=c)
        self.reset_ip = reset_ip or RateLimiter(Limit(10, 60 * 60), name="reset_ip", counters=c)
        self.reset_account = reset_account or RateLimiter(Limit(10, 60 * 60), name="reset_account", counters=c)
        """Loose: bounds the emails one inbox can receive from many addresses."""

    @staticmethod
    def _refuse(kind: str, what: str, wait: int) -> RateLimitedError:
        RATE_LIMIT_REFUSALS.labels(kind=kind).inc()
        return RateLimitedError(f"Too many {what}.", retry_after=wait)  # its fix says how long to wait

    def check_login(self, email: str, ip: str, now: datetime) -> None:
        wait = max(self.login_pair.retry_after(_pair(email, ip), _seconds(now)), self.login_ip.retry_after(ip))
        if wait:
            raise self._refuse("login", "failed logins", wait)

    def login_failed(self, email: str, ip: str, now: datetime) -> None:
        self.login_pair.fail(_pair(email, ip), _seconds(now))
        self.login_ip.hit(ip)

    def login_succeeded(self, email: str, ip: str) -> None:
        self.login_pair.clear(_pair(email, ip))

    def check_reset(self, email: str, ip: str) -> None:
        """Counts the request, or raises RateLimitedError. May wait on Redis: call it
        from a worker thread, not the event loop."""
        pair, account = _pair(email, ip), _account(email)
        wait = max(self.reset_pair.retry_after(pair), self.reset_ip.retry_after(ip), self.reset_account.retry_after(account))
        if wait:
            raise self._refuse("password_reset", "password reset requests", wait)
        self.reset_pair.hit(pair)
        self.reset_ip.hit(ip)
        self.reset_account.hit(account)


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
