"""The role editor's Field permissions tab (K6-K12): one table per object, fields x
read/write, locked (K7) and capped (K1, K9) boxes with their reasons, bulk read all /
none per object, and the notice for fields the role never configured (K8). Saving is
`services.fields.set_role_field_access`; a refusal re-renders the tab with its rule."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from rolegate.domain.errors import RuleViolationError
from rolegate.domain.roles import Role
from rolegate.domain.schema import AdminRight, FieldAccess
from rolegate.domain.violations import Violation
from rolegate.services.context import WorkspaceState, authorize, load_state
from rolegate.services.fields import set_role_field_access
from rolegate.web.context import WorkspaceContext, open_workspace
from rolegate.web.field_editor import field_tables, parse_field_form
from rolegate.web.pages import checked_form, page_router, render, session_of, ui_of
from rolegate.web.render import redirect

router = page_router()


def _page(request: Request, workspace_id: str) -> WorkspaceContext:
    return open_workspace(ui_of(request), request, session_of(request), workspace_id, current="roles")


def _state(page: WorkspaceContext) -> WorkspaceState:
    with page.viewer.ui.rolegate.uow() as uow:
        state = load_state(uow, page.workspace.id, lock=False)
    authorize(state, page.actor, AdminRight.VIEW_ROLES)
    return state


def _tab(request: Request, page: WorkspaceContext, state: WorkspaceState, role: Role, *, violations: tuple[Violation, ...] = (), status: int = 200) -> Response:
    can_manage = page.can(AdminRight.MANAGE_ROLES)
    read_only = not can_manage or (role.is_system and not role.editable)
    level = state.schema.levels[role.level]
    tables = field_tables(state.schema, role, read_only=read_only)
    ctx: dict[str, Any] = {
        "role": role,
        "level": level,
        "tables": tables,
        "read_only": read_only,
        "edit_rule": state.schema.rule("system_role_edit"),
        "new_fields": sum(t.new_count for t in tables),
        # K8: what an unconfigured field gets at this level.
        "new_access": level.new_field_access.label,
        "k8_closed": not role.mirror_integration and level.new_field_access is FieldAccess.NONE,
        "violations": violations,
        "action": f"{page.base}/roles/{role.id}/fields",
    }
    return render(request, "roles/fields.html", ctx, page=page, status=status)


@router.get("/w/{workspace_id}/roles/{role_id}/fields")
def field_permissions(request: Request, workspace_id: str, role_id: str) -> Response:
    page = _page(request, workspace_id)
    state = _state(page)
    return _tab(request, page, state, state.role(role_id))


@router.post("/w/{workspace_id}/roles/{role_id}/fields")
async def save_field_permissions(request: Request, workspace_id: str, role_id: str) -> Response:
    form = await checked_form(request)

    def run() -> Response:
        page = _page(request, workspace_id)
        state = _state(page)
        role = state.role(role_id)
        tables = field_tables(state.schema, role, read_only=False)
        changes, refused = parse_field_form(form, tables)
        if refused:
            return _tab(request, page, state, role, violations=tuple(refused), status=409)
        if changes:
            try:
                role = set_role_field_access(page.viewer.ui.rolegate.uow(), actor=page.actor, workspace_id=workspace_id, role_id=role_id, changes=changes)
            except RuleViolationError as exc:
                return _tab(request, page, state, role, violations=exc.violations, status=409)
        session_of(request).flash(f"Field permissions of {role.name!r} saved.")
        return redirect(request, f"{page.base}/roles/{role_id}/fields")

    return await run_in_threadpool(run)
