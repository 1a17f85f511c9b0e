"""The login throttles, shared by every process through Redis (issue 18, item 3).

Each process of a deployment is a `LoginGuard` over `Counters(redis_storage(...))`:
here two guards in one test process, each with its own memory and its own Redis
client, on the same Redis under a key prefix unique to the test, behave as two
processes do. The semantics are those of `test_login_timing.py` (which runs in memory):
5 free failures per (account, client), then 15 s doubling up to 15 minutes; 30 failures
per client; 3/10/10 reset requests per hour. A Redis that does not answer neither
locks anyone out nor opens the door: each process counts in its own memory, says so
once, and shares again when Redis is back.

Redis is the server at ROLEGATE_TEST_REDIS_URL (default 127.0.0.1:6379); without one
these tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.errors import RateLimitedError
from rolegate.domain.workspace import Actor
from rolegate.services.login_protection import SHARED_DOWN, Counters, Limit, LoginGuard, RateLimiter, log_in
from rolegate.services.workspaces import create_workspace
from rolegate.store.throttles import FailureCounts, MemoryFailureCounts, redis_storage
from rolegate.throttled_log import ThrottledLog
from tests.redis_server import RedisTarget, redis_target
from tests.security.faults import TcpProxy

__all__ = ["redis_target"]  # the fixture, imported to be used here

VICTIM, PASSWORD = "victim@shared.test", "the victim's password"
ATTACKER, ELSEWHERE = "203.0.113.66", "192.0.2.10"
T0 = datetime(2030, 1, 1, tzinfo=UTC)


def _guard(target: RedisTarget) -> LoginGuard:
    """One process's guard: its own memory, its own connection to the shared Redis."""
    return LoginGuard(Counters(redis_storage(target.url, prefix=target.prefix)))


@pytest.fixture
def two_processes(redis_target: RedisTarget) -> Iterator[tuple[LoginGuard, LoginGuard]]:
    a, b = _guard(redis_target), _guard(redis_target)
    yield a, b
    a.counters.close()
    b.counters.close()


def _wait(guard: LoginGuard, at: datetime, email: str = VICTIM, ip: str = ATTACKER) -> int:
    try:
        guard.check_login(email, ip, at)
    except RateLimitedError as exc:
        return exc.retry_after
    return 0


# -- the storages: one behaviour in memory and in Redis ---------------------------------


@pytest.fixture(params=["memory", "redis"])
def failure_counts(request: pytest.FixtureRequest) -> Iterator[FailureCounts]:
    if request.param == "memory":
        yield MemoryFailureCounts()
        return
    target: RedisTarget = request.getfixturevalue("redis_target")
    storage = redis_storage(target.url, prefix=target.prefix)
    yield storage.failures
    storage.close()


def test_failure_counts_count_start_over_after_quiet_and_clear_alike_in_memory_and_redis(failure_counts: FailureCounts) -> None:
    assert failure_counts.get("k") == (0, 0.0)
    assert [failure_counts.add("k", 1000.0 + i, 3600) for i in range(3)] == [1, 2, 3]
    assert failure_counts.get("k") == (3, 1002.0)
    assert failure_counts.add("k", 1002.0 + 3599, 3600) == 4  # an hour less a second: still counting
    assert failure_counts.add("k", 1002.0 + 3599 + 3600, 3600) == 1  # an hour of quiet: starts over
    assert failure_counts.get("other") == (0, 0.0)
    failure_counts.clear("k")
    assert failure_counts.get("k") == (0, 0.0)


def test_redis_holds_digests_not_emails_or_addresses_and_quiet_counts_expire(two_processes: tuple[LoginGuard, LoginGuard], redis_target: RedisTarget) -> None:
    a, _ = two_processes
    a.login_failed(VICTIM, ATTACKER, T0)
    a.check_reset(VICTIM, ATTACKER)
    keys = redis_target.keys()
    assert keys, "nothing was written to Redis"
    assert not [k for k in keys if b"victim" in k or b"203.0.113" in k], keys
    import redis

    with redis.Redis.from_url(redis_target.url) as client:
        ttls = {k: client.ttl(k) for k in keys}
    assert all(0 < ttl <= 3600 for ttl in ttls.values()), ttls  # nothing is kept for ever


# -- two processes, one count ------------------------------------------------------------


