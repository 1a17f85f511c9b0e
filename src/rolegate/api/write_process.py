"""Changes answered by a process of their own (`rolegate serve --write-process`).

A change runs in a worker thread that needs the interpreter's lock at each of its
statements; in a process also busy deciding, the event loop holds that lock for up to
the switch interval each time. Under a steady load of decisions a role edit then
waited 111 ms at the median and 359 ms at p99 for 20 writes a second; served by a
process of their own, 18 and 52 ms, and the decisions gained too (docs/benchmarks.md).

`WriteForwarder` sits outermost in each deciding process (`RolegateApp`): a request
that may change something (any method but GET, HEAD and OPTIONS) and is not a decision
(`forwards`) is sent over a Unix socket to the write process, which runs the same
app and answers it whole (its own request id, metrics and logs). Everything else is
answered here. The caller's address and scheme travel in `X-Forwarded-For` and
`X-Forwarded-Proto`, set here from what this process resolved (a caller's own are
dropped); the write process trusts them because only this host's processes of the same
user reach its socket. The body is streamed both ways; nothing is buffered past one
message. HTTP/1.1 over kept-alive connections, framed by h11 (uvicorn's own parser
library): httpx's pool cost the deciding process a third of its time here, scanning
its connections and trying to import sniffio on each request.

Failures say whether the change may have happened: when the socket refuses (the
write process is restarting), nothing was sent and nothing changed; when the
exchange breaks after the request went out, the change may have been applied, as with
a database cut off while committing (`StoreUnavailableError`'s advice). Each door says
it in its own form (`WriteForwarder.doors`): a page of the admin UI, a SCIM error, else
the API's problem. The write
process never closes a kept-alive connection first (its keep-alive outlasts this
side's), so a request is never sent on a connection the other side is closing.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from typing import Final, TypeAlias, cast

import h11
from starlette.types import ASGIApp, Receive, Scope, Send

from rolegate.api.problems import rolegate_problem
from rolegate.domain.errors import UnavailableError

__all__ = ["KEEP_ALIVE_SECONDS", "Door", "WriteForwarder", "forwards", "is_decision", "unavailable_error"]

log = logging.getLogger("rolegate.api")

KEEP_ALIVE_SECONDS: Final = 5.0
"""How long this side keeps an idle connection to the write process, which keeps it
longer (`cli.write_process.KEEP_ALIVE_SECONDS`): this side always closes first."""
MAX_IDLE: Final = 32
"""Connections to the write process kept open between changes; more are closed."""

_SAFE: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_DECISION = re.compile(
    r"/v1/workspaces/[^/]+/(?:check|check/batch|explain|lookup|fields/filter|fields/check-write|fields/visible|records/visible)"
    r"|/access/v1/(?:evaluation|evaluations|search/subject|search/resource|search/action)"
)
"""The routes that answer a question by POST and change nothing: decided where asked."""
_NOT_FORWARDED: Final = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"transfer-encoding", b"upgrade", b"expect", b"x-forwarded-for", b"x-forwarded-proto", b"forwarded"}
)
"""Hop-by-hop headers (RFC 9110, 7.6.1), and the caller's own claims of who it is."""
_NOT_RETURNED: Final = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"date", b"server"})
"""Framing, and what this process's server adds to every answer itself."""


Door: TypeAlias = Callable[[Scope, UnavailableError], ASGIApp | None]
"""How a door answers, on a path of its own, that a change could not be made by the write
process: an ASGI app answering the caller, or None when the path is not the door's."""


def is_decision(path: str) -> bool:
    return _DECISION.fullmatch(path) is not None


def forwards(method: str, path: str) -> bool:
    """Whether a request goes to the write process."""
    return method not in _SAFE and not is_decision(path)


class _Connection(asyncio.Protocol):
    """One HTTP/1.1 connection to the write process, reused change after change. What
    arrived is kept after the connection broke: an answer received before the write
    process hung up (it refused before reading the whole body) is still read."""

    def __init__(self) -> None:
        self.h11 = h11.Connection(h11.CLIENT)
        self.idle_since = 0.0
        self._transport: asyncio.Transport | None = None
        self._incoming = bytearray()
        self._closed = False
        self._arrived = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass of asyncio's

    def data_received(self, data: bytes) -> None:
        self._incoming += data
        self._arrived.set()

    def eof_received(self) -> bool:
        self._closed = True
        self._arrived.set()
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._arrived.set()
        self._writable.set()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def usable(self, now: float) -> bool:
        return now - self.idle_since < KEEP_ALIVE_SECONDS and not self._closed and not self._incoming

    async def write(self, data: bytes) -> None:
        """A request cut off before its end never reaches a route (each reads its whole body)."""
        assert self._transport is not None
        if self._closed:
            raise _Cut(sent=False, why="the write process closed the connection while the request was being sent")
        self._transport.write(data)
        await self._writable.wait()
        if self._closed and self._transport.get_write_buffer_size():  # lost with part of it unsent
            raise _Cut(sent=False, why="the connection to the write process broke while the request was being sent")

    async def receive(self) -> bytes:
        """What arrived since the last call; b"" once the other side closed."""
        while not self._incoming and not self._closed:
            self._arrived.clear()
            await self._arrived.wait()
        data = bytes(self._incoming)
        self._incoming.clear()
        return data

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()


class _Cut(Exception):
    """The exchange broke; `sent`: the whole request went out, so the change may have run."""

    def __init__(self, sent: bool, why: str) -> None:
        super().__init__(why)
        self.sent = sent


class _CallerGone(Exception):
    """The caller left before its request's end: there is no one to answer."""


