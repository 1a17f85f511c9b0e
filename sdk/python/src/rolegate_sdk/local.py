"""Decisions in your own process: `Rolegate` (threads) and `AsyncRolegate` (asyncio).

How it stays right:

* At start it downloads the workspace's snapshot document (`GET .../snapshot`) and
  compiles it with Rolegate's own engine (`snapshot_from_document`): the same code the
  server decides with, so the same answers.
* It follows the change feed (`GET .../changes/stream`, Server-Sent Events). Each
  revision announced that is newer than the one held downloads the document again
  (`If-None-Match`: a 304 costs nothing) and swaps the compiled snapshot in; decisions
  in flight finish on the one they started with. A `feed_resync` downloads it again
  and resumes from its revision.
* Staleness bound (`max_staleness`, seconds): each event or heartbeat of the stream,
  and each successful revalidation, is news. When the stream has been quiet for half
  the bound, a revalidation asks the server (`If-None-Match`: one primary-key read
  there). Past the bound without news, decisions go to the remote API until news
  comes again; nothing is ever answered from a snapshot older than the bound.
* `min_revision=` (the revision your write returned) waits, at most
  `min_revision_timeout` seconds, until the snapshot held has passed it (half way, it
  downloads the document itself instead of waiting for the stream); if it still has
  not, the remote API answers with that `min_revision` (the server reads its own
  writes).
* Record checks (`check(..., record=...)`) go to the server, which holds the record
  index, at least at the revision held here; or decide here when `records=` (an
  `engine.RecordIndex` of your own records) is given.

`check` without a record is the engine's check plus one attribute read: safe from any
thread (a snapshot is immutable, and swapping it is one assignment).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any

import httpx

from rolegate.domain.schema import ProductSchema
from rolegate.engine import (
    Decision,
    Explanation,
    Filter,
    RecordIndex,
    RecordRef,
    Snapshot,
    document_schema,
    snapshot_from_document,
)
from rolegate_sdk._wire import Retry
from rolegate_sdk.errors import ApiError
from rolegate_sdk.remote import AsyncRemoteClient, RemoteClient

__all__ = ["AsyncRolegate", "Rolegate"]

Record = RecordRef | tuple[str, str]

_NO_TABLE: Mapping[str, Decision] = {}

STREAM_READ_TIMEOUT = 40.0
"""Seconds without a byte before the stream is taken for dead (the server sends a
heartbeat every 15 s)."""


class _Local:
    """The compiled snapshot, its freshness and the schema parsed from the last
    document: what both SDKs share (their I/O differs)."""

    def __init__(self, *, records: RecordIndex | None, max_staleness: float, min_revision_timeout: float, clock: Callable[[], float]) -> None:
        if max_staleness <= 0:
            raise ValueError("max_staleness is a duration in seconds (> 0)")
        self._records = records
        self.max_staleness = max_staleness
        self.min_revision_timeout = min_revision_timeout
        self._clock = clock
        self._snapshot: Snapshot | None = None
        self._fresh: Snapshot | None = None
        """The snapshot while within the staleness bound, else None."""
        self._tables: Mapping[str, Mapping[str, Decision]] | None = None
        """`_fresh`'s decisions by member and action (None with it): `check`'s one read.
        The engine's own table, read directly: calling `Snapshot.check` from `check`
        would cost a second Python call per decision (bench/sdk.py)."""
        self._last_news = float("-inf")
        self._state = threading.Lock()
        """Keeps `_snapshot`, `_fresh` and `_tables` one consistent triple (writers only)."""
        self._schema: tuple[tuple[str, str], ProductSchema] | None = None
        self.downloads = 0
        """Documents downloaded and compiled (304s not counted)."""
        self.remote_answers = 0
        """Decisions the remote API answered (stale, a record check, min_revision not reached)."""

    @property
    def revision(self) -> int:
        """The revision of the snapshot held (-1: none yet)."""
        return -1 if self._snapshot is None else self._snapshot.revision

    @property
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    @property
    def fresh(self) -> bool:
        return self._fresh is not None

    def _compile(self, document: dict[str, Any]) -> Snapshot:
        key = (str(document["schema"]["hash"]), json.dumps(document["registry"], sort_keys=True))
        held = self._schema
        if held is not None and held[0] == key:
            schema = held[1]
        else:
            schema = document_schema(document)
            self._schema = (key, schema)
        return snapshot_from_document(document, records=self._records, schema=schema)

    def _install(self, snapshot: Snapshot) -> bool:
        """Hold `snapshot` if it is newer; news either way. True if it was installed."""
        with self._state:
            self.downloads += 1
            newer = self._snapshot is None or snapshot.revision > self._snapshot.revision
            if newer:
                self._snapshot = snapshot
            self._heard_locked()
        return newer

    def _heard(self) -> None:
        with self._state:
            self._heard_locked()

    def _heard_locked(self) -> None:
        self._last_news = self._clock()
        snap = self._snapshot
        self._fresh = snap
        self._tables = None if snap is None else snap._tables

    def _quiet_for(self) -> float:
        return self._clock() - self._last_news

    def _tick(self) -> None:
        """Past the bound without news: decisions go to the remote API."""
        with self._state:
            if self._quiet_for() > self.max_staleness:
                self._tables = None
                self._fresh = None

    def _local_for(self, record: Record | None) -> bool:
        return record is None or self._records is not None


def _events(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """Server-Sent Events from lines: each event's fields (`comment` for `: ...`)."""
    block: dict[str, str] = {}
    for line in lines:
        if line == "":
            if block:
                yield block
                block = {}
            continue
        name, _, value = line.partition(":")
        block[name or "comment"] = value.removeprefix(" ")


