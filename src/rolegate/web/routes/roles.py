"""Roles & Permissions: the roles list with seat usage (T3, N1, K2), the role editor
(create, edit, read-only for system roles: K4), its change preview, clone and delete
(T9). Every change is a service call; a refusal is shown with its rule, message and
fix, and the form stays as the user left it."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from rolegate.api.schemas import RoleCreateIn, RoleUpdateIn
from rolegate.api.views import roles_out, workspace_out
from rolegate.domain.errors import RuleViolationError
from rolegate.domain.roles import Role
from rolegate.domain.schema import AdminRight, LevelMode
from rolegate.domain.violations import Violation
from rolegate.services.context import WorkspaceState, authorize, load_state
from rolegate.services.role_preview import RolePreview, deletion_refusal, preview_role_change
from rolegate.services.roles import clone_role, create_role, delete_role, update_role
from rolegate.web.context import WorkspaceContext, open_workspace
from rolegate.web.editor import RoleForm, display_level, permission_grid
from rolegate.web.forms import FormInvalid, validated
from rolegate.web.pages import checked_form, page_router, render, session_of, ui_of
from rolegate.web.render import is_fragment, redirect

router = page_router()


def _page(request: Request, workspace_id: str) -> WorkspaceContext:
    return open_workspace(ui_of(request), request, session_of(request), workspace_id, current="roles")


def _state(page: WorkspaceContext, right: AdminRight = AdminRight.VIEW_ROLES) -> WorkspaceState:
    """The workspace as a use case loads it, with the member authorized for `right`
    by the engine (T10, N12, K13, E7)."""
    with page.viewer.ui.rolegate.uow() as uow:
        state = load_state(uow, page.workspace.id, lock=False)
    authorize(state, page.actor, right)
    return state


# -- the roles list ---------------------------------------------------------------------


@router.get("/w/{workspace_id}/roles")
def roles_list(request: Request, workspace_id: str) -> Response:
    page = _page(request, workspace_id)
    rg = page.viewer.ui.rolegate
    with rg.uow() as uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, page.actor, AdminRight.VIEW_ROLES)
        infos = uow.roles.all(workspace_id)
    roles = roles_out(infos, state.schema, state.workspace.features, state.members)
    ws = workspace_out(state.workspace, state.schema, state.roles, state.members)
    return render(
        request,
        "roles/list.html",
        {"roles": roles, "seats": ws.seats, "can_manage": page.can(AdminRight.MANAGE_ROLES), "custom_roles": state.schema.custom_roles_allowed},
        page=page,
    )


# -- the editor ---------------------------------------------------------------------------


def _editor(
    request: Request,
    page: WorkspaceContext,
    state: WorkspaceState,
    role: Role | None,
    form: RoleForm,
    *,
    preview: RolePreview | None = None,
    violations: tuple[Violation, ...] = (),
    status: int = 200,
    part: str | None = None,
) -> Response:
    schema = state.schema
    can_manage = page.can(AdminRight.MANAGE_ROLES)
    locked_system = role is not None and role.is_system and not role.editable
    read_only = not can_manage or locked_system
    level = display_level(schema, form.level, form.grants)
    # What the services will refuse is shown before it is tried: a saved custom role's
    # level (K6), a system role's name and level (T2), in the schema's own terms.
    level_fixed = role is not None and schema.level_mode is LevelMode.CHOSEN and (role.is_system or not schema.level_changeable_after_create)
    ctx: dict[str, Any] = {
        "role": role,
        "form": form,
        "schema": schema,
        "level": schema.levels[level],
        "levels": schema.levels_by_rank(),
        "marker_mode": schema.level_mode is LevelMode.MARKER,
        "grid": permission_grid(schema, state.workspace.features, level=level, grants=form.grants, is_system=role.is_system if role else False, read_only=read_only),
        "read_only": read_only,
        "locked_system": locked_system,
        "can_manage": can_manage,
        "level_fixed": level_fixed,
        "level_rule": schema.rule("level_locked") if role is not None and not role.is_system else schema.rule("system_role_rename"),
        "name_fixed": role is not None and role.is_system,
        "edit_rule": schema.rule("system_role_edit"),
        "preview": preview,
        "violations": violations,
        "action": f"{page.base}/roles/{role.id}" if role else f"{page.base}/roles",
        "preview_url": f"{page.base}/roles/{role.id if role else 'new'}/preview",
    }
    if part is not None:  # htmx: the boxes and the preview (a level change), or the preview only
        template = "roles/_live.html" if part == "grid" else "roles/_preview_live.html"
        return render(request, template, ctx, page=page, status=status, fragment=True)
    return render(request, "roles/editor.html", ctx, page=page, status=status)


@router.get("/w/{workspace_id}/roles/new")
def new_role(request: Request, workspace_id: str) -> Response:
    page = _page(request, workspace_id)
    state = _state(page, AdminRight.MANAGE_ROLES)
    return _editor(request, page, state, None, RoleForm.new(state.schema))


@router.get("/w/{workspace_id}/roles/{role_id}")
def edit_role(request: Request, workspace_id: str, role_id: str) -> Response:
    page = _page(request, workspace_id)
    state = _state(page)
    role = state.role(role_id)
    return _editor(request, page, state, role, RoleForm.of_role(role))


def _parse(form: FormData, state: WorkspaceState, role: Role | None) -> RoleForm:
    parsed = RoleForm.parse(form, state.schema, role)
    if role is not None and "name" not in form:  # a fixed name is shown, not posted
        parsed = RoleForm(role.name, parsed.description, parsed.level, parsed.landing_page, parsed.grants)
    return parsed


def _validate(parsed: RoleForm, role: Role | None) -> None:
    """The API's model of the same change (FormInvalid naming each bad field)."""
    values = {"name": parsed.name, "description": parsed.description, "level": parsed.level, "landing_page": parsed.landing_page, "grants": sorted(parsed.grants)}
    validated(RoleUpdateIn if role is not None else RoleCreateIn, values)


