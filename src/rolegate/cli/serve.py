"""`rolegate serve`: the HTTP API (FastAPI) under uvicorn.

Logs go to stderr through one handler (`rolegate.logs`): JSON lines by default (a
server's logs are read by machines: one object per line, with the request id), or
`--log-format text` for a person at a terminal (`make run` uses it). uvicorn's own
logging configuration is not used (`log_config=None`): its lines reach the same
handler, in the same format."""

from __future__ import annotations

import gc
import logging
from enum import StrEnum
from typing import Annotated

import typer
import uvicorn

from rolegate.api import create_app
from rolegate.bootstrap import bootstrap
from rolegate.cli.common import UrlOption, database_url, out, reporting_errors
from rolegate.config import Settings
from rolegate.logs import configure_logging
from rolegate.store.migrations import require_current


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
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) on a migrated database.

    Settings come from the environment (ROLEGATE_DATABASE_URL, ROLEGATE_SNAPSHOT_CACHE_SIZE,
    ROLEGATE_LISTEN, ROLEGATE_LOG_FORMAT, ROLEGATE_LOG_LEVEL; OTEL_* for traces); --url
    overrides the database. Metrics at /metrics, probes at /healthz and /readyz.
    """
    resolved = database_url(url)
    settings = Settings.from_env(database_url=resolved)
    chosen = log_format.value if log_format is not None else settings.log_format
    handler = configure_logging("text" if chosen == "text" else "json", level=_level(settings.log_level))
    try:
        _serve(settings, host, port, access_log)
    finally:
        logging.getLogger().removeHandler(handler)  # in process (the tests), the next command logs as before


def _serve(settings: Settings, host: str, port: int, access_log: bool) -> None:
    with reporting_errors():
        status = require_current(settings.database_url)
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


def _level(name: str) -> int:
    level = logging.getLevelName(name)
    return level if isinstance(level, int) else logging.INFO