def test_five_failures_through_one_process_delay_the_sixth_through_another(two_processes: tuple[LoginGuard, LoginGuard]) -> None:
    a, b = two_processes
    for i in range(5):
        assert _wait(a, T0 + timedelta(seconds=i)) == 0
        a.login_failed(VICTIM, ATTACKER, T0 + timedelta(seconds=i))
    assert _wait(b, T0 + timedelta(seconds=5)) == 14  # 15 s after the 5th failure, at second 4
    assert _wait(b, T0 + timedelta(seconds=5), ip=ELSEWHERE) == 0  # the victim, from elsewhere, is not delayed


def test_the_delay_doubles_across_processes_up_to_the_cap(two_processes: tuple[LoginGuard, LoginGuard]) -> None:
    a, b = two_processes
    at = T0
    for _ in range(5):
        a.login_failed(VICTIM, ATTACKER, at)
    waits = []
    for i in range(9):
        guard = (a, b)[i % 2]  # each further failure through the other process
        wait = _wait(guard, at)
        waits.append(wait)
        at += timedelta(seconds=wait)
        assert _wait(guard, at) == 0
        guard.login_failed(VICTIM, ATTACKER, at)
    assert waits == [15, 30, 60, 120, 240, 480, 900, 900, 900]


def test_a_success_through_one_process_starts_the_count_over_for_all(two_processes: tuple[LoginGuard, LoginGuard]) -> None:
    a, b = two_processes
    for _ in range(5):
        a.login_failed(VICTIM, ATTACKER, T0)
    at = T0 + timedelta(seconds=15)
    b.login_succeeded(VICTIM, ATTACKER)
    a.login_failed(VICTIM, ATTACKER, at)  # one typo later: the first of five free ones again
    assert _wait(a, at) == 0
    assert _wait(b, at) == 0


def test_failures_across_accounts_count_per_client_across_processes(redis_target: RedisTarget) -> None:
    guards = []
    for _ in range(2):
        counters = Counters(redis_storage(redis_target.url, prefix=redis_target.prefix))
        guards.append(LoginGuard(counters, login_ip=RateLimiter(Limit(3, 15 * 60), name="login_ip", counters=counters)))
    a, b = guards
    for i in range(3):
        a.login_failed(f"user{i}@shared.test", ATTACKER, T0)
    assert _wait(b, T0, email="user3@shared.test") > 0
    assert _wait(b, T0, email="user3@shared.test", ip=ELSEWHERE) == 0
    for g in guards:
        g.counters.close()


def test_reset_requests_count_across_processes(two_processes: tuple[LoginGuard, LoginGuard]) -> None:
    a, b = two_processes
    for _ in range(3):
        a.check_reset(VICTIM, ATTACKER)
    with pytest.raises(RateLimitedError) as info:
        b.check_reset(VICTIM, ATTACKER)  # 3 per hour per account and client
    assert 3590 < info.value.retry_after <= 3600
    b.check_reset(VICTIM, ELSEWHERE)


def test_log_in_over_two_processes_on_redis(two_processes: tuple[LoginGuard, LoginGuard], tmp_path: Path) -> None:
    """The service itself (`log_in`) over the shared guards: a wrong password counted by
    one process delays the next attempt through the other; the victim elsewhere logs in."""
    rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/shared.db", listen=False, secret_key="shared"))
    try:
        rg.create_tables()
        create_workspace(rg.uow(), actor=Actor.system("test"), preset="natero", name="Natero", owner_email=VICTIM, owner_password=PASSWORD)
        a, b = two_processes
        for i in range(5):
            assert log_in(rg.uow, a, email=VICTIM, password=f"guess {i}", ip=ATTACKER, now=T0) is None
        with pytest.raises(RateLimitedError):
            log_in(rg.uow, b, email=VICTIM, password=PASSWORD, ip=ATTACKER, now=T0 + timedelta(seconds=1))
        assert log_in(rg.uow, b, email=VICTIM, password=PASSWORD, ip=ELSEWHERE, now=T0 + timedelta(seconds=1)) is not None
    finally:
        rg.close()


