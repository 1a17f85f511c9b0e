"""The application a server runs: the HTTP API with the admin UI mounted beside it.

`rolegate serve` names it by its import string, `rolegate.asgi:create_app_from_env` (a
factory), in one process or in each of `--workers N`, so the CLI imports nothing of
the doors it serves; any ASGI server runs it the same way
(`uvicorn --factory rolegate.asgi:create_app_from_env`). The API and the UI know
nothing of each other: this module composes them."""

from __future__ import annotations

import gc

from fastapi import FastAPI

from rolegate.api import create_app as create_api
from rolegate.api.app import RolegateApp
from rolegate.bootstrap import Rolegate
from rolegate.config import Settings
from rolegate.logs import configure_logging
from rolegate.web import mount_ui
from rolegate.web.errors import unavailable_page

__all__ = ["create_app", "create_app_from_env"]


def create_app(rolegate: Rolegate | None = None) -> FastAPI:
    """The API over `rolegate` (default: bootstrapped from the environment, and closed
    when the app shuts down), with the admin UI: /, /login, /workspaces, /w/..., /static."""
    app = create_api(rolegate)
    ui = mount_ui(app, app.state.rolegate)
    if isinstance(app, RolegateApp) and app.write_forwarder is not None:
        # A form whose change the write process could not make gets the UI's page.
        app.write_forwarder.doors.insert(0, unavailable_page(app, ui))
    return app


def create_app_from_env() -> FastAPI:
    """uvicorn's factory, in `rolegate serve`'s process or in each of its workers: the
    app over Rolegate bootstrapped from the environment (`serve` puts the database URL
    and the session key there), with its own snapshot cache and LISTEN connection,
    closed when the server stops."""
    settings = Settings.from_env()
    # A worker is a fresh interpreter: it logs as `rolegate serve` chose (the format it
    # put in the environment), through its own handler.
    configure_logging("text" if settings.log_format == "text" else "json", level=settings.log_level, access_log=settings.access_log)
    app = create_app()
    # Start-up objects live as long as the server: kept out of the collector's reach,
    # they keep full collections short.
    gc.collect()
    gc.freeze()
    return app
