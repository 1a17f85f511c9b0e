"""The audit log (E8): read it (filters, `after_seq` cursor), verify its hash chain,
export it (CSV, JSON Lines) with the same filters as the list, and its retention."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from rolegate.api.deps import AdminAccess
from rolegate.api.limits import ApiRoute
from rolegate.api.schemas.audit import AuditEventOut, AuditPage, ChainOut, RetentionOut
from rolegate.domain.workspace import AuditEvent
from rolegate.services import audit
from rolegate.services.audit import AuditRetention, EventFilter
from rolegate.services.commands import MAX_REVISION, NO_NUL, Instant, RetentionIn

router = APIRouter(prefix="/v1/workspaces/{workspace_id}/audit", tags=["audit"], route_class=ApiRoute)


def _filter(max_length: int, description: str) -> object:
    return Query(min_length=1, max_length=max_length, pattern=NO_NUL, description=description)


def audit_event_out(e: AuditEvent) -> AuditEventOut:
    return AuditEventOut(
        seq=e.seq,
        id=e.id,
        at=e.at,
        actor=e.actor,
        action=e.action,
        target_type=e.target_type,
        target_id=e.target_id,
        before=e.before,
        after=e.after,
        revision=e.revision,
        prev_hash=e.prev_hash,
        hash=e.hash,
    )


@router.get("", response_model=AuditPage, summary="Audit events, oldest first")
def events(
    ctx: AdminAccess,
    actor: Annotated[str | None, _filter(200, "`member:<id>` or `platform:<name>`.")] = None,
    action: Annotated[str | None, _filter(64, "e.g. `role.update`, `member.disable`.")] = None,
    target_type: Annotated[str | None, _filter(64, "e.g. `role`, `member`, `account`.")] = None,
    target_id: Annotated[str | None, _filter(200, "The target's id.")] = None,
    after_seq: Annotated[
        int, Query(ge=0, le=MAX_REVISION, description="Events after this sequence number (the cursor).")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    since: Annotated[Instant | None, Query(description="Events at or after this time (ISO 8601).")] = None,
    until: Annotated[Instant | None, Query(description="Events before this time (ISO 8601).")] = None,
    cursor: Annotated[
        str | None, Query(max_length=18, pattern=r"^[0-9]{1,18}$", description="`next_cursor` of the previous page (instead of `after_seq`).")
    ] = None,
) -> AuditPage:
    """The actor needs the view-audit right. Each event has the actor, action, target,
    before and after, the revision it made, and its hash chained to the previous one.
    Page with `cursor=<next_cursor>` (or `after_seq=<next_after_seq>`) until it is null."""
    found = audit.list_event_page(
        ctx.reader(),
        actor=ctx.actor,
        workspace_id=ctx.workspace_id,
        filters=EventFilter(actor, action, target_type, target_id, since, until),
        after_seq=int(cursor) if cursor is not None else after_seq,
        limit=limit + 1,
    )
    more = len(found.events) > limit
    page = found.events[:limit]
    following = page[-1].seq if more else None
    return AuditPage(
        events=[audit_event_out(e) for e in page],
        next_after_seq=following,
        next_cursor=str(following) if following is not None else None,
        revision=found.revision,
    )


@router.get("/verify", response_model=ChainOut, summary="Verify the audit log's hash chain")
def verify(ctx: AdminAccess) -> ChainOut:
    """Recomputes every hash in order; names the first event whose content, link or
    position does not match (an event altered or removed)."""
    report = audit.verify_audit(ctx.reader(), actor=ctx.actor, workspace_id=ctx.workspace_id)
    return ChainOut(
        workspace_id=report.workspace_id,
        events=report.events,
        intact=report.intact,
        first_broken_seq=report.first_broken_seq,
        problem=report.problem,
        last_seq=report.last_seq,
        pruned_through=report.pruned_through,
    )


@router.get(
    "/export",
    summary="Export audit events (CSV or JSON Lines)",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}, "application/x-ndjson": {}}, "description": "The events, oldest first."}
    },
)
def export(
    ctx: AdminAccess,
    format: Annotated[Literal["csv", "jsonl"], Query(description="csv or jsonl.")] = "jsonl",
    actor: Annotated[str | None, _filter(200, "`member:<id>`, `site-admin:<user id>` or `platform:<name>`.")] = None,
    action: Annotated[str | None, _filter(64, "e.g. `role.update`, or `role` for every role action.")] = None,
    target_type: Annotated[str | None, _filter(64, "e.g. `role`, `member`.")] = None,
    target_id: Annotated[str | None, _filter(200, "The target's id.")] = None,
    since: Annotated[Instant | None, Query(description="At or after this time (ISO 8601).")] = None,
    until: Annotated[Instant | None, Query(description="Before this time (ISO 8601).")] = None,
) -> Response:
    """Each line has the event, its readable changes and its hash (E8)."""
    filters = EventFilter(actor, action, target_type, target_id, since, until)
    file = audit.export_events(
        ctx.reader(), actor=ctx.actor, workspace_id=ctx.workspace_id, filters=filters, fmt=format
    )
    return Response(
        file.content, media_type=file.media_type, headers={"Content-Disposition": f'attachment; filename="{file.name}"'}
    )


def _retention_out(kept: AuditRetention) -> RetentionOut:
    return RetentionOut(days=kept.days, pruned_through_seq=kept.pruned_through_seq)


@router.get("/retention", response_model=RetentionOut, summary="The audit retention setting")
def get_retention(ctx: AdminAccess) -> RetentionOut:
    return _retention_out(audit.get_retention(ctx.reader(), actor=ctx.actor, workspace_id=ctx.workspace_id))


@router.put("/retention", response_model=RetentionOut, summary="Set how long audit events are kept")
def set_retention(ctx: AdminAccess, body: RetentionIn) -> RetentionOut:
    """Needs the manage-roles right (site administrators, E1). Events older than this go
    when `rolegate audit prune` runs; the chain stays verifiable from the first kept one."""
    return _retention_out(
        audit.set_retention(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, days=body.days)
    )
