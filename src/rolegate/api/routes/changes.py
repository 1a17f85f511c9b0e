"""The change feed: pages of committed changes after a cursor, and the same as a
resumable Server-Sent Events stream, per workspace and per organization.

`GET /v1/workspaces/{ws}/changes?after=REV` (any key reaching the workspace: decide
keys are what an SDK holds) and `GET /v1/organizations/{org}/changes?after=CURSOR`
(an organization-wide key of that organization). A cursor older than the audit log
keeps answers 410 `feed_resync`.

Streams (`.../changes/stream`, `text/event-stream`): each change is an `event:
change` whose `data:` is the change's JSON; the last change of each revision carries
`id:` (the workspace's revision; for an organization, the cursor after it), so a
client that reconnects with `Last-Event-ID` resumes after a whole revision, never in
the middle of one. A comment (`: heartbeat`) every 15 s keeps proxies from closing a
quiet stream. A stream wakes when this process commits or hears a NOTIFY of a new
revision, and otherwise reads the feed once per staleness bound. If the cursor falls
behind the retention while streaming, an `event: resync` ends the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from rolegate.api.deps import AnyAccess, Caller, CallerAccess
from rolegate.api.limits import ApiRoute
from rolegate.api.problems import ApiError, ApiProblem
from rolegate.api.schemas.changes import ChangesOut, OrganizationChangesOut
from rolegate.bootstrap import Rolegate
from rolegate.domain.changes import Change
from rolegate.domain.errors import FeedResyncError, InvalidInputError, NotFoundError, StoreUnavailableError
from rolegate.services.changes import (
    DEFAULT_LIMIT,
    MAX_CURSOR_LENGTH,
    MAX_LIMIT,
    ChangeSignals,
    decode_cursor,
    encode_cursor,
    organization_changes,
    workspace_changes,
)
from rolegate.services.commands import MAX_REVISION, NO_NUL

router = APIRouter(tags=["changes"], route_class=ApiRoute)

C = TypeVar("C")
"""A feed's cursor: a revision (a workspace), or a map of them (an organization)."""

HEARTBEAT_SECONDS = 15.0
"""A comment line this often on a quiet stream."""

_JSON = "application/json"
_SSE = "text/event-stream"
_STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

After = Annotated[int, Query(ge=0, le=MAX_REVISION, description="Changes after this workspace revision (0: from the start).")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most this many changes (a page ends on a whole revision: it may hold more to finish one).")]
OrgAfter = Annotated[
    str | None,
    Query(max_length=MAX_CURSOR_LENGTH, pattern=r"^[A-Za-z0-9_-]*$", description="`next_after` of the previous page (base64url JSON {workspace id: revision}); none: from the start."),
]
OrgId = Annotated[str, Path(min_length=1, max_length=36, pattern=NO_NUL, description="The organization id.")]
LastEventId = Annotated[
    str | None,
    Header(alias="Last-Event-ID", max_length=MAX_CURSOR_LENGTH, description="Sent by an EventSource that reconnects: resume after it (wins over `after`)."),
]


def _page_json(body: dict[str, Any]) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), media_type=_JSON)


@router.get("/v1/workspaces/{workspace_id}/changes", response_model=ChangesOut, summary="Committed changes after a revision")
async def list_changes(access: AnyAccess, after: After = 0, limit: Limit = DEFAULT_LIMIT) -> Response:
    """The workspace's changes (from its audit log) with a revision above `after`, in
    (revision, seq) order. Pass `next_after` back as `after` for the next page; an
    empty page keeps your cursor. 410 `feed_resync` when `after` is older than the
    audit log keeps: download the snapshot and resume from its revision."""
    page = await run_in_threadpool(workspace_changes, access.rolegate.reader(), workspace_id=access.workspace_id, after=after, limit=limit)
    return _page_json(page.as_json())


@router.get(
    "/v1/workspaces/{workspace_id}/changes/stream",
    response_class=StreamingResponse,
    summary="Committed changes as Server-Sent Events",
    responses={200: {"content": {_SSE: {}}, "description": "`event: change` per change; `id:` on the last change of each revision."}},
)
async def stream_changes(access: AnyAccess, last_event_id: LastEventId = None, after: After = 0) -> StreamingResponse:
    """The feed of `GET .../changes`, pushed as it happens. Resumes after
    `Last-Event-ID` (a revision) or `after`."""
    start = after
    if last_event_id is not None:
        if not last_event_id.isdigit() or int(last_event_id) > MAX_REVISION:
            raise ApiError(ApiProblem.REQUEST_INVALID, 422, "Last-Event-ID is a revision (digits) on a workspace's stream.")
        start = int(last_event_id)
    rolegate, workspace_id = access.rolegate, access.workspace_id

    def read(cursor: int) -> tuple[list[Change], int]:
        page = workspace_changes(rolegate.reader(), workspace_id=workspace_id, after=cursor, limit=MAX_LIMIT)
        return list(page.changes), page.next_after if page.next_after is not None else cursor

    first = await run_in_threadpool(read, start)  # a cursor past the retention is a 410 here, before the stream starts

    def event_id(change: Change, cursor: int) -> str:
        return str(change.revision)

    return StreamingResponse(
        _events(rolegate, workspace_id, first, read, event_id, with_workspace=False),
        media_type=_SSE,
        headers=_STREAM_HEADERS,
    )


