"""How much a request may carry (issue 12), in one place; README and docs/security.md
quote these numbers.

`BodyLimit`, a pure ASGI middleware, limits every body of the API and the admin UI:
a declared `Content-Length` above the path's limit is refused before a byte of the
body is read, and a chunked body is counted as it arrives and cut off at the limit.
Either way the answer is a 413 `body_too_large` problem with `Connection: close`, so
the server drops the connection instead of reading the rest of the upload (an admin
UI page that was already reading its form shows its 413 error page). The default
covers every route; the bulk calls get more and the routes anyone may call (no API
key, no session) get less (`limit_for`).

Not FastAPI's own `max_body_size`: its limiter (Starlette's) replaces the response to
any over-long declared body with a plain-text 413, and a problem body is the
contract of every error here.

Large JSON bodies (above `OFF_LOOP_BYTES`) are decoded in a worker thread by
`ApiRoute`, after the API key is checked: an anonymous caller never gets a large
body read, let alone decoded. The decisions' fast path (`api.fast`) reads a body only
for a key it has verified, and keeps the same budget of time on the event loop.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine
from typing import Any, Final

import anyio.to_thread
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rolegate.api.deps import authenticated
from rolegate.api.endpoints import in_one_hop
from rolegate.api.problems import BODY_LIMIT_SCOPE_KEY, body_too_large

__all__ = [
    "BATCH_MAX",
    "BODY_LIMIT",
    "BULK_BODY_LIMIT",
    "OFF_LOOP_BYTES",
    "PUBLIC_BODY_LIMIT",
    "ApiRoute",
    "BodyLimit",
    "BodyTooLarge",
    "limit_for",
]

KiB: Final = 1024
MiB: Final = 1024 * KiB

BODY_LIMIT: Final = 1 * MiB
"""Every route's default: 100 times the largest single-object body (a role with 500
grants and its field access is about 40 KB)."""

BATCH_MAX: Final = 10_000
"""Items per bulk call: checks per `check/batch`, records per `records/bulk`,
`records/delete` and `fields/filter`, fields per `fields/check-write`."""

BULK_BODY_LIMIT: Final = 8 * MiB
"""The bulk calls: `BATCH_MAX` items at their longest strings (about 650 bytes a
record: a 200-character id, a parent with another, an assignee) with room to spare."""

PUBLIC_BODY_LIMIT: Final = 64 * KiB
"""Routes anyone may call (login, password reset, accepting an invitation; the API's
and the admin UI's): a password of 1,024 characters and a name fit many times."""

OFF_LOOP_BYTES: Final = 64 * KiB
"""A JSON body larger than this is decoded in a worker thread (a 1 MB body takes
about 10 ms to decode, a full batch about 50 ms)."""


_PUBLIC = re.compile(r"^/(?:login|logout|sso/start|password-reset(?:/[^/]*)?|invitations/[^/]*|v1/invitations/[^/]*/accept|v1/password-resets(?:/[^/]*)?)/?$")
_BULK = re.compile(r"^/v1/workspaces/[^/]+/(?:check/batch|records/bulk|records/delete|fields/filter|fields/check-write)/?$")


def limit_for(path: str) -> int:
    """The body limit of a path (any method)."""
    if _PUBLIC.match(path):
        return PUBLIC_BODY_LIMIT
    if _BULK.match(path):
        return BULK_BODY_LIMIT
    return BODY_LIMIT


class BodyTooLarge(HTTPException):
    """Raised into the app by `BodyLimit`'s `receive` when a chunked body passes its
    limit: an HTTPException, so FastAPI passes it on (instead of calling it a body it
    could not parse) and the problem handlers answer `body_too_large`."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="Request body too large")


_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})


class BodyLimit:
    """Refuse a body larger than its path's limit (`limit_for`), before the app reads
    it when the size is declared, as soon as it passes the limit when it is chunked.

    The hot path (a small declared body) costs one scan of the headers: no body at or
    under the smallest limit is ever refused, and a server never passes an app more
    than the `Content-Length` it declared."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _NO_BODY:
            await self.app(scope, receive, send)
            return
        declared: int | None = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = int(value) if value.isdigit() else None
                break
        if declared is not None and declared <= PUBLIC_BODY_LIMIT:
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        scope[BODY_LIMIT_SCOPE_KEY] = limit
        if declared is not None:
            if declared > limit:
                await body_too_large(limit)(scope, receive, send)
            else:
                await self.app(scope, receive, send)
            return
        await self._counted(scope, receive, send, limit)

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:  # an app that let it through (the routes' handlers answer it themselves)
            if started:
                raise
            await body_too_large(limit)(scope, receive, send)


def _needs_key(dependant: Dependant) -> bool:
    return any(d.call is authenticated or _needs_key(d) for d in dependant.dependencies)


def _is_json(content_type: str | None) -> bool:
    """FastAPI's own test: no content type, or application/json or +json."""
    if not content_type:
        return True
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class ApiRoute(APIRoute):
    """A route of the HTTP API. A body larger than `OFF_LOOP_BYTES` (declared, or
    chunked) is read only once the API key is valid (on routes that need one), and
    decoded in a worker thread; FastAPI then validates the decoded value. A plain
    function runs in one worker-thread hop with its response's validation
    (`endpoints.in_one_hop`)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, in_one_hop(self, endpoint), **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None:
            return handler
        needs_key = _needs_key(self.dependant)

        async def api_handler(request: Request) -> Response:
            declared = request.headers.get("content-length")
            large = declared is None or not declared.isdigit() or int(declared) > OFF_LOOP_BYTES
            if large and request.method != "GET" and _is_json(request.headers.get("content-type")):
                if needs_key:
                    await authenticated(request)  # 401 before the body is read
                body = await request.body()
                if len(body) > OFF_LOOP_BYTES:
                    request._json = await anyio.to_thread.run_sync(_decode, body)  # Starlette's cache of request.json(), which FastAPI reads next
            return await handler(request)

        return api_handler


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body)
    except json.JSONDecodeError as exc:  # the error FastAPI gives for a body it decodes itself
        error = {"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error", "input": {}, "ctx": {"error": exc.msg}}
        raise RequestValidationError([error]) from exc
    except (UnicodeDecodeError, RecursionError) as exc:
        error = {"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error", "input": {}, "ctx": {"error": str(exc)[:200]}}
        raise RequestValidationError([error]) from exc
