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
from rolegate.domain.words import quoted
from rolegate.services.fields import RoleFieldsPage, role_fields_page, set_role_field_access
from rolegate.web.context import WorkspaceContext, open_workspace
from rolegate.web.field_editor import field_tables, parse_field_form
from rolegate.web.pages import checked_form, page_router, render, session_of, ui_of
from rolegate.web.render import redirect

router = page_router()


def _page(request: Request, workspace_id: str) -> WorkspaceContext:
    return open_workspace(ui_of(request), request, session_of(request), workspace_id, current="roles")


def _open(page: WorkspaceContext, role_id: str) -> RoleFieldsPage:
    return role_fields_page(
        page.viewer.ui.rolegate.reader(), actor=page.actor, workspace_id=page.workspace.id, role_id=role_id
    )


def _tab(
    request: Request,
    page: WorkspaceContext,
    tab: RoleFieldsPage,
    *,
    role: Role | None = None,
    violations: tuple[Violation, ...] = (),
    status: int = 200,
) -> Response:
    """`role`: the role as a refused save left the form (else the page's)."""
    shown = role or tab.role
    can_manage = page.can(AdminRight.MANAGE_ROLES)
    read_only = not can_manage or tab.locks.edit
    level = tab.schema.levels[shown.level]
    tables = field_tables(tab.schema, shown, read_only=read_only)
    ctx: dict[str, Any] = {
        "role": shown,
        "level": level,
        "tables": tables,
        "read_only": read_only,
        "edit_rule": tab.locks.edit_rule,
        "rules": tab.rules,
        "new_fields": sum(t.new_count for t in tables),
        # K8: what an unconfigured field gets at this level.
        "new_access": level.new_field_access.label,
        "k8_closed": not shown.mirror_integration and level.new_field_access is FieldAccess.NONE,
        "violations": violations,
        "action": f"{page.base}/roles/{shown.id}/fields",
    }
    return render(request, "roles/fields.html", ctx, page=page, status=status)


@router.get("/w/{workspace_id}/roles/{role_id}/fields")
def field_permissions(request: Request, workspace_id: str, role_id: str) -> Response:
    page = _page(request, workspace_id)
    return _tab(request, page, _open(page, role_id))


@router.post("/w/{workspace_id}/roles/{role_id}/fields")
async def save_field_permissions(request: Request, workspace_id: str, role_id: str) -> Response:
    form = await checked_form(request)

    def run() -> Response:
        page = _page(request, workspace_id)
        tab = _open(page, role_id)
        tables = field_tables(tab.schema, tab.role, read_only=False)
        changes, refused = parse_field_form(form, tab.schema, tables)
        if refused:
            return _tab(request, page, tab, violations=tuple(refused), status=409)
        name = tab.role.name
        if changes:
            try:
                name = set_role_field_access(
                    page.viewer.ui.rolegate.uow(),
                    actor=page.actor,
                    workspace_id=workspace_id,
                    role_id=role_id,
                    changes=changes,
                ).role.name
            except RuleViolationError as exc:
                return _tab(request, page, tab, violations=exc.violations, status=exc.status)
        session_of(request).flash(f"Field permissions of {quoted(name)} saved.")
        return redirect(request, f"{page.base}/roles/{role_id}/fields")

    return await run_in_threadpool(run)
