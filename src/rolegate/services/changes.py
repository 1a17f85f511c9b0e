"""The change feed: a workspace's (or an organization's) committed changes after a
cursor, read from the audit log, and the signals that wake its streams.

A change is an audit event (`domain.changes.Change`, without its before/after). The
feed reads them in (revision, seq) order; a page never ends inside a revision (a bulk
call makes many events at one revision), so `after=<a revision>` always resumes
exactly after everything of that revision.

Retention: the audit log may be pruned (`services.audit.prune_events`). A cursor
older than the revision of the oldest kept event answers `FeedResyncError` (410
`feed_resync`): the consumer downloads the snapshot and resumes from its revision.
Never a silent gap. (A cursor exactly one below the oldest kept revision is refused
too: whether that revision was pruned in part cannot be told any more.)

The organization feed's cursor is a map workspace id -> revision, sent as base64url
JSON (`encode_cursor` / `decode_cursor`): opaque to most consumers, but documented,
so one that resyncs a workspace can set that workspace's entry to the snapshot's
revision. A workspace missing from the map starts at 0. Its changes are merged
across workspaces by time; within a workspace, always in revision order.

Streams (Server-Sent Events, `api/routes/changes.py`) wait on `ChangeSignals`: the
snapshot cache calls it for every revision this process commits or hears of by
NOTIFY (`SnapshotCache.watch`), and for everything after the listener reconnects.
Without them (another process writing a SQLite file), the streams poll at the
staleness bound.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import heapq
import json
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from rolegate.domain.changes import Change
from rolegate.domain.errors import FeedResyncError, InvalidInputError, NotFoundError
from rolegate.services.context import UnitOfWork
from rolegate.services.snapshots import SnapshotCache
from rolegate.store.availability import reachable

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "ChangePage",
    "ChangeSignals",
    "OrganizationChangePage",
    "decode_cursor",
    "encode_cursor",
    "organization_changes",
    "workspace_changes",
]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_CURSOR_LENGTH = 10_000
"""Characters of an organization cursor (about 140 workspaces): it travels in a URL."""


@dataclass(frozen=True, slots=True)
class ChangePage:
    changes: tuple[Change, ...]
    revision: int
    """The workspace's revision when the page was read."""
    next_after: int | None
    """The revision of the last change returned (the next `after`); None: none returned."""

    def as_json(self) -> dict[str, Any]:
        return {"changes": [c.as_json() for c in self.changes], "revision": self.revision, "next_after": self.next_after}


@dataclass(frozen=True, slots=True)
class OrganizationChangePage:
    changes: tuple[Change, ...]
    cursor: dict[str, int]
    """Each workspace's revision after this page (the next `after`, decoded)."""

    @property
    def next_after(self) -> str:
        return encode_cursor(self.cursor)

    def as_json(self) -> dict[str, Any]:
        return {"changes": [c.as_json(with_workspace=True) for c in self.changes], "next_after": self.next_after}


def encode_cursor(cursor: dict[str, int]) -> str:
    text = json.dumps(cursor, sort_keys=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(value: str | None) -> dict[str, int]:
    """An organization cursor; InvalidInputError (422) when it is not one."""
    if not value:
        return {}
    if len(value) > MAX_CURSOR_LENGTH:
        raise InvalidInputError("the cursor is too long", fix="Pass the `next_after` of the last page as it was given.")
    try:
        data = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, binascii.Error):
        data = None
    if not isinstance(data, dict) or not all(isinstance(k, str) and type(v) is int and v >= 0 for k, v in data.items()):
        raise InvalidInputError(
            "not an organization change cursor",
            fix="Pass the `next_after` of the last page, or base64url JSON mapping workspace ids to revisions.",
        )
    return data


def workspace_changes(uow: UnitOfWork, *, workspace_id: str, after: int, limit: int = DEFAULT_LIMIT) -> ChangePage:
    """The workspace's changes with a revision above `after`, at most `limit` (more only
    to finish the last revision). Raises FeedResyncError when `after` is older than
    what the audit log keeps."""
    with reachable(), uow:
        revision = uow.workspaces.revision(workspace_id)
        if revision is None:
            raise NotFoundError(f"no workspace {workspace_id!r}", decision=None, fix="Check the workspace id.")
        _check_kept(uow, workspace_id, after)
        changes = _page(uow, workspace_id, after, _limit(limit))
        return ChangePage(changes, int(revision), changes[-1].revision if changes else None)