async def _preview(request: Request, workspace_id: str, role_id: str | None) -> Response:
    form = await checked_form(request)

    def run() -> Response:
        page = _page(request, workspace_id)
        state = _state(page)
        role = state.role(role_id) if role_id is not None else None
        parsed = _parse(form, state, role)
        part = (request.query_params.get("part") or "preview") if is_fragment(request) else None
        try:
            _validate(parsed, role)
        except FormInvalid as exc:
            return _editor(request, page, state, role, parsed, violations=exc.violations, status=422, part=part)
        preview = preview_role_change(
            page.viewer.ui.rolegate.uow(),
            actor=page.actor,
            workspace_id=workspace_id,
            role_id=role_id,
            name=parsed.name,
            level=parsed.level,
            grants=parsed.grants,
            landing_page=parsed.landing_page,
            description=parsed.description,
        )
        return _editor(request, page, state, role, parsed, preview=preview, part=part)

    return await run_in_threadpool(run)


@router.post("/w/{workspace_id}/roles/new/preview")
async def preview_new(request: Request, workspace_id: str) -> Response:
    return await _preview(request, workspace_id, None)


@router.post("/w/{workspace_id}/roles/{role_id}/preview")
async def preview_edit(request: Request, workspace_id: str, role_id: str) -> Response:
    return await _preview(request, workspace_id, role_id)


async def _save(request: Request, workspace_id: str, role_id: str | None) -> Response:
    """Create (role_id None) or save a role through the services; a refusal re-renders
    the editor as the user left it, with each rule's message and fix."""
    form = await checked_form(request)

    def run() -> Response:
        page = _page(request, workspace_id)
        state = _state(page)
        role = state.role(role_id) if role_id is not None else None
        parsed = _parse(form, state, role)
        try:
            _validate(parsed, role)
        except FormInvalid as exc:
            return _editor(request, page, state, role, parsed, violations=exc.violations, status=422)
        fields: dict[str, Any] = {
            "actor": page.actor,
            "workspace_id": workspace_id,
            "name": parsed.name,
            "level": parsed.level,
            "grants": parsed.grants,
            "landing_page": parsed.landing_page,
            "description": parsed.description,
        }
        uow = page.viewer.ui.rolegate.uow()
        try:
            saved = update_role(uow, role_id=role_id, **fields) if role_id is not None else create_role(uow, **fields)
        except RuleViolationError as exc:
            return _editor(request, page, state, role, parsed, violations=exc.violations, status=409)
        session_of(request).flash(f"Role {saved.name!r} {'saved' if role_id is not None else 'created'}.")
        return redirect(request, f"{page.base}/roles")

    return await run_in_threadpool(run)


@router.post("/w/{workspace_id}/roles")
async def create(request: Request, workspace_id: str) -> Response:
    return await _save(request, workspace_id, None)


@router.post("/w/{workspace_id}/roles/{role_id}")
async def save(request: Request, workspace_id: str, role_id: str) -> Response:
    return await _save(request, workspace_id, role_id)


@router.post("/w/{workspace_id}/roles/{role_id}/clone")
async def clone(request: Request, workspace_id: str, role_id: str) -> Response:
    await checked_form(request)

    def run() -> Response:
        page = _page(request, workspace_id)
        copy = clone_role(page.viewer.ui.rolegate.uow(), actor=page.actor, workspace_id=workspace_id, role_id=role_id)
        session_of(request).flash(f"Role {copy.name!r} created as a copy; edit it below.")
        return redirect(request, f"{page.base}/roles/{copy.id}")

    return await run_in_threadpool(run)


# -- delete -------------------------------------------------------------------------------


def _delete_page(
    request: Request, page: WorkspaceContext, role_id: str, violations: tuple[Violation, ...] | None = None, status: int = 200
) -> Response:
    rg = page.viewer.ui.rolegate
    with rg.uow() as uow:
        state = load_state(uow, page.workspace.id, lock=False)
        authorize(state, page.actor, AdminRight.VIEW_ROLES)
        info = next((i for i in uow.roles.all(page.workspace.id) if i.role.id == role_id), None)
    role = state.role(role_id)  # NotFoundError for a role that is not there
    assert info is not None
    out = roles_out([info], state.schema, state.workspace.features, state.members)[0]
    denied = None
    if violations is None:
        refusal = deletion_refusal(rg.uow(), actor=page.actor, workspace_id=page.workspace.id, role_id=role_id)
        violations, denied = refusal.violations, refusal.denied
    return render(request, "roles/delete.html", {"role": role, "info": out, "violations": violations, "denied": denied}, page=page, status=status)


@router.get("/w/{workspace_id}/roles/{role_id}/delete")
def confirm_delete(request: Request, workspace_id: str, role_id: str) -> Response:
    return _delete_page(request, _page(request, workspace_id), role_id)


@router.post("/w/{workspace_id}/roles/{role_id}/delete")
async def delete(request: Request, workspace_id: str, role_id: str) -> Response:
    await checked_form(request)

    def run() -> Response:
        page = _page(request, workspace_id)
        state = _state(page)
        role = state.role(role_id)
        try:
            delete_role(page.viewer.ui.rolegate.uow(), actor=page.actor, workspace_id=workspace_id, role_id=role_id)
        except RuleViolationError as exc:
            return _delete_page(request, page, role_id, exc.violations, status=409)
        session_of(request).flash(f"Role {role.name!r} deleted.")
        return redirect(request, f"{page.base}/roles")

    return await run_in_threadpool(run)
