"""The API's operations, read from the app itself (its OpenAPI document), so a test
that walks them covers a new route without being edited."""

from __future__ import annotations

from rolegate.api import create_app
from rolegate.bootstrap import bootstrap
from rolegate.config import Settings

__all__ = ["api_operations"]

METHODS = ("get", "put", "post", "patch", "delete")


def api_operations() -> list[tuple[str, str]]:
    """(METHOD, path) of every operation of `create_app(...)`'s OpenAPI document, sorted
    by path. Built over an in-memory database that is never touched."""
    rg = bootstrap(Settings(database_url="sqlite://", listen=False, secret_key="routes-only"))
    try:
        paths = create_app(rg).openapi()["paths"]
    finally:
        rg.close()
    return sorted(
        ((method.upper(), path) for path, item in paths.items() for method in item if method in METHODS),
        key=lambda op: (op[1], op[0]),
    )
