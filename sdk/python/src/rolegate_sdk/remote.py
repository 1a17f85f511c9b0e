"""The Rolegate HTTP API from Python: `RemoteClient` (threads) and `AsyncRemoteClient`
(asyncio), for one workspace and one API key.

One httpx client per instance: a keep-alive connection pool (`max_connections`),
timeouts on connect and read, and retries with exponential backoff and jitter on
connection failures and on 429, 502 and 503 (honouring `Retry-After`, capped). Every
call it makes is a read or a decision, so repeating one is safe. A refusal raises the
exception of its problem code (`rolegate_sdk.errors`), which is also the engine's own
error class, and answers are the engine's values (`Decision`, `Explanation`, `Filter`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from rolegate.domain.errors import PermissionDeniedError
from rolegate.engine import Decision, Explanation, Filter, RecordRef
from rolegate_sdk._wire import RETRY_STATUSES, Retry, decision_from_json, explanation_from_json, filter_from_json
from rolegate_sdk.errors import error_for

__all__ = ["AsyncRemoteClient", "RemoteClient", "Snapshot304"]

Record = RecordRef | tuple[str, str]

Snapshot304 = None
"""What `snapshot()` returns for a document the caller holds already (304)."""


def _record(record: Record | None) -> dict[str, str] | None:
    return None if record is None else {"type": record[0], "id": record[1]}


def _body(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _raise_for(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    retry_after = response.headers.get("retry-after")
    raise error_for(response.status_code, problem, int(retry_after) if retry_after and retry_after.isdigit() else None)


def _denied(decision: Decision, member: str, action: str) -> PermissionDeniedError:
    message = f"{member!r} may not {action!r}: " + "; ".join(r.message for r in decision.reasons)
    return PermissionDeniedError(message, decision=decision, fix="Ask an administrator for a role that grants it.")


def _headers(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}", "Accept-Encoding": "gzip", "User-Agent": "rolegate-sdk-python/0.1"}


class RemoteClient:
    """The API of one workspace, from threads (the client is thread-safe)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        workspace_id: str,
        *,
        timeout: float = 5.0,
        connect_timeout: float = 2.0,
        retry: Retry | None = None,
        max_connections: int = 20,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.workspace_id = workspace_id
        self.retry = retry or Retry()
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=_headers(api_key),
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            transport=transport,
        )
        self._prefix = f"/v1/workspaces/{workspace_id}"

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> RemoteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None) -> httpx.Response:
        """One call with the retry policy; raises the problem's exception on a 4xx/5xx
        (a 304 is returned)."""
        attempt = 0
        while True:
            try:
                response = self.http.request(method, path, json=json, params=params, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError):
                if attempt + 1 >= self.retry.attempts:
                    raise
                time.sleep(self.retry.delay(attempt))
                attempt += 1
                continue
            if response.status_code in RETRY_STATUSES and attempt + 1 < self.retry.attempts:
                time.sleep(self.retry.delay(attempt, response.headers.get("retry-after")))
                attempt += 1
                continue
            _raise_for(response)
            return response

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("POST", self._prefix + path, json=body).json()

    # -- decisions ------------------------------------------------------------------

    def check(self, member: str, action: str, record: Record | None = None, *, min_revision: int | None = None, object_type: str | None = None) -> Decision:
        data = self._post("/check", _body(member=member, action=action, record=_record(record), min_revision=min_revision))
        return decision_from_json(data, object_type or (record[0] if record is not None else None))

    def require(self, member: str, action: str, record: Record | None = None, *, min_revision: int | None = None) -> Decision:
        decision = self.check(member, action, record, min_revision=min_revision)
        if not decision.allowed:
            raise _denied(decision, member, action)
        return decision

    def explain(self, member: str, action: str, record: Record | None = None, *, min_revision: int | None = None) -> Explanation:
        data = self._post("/explain", _body(member=member, action=action, record=_record(record), min_revision=min_revision))
        return explanation_from_json(data, record[0] if record is not None else None)

    def filter_fields(self, member: str, object_type: str, record: Mapping[str, Any], *, min_revision: int | None = None) -> dict[str, Any]:
        data = self._post("/fields/filter", _body(member=member, object=object_type, record=dict(record), min_revision=min_revision))
        out: dict[str, Any] = data["record"]
        return out

    def filter_records(self, member: str, object_type: str, records: Sequence[Mapping[str, Any]], *, min_revision: int | None = None) -> list[dict[str, Any]]:
        data = self._post("/fields/filter", _body(member=member, object=object_type, records=[dict(r) for r in records], min_revision=min_revision))
        out: list[dict[str, Any]] = data["records"]
        return out

    def lookup(self, member: str, action: str, object_type: str, *, min_revision: int | None = None) -> Filter:
        return filter_from_json(self._post("/lookup", _body(member=member, action=action, object=object_type, min_revision=min_revision)))

    def visible_records(self, member: str, action: str, object_type: str, *, limit: int = 100, cursor: str | None = None) -> dict[str, Any]:
        """A page of the ids of the records `member` may `action` (the server's record
        index): `{"ids": [...], "next_cursor": ...}`."""
        body: dict[str, Any] = self._post("/records/visible", _body(member=member, action=action, object=object_type, limit=limit, cursor=cursor))
        return body

    # -- the feed and the snapshot ----------------------------------------------------

    def snapshot(self, held_revision: int | None = None) -> dict[str, Any] | None:
        """The workspace's snapshot document, or None (`Snapshot304`) when it is still
        at `held_revision`."""
        headers = {"If-None-Match": f'"{held_revision}"'} if held_revision is not None else None
        response = self.request("GET", self._prefix + "/snapshot", headers=headers)
        if response.status_code == 304:
            return Snapshot304
        document: dict[str, Any] = response.json()
        return document

    def changes(self, after: int = 0, limit: int = 100) -> dict[str, Any]:
        page: dict[str, Any] = self.request("GET", self._prefix + "/changes", params={"after": after, "limit": limit}).json()
        return page


