"""The composition root: settings -> engine (and a read replica's) -> unit of work
factory -> snapshot cache (-> revision listener on PostgreSQL, on `listen_url`). The
API, the CLI and the tests all start here.

Observability is wired here too: the pools' gauges (`store.pool_metrics`) always, and
OpenTelemetry (`rolegate.tracing`) only when the OTEL_* variables ask for traces."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from rolegate.config import Settings
from rolegate.services.login_protection import Counters, LoginGuard
from rolegate.services.mail import MailPolicy, SmtpTransport
from rolegate.services.outbox import OutboxSender, OutboxWorker
from rolegate.services.snapshots import SnapshotCache
from rolegate.services.web_sessions import SessionPolicy
from rolegate.services.webhook_delivery import DeliveryPolicy, HttpTransport, WebhookSender, WebhookWorker
from rolegate.store import UnitOfWork, is_postgres, make_engine, metadata
from rolegate.store.notify import RevisionListener
from rolegate.store.pool_metrics import watch_pool
from rolegate.store.replica import Replica
from rolegate.store.throttles import redis_storage
from rolegate.store.write_batches import WriteBatches
from rolegate.throttled_log import ThrottledLog
from rolegate.tracing import Tracing, start_tracing

__all__ = ["Rolegate", "bootstrap"]


@dataclass
class Rolegate:
    settings: Settings
    engine: Engine
    snapshots: SnapshotCache
    listener: RevisionListener | None = field(default=None)
    outbox: OutboxWorker | None = field(default=None)
    """Sends queued emails over SMTP; None without ROLEGATE_SMTP_URL (mail stays queued)."""
    login_guard: LoginGuard = field(default_factory=LoginGuard)
    """Login and reset throttles: in this process's memory, or in Redis (ROLEGATE_REDIS_URL)."""
    incidents: ThrottledLog = field(default_factory=lambda: ThrottledLog(logging.getLogger("rolegate.incidents")))
    """Failures that repeat (the database unreachable): one log line per kind per interval."""
    replica: Replica | None = field(default=None)
    """The streaming replica the snapshot cache reads from (ROLEGATE_DATABASE_REPLICA_URL)."""
    tracing: Tracing | None = field(default=None)
    webhooks: WebhookWorker | None = field(default=None)
    """Delivers committed changes to webhook endpoints; None unless `Settings.webhooks`."""
    """OpenTelemetry, when the OTEL_* variables turn it on (the app instruments itself with it)."""
    unwatch_pools: list[Callable[[], None]] = field(default_factory=list, repr=False)
    write_batches: WriteBatches | None = field(default=None)
    """The gates that batch a workspace's queued writes (`store.write_batches`)."""

    def uow(self, *, batched_for: str | None = None) -> UnitOfWork:
        """`batched_for`: a workspace the unit changes alone, committing once, last: it
        may share the transaction of that workspace's other writes (group commit)."""
        gate = self.write_batches.gate(batched_for) if batched_for is not None and self.write_batches is not None else None
        return UnitOfWork(
            self.engine,
            on_revision=self.snapshots.committed,
            on_pending=self.snapshots.expect,
            on_mail=self.wake_mail,
            on_webhooks=self.wake_webhooks,
            gate=gate,
        )

    def reader(self) -> UnitOfWork:
        """A unit of work that only reads (SQLite: no write lock; cannot commit)."""
        return UnitOfWork(self.engine, read_only=True)

    @property
    def mail_policy(self) -> MailPolicy:
        return MailPolicy.from_settings(self.settings)

    @property
    def session_policy(self) -> SessionPolicy:
        return SessionPolicy.from_settings(self.settings)

    def wake_mail(self) -> None:
        if self.outbox is not None:
            self.outbox.wake()

    def wake_webhooks(self) -> None:
        """A pass at once: an endpoint was registered or enabled here, or a retry asked for."""
        if self.webhooks is not None:
            self.webhooks.endpoints_changed()

    @property
    def webhook_policy(self) -> DeliveryPolicy:
        return DeliveryPolicy(
            allow_private=self.settings.webhooks_allow_private,
            disable_after=timedelta(hours=self.settings.webhooks_disable_after_hours),
            public_url=self.settings.public_url,
        )

    def webhook_sender(self, **overrides: Any) -> WebhookSender:
        """A sender over this Rolegate's database (the worker's, `rolegate webhooks
        deliver`'s); `overrides`: WebhookSender's keywords (tests inject clocks)."""
        policy = overrides.pop("policy", None) or self.webhook_policy
        transport = overrides.pop("transport", None) or HttpTransport(timeout=policy.timeout, allow_private=policy.allow_private)
        return WebhookSender(self.uow, self.reader, transport, policy=policy, **overrides)

    def start_webhooks(self, *, poll: float = 1.0, **overrides: Any) -> WebhookWorker:
        """Start the delivery thread, woken by every revision this process hears of."""
        if self.webhooks is None:
            self.webhooks = WebhookWorker(self.webhook_sender(**overrides), poll=poll)
            self.snapshots.watch(self.webhooks.wake)
            self.webhooks.start()
        return self.webhooks

    def create_tables(self) -> None:
        """For tests and throwaway databases; real ones use `rolegate db upgrade`."""
        metadata.create_all(self.engine)

    def close(self) -> None:
        if self.webhooks is not None:
            self.webhooks.stop()
        if self.outbox is not None:
            self.outbox.stop()
        if self.listener is not None:
            self.listener.stop()
        self.snapshots.clear()
        for unwatch in self.unwatch_pools:
            unwatch()
        self.login_guard.counters.close()
        if self.write_batches is not None:
            self.write_batches.close()
        if self.replica is not None:
            self.replica.engine.dispose()
        self.engine.dispose()
        if self.tracing is not None:
            self.tracing.shutdown()