async def _aevents(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, str]]:
    block: dict[str, str] = {}
    async for line in lines:
        if line == "":
            if block:
                yield block
                block = {}
            continue
        name, _, value = line.partition(":")
        block[name or "comment"] = value.removeprefix(" ")


class Rolegate(_Local):
    """Local decisions for one workspace, kept fresh by a thread that follows the
    change feed and one that watches the staleness bound. Use as a context manager,
    or call `close()`."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        workspace_id: str,
        *,
        records: RecordIndex | None = None,
        max_staleness: float = 5.0,
        min_revision_timeout: float = 2.0,
        timeout: float = 5.0,
        retry: Retry | None = None,
        remote: RemoteClient | None = None,
        follow: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(records=records, max_staleness=max_staleness, min_revision_timeout=min_revision_timeout, clock=clock)
        self.workspace_id = workspace_id
        self.remote = remote or RemoteClient(base_url, api_key, workspace_id, timeout=timeout, retry=retry)
        self._stream_http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}", "Accept": "text/event-stream"},
            timeout=httpx.Timeout(timeout, read=STREAM_READ_TIMEOUT),
        )
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._refreshing = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._response: httpx.Response | None = None
        try:
            self.refresh()  # the first snapshot, or the error of why there is none
        except BaseException:
            self._stream_http.close()
            self.remote.close()
            raise
        if follow:
            for target, name in ((self._follow, "rolegate-sdk-follow"), (self._watch, "rolegate-sdk-watch")):
                thread = threading.Thread(target=target, name=name, daemon=True)
                thread.start()
                self._threads.append(thread)

    def close(self) -> None:
        """Stop following the feed (the stream is closed, its thread joined) and close
        the connections."""
        self._stop.set()
        response = self._response
        if response is not None:
            _shutdown(response)  # wakes the thread blocked reading the stream
        for thread in self._threads:
            thread.join(5)
        self._stream_http.close()
        self.remote.close()

    def __enter__(self) -> Rolegate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- keeping the snapshot fresh ---------------------------------------------------

    def refresh(self) -> bool:
        """Download the document unless the server says it is the one held (304), and
        compile it. One at a time: a caller arriving meanwhile waits for that one.
        True when a newer snapshot was installed."""
        held = self.revision
        with self._refreshing:
            if self.revision != held:
                return True  # someone else installed a newer one while we waited
            document = self.remote.snapshot(held if held >= 0 else None)
            if document is None:
                self._heard()
                return False
            installed = self._install(self._compile(document))
        with self._changed:
            self._changed.notify_all()
        return installed

    def _follow(self) -> None:
        backoff = 0.05
        while not self._stop.is_set():
            try:
                self._stream_once()
                backoff = 0.05
            except Exception:  # any failure: reconnect after a pause; this thread never ends early
                if self._stop.wait(backoff):
                    return
                backoff = min(backoff * 2, 5.0)

    def _stream_once(self) -> None:
        path = f"/v1/workspaces/{self.workspace_id}/changes/stream"
        with self._stream_http.stream("GET", path, params={"after": max(self.revision, 0)}) as response:
            self._response = response
            if self._stop.is_set():
                return
            if response.status_code == 410:
                self.refresh()  # feed_resync: the document, then the feed from its revision
                return
            if response.status_code != 200:
                response.read()
                raise httpx.HTTPStatusError(f"stream answered {response.status_code}", request=response.request, response=response)
            self._heard()  # connected: the feed from our revision on is coming
            for event in _events(response.iter_lines()):
                if self._stop.is_set():
                    return
                kind = event.get("event")
                if kind == "resync":
                    self.refresh()
                    return
                ident = event.get("id")
                if ident is not None and ident.isdigit() and int(ident) > self.revision:
                    self.refresh()
                else:
                    self._heard()

    def _watch(self) -> None:
        interval = min(self.max_staleness / 4, 1.0)
        while not self._stop.wait(interval):
            try:
                if self._quiet_for() > self.max_staleness / 2:
                    self.refresh()
            except Exception:  # unreachable or refusing: the bound decides below; this thread must not end
                pass
            finally:
                self._tick()

    def _snapshot_for(self, min_revision: int | None) -> Snapshot | None:
        """The snapshot to decide on, after waiting for `min_revision`; None: ask the server."""
        snap = self._fresh
        if snap is None or min_revision is None or snap.revision >= min_revision:
            return snap
        deadline = self._clock() + self.min_revision_timeout
        halfway = self._clock() + self.min_revision_timeout / 2
        refreshed = False
        with self._changed:
            while True:
                snap = self._fresh
                if snap is not None and snap.revision >= min_revision:
                    return snap
                now = self._clock()
                if now >= deadline:
                    return None
                if now >= halfway and not refreshed:
                    refreshed = True
                    self._changed.release()
                    try:
                        with contextlib.suppress(httpx.HTTPError, ApiError):
                            self.refresh()
                    finally:
                        self._changed.acquire()
                    continue
                self._changed.wait((halfway if not refreshed else deadline) - now)

    # -- decisions: the engine's verbs --------------------------------------------------

    def check(self, member: str, action: str, record: Record | None = None, *, min_revision: int | None = None) -> Decision:
        tables = self._tables
        if tables is not None and record is None and min_revision is None:
            try:
                return tables.get(member, _NO_TABLE)[action]
            except KeyError:
                pass
        # A member or an action the snapshot does not know (the engine's answer or
        # error), a record, min_revision, or past the staleness bound.
        return self._check(member, action, record, min_revision)

    def _check(self, member: str, action: str, record: Record | None, min_revision: int | None) -> Decision:
        snap = self._snapshot_for(min_revision)
        if snap is not None and self._local_for(record):
            return snap.check(member, action, record)
        self.remote_answers += 1
        return self.remote.check(member, action, record, min_revision=_at_least(min_revision, snap), object_type=_object_of(snap, action))

    def require(self, member: str, action: str, record: Record | None = None, *, min_revision: int | None = None) -> Decision:
        snap = self._snapshot_for(min_revision)
        if snap is not None and self._local_for(record):
            return snap.require(member, action, record)
        self.remote_answers += 1
        return self.remote.require(member, action, record, min_revision=_at_least(min_revision, snap))

    def explain(self, member: str, action: str, record: Record | None = None, *, min_revision: int | None = None) -> Explanation:
        snap = self._snapshot_for(min_revision)
        if snap is not None and self._local_for(record):
            return snap.explain(member, action, record)
        self.remote_answers += 1
        return self.remote.explain(member, action, record, min_revision=_at_least(min_revision, snap))

    def filter_fields(self, member: str, object_type: str, record: Mapping[str, Any], *, min_revision: int | None = None) -> dict[str, Any]:
        snap = self._snapshot_for(min_revision)
        if snap is not None:
            return snap.filter_fields(member, object_type, record)
        self.remote_answers += 1
        return self.remote.filter_fields(member, object_type, record, min_revision=min_revision)

    def filter_records(self, member: str, object_type: str, records: Sequence[Mapping[str, Any]], *, min_revision: int | None = None) -> list[dict[str, Any]]:
        snap = self._snapshot_for(min_revision)
        if snap is not None:
            return snap.filter_records(member, object_type, records)
        self.remote_answers += 1
        return self.remote.filter_records(member, object_type, records, min_revision=min_revision)

    def lookup(self, member: str, action: str, object_type: str, *, min_revision: int | None = None) -> Filter:
        snap = self._snapshot_for(min_revision)
        if snap is not None:
            return snap.lookup(member, action, object_type)
        self.remote_answers += 1
        return self.remote.lookup(member, action, object_type, min_revision=min_revision)

    def wait_for(self, revision: int, timeout: float | None = None) -> bool:
        """Wait until the snapshot held is at `revision` or newer (False on timeout)."""
        deadline = self._clock() + (self.min_revision_timeout if timeout is None else timeout)
        with self._changed:
            while self.revision < revision:
                left = deadline - self._clock()
                if left <= 0:
                    return False
                self._changed.wait(left)
        return True


def _shutdown(response: httpx.Response) -> None:
    """Shut the stream's socket down: a thread blocked reading it wakes at once (closing
    the response from another thread does not interrupt a read in progress)."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _at_least(min_revision: int | None, snap: Snapshot | None) -> int | None:
    """A record check sent to the server is decided at least at the revision held here."""
    if snap is None:
        return min_revision
    return max(min_revision or 0, snap.revision)


