"""The audit log as a product (E8): export (CSV, JSON Lines) with the same filters as
the list, and the retention setting."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from rolegate.api.deps import AdminAccess
from rolegate.api.limits import ApiRoute
from rolegate.api.schemas import NO_NUL, Instant, RetentionIn, RetentionOut
from rolegate.services import audit
from rolegate.services.audit_export import to_csv, to_jsonl

router = APIRouter(prefix="/v1/workspaces/{workspace_id}/audit", tags=["audit"], route_class=ApiRoute)


def _filter(max_length: int, description: str) -> object:
    return Query(min_length=1, max_length=max_length, pattern=NO_NUL, description=description)


@router.get(
    "/export",
    summary="Export audit events (CSV or JSON Lines)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}, "description": "The events, oldest first."}},
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
    events = audit.list_events(
        ctx.uow(),
        actor=ctx.actor,
        workspace_id=ctx.workspace_id,
        actor_filter=actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        since=since,
        until=until,
        limit=None,
    )
    names = audit.actor_names(ctx.uow(), workspace_id=ctx.workspace_id)
    name = f"audit-{ctx.workspace_id}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "csv":
        return Response(to_csv(events, names), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(to_jsonl(events, names), media_type="application/x-ndjson", headers=headers)


@router.get("/retention", response_model=RetentionOut, summary="The audit retention setting")
def get_retention(ctx: AdminAccess) -> RetentionOut:
    kept = audit.get_retention(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id)
    return RetentionOut(days=kept.days, pruned_through_seq=kept.pruned_through_seq)


@router.put("/retention", response_model=RetentionOut, summary="Set how long audit events are kept")
def set_retention(ctx: AdminAccess, body: RetentionIn) -> RetentionOut:
    """Needs the manage-roles right (site administrators, E1). Events older than this go
    when `rolegate audit prune` runs; the chain stays verifiable from the first kept one."""
    kept = audit.set_retention(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, days=body.days)
    return RetentionOut(days=kept.days, pruned_through_seq=kept.pruned_through_seq)
