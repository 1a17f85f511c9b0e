"""Prometheus metrics of this process (`prometheus-client`), exposed at `/metrics`.

Every metric is defined here, once, so the names and labels are one list to read
(README, "Operate it", lists them too) and every layer counts on the same objects.
Labels are bounded by construction: route templates (never a path with ids), HTTP
methods from a fixed set, status codes, and small fixed vocabularies (`result`,
`kind`). No workspace, member, key or address ever becomes a label: their number is
unbounded and they would make `/metrics` a tenant directory.

Two modes, chosen the way prometheus-client chooses them, when it is imported:

* one process (the default): the metrics live in this process's memory, exposed
  with the process and garbage collector metrics of the default registry;
* several processes (`rolegate serve --workers N`, or any process manager): set
  `PROMETHEUS_MULTIPROC_DIR` to an empty directory writable by every worker before
  they start. Each process then writes its values to memory-mapped files there, and
  `/metrics`, whichever worker answers it, sums counters and histograms over every
  process that ever wrote; the gauges below say how they combine (`livesum`: over
  the live processes). The directory must be emptied between runs (stale files of
  dead processes would be summed in), and a worker that exits should be passed to
  `worker_exited(pid)` so its live gauges leave the sums.

The hot path (a decision) costs one histogram observation (the request) and one
counter increment (the decision's result), both on children bound in advance: no
label lookup per request.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Final

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

__all__ = [
    "CONTENT_TYPE",
    "DB_POOL_CHECKED_OUT",
    "DB_POOL_MAX",
    "DECISIONS",
    "HTTP_REQUEST_SECONDS",
    "MULTIPROCESS_DIR",
    "OUTBOX_SEND_FAILURES",
    "OUTBOX_SENT",
    "RATE_LIMIT_REFUSALS",
    "RECORDS_CACHED",
    "RECORD_CACHE_INVALIDATIONS",
    "RECORD_CACHE_LOOKUPS",
    "SNAPSHOTS_CACHED",
    "SNAPSHOTS_UNCONFIRMED",
    "SNAPSHOT_COMPILE_SECONDS",
    "SNAPSHOT_EVICTIONS",
    "SNAPSHOT_LOOKUPS",
    "SNAPSHOT_REVALIDATIONS",
    "STALE_ANSWERS",
    "exposition",
    "worker_exited",
]

MULTIPROCESS_DIR: Final = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
"""Read here, at import, like prometheus-client reads it (it picks its value class
then): not through `Settings`, which could disagree with the library if the
environment changed after the import."""

CONTENT_TYPE: Final = CONTENT_TYPE_LATEST
"""The text exposition format `exposition` writes (Prometheus's text format)."""

_FAST = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Seconds: decisions take well under a millisecond, so the buckets start at 0.5 ms
(the library's default starts at 5 ms, where a decision would never be seen)."""

# -- HTTP ---------------------------------------------------------------------------------

HTTP_REQUEST_SECONDS = Histogram(
    "rolegate_http_request_duration_seconds",
    "Time from a request's arrival to its response's end, by route template, method and status.",
    ["route", "method", "status"],
    buckets=_FAST,
)

# -- decisions ----------------------------------------------------------------------------

DECISIONS = Counter(
    "rolegate_decisions",
    "Decisions answered over HTTP, by route (check, check_batch, fields_filter, lookup) and result "
    "(allowed or denied for checks; all, none or filtered for lookups; filtered for the records of fields_filter).",
    ["route", "result"],
)
STALE_ANSWERS = Counter(
    "rolegate_stale_answers",
    "Decisions answered from a snapshot the database could not confirm (an outage): Rolegate-Stale: true.",
)

# -- snapshot cache -----------------------------------------------------------------------

SNAPSHOT_LOOKUPS = Counter(
    "rolegate_snapshot_cache_lookups",
    "Snapshot cache lookups: hit (decided without the database), miss (revalidated, loaded or compiled first).",
    ["result"],
)
SNAPSHOT_COMPILE_SECONDS = Histogram(
    "rolegate_snapshot_compile_seconds",
    "Loading a workspace's roles and members and compiling its snapshot (the count is the number of compiles).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SNAPSHOT_REVALIDATIONS = Counter(
    "rolegate_snapshot_revalidations",
    "Reads of a workspace's revision past the staleness bound: current (kept), changed (reloaded), unreachable (kept, unconfirmed).",
    ["result"],
)
SNAPSHOT_EVICTIONS = Counter("rolegate_snapshot_evictions", "Snapshots dropped from the cache to stay within ROLEGATE_SNAPSHOT_CACHE_SIZE.")
SNAPSHOTS_CACHED = Gauge("rolegate_snapshots_cached", "Workspaces with a snapshot in the cache.", multiprocess_mode="livesum")
SNAPSHOTS_UNCONFIRMED = Gauge(
    "rolegate_snapshots_unconfirmed",
    "Workspaces whose snapshot keeps deciding without the database's confirmation (an outage; at most ROLEGATE_MAX_OUTAGE_MS).",
    multiprocess_mode="livesum",
)

# -- record cache -------------------------------------------------------------------------

RECORD_CACHE_LOOKUPS = Counter(
    "rolegate_record_cache_lookups",
    "Records that record checks needed: hit (held in memory), miss (read from the database, then held).",
    ["result"],
)
RECORD_CACHE_INVALIDATIONS = Counter(
    "rolegate_record_cache_invalidations",
    "Revisions whose changes made a workspace's record cache forget: record (the records they name), all (every record).",
    ["scope"],
)
RECORDS_CACHED = Gauge(
    "rolegate_records_cached",
    "Records held in memory for record checks, over every workspace (at most ROLEGATE_RECORD_CACHE_SIZE per workspace).",
    multiprocess_mode="livesum",
)

# -- outbox, database, login protection ---------------------------------------------------

OUTBOX_SENT = Counter("rolegate_outbox_sent", "Emails sent from the outbox.")
OUTBOX_SEND_FAILURES = Counter("rolegate_outbox_send_failures", "Attempts to send an email that failed (the email is retried later).")
DB_POOL_CHECKED_OUT = Gauge(
    "rolegate_db_pool_checked_out_connections", "Database connections in use (checked out of the pool).", multiprocess_mode="livesum"
)
DB_POOL_MAX = Gauge(
    "rolegate_db_pool_max_connections", "The most connections the pool opens (pool size plus overflow).", multiprocess_mode="livesum"
)
RATE_LIMIT_REFUSALS = Counter(
    "rolegate_rate_limit_refusals",
    "Attempts refused by login protection (429 rate_limited), by kind: login, password_reset.",
    ["kind"],
)


def exposition(extra: Iterable[Collector] = ()) -> bytes:
    """The text exposition of every metric: this process's (or, in multiprocess mode,
    every process's, summed), then `extra` collectors, which compute their values when
    scraped (e.g. the outbox backlog, read from the database)."""
    registry = CollectorRegistry()
    if MULTIPROCESS_DIR is not None:
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # prometheus-client leaves it unannotated
    else:
        registry.register(_Default())
    for collector in extra:
        registry.register(collector)
    return generate_latest(registry)


class _Default(Collector):
    """The default registry (this module's metrics, process and GC metrics) inside a
    per-scrape registry, beside the scrape's own collectors."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def worker_exited(pid: int) -> None:
    """In multiprocess mode: a worker stopped; its live gauges leave the sums."""
    if MULTIPROCESS_DIR is not None:
        multiprocess.mark_process_dead(pid, MULTIPROCESS_DIR)  # type: ignore[no-untyped-call]  # prometheus-client leaves it unannotated