def _object_of(snap: Snapshot | None, action: str) -> str | None:
    if snap is None:
        return None
    act = snap.schema.actions.get(action)
    return act.object_type if act is not None else None


class AsyncRolegate(_Local):
    """`Rolegate` for asyncio: create it with `await AsyncRolegate.open(...)` (or
    `async with`), then `await rg.check(...)`. Local answers never wait on I/O; the
    feed and the staleness bound are followed by two tasks, and documents compile in
    a worker thread so the loop keeps answering meanwhile."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        workspace_id: str,
        *,
        records: RecordIndex | None = None,
        max_staleness: float = 5.0,
        min_revision_timeout: float = 2.0,
        timeout: float = 5.0,
        retry: Retry | None = None,
        remote: AsyncRemoteClient | None = None,
        follow: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(records=records, max_staleness=max_staleness, min_revision_timeout=min_revision_timeout, clock=clock)
        self.workspace_id = workspace_id
        self.remote = remote or AsyncRemoteClient(base_url, api_key, workspace_id, timeout=timeout, retry=retry)
        self._stream_http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {api_key}", "Accept": "text/event-stream"},
            timeout=httpx.Timeout(timeout, read=STREAM_READ_TIMEOUT),
        )
        self._follow_feed = follow
        self._tasks: list[asyncio.Task[None]] = []
        self._refreshing: asyncio.Lock | None = None
        self._installed: asyncio.Event | None = None
        self._response: httpx.Response | None = None

    @classmethod
    async def open(cls, base_url: str, api_key: str, workspace_id: str, **options: Any) -> AsyncRolegate:
        rg = cls(base_url, api_key, workspace_id, **options)
        await rg.start()
        return rg

    async def start(self) -> None:
        self._refreshing = asyncio.Lock()
        self._installed = asyncio.Event()
        await self.refresh()
        if self._follow_feed:
            self._tasks = [asyncio.create_task(self._follow()), asyncio.create_task(self._watch())]

    async def aclose(self) -> None:
        if self._response is not None:
            _shutdown(self._response)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._stream_http.aclose()
        await self.remote.aclose()

    async def __aenter__(self) -> AsyncRolegate:
        if self._refreshing is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def refresh(self) -> bool:
        if self._refreshing is None or self._installed is None:
            raise RuntimeError("call start() first (or use AsyncRolegate.open)")
        held = self.revision
        async with self._refreshing:
            if self.revision != held:
                return True
            document = await self.remote.snapshot(held if held >= 0 else None)
            if document is None:
                self._heard()
                return False
            snapshot = await asyncio.to_thread(self._compile, document)
            installed = self._install(snapshot)
        event, self._installed = self._installed, asyncio.Event()
        event.set()  # wake the waiters of min_revision; the next ones wait on a new event
        return installed

    async def _follow(self) -> None:
        backoff = 0.05
        while True:
            try:
                await self._stream_once()
                backoff = 0.05
            except Exception:  # any failure: reconnect after a pause; this task never ends early
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _stream_once(self) -> None:
        path = f"/v1/workspaces/{self.workspace_id}/changes/stream"
        async with self._stream_http.stream("GET", path, params={"after": max(self.revision, 0)}) as response:
            self._response = response
            if response.status_code == 410:
                await self.refresh()
                return
            if response.status_code != 200:
                await response.aread()
                raise httpx.HTTPStatusError(f"stream answered {response.status_code}", request=response.request, response=response)
            self._heard()
            async for event in _aevents(response.aiter_lines()):
                if event.get("event") == "resync":
                    await self.refresh()
                    return
                ident = event.get("id")
                if ident is not None and ident.isdigit() and int(ident) > self.revision:
                    await self.refresh()
                else:
                    self._heard()

    async def _watch(self) -> None:
        interval = min(self.max_staleness / 4, 1.0)
        while True:
            await asyncio.sleep(interval)
            try:
                if self._quiet_for() > self.max_staleness / 2:
                    await self.refresh()
            except Exception:  # unreachable or refusing: the bound decides below; this task must not end
                pass
            finally:
                self._tick()

    async def _snapshot_for(self, min_revision: int | None) -> Snapshot | None:
        snap = self._fresh
        if snap is None or min_revision is None or snap.revision >= min_revision:
            return snap
        deadline = self._clock() + self.min_revision_timeout
        halfway = self._clock() + self.min_revision_timeout / 2
        refreshed = False
        while True:
            snap = self._fresh
            if snap is not None and snap.revision >= min_revision:
                return snap
            now = self._clock()
            if now >= deadline:
                return None
            if now >= halfway and not refreshed:
                refreshed = True
                with contextlib.suppress(httpx.HTTPError, ApiError):
                    await self.refresh()
                continue
            assert self._installed is not None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._installed.wait(), (halfway if not refreshed else deadline) - now)

    async def check(self, member: str, action: str, record: Record | None = None, *, min_revision: int | None = None) -> Decision:
        snap = self._fresh
        if snap is not None and record is None and min_revision is None:
            return snap.check(member, action)
        snap = await self._snapshot_for(min_revision)
        if snap is not None and self._local_for(record):
            return snap.check(member, action, record)
        self.remote_answers += 1
        return await self.remote.check(member, action, record, min_revision=_at_least(min_revision, snap), object_type=_object_of(snap, action))

    async def require(self, member: str, action: str, record: Record | None = None, *, min_revision: int | None = None) -> Decision:
        snap = await self._snapshot_for(min_revision)
        if snap is not None and self._local_for(record):
            return snap.require(member, action, record)
        self.remote_answers += 1
        return await self.remote.require(member, action, record, min_revision=_at_least(min_revision, snap))

    async def explain(self, member: str, action: str, record: Record | None = None, *, min_revision: int | None = None) -> Explanation:
        snap = await self._snapshot_for(min_revision)
        if snap is not None and self._local_for(record):
            return snap.explain(member, action, record)
        self.remote_answers += 1
        return await self.remote.explain(member, action, record, min_revision=_at_least(min_revision, snap))

    async def filter_fields(self, member: str, object_type: str, record: Mapping[str, Any], *, min_revision: int | None = None) -> dict[str, Any]:
        snap = await self._snapshot_for(min_revision)
        if snap is not None:
            return snap.filter_fields(member, object_type, record)
        self.remote_answers += 1
        return await self.remote.filter_fields(member, object_type, record, min_revision=min_revision)

    async def filter_records(self, member: str, object_type: str, records: Sequence[Mapping[str, Any]], *, min_revision: int | None = None) -> list[dict[str, Any]]:
        snap = await self._snapshot_for(min_revision)
        if snap is not None:
            return snap.filter_records(member, object_type, records)
        self.remote_answers += 1
        return await self.remote.filter_records(member, object_type, records, min_revision=min_revision)

    async def lookup(self, member: str, action: str, object_type: str, *, min_revision: int | None = None) -> Filter:
        snap = await self._snapshot_for(min_revision)
        if snap is not None:
            return snap.lookup(member, action, object_type)
        self.remote_answers += 1
        return await self.remote.lookup(member, action, object_type, min_revision=min_revision)
