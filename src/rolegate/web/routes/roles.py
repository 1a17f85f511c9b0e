"""Roles & Permissions: the roles list with seat usage (T3, N1, K2), the role editor
(create, edit, read-only for system roles: K4), its change preview, clone and delete
(T9). Every change is a service call; a refusal is shown with its rule, message and
fix, and the form stays as the user left it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import uuid4

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from rolegate.domain.errors import RuleViolationError
from rolegate.domain.roles import Role
from rolegate.domain.schema import AdminRight, LevelMode
from rolegate.domain.violations import Violation
from rolegate.domain.words import quoted
from rolegate.services.commands import RoleCreateIn, RoleUpdateIn
from rolegate.services.role_preview import RolePreview, deletion_page, preview_role_change
from rolegate.services.roles import (
    RoleEditor,
    clone_role_written,
    create_role_written,
    delete_role,
    role_editor,
    roles_page,
    update_role_written,
)
from rolegate.web.context import WorkspaceContext, open_workspace
from rolegate.web.editor import (
    RoleForm,
    bulk_toggled,
    display_level,
    grid_columns,
    permission_grid,
    seat_refusals,
    ticked_elsewhere,
)
from rolegate.web.field_editor import new_role_tables, parse_field_form
from rolegate.web.forms import FormInvalid, validated
from rolegate.web.pages import checked_form, page_router, render, session_of, ui_of
from rolegate.web.render import is_fragment, redirect
from rolegate.web.routes.portal import announce

router = page_router()


def _page(request: Request, workspace_id: str) -> WorkspaceContext:
    return open_workspace(ui_of(request), request, session_of(request), workspace_id, current="roles")


# -- the roles list ---------------------------------------------------------------------


@router.get("/w/{workspace_id}/roles")
def roles_list(request: Request, workspace_id: str) -> Response:
    page = _page(request, workspace_id)
    listed = roles_page(page.viewer.ui.rolegate.reader(), actor=page.actor, workspace_id=workspace_id)
    return render(
        request,
        "roles/list.html",
        {
            "roles": listed.roles,
            "seats": listed.workspace.seats,
            "can_manage": page.can(AdminRight.MANAGE_ROLES),
            "custom_roles": listed.custom_roles_allowed,
        },
        page=page,
    )


# -- the editor ---------------------------------------------------------------------------


def _editor(
    request: Request,
    page: WorkspaceContext,
    editor: RoleEditor,
    form: RoleForm,
    *,
    preview: RolePreview | None = None,
    violations: tuple[Violation, ...] = (),
    status: int = 200,
    part: str | None = None,
    bulk_notice: tuple[str, tuple[str, ...]] | None = None,
) -> Response:
    schema, role, locks = editor.schema, editor.role, editor.locks
    can_manage = page.can(AdminRight.MANAGE_ROLES)
    read_only = not can_manage or locks.edit
    level = display_level(schema, form.level, form.grants)
    grid = permission_grid(
        schema,
        editor.features,
        level=level,
        grants=form.grants,
        is_system=role.is_system if role else False,
        read_only=read_only,
    )
    ctx: dict[str, Any] = {
        "role": role,
        "form": form,
        "schema": schema,
        "level": schema.levels[level],
        "levels": schema.levels_offered(role.level if role else None),
        "marker_mode": schema.level_mode is LevelMode.MARKER,
        "grid": grid,
        "columns": grid_columns(grid),
        "states": {c.state for area in grid for c in area.cells},  # the legend shows the states in use
        # A tick re-renders the notes beside the boxes (out of band), never the boxes.
        "oob_notes": part == "preview",
        "live_part": part is not None,
        # E6 after a bulk toggle: (area, what it also ticked elsewhere), beside the toggle.
        "bulk_notice": bulk_notice,
        "row_refusals": seat_refusals(
            schema, preview.refusal.violations, seat_before=preview.seat_before, seat_after=preview.seat_after
        )
        if preview is not None
        else {},
        "read_only": read_only,
        # K6: a new role's field permissions are set on the same form (K8: its start).
        "field_tables": new_role_tables(schema, level, form.field_access)
        if role is None and not read_only and any(o.fields for o in schema.objects.values())
        else [],
        "locked_system": locks.edit,
        "can_manage": can_manage,
        # What the services will refuse is shown before it is tried, as the domain locks it.
        "level_fixed": locks.level,
        "level_rule": locks.level_rule,
        "name_fixed": locks.name,
        "edit_rule": locks.edit_rule,
        "rules": editor.rules,
        "preview": preview,
        "violations": violations,
        "action": f"{page.base}/roles/{role.id}" if role else f"{page.base}/roles",
        "preview_url": f"{page.base}/roles/{role.id if role else 'new'}/preview",
    }
    if part is not None:  # htmx: the boxes and the preview (a level change, a bulk toggle), or the preview only
        template = "roles/_live.html" if part in ("grid", "bulk") else "roles/_preview_live.html"
        return render(request, template, ctx, page=page, status=status, fragment=True)
    return render(request, "roles/editor.html", ctx, page=page, status=status)


def _open_editor(page: WorkspaceContext, role_id: str | None, right: AdminRight = AdminRight.VIEW_ROLES) -> RoleEditor:
    """The editor read for an actor with `right` (T10, N12, K13, E7: the service authorizes)."""
    return role_editor(
        page.viewer.ui.rolegate.reader(), actor=page.actor, workspace_id=page.workspace.id, role_id=role_id, right=right
    )


@router.get("/w/{workspace_id}/roles/new")
def new_role(request: Request, workspace_id: str) -> Response:
    page = _page(request, workspace_id)
    editor = _open_editor(page, None, AdminRight.MANAGE_ROLES)
    return _editor(request, page, editor, RoleForm.new(editor.schema))


@router.get("/w/{workspace_id}/roles/{role_id}")
def edit_role(request: Request, workspace_id: str, role_id: str) -> Response:
    page = _page(request, workspace_id)
    editor = _open_editor(page, role_id)
    assert editor.role is not None  # asked for by id
    return _editor(request, page, editor, RoleForm.of_role(editor.role))


def _parse(form: FormData, editor: RoleEditor) -> RoleForm:
    role = editor.role
    parsed = RoleForm.parse(form, editor.schema, role)
    if role is not None and "name" not in form:  # a fixed name is shown, not posted
        parsed = RoleForm(role.name, parsed.description, parsed.level, parsed.landing_page, parsed.grants)
    return parsed


def _bulk(form: FormData, editor: RoleEditor, parsed: RoleForm) -> RoleForm:
    """An area's bulk toggle (`bulk` = `<area>:on|off`): what the role may change in the
    area, ticked or unticked, over the form as posted; then previewed like any tick."""
    area, _, turn = str(form.get("bulk") or "").partition(":")
    if area not in editor.schema.areas or turn not in ("on", "off"):
        return parsed
    schema, role = editor.schema, editor.role
    grid = permission_grid(
        schema,
        editor.features,
        level=display_level(schema, parsed.level, parsed.grants),
        grants=parsed.grants,
        is_system=role.is_system if role else False,
    )
    return replace(parsed, grants=bulk_toggled(schema, grid, parsed.grants, area, on=turn == "on"))


def _new_role_fields(form: FormData, editor: RoleEditor, parsed: RoleForm) -> tuple[RoleForm, list[Violation]]:
    """K6: the field boxes of the creation form, as changes over the new role's start (K8)."""
    if editor.role is not None or "field_form" not in form:
        return parsed, []
    level = display_level(editor.schema, parsed.level, parsed.grants)
    changes, refused = parse_field_form(form, editor.schema, new_role_tables(editor.schema, level))
    return replace(parsed, field_access=changes), refused


