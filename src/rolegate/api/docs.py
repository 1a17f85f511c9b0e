"""`/docs` (Swagger UI) and `/redoc` (ReDoc) from files in the package: they work
without internet (issue 15). Each page is a static shell whose scripts load the
vendored bundle and `/openapi.json`; no inline script. Both libraries write inline
styles, so these two pages (and only they) allow `style-src 'unsafe-inline'`; ReDoc
runs its search in a worker made from a blob."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

__all__ = ["ASSETS", "DOCS_CSP", "mount_docs"]

ASSETS = Path(__file__).parent / "docs_assets"
PREFIX = "/docs-assets"

DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

_SWAGGER = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Rolegate API · Swagger UI</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="{PREFIX}/swagger-ui.css">
  <script src="{PREFIX}/swagger-ui-bundle.js" defer></script>
  <script src="{PREFIX}/swagger-init.js" defer></script>
</head>
<body>
  <main id="swagger-ui"></main>
</body>
</html>
"""

_REDOC = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Rolegate API · ReDoc</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  <script src="{PREFIX}/redoc.standalone.js" defer></script>
  <script src="{PREFIX}/redoc-init.js" defer></script>
</head>
<body>
  <main id="redoc"></main>
</body>
</html>
"""

_HEADERS = {"Content-Security-Policy": DOCS_CSP, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}


def mount_docs(app: FastAPI) -> None:
    """Serve the two pages and their assets (the app is made with docs_url=None, redoc_url=None)."""
    app.mount(PREFIX, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger(_request: Request) -> HTMLResponse:
        return HTMLResponse(_SWAGGER, headers=_HEADERS)

    @app.get("/redoc", include_in_schema=False)
    def redoc(_request: Request) -> HTMLResponse:
        return HTMLResponse(_REDOC, headers=_HEADERS)
