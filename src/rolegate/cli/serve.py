"""`rolegate serve`: the HTTP API (FastAPI) under uvicorn, in one process or in
`--workers N` processes sharing the port. uvicorn gets the app by its import string
(`APP_FACTORY`) and builds it from the environment set here: the CLI imports nothing
of the HTTP app. On Linux each worker listens on a socket of its own (SO_REUSEPORT),
so that the kernel spreads connections evenly over them (`SPREAD_BY_KERNEL`).

Logs go to stderr through one handler (`rolegate.logs`): JSON lines by default (a
server's logs are read by machines: one object per line, with the request id), or
`--log-format text` for a person at a terminal (`make run` uses it). uvicorn's own
logging configuration is not used (`log_config=None`): its lines reach the same
handler, in the same format; each worker configures its own from the format chosen
here (`ROLEGATE_LOG_FORMAT`, set for them).

With `--write-process`, one more process makes every change, the others forwarding
them to it over a Unix socket (`cli.write_process`, `api.write_process`).

With workers, `/metrics` must sum them: unless `PROMETHEUS_MULTIPROC_DIR` is set, a
fresh directory is made for this run (and removed when it ends), so whichever worker
answers a scrape reports them all (`rolegate.metrics`)."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from types import FrameType
from typing import Annotated

import typer
import uvicorn
from uvicorn.supervisors import multiprocess

from rolegate.cli.common import UrlOption, database_url, fail, out, reporting_errors
from rolegate.cli.write_process import SOCKET_VARIABLE, WriteProcess
from rolegate.config import Settings
from rolegate.logs import LogFormat, configure_logging
from rolegate.services.database import require_current

APP_FACTORY = "rolegate.asgi:create_app_from_env"
"""What uvicorn imports and calls, in this process or in each worker (workers need an
import string: the parent's objects do not cross to them). The factory reads its
settings from the environment `serve` sets (`rolegate.asgi`)."""
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
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log every request (off by default: it nearly halves the decisions a server answers).",
        ),
    ] = False,
    log_format: Annotated[
        LogFormatChoice | None,
        typer.Option(
            "--log-format",
            help="json: one JSON object per line with the request id (default; ROLEGATE_LOG_FORMAT); text: for a terminal.",
        ),
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
    write_process: Annotated[
        bool,
        typer.Option(
            "--write-process/--no-write-process",
            help="Answer changes (admin writes, SCIM, logins) in a process of their own, so that neither waits on the other: "
            "the other processes forward them over a Unix socket and keep the decisions (docs/scaling.md).",
        ),
    ] = False,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) on a migrated database.

    Settings come from the environment (ROLEGATE_DATABASE_URL, ROLEGATE_SNAPSHOT_CACHE_SIZE,
    ROLEGATE_LISTEN, ROLEGATE_SECRET_KEY, ROLEGATE_REDIS_URL, ROLEGATE_LOG_FORMAT,
    ROLEGATE_LOG_LEVEL; OTEL_* for traces, PROMETHEUS_MULTIPROC_DIR); --url overrides the
    database. Metrics at /metrics, probes at /healthz and /readyz.
    """
    resolved = database_url(url)
    settings = Settings.from_env(database_url=resolved)
    chosen: LogFormat = (
        "text" if (log_format.value if log_format is not None else settings.log_format) == "text" else "json"
    )
    handler = configure_logging(chosen, level=_level(settings.log_level), access_log=access_log)
    try:
        _serve(settings, host, port, access_log, workers, chosen, write_process)
    finally:
        logging.getLogger().removeHandler(handler)  # in process (the tests), the next command logs as before


def _serve(settings: Settings, host: str, port: int, access_log: bool, workers: int, log_format: str, write_process: bool = False) -> None:
    with reporting_errors():
        status = require_current(settings.database_url)
    # The app reads its settings from the environment it is built in: the database
    # chosen here (--url included) and the log format.
    environment = {"ROLEGATE_DATABASE_URL": settings.database_url, "ROLEGATE_LOG_FORMAT": log_format, "ROLEGATE_ACCESS_LOG": "1" if access_log else "0"}
    if workers > 1 or write_process:
        environment |= _shared_by_workers(settings, workers)
    alongside = [f"{workers} workers"] * (workers > 1) + ["a write process"] * write_process
    together = f" with {' and '.join(alongside)}" if alongside else ""
    out.print(
        f"Rolegate on http://{host}:{port}{together}: admin UI at /, API under /v1 (OpenAPI: http://{host}:{port}/docs), database {status.url}",
        markup=False,
    )
    with _exit_cleanly_on_sigterm(), _environment(environment), _workers_of_their_own(workers > 1 and SPREAD_BY_KERNEL), _write_process(write_process, access_log):
        # The factory builds the app (and its Rolegate, closed when the server stops) and
        # freezes the start-up objects out of the collector's reach, where the decision p99 went.
        uvicorn.run(
            APP_FACTORY,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=access_log,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            log_config=None,
        )


SPREAD_BY_KERNEL = sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT")
"""Whether each worker listens on a socket of its own (Linux's SO_REUSEPORT): the kernel
then spreads new connections evenly over the workers. On one shared socket (uvicorn's
way, kept elsewhere), whichever worker wakes first accepts: 14 of 16 keep-alive
connections went to one of two workers (docs/benchmarks.md)."""


class _OwnSocketWorker(multiprocess.Process):
    """A worker of uvicorn's supervisor (restarts, health checks, signals) that listens
    on a socket of its own: bound to the address of the parent's (which uvicorn binds
    and never listens on) with SO_REUSEPORT, as each of its siblings' is."""

    def target(self, sockets: list[socket.socket] | None = None) -> None:  # pragma: no cover (runs in the worker)
        own = []
        for held in sockets or []:
            sock = socket.socket(held.family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(held.getsockname())
            own.append(sock)
            held.close()
        super().target(own)


@contextmanager
def _workers_of_their_own(on: bool) -> Iterator[None]:
    """uvicorn's supervisor makes its workers from `multiprocess.Process`: ours while
    `serve` runs, when `on`."""
    if not on:
        yield
        return
    made_by = multiprocess.Process
    multiprocess.Process = _OwnSocketWorker  # type: ignore[misc]
    try:
        yield
    finally:
        multiprocess.Process = made_by  # type: ignore[misc]


@contextmanager
def _exit_cleanly_on_sigterm() -> Iterator[None]:
    """uvicorn stopped by SIGTERM finishes its requests, then raises the signal again
    under the handler it found. The default one ended the process there, past every
    `finally` below: the write process was left to notice it was orphaned, and the
    directories made for the run stayed. This one exits through them (status 143, as
    the signal's)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def leave(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    before = signal.signal(signal.SIGTERM, leave)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


@contextmanager
def _write_process(on: bool, access_log: bool) -> Iterator[None]:
    """The write process while `serve` runs, when `on`, and its socket in the
    environment the deciding processes are made from."""
    if not on:
        yield
        return
    writes = WriteProcess(APP_FACTORY, access_log=access_log)
    try:
        writes.start()
    except RuntimeError as error:
        writes.stop()
        fail(str(error), "Run `rolegate serve` without --write-process to see the app's own error, or read the log above.")
    try:
        with _environment({SOCKET_VARIABLE: writes.socket_path}):
            yield
    finally:
        writes.stop()


def _shared_by_workers(settings: Settings, workers: int) -> dict[str, str]:
    """What every process must share: one session key, so that a login answered by one
    is valid on the others, and one metrics directory."""
    shared: dict[str, str] = {}
    if not settings.secret_key:
        shared["ROLEGATE_SECRET_KEY"] = secrets.token_urlsafe(32)
        out.print(
            "ROLEGATE_SECRET_KEY is not set: the server's processes share a random key made now, so logins end when this server stops (set it to keep them).",
            markup=False,
        )
    if not settings.redis_url and workers > 1:
        out.print(
            f"ROLEGATE_REDIS_URL is not set: each worker counts failed logins in its own memory (at most {workers} times the limits; set it to share them).",
            markup=False,
        )
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Read by prometheus-client when each worker imports it: the workers' metrics
        # are written there and summed by whichever worker answers /metrics. Made for
        # this run, removed with it (`_environment`).
        shared["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="rolegate-metrics-")
    return shared


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """`values` in os.environ while the server runs (its processes inherit them), the
    previous environment afterwards; a metrics directory made for the run goes too."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value
        if "PROMETHEUS_MULTIPROC_DIR" in values and not before["PROMETHEUS_MULTIPROC_DIR"]:
            shutil.rmtree(values["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def _level(name: str) -> int:
    level = logging.getLevelName(name)
    return level if isinstance(level, int) else logging.INFO
