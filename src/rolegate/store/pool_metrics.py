"""The database pool's use, as Prometheus gauges (`rolegate.metrics`): connections
checked out now, and the most the pool opens.

Counted from the pool's own events (checkout, checkin) rather than read from the pool
when scraped: with several worker processes (`PROMETHEUS_MULTIPROC_DIR`), the worker
that answers `/metrics` cannot see the others' pools, but their gauges, written as
they change, are summed. A checkout is already a pool round trip; one more gauge
increment does not show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event

from rolegate.metrics import DB_POOL_CHECKED_OUT, DB_POOL_MAX

__all__ = ["watch_pool"]


def pool_capacity(engine: Engine) -> int | None:
    """Pool size plus overflow; None for pools without a bound (SQLAlchemy's NullPool, StaticPool)."""
    pool: Any = engine.pool
    # QueuePool has no public accessor for its overflow bound (status() is prose);
    # -1 means no bound.
    size, overflow = getattr(pool, "size", None), getattr(pool, "_max_overflow", None)
    if not callable(size) or not isinstance(overflow, int) or overflow < 0:
        return None
    return int(size()) + overflow


def watch_pool(engine: Engine) -> Callable[[], None]:
    """Keep the pool gauges of `engine`; returns the call that stops (at close)."""

    def checked_out(*_: Any) -> None:
        DB_POOL_CHECKED_OUT.inc()

    def checked_in(*_: Any) -> None:
        DB_POOL_CHECKED_OUT.dec()

    event.listen(engine.pool, "checkout", checked_out)
    event.listen(engine.pool, "checkin", checked_in)
    capacity = pool_capacity(engine)
    if capacity is not None:
        DB_POOL_MAX.inc(capacity)

    def stop() -> None:
        event.remove(engine.pool, "checkout", checked_out)
        event.remove(engine.pool, "checkin", checked_in)
        if capacity is not None:
            DB_POOL_MAX.dec(capacity)

    return stop