def organization_changes(
    uow: UnitOfWork, *, organization_id: str, cursor: dict[str, int], limit: int = DEFAULT_LIMIT
) -> OrganizationChangePage:
    """The organization's changes after `cursor` (workspace id -> revision), merged by
    time, each workspace in revision order. FeedResyncError names the first workspace
    whose entry is older than its audit log keeps."""
    limit = _limit(limit)
    with reachable(), uow:
        pages: list[tuple[Change, ...]] = []
        for ws in uow.workspaces.all(organization_id):
            after = cursor.get(ws.id, 0)
            _check_kept(uow, ws.id, after)
            page = _page(uow, ws.id, after, limit)
            if page:
                pages.append(page)
    taken = _merge(pages, limit)
    out = dict(cursor)
    for change in taken:
        out[change.workspace_id] = change.revision
    return OrganizationChangePage(tuple(taken), out)


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(f"limit {limit} is out of range", fix=f"Ask for 1 to {MAX_LIMIT} changes per page.")
    return limit


def _check_kept(uow: UnitOfWork, workspace_id: str, after: int) -> None:
    pruned = uow.sites.retention(workspace_id).pruned_through_seq
    if pruned <= 0:
        return  # nothing was ever pruned: every change since the workspace's creation is there
    oldest = uow.changes.revision_at_seq(workspace_id, pruned + 1)
    if oldest is not None and after < oldest:
        raise FeedResyncError(workspace_id, after, oldest)


def _page(uow: UnitOfWork, workspace_id: str, after: int, limit: int) -> tuple[Change, ...]:
    rows = uow.changes.after(workspace_id, after, limit + 1)
    if len(rows) <= limit:
        return tuple(rows)
    last = rows[limit - 1]
    if rows[limit].revision != last.revision:
        return tuple(rows[:limit])
    # The page would end inside a revision: end before it, or (one revision larger
    # than a page) finish it whole.
    whole = [c for c in rows[:limit] if c.revision != last.revision]
    if whole:
        return tuple(whole)
    return (*rows[:limit], *uow.changes.at_revision(workspace_id, last.revision, last.seq))


def _merge(pages: list[tuple[Change, ...]], limit: int) -> list[Change]:
    """Whole revisions from the workspaces' pages, oldest first by time, until `limit`
    changes are taken. Each page is in revision order and holds at least `limit`
    changes or all there are, so no workspace runs out before the limit is reached."""
    heads: list[tuple[Any, ...]] = []
    for i, page in enumerate(pages):
        heads.append((page[0].at, page[0].workspace_id, page[0].seq, i, 0))
    heapq.heapify(heads)
    taken: list[Change] = []
    while heads and len(taken) < limit:
        _at, _ws, _seq, i, j = heapq.heappop(heads)
        page = pages[i]
        revision = page[j].revision
        while j < len(page) and page[j].revision == revision:  # a revision is never split
            taken.append(page[j])
            j += 1
        if j < len(page):
            heapq.heappush(heads, (page[j].at, page[j].workspace_id, page[j].seq, i, j))
    return taken


class ChangeSignals:
    """Wakes this process's change streams (asyncio tasks on any loop) when a revision
    of their workspace is heard of; organization streams (`None`) wake on any."""

    def __init__(self) -> None:
        self._waiters: dict[str | None, set[tuple[asyncio.AbstractEventLoop, asyncio.Event]]] = {}
        self._lock = threading.Lock()

    @classmethod
    def of(cls, cache: SnapshotCache) -> ChangeSignals:
        """The signals fed by `cache` (one per cache, made on first use)."""
        with _signals_lock:
            signals = _signals.get(cache)
            if signals is None:
                signals = _signals[cache] = cls()
                cache.watch(signals.notify)
            return signals

    def notify(self, workspace_id: str | None) -> None:
        """Any thread: a revision of `workspace_id` (None: of any workspace) was heard of."""
        with self._lock:
            if workspace_id is None:
                waiting = [w for ws in self._waiters.values() for w in ws]
            else:
                waiting = [*self._waiters.get(workspace_id, ()), *self._waiters.get(None, ())]
        for loop, event in waiting:
            with contextlib.suppress(RuntimeError):  # that loop is closed: its stream is gone
                loop.call_soon_threadsafe(event.set)

    @contextmanager
    def subscribe(self, workspace_id: str | None) -> Iterator[asyncio.Event]:
        """An event set at each signal for `workspace_id` (None: every workspace); the
        stream clears it before it reads the feed, so no signal is lost in between."""
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.setdefault(workspace_id, set()).add(entry)
        try:
            yield entry[1]
        finally:
            with self._lock:
                waiting = self._waiters.get(workspace_id)
                if waiting is not None:
                    waiting.discard(entry)
                    if not waiting:
                        del self._waiters[workspace_id]


_signals: weakref.WeakKeyDictionary[SnapshotCache, ChangeSignals] = weakref.WeakKeyDictionary()
_signals_lock = threading.Lock()