def _organization(caller: Caller, organization_id: str) -> None:
    """An organization's feed is for that organization's organization-wide keys; any
    other organization is 404, as one that does not exist."""
    key = caller.key
    if key.organization_id != organization_id:
        raise NotFoundError(f"no organization {organization_id!r}", decision=None, fix="Check the organization id and that your API key belongs to it.")
    if key.workspace_id is not None:
        raise ApiError(ApiProblem.KEY_FORBIDDEN, 403, "This API key is scoped to one workspace; an organization's feed needs an organization-wide key.")


@router.get("/v1/organizations/{organization_id}/changes", response_model=OrganizationChangesOut, summary="Committed changes of every workspace of an organization")
async def list_organization_changes(caller: CallerAccess, organization_id: OrgId, after: OrgAfter = None, limit: Limit = DEFAULT_LIMIT) -> Response:
    """Changes of all the organization's workspaces after the cursor, merged by time
    (each workspace in revision order), each with its `workspace_id`. The cursor is
    base64url JSON {workspace id: revision} (a workspace missing from it starts at 0):
    after a `feed_resync` for one workspace, set its entry to the snapshot's revision."""
    _organization(caller, organization_id)
    cursor = decode_cursor(after)
    page = await run_in_threadpool(organization_changes, caller.auth.rolegate.reader(), organization_id=organization_id, cursor=cursor, limit=limit)
    return _page_json(page.as_json())


@router.get(
    "/v1/organizations/{organization_id}/changes/stream",
    response_class=StreamingResponse,
    summary="Committed changes of an organization as Server-Sent Events",
    responses={200: {"content": {_SSE: {}}, "description": "`event: change` per change (with `workspace_id`); `id:` is the cursor after each revision."}},
)
async def stream_organization_changes(caller: CallerAccess, organization_id: OrgId, last_event_id: LastEventId = None, after: OrgAfter = None) -> StreamingResponse:
    """The organization's feed, pushed as it happens; resumes after `Last-Event-ID`
    (a cursor) or `after`."""
    _organization(caller, organization_id)
    if last_event_id is not None and not all(c.isalnum() or c in "-_" for c in last_event_id):
        raise InvalidInputError("Last-Event-ID is not an organization cursor", fix="Send back the `id:` of the last event received.")
    start = decode_cursor(last_event_id if last_event_id is not None else after)
    rolegate = caller.auth.rolegate

    def read(cursor: dict[str, int]) -> tuple[list[Change], dict[str, int]]:
        page = organization_changes(rolegate.reader(), organization_id=organization_id, cursor=cursor, limit=MAX_LIMIT)
        return list(page.changes), page.cursor

    first = await run_in_threadpool(read, start)
    running = dict(start)

    def event_id(change: Change, _cursor: dict[str, int]) -> str:
        running[change.workspace_id] = change.revision
        return encode_cursor(running)

    return StreamingResponse(_events(rolegate, None, first, read, event_id, with_workspace=True), media_type=_SSE, headers=_STREAM_HEADERS)


async def _events(
    rolegate: Rolegate,
    workspace_id: str | None,
    first: tuple[list[Change], C],
    read: Callable[[C], tuple[list[Change], C]],
    event_id: Callable[[Change, C], str],
    *,
    with_workspace: bool,
) -> AsyncIterator[str]:
    """The stream: the first page, then each page read when a signal or the poll
    interval says the feed may have moved; a heartbeat comment when quiet."""
    poll = max(rolegate.settings.max_staleness_ms / 1000, 0.05)
    signals = ChangeSignals.of(rolegate.snapshots)
    with signals.subscribe(workspace_id) as wake:
        changes, cursor = first
        wake.set()  # read once more at once: a commit between the first read and the subscription is not missed
        last_sent = time.monotonic()
        while True:
            if changes:
                yield _render(changes, cursor, event_id, with_workspace)
                last_sent = time.monotonic()
            if len(changes) < MAX_LIMIT:  # caught up: wait for news, the poll interval, or the heartbeat
                quiet = HEARTBEAT_SECONDS - (time.monotonic() - last_sent)
                if quiet <= 0:
                    yield ": heartbeat\n\n"
                    last_sent = time.monotonic()
                    quiet = HEARTBEAT_SECONDS
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=min(poll, quiet))
            wake.clear()
            try:
                changes, cursor = await _read(read, cursor)
            except FeedResyncError as exc:
                yield f"event: resync\ndata: {json.dumps({'workspace_id': exc.workspace_id, 'after': exc.after, 'oldest': exc.oldest, 'detail': str(exc)})}\n\n"
                return
            except StoreUnavailableError:
                changes = []  # the database is away: keep the stream, ask again next interval
            except NotFoundError:
                return  # the workspace was deleted: nothing will come any more


async def _read(read: Callable[[C], tuple[list[Change], C]], cursor: C) -> tuple[list[Change], C]:
    job: Awaitable[tuple[list[Change], C]] = run_in_threadpool(read, cursor)
    return await job


def _render(changes: list[Change], cursor: C, event_id: Callable[[Change, C], str], with_workspace: bool) -> str:
    parts: list[str] = []
    for i, change in enumerate(changes):
        data = json.dumps(change.as_json(with_workspace=with_workspace), separators=(",", ":"))
        last_of_revision = i + 1 == len(changes) or changes[i + 1].revision != change.revision or changes[i + 1].workspace_id != change.workspace_id
        ident = f"id: {event_id(change, cursor)}\n" if last_of_revision else ""
        parts.append(f"{ident}event: change\ndata: {data}\n\n")
    return "".join(parts)