def bootstrap(settings: Settings | None = None, *, span_exporters: Sequence[Any] = ()) -> Rolegate:
    """`span_exporters`: OpenTelemetry SpanExporter objects to trace to, whatever the
    settings say (tests read spans from an in-memory one)."""
    settings = settings or Settings.from_env()
    engine = make_engine(settings.database_url, pgbouncer=settings.pgbouncer)
    incidents = ThrottledLog(logging.getLogger("rolegate.incidents"))
    replica = None
    if settings.database_replica_url:
        replica_engine = make_engine(settings.database_replica_url, pgbouncer=settings.pgbouncer)
        if not (is_postgres(engine) and is_postgres(replica_engine)):
            replica_engine.dispose()
            engine.dispose()
            raise ValueError("ROLEGATE_DATABASE_REPLICA_URL is a PostgreSQL streaming replica of a PostgreSQL ROLEGATE_DATABASE_URL")
        replica = Replica(replica_engine, retry_every=max(settings.max_staleness_ms / 1000, 1.0), incidents=incidents)
    snapshots = SnapshotCache(
        engine,
        maxsize=settings.snapshot_cache_size,
        max_staleness=settings.max_staleness_ms / 1000,
        max_outage=settings.max_outage_ms / 1000,
        incidents=incidents,
        replica=replica,
        compile_behind=settings.compile_behind,
        record_cache_size=settings.record_cache_size,
    )
    listener = None
    if settings.listen and is_postgres(engine):
        # Direct to the primary: a pooled (PgBouncer) connection would hand the LISTEN
        # to whichever client holds it next, and a replica cannot LISTEN at all.
        listener = RevisionListener(settings.listen_url or settings.database_url, snapshots.mark, on_reconnect=snapshots.on_reconnect, incidents=incidents)
        listener.start()
    engines = [engine] if replica is None else [engine, replica.engine]
    exporters = tuple(span_exporters) or settings.traces_exporters
    tracing = start_tracing(exporters) if exporters else None
    if tracing is not None:
        tracing.instrument_engines(engines)
    unwatch_pools = [watch_pool(e) for e in engines]
    shared = redis_storage(settings.redis_url, prefix=settings.redis_prefix) if settings.redis_url else None
    guard = LoginGuard(Counters(shared, incidents=incidents))
    rg = Rolegate(settings, engine, snapshots, listener, login_guard=guard, incidents=incidents, replica=replica, tracing=tracing, unwatch_pools=unwatch_pools)
    rg.write_batches = WriteBatches(engine, settings.write_batch)
    if settings.smtp_url:
        transport = SmtpTransport(settings.smtp_url, settings.mail_from)
        rg.outbox = OutboxWorker(OutboxSender(rg.uow, transport))
        rg.outbox.start()
    if settings.webhooks:
        rg.start_webhooks()
    return rg
