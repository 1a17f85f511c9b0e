"""Settings, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["Settings", "traces_exporters"]

DEFAULT_DATABASE_URL = "sqlite:///./rolegate.db"
DEFAULT_MAIL_FROM = "Rolegate <rolegate@localhost>"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    database_replica_url: str | None = None
    """A PostgreSQL streaming replica (`ROLEGATE_DATABASE_REPLICA_URL`): snapshot loads
    and revision reads go there while it has the revision a read needs and lags less
    than the staleness bound; otherwise, and while it is unreachable, the primary."""
    listen_url: str | None = None
    """Where LISTEN connects (`ROLEGATE_LISTEN_URL`); None: `database_url`. Behind a
    transaction-pooling PgBouncer this must be a direct connection to the primary:
    a pooled one delivers notifications to whichever client holds it, or to none."""
    pgbouncer: bool = False
    """`database_url` goes through PgBouncer in transaction mode (`ROLEGATE_PGBOUNCER=1`):
    no server-side prepared statements (each transaction may land on another server
    connection, which never saw them)."""
    snapshot_cache_size: int = 256
    record_cache_size: int = 10_000
    write_batch: int = 16
    """At most this many writes of one workspace queued in this process share one
    transaction and one COMMIT (`ROLEGATE_WRITE_BATCH`; 1: each write its own), on
    PostgreSQL (`store.write_batches`)."""
    """Records held in memory per workspace for record checks (`ROLEGATE_RECORD_CACHE_SIZE`;
    0: none, each record check reads the database)."""
    listen: bool = True
    """On PostgreSQL, LISTEN for other processes' commits (stale-free snapshots)."""
    compile_behind: bool = True
    """A newer revision heard of (another process's commit) is compiled in a worker
    thread while decisions keep using the snapshot held, within the staleness bound
    (`ROLEGATE_COMPILE_BEHIND=0`: each decision waits for it, as before)."""
    max_staleness_ms: int = 1000
    """A cached snapshot older than this (since the database last confirmed its revision)
    reads the workspace's revision before it decides: no decision is staler than this
    while the database is reachable, whatever happened to LISTEN."""
    max_outage_ms: int = 300_000
    """While the database is unreachable, cached snapshots and API keys keep serving
    for at most this long after they were last confirmed (responses say how stale);
    past it, decisions answer 503 too."""
    smtp_url: str | None = None
    """`smtp://`, `smtp+starttls://` or `smtps://[user:password@]host[:port]`; None keeps
    emails in the outbox (shown on the admin UI's developer page)."""
    mail_from: str = DEFAULT_MAIL_FROM
    public_url: str = DEFAULT_PUBLIC_URL
    """Where the admin UI is reached: the base of the links in emails."""
    invitation_ttl_hours: int = 7 * 24
    reset_ttl_minutes: int = 30
    dev_outbox: bool = False
    """The admin UI's developer page of the outbox, where each viewer reads the mail sent
    to their own address (`ROLEGATE_DEV_OUTBOX=1`; `make run`'s demo turns it on, so it
    works offline). Off, the page does not exist."""
    session_idle_minutes: int = 30
    """An admin UI session unused this long ends (it is refused, as after logout)."""
    session_max_hours: int = 12
    """An admin UI session ends this long after its login, however busy."""
    secret_key: str | None = field(default=None, repr=False)
    """Signs the admin UI's session cookies; None: a random key per process (sessions
    end when it stops, and several processes do not share them). `rolegate serve
    --workers N` without it makes one key for all its workers."""
    redis_url: str | None = field(default=None, repr=False)
    """`redis://[:password@]host[:port][/db]` (or `rediss://`): the login throttles'
    counts shared by every process; None keeps them in each process's memory."""
    redis_prefix: str = "rolegate"
    """The start of every Redis key Rolegate writes (several deployments, one Redis)."""
    write_process_socket: str | None = None
    """Where this process sends its changes (`ROLEGATE_WRITE_PROCESS_SOCKET`, a Unix
    socket): `rolegate serve --write-process` sets it for the processes that decide,
    none for the one that writes (`api.write_process`)."""
    log_format: str = "json"
    """`json` (one object per line) or `text`; `rolegate serve --log-format` overrides it."""
    log_level: str = "INFO"
    access_log: bool = False
    """A line per request in the log (`rolegate serve --access-log`, which sets
    `ROLEGATE_ACCESS_LOG=1` for the app it serves): off by default, it costs every request."""
    metrics_token: str | None = field(default=None, repr=False)
    """When set, `/metrics` answers only `Authorization: Bearer <token>` (401 otherwise);
    unset, it is open (it names no tenant: see README, "Operate it")."""
    sso_break_glass: bool = False
    """`ROLEGATE_SSO_BREAK_GLASS=1`: where an organization requires single sign-on, its
    site administrators may still log in with their password (the identity provider is
    down or misconfigured). Off by default; each such login is a `login.break_glass`
    security event."""
    traces_exporters: tuple[str, ...] = ()
    """OpenTelemetry span exporters (entry point names: `otlp_proto_http`,
    `otlp_proto_grpc`, `console`); empty: tracing is off, and Rolegate imports
    neither the OpenTelemetry SDK nor an instrumentation. From the standard OTEL_* variables (`traces_exporters`)."""
    webhooks: bool = False
    """Run the webhook delivery thread in this process (`ROLEGATE_WEBHOOKS`, on unless
    `0`: `Settings()` leaves it off so a test's or a script's Rolegate delivers only
    when asked, e.g. `rolegate webhooks deliver`)."""
    webhooks_allow_private: bool = False
    """Webhook endpoints may be private addresses (loopback, RFC 1918, link-local)
    (`ROLEGATE_WEBHOOKS_ALLOW_PRIVATE=1`). Off, an endpoint cannot reach services inside
    the server's network (server-side request forgery)."""
    webhooks_disable_after_hours: float = 72.0
    """An endpoint whose every delivery failed for this long is disabled and the
    organization's site administrators are emailed (`ROLEGATE_WEBHOOKS_DISABLE_AFTER_HOURS`)."""

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        values: dict[str, object] = {
            "database_url": os.environ.get("ROLEGATE_DATABASE_URL", DEFAULT_DATABASE_URL),
            "database_replica_url": os.environ.get("ROLEGATE_DATABASE_REPLICA_URL") or None,
            "listen_url": os.environ.get("ROLEGATE_LISTEN_URL") or None,
            "pgbouncer": _flag(os.environ.get("ROLEGATE_PGBOUNCER", "")),
            "snapshot_cache_size": int(os.environ.get("ROLEGATE_SNAPSHOT_CACHE_SIZE", "256")),
            "record_cache_size": int(os.environ.get("ROLEGATE_RECORD_CACHE_SIZE", "10000")),
            "write_batch": int(os.environ.get("ROLEGATE_WRITE_BATCH", "16")),
            "listen": os.environ.get("ROLEGATE_LISTEN", "1") not in {"0", "false", "no"},
            "compile_behind": os.environ.get("ROLEGATE_COMPILE_BEHIND", "1") not in {"0", "false", "no"},
            "max_staleness_ms": int(os.environ.get("ROLEGATE_MAX_STALENESS_MS", "1000")),
            "max_outage_ms": int(os.environ.get("ROLEGATE_MAX_OUTAGE_MS", "300000")),
            "smtp_url": os.environ.get("ROLEGATE_SMTP_URL") or None,
            "mail_from": os.environ.get("ROLEGATE_MAIL_FROM", DEFAULT_MAIL_FROM),
            "public_url": os.environ.get("ROLEGATE_PUBLIC_URL", DEFAULT_PUBLIC_URL).rstrip("/"),
            "invitation_ttl_hours": int(os.environ.get("ROLEGATE_INVITATION_TTL_HOURS", "168")),
            "reset_ttl_minutes": int(os.environ.get("ROLEGATE_RESET_TTL_MINUTES", "30")),
            "dev_outbox": os.environ.get("ROLEGATE_DEV_OUTBOX", "").strip().lower() in {"1", "true", "yes", "on"},
            "session_idle_minutes": int(os.environ.get("ROLEGATE_SESSION_IDLE_MINUTES", "30")),
            "session_max_hours": int(os.environ.get("ROLEGATE_SESSION_MAX_HOURS", "12")),
            "secret_key": os.environ.get("ROLEGATE_SECRET_KEY") or None,
            "redis_url": os.environ.get("ROLEGATE_REDIS_URL") or None,
            "redis_prefix": os.environ.get("ROLEGATE_REDIS_PREFIX") or "rolegate",
            "write_process_socket": os.environ.get("ROLEGATE_WRITE_PROCESS_SOCKET") or None,
            "log_format": os.environ.get("ROLEGATE_LOG_FORMAT", "json").strip().lower(),
            "log_level": os.environ.get("ROLEGATE_LOG_LEVEL", "INFO").strip().upper(),
            "access_log": _flag(os.environ.get("ROLEGATE_ACCESS_LOG", "")),
            "metrics_token": os.environ.get("ROLEGATE_METRICS_TOKEN") or None,
            "sso_break_glass": _flag(os.environ.get("ROLEGATE_SSO_BREAK_GLASS", "")),
            "traces_exporters": traces_exporters(os.environ),
            "webhooks": os.environ.get("ROLEGATE_WEBHOOKS", "1").strip().lower() not in {"0", "false", "no", "off"},
            "webhooks_allow_private": _flag(os.environ.get("ROLEGATE_WEBHOOKS_ALLOW_PRIVATE", "")),
            "webhooks_disable_after_hours": float(os.environ.get("ROLEGATE_WEBHOOKS_DISABLE_AFTER_HOURS", "72")),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]  # keys are this dataclass's fields


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def traces_exporters(env: Mapping[str, str]) -> tuple[str, ...]:
    """Which span exporters the standard OpenTelemetry variables ask for; () for none.

    Tracing is on when `OTEL_TRACES_EXPORTER` names an exporter (`otlp`, `console`, or
    several, comma-separated; `none` is off), or, without it, when an OTLP endpoint is
    set (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`): the
    specification's default exporter is `otlp`. `OTEL_SDK_DISABLED=true` turns it off
    whatever else is set. `otlp` is sent over `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` (or
    `OTEL_EXPORTER_OTLP_PROTOCOL`): `http/protobuf` (the default) or `grpc`.
    """
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return ()
    named = [n.strip().lower() for n in env.get("OTEL_TRACES_EXPORTER", "").split(",") if n.strip()]
    if not named:
        named = ["otlp"] if env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") else []
    if "none" in named:
        return ()
    protocol = (env.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or "http/protobuf").strip().lower()
    otlp = "otlp_proto_grpc" if protocol == "grpc" else "otlp_proto_http"
    return tuple(dict.fromkeys(otlp if n == "otlp" else n for n in named))
