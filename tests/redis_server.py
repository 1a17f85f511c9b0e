"""Redis for tests: the server at ``ROLEGATE_TEST_REDIS_URL`` (default
``redis://127.0.0.1:6379/0``), and a key prefix of its own for each test, removed
afterwards, so tests never see one another's counts.

When the server cannot be reached the test is skipped, saying how to get one, except
when ``CI=true``: there it fails, because CI must not go green without the shared
throttles being tried.

Use the fixture (import it into a conftest.py or a test module: ``from tests.redis_server
import redis_url``), or ``require_redis()``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis

__all__ = ["REDIS_URL_ENV", "RedisTarget", "redis_target", "require_redis"]

REDIS_URL_ENV = "ROLEGATE_TEST_REDIS_URL"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

_reachable: dict[str, bool] = {}


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def require_redis() -> str:
    """The server's URL, checked reachable once per process; otherwise skip the calling
    test (fail it when CI=true)."""
    url = os.environ.get(REDIS_URL_ENV, DEFAULT_REDIS_URL)
    if not _reachable.get(url):
        try:
            with redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2) as client:
                client.ping()
        except redis.RedisError as exc:
            message = (
                f"Redis is not reachable at {url} ({exc.__class__.__name__}: {exc}). Start one there "
                f"(e.g. `apt-get install redis-server && service redis-server start`), or set {REDIS_URL_ENV}=redis://HOST:PORT/DB."
            )
            if _on_ci():
                pytest.fail(f"CI=true: the Redis tests may not be skipped. {message}", pytrace=False)
            pytest.skip(message)
        _reachable[url] = True
    return url


@dataclass(frozen=True, slots=True)
class RedisTarget:
    url: str
    prefix: str
    """Unique to the test: every key Rolegate writes starts with it."""

    def keys(self) -> list[bytes]:
        with redis.Redis.from_url(self.url) as client:
            return sorted(client.scan_iter(match=f"{self.prefix}:*"))


@pytest.fixture
def redis_target() -> Iterator[RedisTarget]:
    """The test server's URL and a fresh key prefix; the prefix's keys are deleted after."""
    target = RedisTarget(require_redis(), f"rolegate-test-{uuid.uuid4().hex[:12]}")
    yield target
    with redis.Redis.from_url(target.url) as client:
        stale = list(client.scan_iter(match=f"{target.prefix}:*"))
        if stale:
            client.delete(*stale)