class AsyncRemoteClient:
    """`RemoteClient` for asyncio: the same calls, awaited."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        workspace_id: str,
        *,
        timeout: float = 5.0,
        connect_timeout: float = 2.0,
        retry: Retry | None = None,
        max_connections: int = 20,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.workspace_id = workspace_id
        self.retry = retry or Retry()
        self.http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers=_headers(api_key),
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            transport=transport,
        )
        self._prefix = f"/v1/workspaces/{workspace_id}"

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> AsyncRemoteClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def request(self, method: str, path: str, *, json: Any = None, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = await self.http.request(method, path, json=json, params=params, headers=headers)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError):
                if attempt + 1 >= self.retry.attempts:
                    raise
                await asyncio.sleep(self.retry.delay(attempt))
                attempt += 1
                continue
            if response.status_code in RETRY_STATUSES and attempt + 1 < self.retry.attempts:
                await asyncio.sleep(self.retry.delay(attempt, response.headers.get("retry-after")))
                attempt += 1
                continue
            _raise_for(response)
            return response

    async def _post(self, path: str, body: dict[str, Any]) -> Any:
        return (await self.request("POST", self._prefix + path, json=body)).json()

    async def check(self, member: str, action: str, record: Record | None = None, *, min_revision: int | None = None, object_type: str | None = None) -> Decision:
        data = await self._post("/check", _body(member=member, action=action, record=_record(record), min_revision=min_revision))
        return decision_from_json(data, object_type or (record[0] if record is not None else None))

    async def require(self, member: str, action: str, record: Record | None = None, *, min_revision: int | None = None) -> Decision:
        decision = await self.check(member, action, record, min_revision=min_revision)
        if not decision.allowed:
            raise _denied(decision, member, action)
        return decision

    async def explain(self, member: str, action: str, record: Record | None = None, *, min_revision: int | None = None) -> Explanation:
        data = await self._post("/explain", _body(member=member, action=action, record=_record(record), min_revision=min_revision))
        return explanation_from_json(data, record[0] if record is not None else None)

    async def filter_fields(self, member: str, object_type: str, record: Mapping[str, Any], *, min_revision: int | None = None) -> dict[str, Any]:
        data = await self._post("/fields/filter", _body(member=member, object=object_type, record=dict(record), min_revision=min_revision))
        out: dict[str, Any] = data["record"]
        return out

    async def filter_records(self, member: str, object_type: str, records: Sequence[Mapping[str, Any]], *, min_revision: int | None = None) -> list[dict[str, Any]]:
        data = await self._post("/fields/filter", _body(member=member, object=object_type, records=[dict(r) for r in records], min_revision=min_revision))
        out: list[dict[str, Any]] = data["records"]
        return out

    async def lookup(self, member: str, action: str, object_type: str, *, min_revision: int | None = None) -> Filter:
        return filter_from_json(await self._post("/lookup", _body(member=member, action=action, object=object_type, min_revision=min_revision)))

    async def visible_records(self, member: str, action: str, object_type: str, *, limit: int = 100, cursor: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = await self._post("/records/visible", _body(member=member, action=action, object=object_type, limit=limit, cursor=cursor))
        return body

    async def snapshot(self, held_revision: int | None = None) -> dict[str, Any] | None:
        headers = {"If-None-Match": f'"{held_revision}"'} if held_revision is not None else None
        response = await self.request("GET", self._prefix + "/snapshot", headers=headers)
        if response.status_code == 304:
            return Snapshot304
        document: dict[str, Any] = response.json()
        return document

    async def changes(self, after: int = 0, limit: int = 100) -> dict[str, Any]:
        page: dict[str, Any] = (await self.request("GET", self._prefix + "/changes", params={"after": after, "limit": limit})).json()
        return page


