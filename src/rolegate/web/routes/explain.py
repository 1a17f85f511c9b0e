"""Explain: "why can't Ann update Acme?" (a member, an action, optionally a record:
allowed or denied, and the engine's reasons in words), and "who has access" (the
members who may do an action on a record, with the scope of their grant). Both are
GET forms: an answer is a link one can share. Each page calls one read use case of
`services.explain`, which authorizes the viewer (view roles)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from rolegate.engine import RecordRef
from rolegate.services.explain import explain_page, who_has_access
from rolegate.web.context import open_workspace
from rolegate.web.pages import page_router, render, session_of, ui_of

router = page_router()


def _record(record_type: str, record_id: str) -> RecordRef | None:
    """The record asked about: both its type and id, else none."""
    return RecordRef(record_type, record_id) if record_type and record_id else None


@router.get("/w/{workspace_id}/explain")
def explain(
    request: Request, workspace_id: str, member: str = "", action: str = "", record_type: str = "", record_id: str = ""
) -> Response:
    page = open_workspace(ui_of(request), request, session_of(request), workspace_id, current="explain")
    answer = explain_page(
        page.viewer.ui.rolegate.reader(),
        actor=page.actor,
        workspace_id=workspace_id,
        member=member or None,
        action=action or None,
        record=_record(record_type, record_id),
    )
    asked = {"member": member, "action": action, "record_type": record_type, "record_id": record_id}
    return render(request, "explain/explain.html", {"answer": answer, "asked": asked}, page=page)


@router.get("/w/{workspace_id}/explain/access")
def access(request: Request, workspace_id: str, action: str, record_type: str = "", record_id: str = "") -> Response:
    page = open_workspace(ui_of(request), request, session_of(request), workspace_id, current="explain")
    answer = who_has_access(
        page.viewer.ui.rolegate.reader(),
        actor=page.actor,
        workspace_id=workspace_id,
        action=action,
        record=_record(record_type, record_id),
    )
    return render(request, "explain/access.html", {"answer": answer}, page=page)
