"""Where the login throttles keep their counts: this process's memory, or Redis, which
every process of a deployment shares (`ROLEGATE_REDIS_URL`).

Two kinds of count, each on both storages:

- moving windows ("at most N in any T seconds"): the `limits` library's storage
  (`MemoryStorage` or `RedisStorage`), read by its `MovingWindowRateLimiter`;
- failure counts (`FailureCounts`): per key, how many failures and when the last one
  was, started over when the last one is `forget` seconds old. `limits` has no
  primitive that keeps the time of the last hit under a caller's clock, so Redis runs
  a small Lua script for it (one round trip, atomic across processes) through the
  client that the `limits` storage holds.

On Redis, every failure is raised as `limits.errors.StorageError` (the `limits`
storage is built with `wrap_exceptions=True`, and the failure counts wrap the same
way), so the caller handles one exception type whatever failed.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Protocol, cast

import redis
from limits.errors import StorageError
from limits.storage import MemoryStorage, RedisStorage

__all__ = [
    "DEFAULT_PREFIX",
    "FailureCounts",
    "MemoryFailureCounts",
    "RedisFailureCounts",
    "StorageError",
    "ThrottleStorage",
    "memory_storage",
    "redis_storage",
]

DEFAULT_PREFIX = "rolegate"
REDIS_TIMEOUT = 0.5
"""Seconds to connect to Redis or wait for an answer: a login waits at most this long
for an unreachable Redis (then the caller falls back, see services.login_protection)."""


class FailureCounts(Protocol):
    def get(self, key: str) -> tuple[int, float]:
        """(failures, time of the last one); (0, 0.0) when none is kept."""
        ...

    def add(self, key: str, now: float, forget: float) -> int:
        """One more failure at `now`; the count starts over first if the last one is
        `forget` seconds old or more. Returns the new count."""
        ...

    def clear(self, key: str) -> None: ...


class MemoryFailureCounts:
    def __init__(self, *, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[int, float]:
        return self._counts.get(key, (0, 0.0))

    def add(self, key: str, now: float, forget: float) -> int:
        with self._lock:
            failures, last = self._counts.get(key, (0, 0.0))
            if failures and now - last >= forget:
                failures = 0
            if key not in self._counts and len(self._counts) >= self.max_keys:
                self._counts.clear()  # memory stays bounded; a flood forgets counts rather than the process dying
            self._counts[key] = (failures + 1, now)
            return failures + 1

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)


# KEYS[1]: the hash {n, last}; ARGV: now, forget (seconds), ttl (milliseconds).
_ADD_FAILURE = """
local n = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
local last = tonumber(redis.call('HGET', KEYS[1], 'last') or '0')
local now = tonumber(ARGV[1])
if n > 0 and now - last >= tonumber(ARGV[2]) then
  n = 0
end
n = n + 1
redis.call('HSET', KEYS[1], 'n', n, 'last', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return n
"""


class RedisFailureCounts:
    """Failure counts in Redis hashes `<prefix>:failures:<key>`, each expiring `forget`
    seconds after its last failure (Redis's clock), so quiet keys cost no memory."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = prefix
        self._add = client.register_script(_ADD_FAILURE)
        self._errors = redis.RedisError

    def _key(self, key: str) -> str:
        return f"{self._prefix}:failures:{key}"

    def get(self, key: str) -> tuple[int, float]:
        try:
            n, last = cast("list[bytes | None]", self._client.hmget(self._key(key), ["n", "last"]))  # sync client: a list
        except self._errors as exc:
            raise StorageError(exc) from exc
        return (int(n), float(last)) if n is not None and last is not None else (0, 0.0)

    def add(self, key: str, now: float, forget: float) -> int:
        try:
            return int(self._add(keys=[self._key(key)], args=[repr(now), repr(forget), math.ceil(forget * 1000)]))
        except self._errors as exc:
            raise StorageError(exc) from exc

    def clear(self, key: str) -> None:
        try:
            self._client.delete(self._key(key))
        except self._errors as exc:
            raise StorageError(exc) from exc


@dataclass(frozen=True, slots=True)
class ThrottleStorage:
    """One storage of both kinds of count."""

    kind: str
    """"memory" or "redis": for logs and tests."""
    windows: MemoryStorage | RedisStorage
    failures: FailureCounts

    def close(self) -> None:
        if isinstance(self.windows, RedisStorage):
            self.windows.storage.close()


def memory_storage() -> ThrottleStorage:
    return ThrottleStorage("memory", MemoryStorage(), MemoryFailureCounts())


def redis_storage(url: str, *, prefix: str = DEFAULT_PREFIX, timeout: float = REDIS_TIMEOUT) -> ThrottleStorage:
    """Counts in the Redis at `url` (`redis://[:password@]host[:port][/db]`, `rediss://`
    for TLS), under keys starting with `prefix:`. Connects lazily: an unreachable Redis
    fails the first count, not the start-up."""
    windows = RedisStorage(
        url,
        key_prefix=f"{prefix}:windows",
        wrap_exceptions=True,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
    )
    client = cast("redis.Redis", windows.get_connection())  # `limits` types it as a protocol; it is redis.Redis (from_url)
    return ThrottleStorage("redis", windows, RedisFailureCounts(client, prefix))
