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

from rolegate.domain.errors import RuleViolationError
from rolegate.domain.rules.audit_rules import filter_day
from rolegate.domain.violations import Violation
from rolegate.services import audit
from rolegate.services.audit import EventFilter
from rolegate.services.commands import RetentionIn
from rolegate.web.context import WorkspaceContext, open_workspace
from rolegate.web.forms import FormInvalid, validated
from rolegate.web.pages import checked_form, page_router, render, session_of, ui_of
from rolegate.web.render import redirect

router = page_router()

PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class Filters:
    """The filter form as typed (dates as days, `until` inclusive)."""

    actor: str | None
    action: str | None
    target_type: str | None
    target_id: str | None
    since: date | None
    until: date | None

    @classmethod
    def parse(cls, request: Request, *, rule_id: str) -> tuple[Filters, list[Violation]]:
        q = request.query_params
        since, since_problems = filter_day(q.get("since") or "", rule_id=rule_id)
        until, until_problems = filter_day(q.get("until") or "", rule_id=rule_id)

        def text(name: str) -> str | None:
            return (q.get(name) or "").strip()[:200] or None

        return cls(
            text("actor"), text("action"), text("target_type"), text("target_id"), since, until
        ), since_problems + until_problems

    def events(self) -> EventFilter:
        # `until` is inclusive in the form: the events of that whole day.
        since = datetime.combine(self.since, time(), UTC) if self.since else None
        until = datetime.combine(self.until + timedelta(days=1), time(), UTC) if self.until else None
        return EventFilter(self.actor, self.action, self.target_type, self.target_id, since, until)

    def query(self) -> str:
        pairs = [
            (k, str(v))
            for k, v in (
                ("actor", self.actor),
                ("action", self.action),
                ("target_type", self.target_type),
                ("target_id", self.target_id),
                ("since", self.since),
                ("until", self.until),
            )
            if v
        ]
        return urlencode(pairs)


def _page(request: Request, workspace_id: str) -> WorkspaceContext:
    return open_workspace(ui_of(request), request, session_of(request), workspace_id, current="audit")


def _filters(request: Request, page: WorkspaceContext) -> tuple[Filters, list[Violation]]:
    return Filters.parse(request, rule_id=page.schema.rule("audit_log"))


def _render(
    request: Request, page: WorkspaceContext, *, violations: tuple[Violation, ...] = (), status: int = 200
) -> Response:
    filters, problems = _filters(request, page)
    view = audit.audit_log_view(
        page.viewer.ui.rolegate.reader(),
        actor=page.actor,
        workspace_id=page.workspace.id,
        filters=filters.events(),
        limit=PAGE_SIZE,
    )
    return render(
        request,
        "audit/log.html",
        {
            "rows": view.lines,
            "filters": filters,
            "query": filters.query(),
            "actors": view.actors,
            "chain": view.chain,
            "retention": view.retention,
            "violations": tuple(problems) + violations,
            "truncated": view.truncated,
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
    filters, _ = _filters(request, page)
    file = audit.export_events(
        page.viewer.ui.rolegate.reader(),
        actor=page.actor,
        workspace_id=workspace_id,
        filters=filters.events(),
        fmt="csv" if fmt == "csv" else "jsonl",
    )
    return Response(
        file.content, media_type=file.media_type, headers={"Content-Disposition": f'attachment; filename="{file.name}"'}
    )


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
                return _render(request, page, violations=exc.violations, status=exc.status)
            days = int(raw)  # below one day: the service's rule (E8) refuses it, with its fix
        try:
            audit.set_retention(page.viewer.ui.rolegate.uow(), actor=page.actor, workspace_id=workspace_id, days=days)
        except RuleViolationError as exc:
            return _render(request, page, violations=exc.violations, status=exc.status)
        session_of(request).flash("Retention saved." if raw else "Retention saved: events are kept forever.")
        return redirect(request, f"{page.base}/audit")

    return await run_in_threadpool(run)
