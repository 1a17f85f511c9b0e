"""The remote client's transport policy, on a scripted transport: retries with backoff
on connect errors, 502, 503 and 429 (honouring Retry-After), and problems raised as
the exception of their code, which is also the engine's own error class."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from rolegate.domain.errors import (
    FeedResyncError,
    InvalidInputError,
    NotFoundError,
    RateLimitedError,
    UnknownActionError,
)
from rolegate.domain.schema import Scope
from rolegate_sdk import AsyncRemoteClient, RemoteClient, Retry
from rolegate_sdk.errors import ApiError, KeyForbidden, RequestInvalid, Unauthenticated, error_for

DECISION = {"action": "accounts.view", "allowed": True, "scope": "assigned+unassigned", "reasons": [{"code": "granted", "message": "m", "permission": "p", "rule": None}], "revision": 7}
FAST = Retry(attempts=4, base=0.001, cap=0.01)


def scripted(answers: list[Callable[[httpx.Request], httpx.Response]], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)(request)

    return httpx.MockTransport(handle)


def ok(_request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json=DECISION)


def status(code: int, retry_after: str | None = None) -> Callable[[httpx.Request], httpx.Response]:
    def answer(_request: httpx.Request) -> httpx.Response:
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        return httpx.Response(code, json={"code": "unavailable", "detail": "later", "status": code}, headers=headers)

    return answer


def refused(_request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused")


def test_connect_errors_502_503_and_429_are_retried_then_answered() -> None:
    seen: list[httpx.Request] = []
    client = RemoteClient("http://rg.test", "key", "ws", retry=FAST, transport=scripted([refused, status(502), status(503, "0"), ok], seen))
    decision = client.check("m", "accounts.view", ("account", "a1"), min_revision=3)
    assert (decision.allowed, decision.scope, decision.revision, decision.object_type) == (True, Scope.ASSIGNED | Scope.UNASSIGNED, 7, "account")
    assert len(seen) == 4
    assert seen[-1].headers["authorization"] == "Bearer key"
    assert seen[-1].url.path == "/v1/workspaces/ws/check"
    assert b'"min_revision":3' in seen[-1].content


def test_retries_stop_after_the_attempts_and_raise_the_problem() -> None:
    seen: list[httpx.Request] = []
    client = RemoteClient("http://rg.test", "key", "ws", retry=FAST, transport=scripted([status(429, "1")] * 4, seen))
    with pytest.raises(ApiError) as raised:
        client.check("m", "accounts.view")
    assert len(seen) == 4
    assert raised.value.retry_after == 1
    connect = RemoteClient("http://rg.test", "key", "ws", retry=FAST, transport=scripted([refused] * 4, seen))
    with pytest.raises(httpx.ConnectError):
        connect.check("m", "accounts.view")


def test_retry_after_is_honoured_and_capped() -> None:
    policy = Retry(attempts=3, base=0.1, cap=2.0)
    assert policy.delay(0, "1") == 1.0
    assert policy.delay(0, "3600") == 2.0
    assert 0.05 <= policy.delay(0) <= 0.1
    assert 0.2 <= policy.delay(2, "soon") <= 0.4  # not a number of seconds: backoff


@pytest.mark.parametrize(
    ("code", "http", "family"),
    [
        ("not_found", 404, NotFoundError),
        ("unknown_action", 422, UnknownActionError),
        ("request_invalid", 422, InvalidInputError),
        ("feed_resync", 410, FeedResyncError),
        ("rate_limited", 429, RateLimitedError),
        ("key_forbidden", 403, KeyForbidden),
        ("unauthenticated", 401, Unauthenticated),
        ("something_new", 404, NotFoundError),
    ],
)
def test_problems_are_raised_as_the_class_of_their_code(code: str, http: int, family: type[Exception]) -> None:
    error = error_for(http, {"code": code, "detail": "why", "rule": None})
    assert isinstance(error, family)
    assert isinstance(error, ApiError)
    assert (error.http_status, error.problem_code, error.detail) == (http, code, "why")
    assert code in str(error)
    assert isinstance(error_for(422, {"code": "request_invalid"}), RequestInvalid)
    assert type(error_for(418, {})) is ApiError  # no family: the base class


def test_a_problem_without_a_json_body_is_still_typed() -> None:
    seen: list[httpx.Request] = []
    def nope(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="nope")

    client = RemoteClient("http://rg.test", "key", "ws", retry=FAST, transport=scripted([nope], seen))
    with pytest.raises(NotFoundError):
        client.lookup("m", "accounts.view", "account")


def test_the_async_client_retries_and_converts_alike() -> None:
    def found(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"object": "account", "filter": {"op": "and", "args": [{"op": "assignee", "path": ["account"], "member": "m", "include": ["assigned"]}, {"op": "assignee", "path": [], "member": "m", "include": ["others"]}]}, "revision": 2})

    answers: list[Callable[[httpx.Request], httpx.Response]] = [refused, status(503, "0"), found]
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0)(request)

    async def run() -> None:
        async with AsyncRemoteClient("http://rg.test", "key", "ws", retry=FAST, transport=httpx.MockTransport(handle)) as client:
            found = await client.lookup("m", "tasks.view", "task")
            assert found.to_json() == {"object": "account", "filter": {"op": "and", "args": [{"op": "assignee", "path": ["account"], "member": "m", "include": ["assigned"]}, {"op": "assignee", "path": [], "member": "m", "include": ["others"]}]}}

    asyncio.run(run())
    assert len(seen) == 3
