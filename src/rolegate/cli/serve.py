"""`rolegate serve`: the HTTP API (FastAPI) under uvicorn, in one process or in
`--workers N` processes sharing the port."""

from __future__ import annotations

import gc
import os
import secrets
from typing import Annotated

import typer
import uvicorn

from rolegate.api import create_app
from rolegate.bootstrap import bootstrap
from rolegate.cli.common import UrlOption, database_url, out, reporting_errors
from rolegate.config import Settings
from rolegate.store.migrations import require_current

WORKER_FACTORY = "rolegate.api.app:create_app_from_env"
"""What each worker process imports and calls (uvicorn needs an import string to start
workers; the parent's objects do not cross to them)."""
WORKER_HEALTHCHECK_SECONDS = 30
"""How long the supervisor waits for a worker's answer to its ping before killing it as
hung. uvicorn's 5 s is shorter than a worker's start-up (imports, presets, database)
on a busy 2-core machine, where workers were killed in a loop before serving."""


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    url: UrlOption = None,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request (off by default: it costs a third of a check's time).")
    ] = False,
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
    ROLEGATE_LISTEN, ROLEGATE_SECRET_KEY, ROLEGATE_REDIS_URL); --url overrides the database.
    """
    resolved = database_url(url)
    with reporting_errors():
        status = require_current(resolved)
    if workers > 1:
        _serve_workers(resolved, status.url, host=host, port=port, access_log=access_log, workers=workers)
        return
    with reporting_errors():
        rolegate = bootstrap(Settings.from_env(database_url=resolved))
    out.print(f"Rolegate on http://{host}:{port}: admin UI at /, API under /v1 (OpenAPI: http://{host}:{port}/docs), database {status.url}", markup=False)
    try:
        app = create_app(rolegate)
        # Start-up objects (presets, the app, the routes) live as long as the process:
        # moving them out of the collector's reach keeps full collections short, which
        # is where the decision p99 went.
        gc.collect()
        gc.freeze()
        uvicorn.run(app, host=host, port=port, access_log=access_log)
    finally:
        rolegate.close()


def _serve_workers(resolved: str, shown: str, *, host: str, port: int, access_log: bool, workers: int) -> None:
    """uvicorn's supervisor: it starts `workers` processes (and restarts any that dies),
    each of which builds its own Rolegate from the environment set here."""
    settings = Settings.from_env(database_url=resolved)
    # The workers read their settings from the environment they inherit: the database
    # chosen here (--url included), and one session key for all, so that a login
    # answered by one worker is valid on the others.
    os.environ["ROLEGATE_DATABASE_URL"] = resolved
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
    uvicorn.run(
        WORKER_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )
