"""`rolegate serve`: the HTTP API (FastAPI) under uvicorn."""

from __future__ import annotations

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
        uvicorn.run(create_app(rolegate), host=host, port=port)
    finally:
        rolegate.close()
