"""The API's operations, read from the app itself (its OpenAPI document), so a test
that walks them covers a new route without being edited."""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

from rolegate.asgi import create_app
from rolegate.bootstrap import bootstrap
from rolegate.config import Settings

__all__ = ["api_document", "api_operations"]

METHODS = ("get", "put", "post", "patch", "delete")


@cache
def _document() -> str:
    rg = bootstrap(Settings(database_url="sqlite://", listen=False, secret_key="routes-only"))
    try:
        return json.dumps(create_app(rg).openapi())
    finally:
        rg.close()


def api_document() -> dict[str, Any]:
    """`create_app(...)`'s OpenAPI document as `/openapi.json` serves it (a fresh copy:
    schemathesis edits what it loads). The same for every database, so built once, over
    an in-memory database that is never touched."""
    return copy.deepcopy(json.loads(_document()))


def api_operations() -> list[tuple[str, str]]:
    """(METHOD, path) of every operation of the document, sorted by path."""
    paths = api_document()["paths"]
    return sorted(
        ((method.upper(), path) for path, item in paths.items() for method in item if method in METHODS),
        key=lambda op: (op[1], op[0]),
    )
