"""The decisions' fast path: `POST /v1/workspaces/{ws}/check`, `.../check/batch` and
the AuthZEN `POST /access/v1/evaluation` answered without FastAPI's routing,
dependency solving, request object and response class, when the answer needs none of
them (for an evaluation: a subject by member id, or by an email the directory of
that revision already holds).

`FastDecisions` sits inside `Observe` (request id, latency by route template) and in
front of the app. It takes a request only when everything it needs is already in
memory: a body of declared length and type `application/json` (at most `OFF_LOOP_BYTES` for a check,
`BULK_BODY_LIMIT` for a batch), a Bearer key verified within its TTL with the
`decide` right, a workspace the key is known to reach, a body the route's own model
(`CheckIn`, `BatchCheckIn`) accepts from JSON, and a snapshot that may decide now
(`SnapshotCache.current`). Anything else is delegated, body replayed, to the app, whose
route is the documented one (same OpenAPI operation) and says every refusal itself:
401/403/404 for keys and tenants, 413 and 422 naming the field, 409 and 503 for
revisions and outages. So the fast path has no error contract of its own; an error
raised while deciding (unknown action, record index unreachable) goes to the app's
exception handler for it, as the route's would.

Its own work per check: one scan of the headers, a SHA-256 of the key, two dict
lookups for the key and the workspace, `model_validate_json`, the snapshot lookup
and bytes rendered once per decision. It stands aside (delegates everything) when
the app has middleware it does not know (OpenTelemetry when tracing is on), so a
span or a header is never skipped.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, Final, TypeVar, cast

import anyio.to_thread
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from pydantic_core import from_json
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rolegate.api.limits import BATCH_MAX, BULK_BODY_LIMIT, OFF_LOOP_BYTES, BodyLimit
from rolegate.api.routes import authzen, decisions
from rolegate.api.schemas.authzen import EvaluationIn
from rolegate.api.schemas.decisions import BatchCheckIn, CheckIn
from rolegate.services.api_keys import KeyRight
from rolegate.services.authzen import USER, evaluate, evaluate_in_memory
from rolegate.services.commands import MAX_REVISION

__all__ = ["FastDecisions"]

_PREFIX: Final = "/v1/workspaces/"
_EVALUATION: Final = "/access/v1/evaluation"
_WORKSPACE_HEADER: Final = authzen.WORKSPACE_HEADER.lower().encode("latin-1")
_DECIDE: Final = KeyRight.DECIDE.value
_JSON_TYPE: Final = b"application/json"
_M = TypeVar("_M", bound=BaseModel)
_BATCH_KEYS: Final = frozenset({"checks", "min_revision"})
PLAIN_BATCH_ON_LOOP_BYTES: Final = 2 * OFF_LOOP_BYTES
"""A batch of plain checks up to this size is parsed on the event loop: `plain_batch`
takes about half the model's time, so this costs the loop no more than a body of
`OFF_LOOP_BYTES` through the model (the rule `OFF_LOOP_BYTES` sets; a 1,000-check
batch is about 85 KB: on the loop, where a worker thread would only add its hop, as
it holds the GIL meanwhile anyway)."""
_MEMBER_MAX: Final = 36
_ACTION_MAX: Final = 200
"""`MemberRef` and `ActionRef` (services.commands): `parse_batch` checks the same lengths;
a test holds them equal."""


class FastDecisions:
    """An ASGI layer: the hot decision routes answered directly (see the module), the
    rest passed to `app` unchanged."""

    def __init__(self, fastapi: FastAPI, app: ASGIApp) -> None:
        self.fastapi = fastapi
        self.app = app
        self._on: bool | None = None
        self._routes: dict[str, APIRoute] = {}
        self.enabled = True
        """False: every request goes to the app (the tests' and benchmarks' peer)."""
        self.answered = 0
        """Requests answered here (not delegated)."""

    def _enabled(self) -> bool:
        """Decided on the first request, once the app is complete: only an app whose
        middleware is the API's own (`BodyLimit`) is bypassed."""
        if self._on is None:
            known = all(cast(object, m.cls) is BodyLimit for m in self.fastapi.user_middleware)
            # The routes as declared (their templates label the metrics as the app's do).
            routes = {route.name: route for route in decisions.router.routes if isinstance(route, APIRoute)}
            self._routes = {"check": routes["check"], "check/batch": routes["check_batch"]}
            self._routes |= {r.name: r for r in authzen.router.routes if isinstance(r, APIRoute) and r.name == "evaluation"}
            self._on = known and getattr(self.fastapi.state.rolegate, "tracing", None) is None
        return self._on

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == _EVALUATION:
            workspace_id, tail = "", "evaluation"
        elif path.startswith(_PREFIX):
            workspace_id, _, tail = path[len(_PREFIX) :].partition("/")
        else:
            await self.app(scope, receive, send)
            return
        if tail in ("check", "evaluation"):
            limit = OFF_LOOP_BYTES
        elif tail == "check/batch":
            limit = BULK_BODY_LIMIT
        else:
            await self.app(scope, receive, send)
            return
        if (not workspace_id and tail != "evaluation") or scope.get("root_path") or not self.enabled or not self._enabled():
            await self.app(scope, receive, send)
            return
        authorization = length = named = None
        content_type: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                if authorization is None:
                    authorization = value
            elif name == b"content-length":
                if length is None:
                    length = value
            elif name == b"content-type" and content_type is None:
                content_type = value
            elif name == _WORKSPACE_HEADER and named is None:
                named = value
        if authorization is None or length is None or not length.isdigit() or int(length) > limit:
            await self.app(scope, receive, send)
            return
        if content_type != _JSON_TYPE and not (content_type or b"").startswith(_JSON_TYPE + b";"):
            await self.app(scope, receive, send)  # no type, or another JSON type: the route's rules
            return
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        token = token.strip()
        auth = self.fastapi.state.auth
        key = auth.cached_key(token) if token and scheme.lower() == "bearer" else None
        if tail == "evaluation" and key is not None:
            # The workspace the header names, else the key's own (the route's rules; a
            # header it would refuse, or a key of an organization without one, goes there).
            header = named.decode("latin-1") if named is not None else None
            workspace_id = (header if header and len(header) <= 36 else "") if named is not None else (key.workspace_id or "")
        if key is None or not workspace_id or _DECIDE not in key.rights or not auth.cached_reach(key, workspace_id):
            await self.app(scope, receive, send)  # the route refuses (401, 403, 404) or asks the store
            return
        # Past here the key is valid: reading the body is no gift to an anonymous caller.
        messages, body = await _read_body(receive)
        replay = _replaying(messages, receive)
        if body is None:  # the client went away, or sent more than it declared
            await self.app(scope, replay, send)
            return
        if tail == "check":
            await self._check(scope, replay, send, workspace_id, body)
        elif tail == "evaluation":
            await self._evaluation(scope, replay, send, workspace_id, body)
        else:
            await self._batch(scope, replay, send, workspace_id, body)

    async def _check(self, scope: Scope, receive: Receive, send: Send, workspace_id: str, body: bytes) -> None:
        parsed = _parse(CheckIn, body)
        if parsed is None:
            await self.app(scope, receive, send)
            return
        cache = self.fastapi.state.rolegate.snapshots
        snap = cache.current(workspace_id, parsed.min_revision)
        if snap is None:
            await self.app(scope, receive, send)  # revalidate or load: the route does it off the loop
            return
        scope["route"] = self._routes["check"]  # Observe's label: the route's template
        try:
            if parsed.record is None:
                answer = decisions.decide_one(snap, parsed)
            else:
                held = decisions.decide_record_in_memory(snap, parsed)
                answer = held if held is not None else await run_in_threadpool(decisions.decide_record, snap, parsed)
        except Exception as error:
            await self._failed(scope, receive, send, error)
            return
        self.answered += 1
        await _send(send, answer, decisions.stale_notice(cache, workspace_id, snap))

    async def _evaluation(self, scope: Scope, receive: Receive, send: Send, workspace_id: str, body: bytes) -> None:
        parsed = _parse(EvaluationIn, body)
        if parsed is None:
            await self.app(scope, receive, send)  # the route's 400, worded by the AuthZEN API
            return
        cache = self.fastapi.state.rolegate.snapshots
        snap = cache.current(workspace_id, None)
        if snap is None:
            await self.app(scope, receive, send)
            return
        subject, action, resource = parsed.subject, parsed.action.name, parsed.resource
        member: str | None = None
        if subject.type == USER:
            if "@" not in subject.id:
                member = subject.id
            else:
                directory = authzen.subjects_of(self.fastapi).current(workspace_id, snap.revision)
                if directory is None:
                    await self.app(scope, receive, send)  # the route reads the directory off the loop
                    return
                member = directory.member(subject.type, subject.id)
        scope["route"] = self._routes["evaluation"]
        try:
            held = evaluate_in_memory(snap, member, action, resource.type, resource.id)
            allowed = held if held is not None else await run_in_threadpool(evaluate, snap, member, action, resource.type, resource.id)
        except Exception as error:
            await self._failed(scope, receive, send, error)
            return
        self.answered += 1
        await _send(send, authzen.decide_evaluation(allowed), decisions.stale_notice(cache, workspace_id, snap))

    async def _batch(self, scope: Scope, receive: Receive, send: Send, workspace_id: str, body: bytes) -> None:
        parsed = await _batch_body(body)
        if parsed is None:
            await self.app(scope, receive, send)
            return
        cache = self.fastapi.state.rolegate.snapshots
        snap = cache.current(workspace_id, parsed.min_revision)
        if snap is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = self._routes["check/batch"]
        try:
            if decisions.batch_has_records(parsed):
                in_memory = decisions.decide_batch_in_memory(snap, parsed)
                answer = in_memory if in_memory is not None else await run_in_threadpool(decisions.decide_batch, snap, parsed)
            else:
                answer = decisions.decide_plain_batch(snap, parsed)
        except Exception as error:
            await self._failed(scope, receive, send, error)
            return
        self.answered += 1
        if isinstance(answer, Response):
            await answer(scope, receive, send)
            return
        await _send(send, answer, decisions.stale_notice(cache, workspace_id, snap))

    async def _failed(self, scope: Scope, receive: Receive, send: Send, error: Exception) -> None:
        """The answer the app's handler for `error` gives (as Starlette looks it up: the
        nearest class in its MRO); an unexpected error is re-raised after its 500, as
        Starlette's error middleware does."""
        handlers = self.fastapi.exception_handlers
        handler: Callable[[Request, Any], Response | Awaitable[Response]] | None = None
        for cls in type(error).__mro__:
            if cls in handlers:
                handler = handlers[cls]
                break
        if handler is None:
            raise error
        scope["app"] = self.fastapi
        answered = handler(Request(scope, receive), error)
        response = await answered if inspect.isawaitable(answered) else answered
        await response(scope, receive, send)
        if handlers.get(Exception) is handler:
            raise error


