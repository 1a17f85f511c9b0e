"""`rolegate serve`: the HTTP API (FastAPI) under uvicorn."""

from __future__ import annotations

import gc
from typing import Annotated

import typer
import uvicorn

from rolegate.api import create_app
from rolegate.bootstrap import bootstrap
from rolegate.cli.common import UrlOption, database_url, out, reporting_errors
from rolegate.config import Settings
from rolegate.store.migrations import require_current


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on (0.0.0.0 for every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    url: UrlOption = None,
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="Log every request (off by default: it costs a third of a check's time).")
    ] = False,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) on a migrated database.

    Settings come from the environment (ROLEGATE_DATABASE_URL, ROLEGATE_SNAPSHOT_CACHE_SIZE,
    ROLEGATE_LISTEN); --url overrides the database.
    """
    resolved = database_url(url)
    with reporting_errors():
        status = require_current(resolved)
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
