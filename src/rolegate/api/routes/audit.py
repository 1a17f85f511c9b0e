"""The audit log: read it (filters, `after_seq` cursor) and verify its hash chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from rolegate.api.deps import AdminAccess
from rolegate.api.limits import ApiRoute
from rolegate.api.schemas import MAX_REVISION, NO_NUL, AuditPage, ChainOut, Instant
from rolegate.api.views import audit_event_out
from rolegate.domain.schema import AdminRight
from rolegate.services.audit import list_events, verify_chain
from rolegate.services.context import authorize, load_state

router = APIRouter(prefix="/v1/workspaces/{workspace_id}/audit", tags=["audit"], route_class=ApiRoute)


def _filter(max_length: int, description: str) -> object:
    return Query(min_length=1, max_length=max_length, pattern=NO_NUL, description=description)


@router.get("", response_model=AuditPage, summary="Audit events, oldest first")
def events(
    ctx: AdminAccess,
    actor: Annotated[str | None, _filter(200, "`member:<id>` or `platform:<name>`.")] = None,
    action: Annotated[str | None, _filter(64, "e.g. `role.update`, `member.disable`.")] = None,
    target_type: Annotated[str | None, _filter(64, "e.g. `role`, `member`, `account`.")] = None,
    target_id: Annotated[str | None, _filter(200, "The target's id.")] = None,
    after_seq: Annotated[int, Query(ge=0, le=MAX_REVISION, description="Events after this sequence number (the cursor).")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    since: Annotated[Instant | None, Query(description="Events at or after this time (ISO 8601).")] = None,
    until: Annotated[Instant | None, Query(description="Events before this time (ISO 8601).")] = None,
) -> AuditPage:
    """The actor needs the view-audit right. Each event has the actor, action, target,
    before and after, the revision it made, and its hash chained to the previous one.
    Page with `after_seq=<next_after_seq>` until `next_after_seq` is null."""
    found = list_events(
        ctx.uow(),
        actor=ctx.actor,
        workspace_id=ctx.workspace_id,
        actor_filter=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        after_seq=after_seq,
        limit=limit + 1,
        since=since,
        until=until,
    )
    more = len(found) > limit
    page = found[:limit]
    return AuditPage(events=[audit_event_out(e) for e in page], next_after_seq=page[-1].seq if more else None)


@router.get("/verify", response_model=ChainOut, summary="Verify the audit log's hash chain")
def verify(ctx: AdminAccess) -> ChainOut:
    """Recomputes every hash in order; names the first event whose content, link or
    position does not match (an event altered or removed)."""
    with ctx.rolegate.uow() as uow:
        authorize(load_state(uow, ctx.workspace_id, lock=False), ctx.actor, AdminRight.VIEW_AUDIT)
    report = verify_chain(ctx.rolegate.uow(), workspace_id=ctx.workspace_id)
    return ChainOut(
        workspace_id=report.workspace_id,
        events=report.events,
        intact=report.intact,
        first_broken_seq=report.first_broken_seq,
        problem=report.problem,
        last_seq=report.last_seq,
        pruned_through=report.pruned_through,
    )