def _parse(model: type[_M], body: bytes) -> _M | None:
    try:
        return model.model_validate_json(body)
    except ValidationError:
        return None  # the route answers 422 with FastAPI's own error locations


def parse_batch(body: bytes) -> BatchCheckIn | None:
    """`BatchCheckIn` from JSON; None where the model would refuse it (then the route
    answers). A batch of plain checks (strings within their lengths, no record, an
    integer `min_revision`) is checked here, in about half the model's time; any
    other shape, a valid one included, is left to the model."""
    plain = plain_batch(body)
    return _parse(BatchCheckIn, body) if plain is _MODEL else plain


_MODEL: Final = BatchCheckIn.model_construct(checks=[], min_revision=None)
"""`plain_batch`'s answer for a body only the model can judge."""


def plain_batch(body: bytes) -> BatchCheckIn | None:
    """`parse_batch` without the model: `_MODEL` where it is needed."""
    try:
        data = from_json(body)
    except ValueError:
        return None
    checks = data.get("checks") if type(data) is dict else None
    if type(checks) is not list or len(checks) > BATCH_MAX or not data.keys() <= _BATCH_KEYS:
        return None
    min_revision = data.get("min_revision")
    if min_revision is not None and not (type(min_revision) is int and 0 <= min_revision <= MAX_REVISION):
        return _MODEL
    for item in checks:
        if type(item) is not dict or len(item) != 2:
            return _MODEL
        member = item.get("member")
        action = item.get("action")
        if type(member) is not str or type(action) is not str or not (0 < len(member) <= _MEMBER_MAX and 0 < len(action) <= _ACTION_MAX):
            return _MODEL
    return BatchCheckIn.model_construct(checks=checks, min_revision=min_revision)


async def _batch_body(body: bytes) -> BatchCheckIn | None:
    """The batch parsed where it costs least: `plain_batch` on the loop up to
    `PLAIN_BATCH_ON_LOOP_BYTES`, the model on the loop only up to `OFF_LOOP_BYTES`;
    above, in a worker thread."""
    if len(body) > PLAIN_BATCH_ON_LOOP_BYTES:
        return await anyio.to_thread.run_sync(parse_batch, body)
    plain = plain_batch(body)
    if plain is not _MODEL:
        return plain
    if len(body) > OFF_LOOP_BYTES:
        return await anyio.to_thread.run_sync(_parse, BatchCheckIn, body)
    return _parse(BatchCheckIn, body)


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return messages, b"".join(chunks)


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """A `receive` that gives the messages already read, then the connection's own."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _send(send: Send, body: bytes, stale: dict[str, str] | None) -> None:
    headers: list[tuple[bytes, bytes]] = []
    if stale is not None:
        headers = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in stale.items()]
    headers.append((b"content-length", str(len(body)).encode("latin-1")))
    headers.append((b"content-type", _JSON_TYPE))
    start: dict[str, Any] = {"type": "http.response.start", "status": 200, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body})
