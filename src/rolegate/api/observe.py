"""`Observe`: the outermost layer of the app (API and admin UI): a request id for
every request and its latency in `rolegate_http_request_duration_seconds`.

The request id is the caller's `X-Request-Id` when it is a plain token (letters,
digits and `._:+=@/-`, at most 128 characters: it is written into every log line, so
nothing else is taken), else a new one (a random prefix per process and a counter:
unique without a system call per request). It is set in `logs.REQUEST_ID` for the
request's whole run, so every log line of the request carries it, and sent back in
the response's `X-Request-Id`, errors included.

A pure ASGI middleware wrapped around the whole app, outside Starlette's error
middleware (`RolegateApp.build_middleware_stack`), never a `BaseHTTPMiddleware`
(which costs a task and a stream per request): it sees the 500s, and the error's
log line carries the id. Its cost per request is a scan of the headers, one
context variable, one header appended and one histogram observation on a child
cached here (no label lookup).

The route label is the route's template (`/v1/workspaces/{workspace_id}/check`),
never the path (ids would make the series unbounded); a request that matched no
route is `unmatched`, and a method outside the standard ones is `other`.
"""

from __future__ import annotations

import itertools
import re
import secrets
import time
from typing import Any, Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rolegate.logs import REQUEST_ID
from rolegate.metrics import HTTP_REQUEST_SECONDS

__all__ = ["REQUEST_ID_HEADER", "Observe"]

REQUEST_ID_HEADER: Final = "X-Request-Id"
_HEADER: Final = b"x-request-id"
_VALID_ID = re.compile(rb"[A-Za-z0-9._:+=@/\-]{1,128}")
_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED: Final = "unmatched"


class Observe:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._prefix = secrets.token_hex(6)
        self._sequence = itertools.count(1)
        self._children: dict[tuple[str, str, int], Any] = {}

    def new_id(self) -> str:
        return f"{self._prefix}-{next(self._sequence):x}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        given: bytes | None = None
        for name, value in scope["headers"]:
            if name == _HEADER:
                given = value
                break
        if given is not None and _VALID_ID.fullmatch(given):
            raw = given
            request_id = given.decode("ascii")
        else:
            request_id = self.new_id()
            raw = request_id.encode("ascii")
        # Not reset afterwards: the request's task ends with it (uvicorn runs each
        # request in a task of its own), and a traceback uvicorn logs after the app
        # returns still carries the id.
        REQUEST_ID.set(request_id)
        status = 500  # what the client gets if the app fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (_HEADER, raw)]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._observe(scope, status, time.perf_counter() - started)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or UNMATCHED
        method = scope["method"] if scope["method"] in _METHODS else "other"
        key = (template, method, status)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = HTTP_REQUEST_SECONDS.labels(template, method, str(status))
        child.observe(seconds)