def _validate(parsed: RoleForm, role: Role | None) -> None:
    """The API's model of the same change (FormInvalid naming each bad field)."""
    values = {
        "name": parsed.name,
        "description": parsed.description,
        "level": parsed.level,
        "landing_page": parsed.landing_page,
        "grants": sorted(parsed.grants),
    }
    validated(RoleUpdateIn if role is not None else RoleCreateIn, values)


def _draft_named(form: FormData, editor: RoleEditor, parsed: RoleForm, part: str | None) -> RoleForm:
    """Validation after interaction only (issue 15): while a new role's name was never
    typed in (`touched`, kept by the page's script), the live preview and a bulk toggle
    check the rest under a draft name nobody holds, so ticking boxes first is not met
    with "name required". "Preview changes" and saving check the name as it is."""
    touched = str(form.get("touched") or "").split()
    live = part is not None or "bulk" in form
    if editor.role is not None or not live or parsed.name or "name" in touched:
        return parsed
    return replace(parsed, name=f"draft {uuid4().hex}")


async def _preview(request: Request, workspace_id: str, role_id: str | None) -> Response:
    form = await checked_form(request)

    def run() -> Response:
        page = _page(request, workspace_id)
        editor = _open_editor(page, role_id)
        part = (request.query_params.get("part") or "preview") if is_fragment(request) else None
        posted = _parse(form, editor)
        parsed = _bulk(form, editor, posted)
        area = str(form.get("bulk") or "").partition(":")[0]
        notice = (area, ticked_elsewhere(editor.schema, area, posted.grants, parsed.grants)) if area else None
        if part != "grid":  # a level change starts the new role's fields over (K8)
            parsed = _new_role_fields(form, editor, parsed)[0]
        checked = _draft_named(form, editor, parsed, part)
        try:
            _validate(checked, editor.role)
        except FormInvalid as exc:
            return _editor(
                request,
                page,
                editor,
                parsed,
                violations=exc.violations,
                status=exc.status,
                part=part,
                bulk_notice=notice,
            )
        preview = preview_role_change(
            page.viewer.ui.rolegate.reader(),
            actor=page.actor,
            workspace_id=workspace_id,
            role_id=role_id,
            name=checked.name,
            level=parsed.level,
            grants=parsed.grants,
            landing_page=parsed.landing_page,
            description=parsed.description,
        )
        return _editor(request, page, editor, parsed, preview=preview, part=part, bulk_notice=notice)

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
        editor = _open_editor(page, role_id)
        parsed, refused = _new_role_fields(form, editor, _parse(form, editor))
        try:
            _validate(parsed, editor.role)
        except FormInvalid as exc:
            return _editor(request, page, editor, parsed, violations=exc.violations, status=exc.status)
        if refused:
            return _editor(request, page, editor, parsed, violations=tuple(refused), status=FormInvalid.status)
        fields: dict[str, Any] = {
            "actor": page.actor,
            "workspace_id": workspace_id,
            "name": parsed.name,
            "level": parsed.level,
            "grants": parsed.grants,
            "landing_page": parsed.landing_page,
            "description": parsed.description,
        }
        if role_id is None and parsed.field_access:
            fields["field_access"] = parsed.field_access
        uow = page.viewer.ui.rolegate.uow()
        try:
            saved = (
                update_role_written(uow, role_id=role_id, **fields)
                if role_id is not None
                else create_role_written(uow, **fields)
            )
        except RuleViolationError as exc:
            return _editor(request, page, editor, parsed, violations=exc.violations, status=exc.status)
        session_of(request).flash(f"{page.schema.words.role} {quoted(saved.role.name)} {'saved' if role_id is not None else 'created'}.")
        announce(request, "role.saved", role_id=saved.role.id, role_name=saved.role.name)
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
        copy = clone_role_written(
            page.viewer.ui.rolegate.uow(), actor=page.actor, workspace_id=workspace_id, role_id=role_id
        ).role
        session_of(request).flash(f"{page.schema.words.role} {quoted(copy.name)} created as a copy; edit it below.")
        return redirect(request, f"{page.base}/roles/{copy.id}")

    return await run_in_threadpool(run)


