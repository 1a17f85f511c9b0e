"""`rolegate serve`: the HTTP API (FastAPI) under uvicorn, in one process or in
`--workers N` processes sharing the port.

Logs go to stderr through one handler (`rolegate.logs`): JSON lines by default (a
server's logs are read by machines: one object per line, with the request id), or
`--log-format text` for a person at a terminal (`make run` uses it). uvicorn's own
logging configuration is not used (`log_config=None`): its lines reach the same
handler, in the same format; each worker configures its own from the format chosen
here (`ROLEGATE_LOG_FORMAT`, set for them).

With workers, `/metrics` must sum them: unless `PROMETHEUS_MULTIPROC_DIR` is set, a
fresh directory is made for this run (and removed when it ends), so whichever worker
answers a scrape reports them all (`rolegate.metrics`)."""

from __future__ import annotations

import gc
import logging
import os
import secrets
import shutil
import tempfile
from enum import StrEnum
from typing import Annotated

import typer
import uvicorn

from rolegate.api import create_app
from rolegate.bootstrap import bootstrap
from rolegate.cli.common import UrlOption, database_url, out, reporting_errors
from rolegate.config import Settings
from rolegate.logs import LogFormat, configure_logging
from rolegate.store.migrations import require_current

WORKER_FACTORY = "rolegate.api.app:create_app_from_env"
"""What each worker process imports and calls (uvicorn needs an import string to start
workers; the parent's objects do not cross to them)."""
WORKER_HEALTHCHECK_SECONDS = 30
"""How long the supervisor waits for a worker's answer to its ping before killing it as
hung. uvicorn's 5 s is shorter than a worker's start-up (imports, presets, database)
on a busy 2-core machine, where workers were killed in a loop before serving."""


class LogFormatChoice(StrEnum):
    json = "json"
    text = "text"


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    url: UrlOption = None,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request (off by default: it costs a third of a check's time).")
    ] = False,
    log_format: Annotated[
        LogFormatChoice | None,
        typer.Option("--log-format", help="json: one JSON object per line with the request id (default; ROLEGATE_LOG_FORMAT); text: for a terminal."),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            help="Worker processes sharing the port, each with its own snapshot cache (and LISTEN connection on PostgreSQL). "
            "On SQLite they share the file (WAL: reads in parallel, one write at a time). "
            "Set ROLEGATE_REDIS_URL to share the login throttles between them.",
            min=1,
            max=64,
        ),
    ] = 1,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) on a migrated database.

    Settings come from the environment (ROLEGATE_DATABASE_URL, ROLEGATE_SNAPSHOT_CACHE_SIZE,
    ROLEGATE_LISTEN, ROLEGATE_SECRET_KEY, ROLEGATE_REDIS_URL, ROLEGATE_LOG_FORMAT,
    ROLEGATE_LOG_LEVEL; OTEL_* for traces, PROMETHEUS_MULTIPROC_DIR); --url overrides the
    database. Metrics at /metrics, probes at /healthz and /readyz.
    """
    resolved = database_url(url)
    settings = Settings.from_env(database_url=resolved)
    chosen: LogFormat = "text" if (log_format.value if log_format is not None else settings.log_format) == "text" else "json"
    handler = configure_logging(chosen, level=_level(settings.log_level))
    try:
        _serve(settings, host, port, access_log, workers, chosen)
    finally:
        logging.getLogger().removeHandler(handler)  # in process (the tests), the next command logs as before


def _serve(settings: Settings, host: str, port: int, access_log: bool, workers: int, log_format: str) -> None:
    with reporting_errors():
        status = require_current(settings.database_url)
    if workers > 1:
        _serve_workers(settings.database_url, status.url, host=host, port=port, access_log=access_log, workers=workers, log_format=log_format)
        return
    with reporting_errors():
        rolegate = bootstrap(settings)
    out.print(f"Rolegate on http://{host}:{port}: admin UI at /, API under /v1 (OpenAPI: http://{host}:{port}/docs), database {status.url}", markup=False)
    try:
        app = create_app(rolegate)
        # Start-up objects (presets, the app, the routes) live as long as the process:
        # moving them out of the collector's reach keeps full collections short, which
        # is where the decision p99 went.
        gc.collect()
        gc.freeze()
        uvicorn.run(app, host=host, port=port, access_log=access_log, log_config=None)
    finally:
        rolegate.close()


def _serve_workers(resolved: str, shown: str, *, host: str, port: int, access_log: bool, workers: int, log_format: str) -> None:
    """uvicorn's supervisor: it starts `workers` processes (and restarts any that dies),
    each of which builds its own Rolegate from the environment set here."""
    settings = Settings.from_env(database_url=resolved)
    # The workers read their settings from the environment they inherit: the database
    # chosen here (--url included), and one session key for all, so that a login
    # answered by one worker is valid on the others.
    os.environ["ROLEGATE_DATABASE_URL"] = resolved
    os.environ["ROLEGATE_LOG_FORMAT"] = log_format
    if not settings.secret_key:
        os.environ["ROLEGATE_SECRET_KEY"] = secrets.token_urlsafe(32)
        out.print(
            "ROLEGATE_SECRET_KEY is not set: the workers share a random key made now, so logins end when this server stops (set it to keep them).",
            markup=False,
        )
    if not settings.redis_url:
        out.print(
            f"ROLEGATE_REDIS_URL is not set: each worker counts failed logins in its own memory (at most {workers} times the limits; set it to share them).",
            markup=False,
        )
    out.print(
        f"Rolegate on http://{host}:{port} with {workers} workers: admin UI at /, API under /v1 (OpenAPI: http://{host}:{port}/docs), database {shown}",
        markup=False,
    )
    made = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Read by prometheus-client when each worker imports it: the workers' metrics
        # are written there and summed by whichever worker answers /metrics.
        made = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="rolegate-metrics-")
    try:
        uvicorn.run(
            WORKER_FACTORY,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=access_log,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            log_config=None,
        )
    finally:
        if made is not None:
            del os.environ["PROMETHEUS_MULTIPROC_DIR"]
            shutil.rmtree(made, ignore_errors=True)


def _level(name: str) -> int:
    level = logging.getLevelName(name)
    return level if isinstance(level, int) else logging.INFO
