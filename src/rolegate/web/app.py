"""The admin UI, mounted beside the HTTP API: pages under `/`, `/login`, `/workspaces`
and `/w/{workspace}/...`, static files under `/static`; the API keeps `/v1` and `/docs`.

The session cookie is signed with `ROLEGATE_SECRET_KEY`. Without it, each process
makes a random key: sessions then end when the process stops, and several processes
behind one load balancer do not share them, so set it in production
(`rolegate serve --workers N` makes one key for all its workers when it is unset).
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from fastapi import FastAPI
from starlette.routing import BaseRoute
from starlette.staticfiles import StaticFiles

from rolegate.bootstrap import Rolegate
from rolegate.web.render import Renderer
from rolegate.web.session import Sessions

__all__ = ["STATIC", "WebUI", "mount_ui"]

STATIC = Path(__file__).parent / "static"
SECRET_ENV = "ROLEGATE_SECRET_KEY"

log = logging.getLogger("rolegate.web")


class WebUI:
    """What the pages share: Rolegate, the session signer and the templates."""

    def __init__(self, rolegate: Rolegate, secret_key: str) -> None:
        self.rolegate = rolegate
        self.sessions = Sessions(secret_key, max_age=int(rolegate.session_policy.max_age.total_seconds()))
        self.renderer = Renderer()
        self.pages: list[BaseRoute] = []
        """The routes of the UI's pages (`mount_ui`), as their routers hold them."""


def mount_ui(app: FastAPI, rolegate: Rolegate, *, secret_key: str | None = None) -> WebUI:
    """Add the admin UI's routes to `app` (after the API's, so the API is matched first)."""
    from rolegate.web.routes import (
        account,
        accounts,
        audit_log,
        auth,
        explain,
        features,
        home,
        matrix,
        member_record,
        portal,
        role_copy,
        role_fields,
        roles,
        schema_upgrade,
        sso,
        team,
        webhooks,
    )

    key = secret_key or rolegate.settings.secret_key
    if not key:
        log.warning("%s is not set: sessions are signed with a random key and end when this process stops", SECRET_ENV)
        key = secrets.token_urlsafe(32)
    ui = WebUI(rolegate, key)
    app.state.web = ui
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (auth, sso, portal, account, role_fields, role_copy, roles, matrix, features, explain, team, accounts, audit_log, member_record, webhooks, schema_upgrade, home):  # home last: it ends with the /w/... catch-all
        app.include_router(module.router, include_in_schema=False)
        ui.pages.extend(module.router.routes)
    return ui