def test_bootstrap_shares_the_throttles_through_redis_when_the_url_is_set(redis_target: RedisTarget, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLEGATE_REDIS_URL", redis_target.url)
    monkeypatch.setenv("ROLEGATE_REDIS_PREFIX", redis_target.prefix)
    settings = Settings.from_env(database_url=f"sqlite:///{tmp_path}/b.db", listen=False)
    assert (settings.redis_url, settings.redis_prefix) == (redis_target.url, redis_target.prefix)
    assert redis_target.url not in repr(settings)  # it may hold a password
    processes: list[Rolegate] = [bootstrap(settings), bootstrap(settings)]
    try:
        assert [p.login_guard.counters.shared is not None and p.login_guard.counters.shared.kind for p in processes] == ["redis", "redis"]
        for _ in range(5):
            processes[0].login_guard.login_failed(VICTIM, ATTACKER, T0)
        assert _wait(processes[1].login_guard, T0) == 15
    finally:
        for p in processes:
            p.close()
    alone = bootstrap(Settings(database_url="sqlite:///:memory:", listen=False))
    assert alone.login_guard.counters.shared is None  # no URL: each process's memory
    alone.close()


# -- Redis does not answer ------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_unreachable_redis_neither_locks_out_nor_opens_the_door(redis_target: RedisTarget, caplog: pytest.LogCaptureFixture) -> None:
    """Redis behind a proxy that the test cuts: each process falls back to its own
    memory (the free failures, then the delay, as in memory), logs one line, asks Redis
    again only every `retry_every` seconds, and shares again once it answers; what was
    counted during the outage still holds after it."""
    where = urlsplit(redis_target.url)
    proxy = TcpProxy(where.hostname or "127.0.0.1", where.port or 6379)
    proxy.start()
    clock = Clock()
    incidents = ThrottledLog(logging.getLogger("rolegate.incidents"), clock=clock)
    proxied = redis_storage(f"redis://127.0.0.1:{proxy.port}/0", prefix=redis_target.prefix, timeout=0.5)
    a = LoginGuard(Counters(proxied, incidents=incidents, retry_every=5.0, clock=clock))
    b = _guard(redis_target)  # another process, whose Redis stays reachable
    try:
        a.login_failed(VICTIM, ATTACKER, T0)  # shared: counted in Redis
        assert b.counters.shared is not None
        assert b.counters.shared.failures.get(_key_of(b, "login_pair", VICTIM, ATTACKER))[0] == 1
        proxy.cut()
        with caplog.at_level(logging.WARNING, logger="rolegate.incidents"):
            waits = []
            for i in range(1, 8):
                at = T0 + timedelta(seconds=i)
                waits.append(_wait(a, at))  # never an exception: no 500, no lockout
                if not waits[-1]:
                    a.login_failed(VICTIM, ATTACKER, at)
                clock.now += 0.1
        # In memory: 5 free failures (the one counted in Redis before the cut is not
        # seen), then the delay, as one process counted before Redis.
        assert waits == [0, 0, 0, 0, 0, 14, 13]
        assert _wait(a, T0 + timedelta(seconds=1), ip=ELSEWHERE) == 0  # nobody else is locked out
        down = [r for r in caplog.records if SHARED_DOWN in r.getMessage()]
        assert len(down) == 1, [r.getMessage() for r in caplog.records]
        assert "count in each process's memory" in down[0].getMessage()

        proxy.restore()
        caplog.clear()
        clock.now += 5.0  # Redis is asked again only `retry_every` after it failed
        with caplog.at_level(logging.WARNING, logger="rolegate.incidents"):
            # Redis answers (1 failure there), and what the outage counted in memory
            # still holds: 15 s after second 5.
            assert _wait(a, T0 + timedelta(seconds=8)) == 12
            assert [r for r in caplog.records if SHARED_DOWN in r.getMessage() and "answers again" in r.getMessage()]
        a.login_failed(VICTIM, ATTACKER, T0 + timedelta(seconds=20))  # shared again: the 2nd failure in Redis
        assert b.counters.shared.failures.get(_key_of(b, "login_pair", VICTIM, ATTACKER))[0] == 2
        assert _wait(b, T0 + timedelta(seconds=21)) == 0  # the other process saw 2 only
    finally:
        proxy.cut()
        a.counters.close()
        b.counters.close()


def _key_of(guard: LoginGuard, name: str, email: str, ip: str) -> str:
    from rolegate.services.login_protection import _key, _pair

    return _key(name, _pair(email, ip))


def test_redis_refusing_connections_falls_back_to_memory_without_an_error(tmp_path: Path) -> None:
    """Nothing listens on the port: every kind of count (windows and failures) falls back."""
    proxy = TcpProxy("127.0.0.1", 9)  # only for a free port; never started
    guard = LoginGuard(Counters(redis_storage(f"redis://127.0.0.1:{proxy.port}/0", prefix="unreachable")))
    try:
        for _ in range(5):
            guard.login_failed(VICTIM, ATTACKER, T0)
        assert _wait(guard, T0) == 15
        for _ in range(3):
            guard.check_reset(VICTIM, ATTACKER)
        with pytest.raises(RateLimitedError):
            guard.check_reset(VICTIM, ATTACKER)
    finally:
        guard.counters.close()
