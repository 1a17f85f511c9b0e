"""The snapshot download: `GET /v1/workspaces/{ws}/snapshot`, the document an SDK
compiles its own snapshot from (`rolegate.engine.snapshot_from_document`).

`ETag` is the revision, quoted; `If-None-Match` with it answers 304 without building
the document. Gzip when the client accepts it (the document of a large workspace is
mostly repeated keys: it shrinks about tenfold).
"""

from __future__ import annotations

import gzip

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from rolegate.api.deps import AnyAccess
from rolegate.api.limits import ApiRoute
from rolegate.api.schemas.changes import SnapshotDocumentOut
from rolegate.services.snapshot_document import workspace_snapshot

router = APIRouter(prefix="/v1/workspaces/{workspace_id}", tags=["snapshot"], route_class=ApiRoute)

GZIP_MIN_BYTES = 1024
"""Smaller documents go as they are: gzip's header would not pay for itself."""


def held_revision(if_none_match: str | None) -> int | None:
    """The revision named by `If-None-Match` (`"12"`, `W/"12"`, or a list of them: the
    highest), or None."""
    if not if_none_match:
        return None
    held: int | None = None
    for tag in if_none_match.split(","):
        text = tag.strip().removeprefix("W/").strip('"')
        if text.isdigit() and len(text) <= 19:
            held = max(held or 0, int(text))
    return held


@router.get(
    "/snapshot",
    response_model=SnapshotDocumentOut,
    summary="Everything the engine compiles from: build the same decisions in your own process",
    responses={304: {"description": "Not modified: `If-None-Match` names the current revision."}},
)
async def download_snapshot(access: AnyAccess, request: Request) -> Response:
    """The workspace's snapshot document (format `rolegate.snapshot/1`): the product
    schema's source with its version and hash, the field registry, features, roles and
    members, at `revision` (also the `ETag`). Any key reaching the workspace.
    `If-None-Match: "<revision>"` answers 304 while that is still the revision;
    `Accept-Encoding: gzip` gets it gzipped. (Both are read as HTTP's own headers, not
    declared as parameters.)"""
    if_none_match = request.headers.get("if-none-match")
    accept_encoding = request.headers.get("accept-encoding")
    download = await run_in_threadpool(
        workspace_snapshot, access.rolegate.reader(), workspace_id=access.workspace_id, held_revision=held_revision(if_none_match[:1000] if if_none_match else None)
    )
    headers = {"ETag": f'"{download.revision}"', "Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if download.body is None:
        return Response(status_code=304, headers=headers)
    body = download.body
    if len(body) >= GZIP_MIN_BYTES and "gzip" in (accept_encoding or "").lower():
        body = await run_in_threadpool(gzip.compress, body, 6)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)