class WriteForwarder:
    """Sends a request to the write process listening on `socket_path` and streams its
    answer back (the caller chose the request: `forwards`)."""

    def __init__(self, socket_path: str) -> None:
        self.socket_path = socket_path
        self._idle: list[_Connection] = []
        self.doors: list[Door] = []
        """Asked in order how to say the write process could not make a change (the UI,
        SCIM); a path no door claims gets the API's problem."""

    def _unavailable(self, scope: Scope, *, applied: bool) -> ASGIApp:
        error = unavailable_error(applied=applied)
        for door in self.doors:
            answer = door(scope, error)
            if answer is not None:
                return answer
        return rolegate_problem(error)

    async def aclose(self) -> None:
        while self._idle:
            self._idle.pop().close()

    async def _connection(self) -> _Connection:
        now = time.monotonic()
        while self._idle:
            held = self._idle.pop()
            if held.usable(now):
                return held
            held.close()
        _, conn = await asyncio.get_running_loop().create_unix_connection(_Connection, self.socket_path)
        return conn

    def _release(self, conn: _Connection) -> None:
        if conn.h11.our_state is h11.DONE and conn.h11.their_state is h11.DONE and len(self._idle) < MAX_IDLE:
            conn.h11.start_next_cycle()
            conn.idle_since = time.monotonic()
            self._idle.append(conn)
        else:
            conn.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            conn = await self._connection()
        except OSError as error:
            log.warning("write process unreachable at %s (%s): answering 503", self.socket_path, error)
            await self._unavailable(scope, applied=False)(scope, receive, send)
            return
        started = False
        stopped: _Cut | None = None
        try:
            try:
                await self._send_request(conn, scope, receive)
            except _Cut as cut:
                # The write process stopped reading: it may have answered before the body's
                # end and hung up (a refusal sent with `Connection: close`). Its answer is
                # relayed when it arrived before the broken send was noticed (the transport
                # stops reading then); else 503, nothing changed.
                stopped = cut
            while True:
                event = await _next_event(conn)
                if isinstance(event, h11.Response):
                    started = True
                    headers = [(name, value) for name, value in event.headers if name not in _NOT_RETURNED]
                    await send({"type": "http.response.start", "status": event.status_code, "headers": headers})
                elif isinstance(event, h11.Data):
                    await send({"type": "http.response.body", "body": bytes(event.data), "more_body": True})
                elif isinstance(event, h11.EndOfMessage):
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    break
                # an informational answer (100 Continue) is the write process's to give: passed over
        except (_Cut, OSError, h11.ProtocolError) as error:
            conn.close()
            if started:
                raise  # the answer has begun: only dropping the connection tells the caller it is cut
            sent = stopped is None and (not isinstance(error, _Cut) or error.sent)
            log.error("the exchange with the write process broke (%s: %s)", type(error).__name__, error)
            await self._unavailable(scope, applied=sent)(scope, receive, send)
            return
        except _CallerGone:
            conn.close()  # the write process got no request's end: nothing runs, no one to answer
            return
        except BaseException:  # the server stopping
            conn.close()
            raise
        self._release(conn)

    async def _send_request(self, conn: _Connection, scope: Scope, receive: Receive) -> None:
        headers = [(name, value) for name, value in scope["headers"] if name not in _NOT_FORWARDED]
        client = scope.get("client")
        if client:
            headers.append((b"x-forwarded-for", str(client[0]).encode("latin-1")))
        headers.append((b"x-forwarded-proto", str(scope["scheme"]).encode("latin-1")))
        if not any(name == b"host" for name, _ in headers):
            headers.append((b"host", b"rolegate"))
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        query: bytes = scope.get("query_string", b"")
        target = raw_path + (b"?" + query if query else b"")
        first = await receive()
        if first["type"] == "http.disconnect":
            raise _CallerGone("the caller went away before sending its request's body")
        body = first.get("body", b"")
        more = bool(first.get("more_body"))
        if not any(name == b"content-length" for name, _ in headers):
            # The caller's chunked body is sent chunked; a whole one with its length.
            headers.append((b"transfer-encoding", b"chunked") if more else (b"content-length", str(len(body)).encode("ascii")))
        out = conn.h11.send(h11.Request(method=scope["method"], target=target, headers=headers)) or b""
        while more:
            if body:
                out += conn.h11.send(h11.Data(data=body)) or b""
            await conn.write(out)
            out = b""
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _CallerGone("the caller went away while sending its request")  # no end sent: nothing runs
            body, more = message.get("body", b""), bool(message.get("more_body"))
        if body:
            out += conn.h11.send(h11.Data(data=body)) or b""
        out += conn.h11.send(h11.EndOfMessage()) or b""
        await conn.write(out)


async def _next_event(conn: _Connection) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
    while True:
        event = conn.h11.next_event()
        if event is not h11.NEED_DATA:
            if event is h11.PAUSED or isinstance(event, h11.ConnectionClosed):
                raise _Cut(sent=True, why="the write process closed the connection before answering")
            return event
        data = await conn.receive()
        conn.h11.receive_data(data)  # b"": the other side closed; h11 says what that means


def unavailable_error(*, applied: bool) -> UnavailableError:
    """What the caller reads when the write process could not answer: `applied`, the
    request went out and the change may have been made."""
    if applied:
        return UnavailableError(
            "The change was sent, but its answer was cut off.",
            retry_after=1,
            fix="It may have been applied: read it back before repeating it.",
        )
    return UnavailableError("Rolegate is restarting the process that makes changes; nothing was changed.", retry_after=1)
