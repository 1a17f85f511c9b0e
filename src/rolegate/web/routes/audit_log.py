"""The audit log page (E8): every administrator's changes, filtered by actor, action,
target and date; each event's before and after as a readable diff; the hash chain
verified ("chain intact up to event N"); CSV and JSON Lines export; the retention
setting for those who manage roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from rolegate.api.schemas import RetentionIn
from rolegate.domain.audit_diff import Change, diff
from rolegate.domain.errors import RuleViolationError
from rolegate.domain.violations import Violation
from rolegate.domain.workspace import AuditEvent
from rolegate.services import audit
from rolegate.services.audit_export import to_csv, to_jsonl
from rolegate.web.context import WorkspaceContext, open_workspace
from rolegate.web.forms import FormInvalid, validated
from rolegate.web.pages import checked_form, page_router, render, session_of, ui_of
from rolegate.web.render import redirect

router = page_router()

PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class EventRow:
    event: AuditEvent
    who: str
    changes: list[Change]


@dataclass(frozen=True, slots=True)
class Filters:
    actor: str | None
    action: str | None
    target_type: str | None
    target_id: str | None
    since: date | None
    until: date | None

    @classmethod
    def parse(cls, request: Request) -> tuple[Filters, list[Violation]]:
        q = request.query_params
        problems: list[Violation] = []

        def day(name: str) -> date | None:
            raw = (q.get(name) or "").strip()
            if not raw:
                return None
            try:
                day = date.fromisoformat(raw)
                datetime.combine(day + timedelta(days=1), time(), UTC)  # `until` takes the whole day: 9999-12-31 has no next day
                return day
            except (ValueError, OverflowError):
                problems.append(Violation("E8", f"{raw!r} is not a date.", "Write dates as YYYY-MM-DD."))
                return None

        def text(name: str) -> str | None:
            return (q.get(name) or "").strip()[:200] or None

        return cls(text("actor"), text("action"), text("target_type"), text("target_id"), day("since"), day("until")), problems

    @property
    def since_at(self) -> datetime | None:
        return datetime.combine(self.since, time(), UTC) if self.since else None

    @property
    def until_at(self) -> datetime | None:
        # `until` is inclusive in the form: the events of that whole day.
        return datetime.combine(self.until + timedelta(days=1), time(), UTC) if self.until else None

    def query(self) -> str:
        pairs = [(k, str(v)) for k, v in (("actor", self.actor), ("action", self.action), ("target_type", self.target_type), ("target_id", self.target_id), ("since", self.since), ("until", self.until)) if v]
        return urlencode(pairs)


def _page(request: Request, workspace_id: str) -> WorkspaceContext:
    return open_workspace(ui_of(request), request, session_of(request), workspace_id, current="audit")


def _events(page: WorkspaceContext, filters: Filters, *, limit: int | None) -> list[AuditEvent]:
    return audit.list_events(
        page.viewer.ui.rolegate.uow(),
        actor=page.actor,
        workspace_id=page.workspace.id,
        actor_filter=filters.actor,
        action=filters.action,
        target_type=filters.target_type,
        target_id=filters.target_id,
        since=filters.since_at,
        until=filters.until_at,
        limit=limit,
        newest_first=limit is not None,
    )


def _render(request: Request, page: WorkspaceContext, *, violations: tuple[Violation, ...] = (), status: int = 200) -> Response:
    filters, problems = Filters.parse(request)
    rg = page.viewer.ui.rolegate
    events = _events(page, filters, limit=PAGE_SIZE)
    names = audit.actor_names(rg.uow(), workspace_id=page.workspace.id)
    rows = [EventRow(e, names.get(e.actor, e.actor), diff(e.before, e.after)) for e in events]
    chain = audit.verify_chain(rg.uow(), workspace_id=page.workspace.id)
    retention = audit.get_retention(rg.uow(), actor=page.actor, workspace_id=page.workspace.id)
    with rg.uow() as uow:
        actors = uow.sites.event_actors(page.workspace.id)
    return render(
        request,
        "audit/log.html",
        {
            "rows": rows,
            "filters": filters,
            "query": filters.query(),
            "actors": [(a, names.get(a, a)) for a in actors],
            "chain": chain,
            "retention": retention,
            "violations": tuple(problems) + violations,
            "truncated": len(rows) == PAGE_SIZE,
            "page_size": PAGE_SIZE,
        },
        page=page,
        status=status,
    )


@router.get("/w/{workspace_id}/audit")
def audit_log(request: Request, workspace_id: str) -> Response:
    return _render(request, _page(request, workspace_id))


@router.get("/w/{workspace_id}/audit/export.{fmt}")
def export(request: Request, workspace_id: str, fmt: str) -> Response:
    page = _page(request, workspace_id)
    if fmt not in ("csv", "jsonl"):
        return redirect(request, f"{page.base}/audit")
    filters, _ = Filters.parse(request)
    events = _events(page, filters, limit=None)
    names = audit.actor_names(page.viewer.ui.rolegate.uow(), workspace_id=workspace_id)
    headers = {"Content-Disposition": f'attachment; filename="audit-{workspace_id}.{fmt}"'}
    if fmt == "csv":
        return Response(to_csv(events, names), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(to_jsonl(events, names), media_type="application/x-ndjson", headers=headers)


@router.post("/w/{workspace_id}/audit/retention")
async def set_retention(request: Request, workspace_id: str) -> Response:
    form = await checked_form(request)
    raw = str(form.get("days", "")).strip()

    def run() -> Response:
        page = _page(request, workspace_id)
        try:
            days = validated(RetentionIn, {"days": raw or None}).days
        except FormInvalid as exc:
            if not (raw.removeprefix("-").isdigit() and int(raw) < 1):
                return _render(request, page, violations=exc.violations, status=422)
            days = int(raw)  # below one day: the service's rule (E8) refuses it, with its fix
        try:
            audit.set_retention(page.viewer.ui.rolegate.uow(), actor=page.actor, workspace_id=workspace_id, days=days)
        except RuleViolationError as exc:
            return _render(request, page, violations=exc.violations, status=409)
        session_of(request).flash("Retention saved." if raw else "Retention saved: events are kept forever.")
        return redirect(request, f"{page.base}/audit")

    return await run_in_threadpool(run)