# -- delete -------------------------------------------------------------------------------


def _delete_page(
    request: Request,
    page: WorkspaceContext,
    role_id: str,
    violations: tuple[Violation, ...] | None = None,
    status: int = 200,
) -> Response:
    confirm = deletion_page(
        page.viewer.ui.rolegate.reader(),
        actor=page.actor,
        workspace_id=page.workspace.id,
        role_id=role_id,
        violations=violations,
    )
    ctx = {
        "role": confirm.role,
        "info": confirm.view,
        "violations": confirm.refusal.violations,
        "denied": confirm.refusal.denied,
        "replacements": confirm.replacements,
    }
    return render(request, "roles/delete.html", ctx, page=page, status=status)


@router.get("/w/{workspace_id}/roles/{role_id}/delete")
def confirm_delete(request: Request, workspace_id: str, role_id: str) -> Response:
    return _delete_page(request, _page(request, workspace_id), role_id)


@router.post("/w/{workspace_id}/roles/{role_id}/delete")
async def delete(request: Request, workspace_id: str, role_id: str) -> Response:
    form = await checked_form(request)
    replacement = str(form.get("replacement") or "") or None

    def run() -> Response:
        page = _page(request, workspace_id)
        try:
            deleted = delete_role(
                page.viewer.ui.rolegate.uow(),
                actor=page.actor,
                workspace_id=workspace_id,
                role_id=role_id,
                replacement=replacement,
            )
        except RuleViolationError as exc:
            return _delete_page(request, page, role_id, exc.violations, status=exc.status)
        session_of(request).flash(f"{page.schema.words.role} {quoted(deleted.role.name)} deleted.")
        return redirect(request, f"{page.base}/roles")

    return await run_in_threadpool(run)
