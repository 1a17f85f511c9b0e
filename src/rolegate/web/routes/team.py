"""The Team page: members (filtered by status, role and seat type) with their seats,
invitations, assigned records and references (C6), and one actions menu per member:
change role (after a preview of what they gain and lose, and of their seat: issue 15),
disable, enable and delete (after a confirmation, N12, E7), send a password reset,
transfer records, resend and revoke invitations; invite, transfer ownership. What a
member's state makes impossible (disabling yourself, demoting the only administrator)
is not offered. The confirmations that need a choice (role, recipient) are pages that
htmx loads into the page's dialog.
Every action is a service call; a refusal shows the team page again with the rule,
its message and its fix. `/w/{ws}/outbox` is the developer page of the mail outbox: the
viewer's own mail, where the operator turned it on (`make run` works offline)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from rolegate.domain.errors import RuleViolationError
from rolegate.domain.rules.team_rules import default_member_role
from rolegate.domain.schema import AdminRight
from rolegate.domain.violations import Violation
from rolegate.services.commands import InviteIn, MemberChangeIn, OwnershipIn, TransferIn
from rolegate.services.invitations import invite, resend_invitation, revoke_invitation
from rolegate.services.member_role_preview import member_role_preview
from rolegate.services.members import change_member_role, delete_member, disable_member, enable_member
from rolegate.services.outbox import developer_mails
from rolegate.services.password_reset import send_password_reset
from rolegate.services.team import TeamView, removal_view, team_view, transfer_ownership, transfer_records
from rolegate.web.context import WorkspaceContext, open_workspace
from rolegate.web.forms import FormInvalid, validated
from rolegate.web.pages import checked_form, page_router, render, session_of, ui_of
from rolegate.web.render import redirect
from rolegate.web.routes.portal import announce

router = page_router()

Action = Callable[[WorkspaceContext, FormData], str]
"""Runs a service for the page's member with the posted form; returns the flash message."""


def _page(request: Request, workspace_id: str, current: str = "team") -> WorkspaceContext:
    return open_workspace(ui_of(request), request, session_of(request), workspace_id, current=current)


def _filter(request: Request, name: str) -> str | None:
    value = request.query_params.get(name, "").strip()
    return value[:64] or None


def _default_role(view: TeamView, page: WorkspaceContext, form: FormData | None) -> str:
    """Safe by default (issue 15): a picker starts on the least-privileged role, never on
    Owner; after a refusal, on the role that was chosen."""
    if form is not None and form.get("role"):
        return str(form.get("role"))
    return default_member_role(view.schema, view.roles, page.workspace.features).id if view.roles else ""


def _team(
    request: Request,
    page: WorkspaceContext,
    *,
    violations: Sequence[Violation] = (),
    status: int = 200,
    form: FormData | None = None,
) -> Response:
    filters = {name: _filter(request, name) for name in ("status", "role", "seat")}
    view = team_view(page.viewer.ui.rolegate.reader(), actor=page.actor, workspace_id=page.workspace.id, **filters)
    ctx = {
        "team": view.members,
        "seats": view.seats,
        "roles": list(view.roles),
        "schema": view.schema,
        "filters": filters,
        "active": view.active,  # transfer and ownership go to any active member, whatever the filter shows
        "me": page.member.member.id
        if page.membership is not None
        else None,  # a site administrator may not be a member (E1)
        "can_manage": page.can(AdminRight.MANAGE_MEMBERS),
        "can_assign_roles": page.can(AdminRight.ASSIGN_ROLES),
        "can_assign_records": page.can(AdminRight.ASSIGN_RECORDS),
        "violations": list(violations),
        "invite_email": str(form.get("email") or "") if form is not None else "",
        "invite_name": str(form.get("name") or "") if form is not None else "",
        "guardian_rule": view.schema.guardian.rule_id,
        "guardian": view.guardian,
        "default_role": _default_role(view, page, form),
        "owners": view.guardians,
    }
    return render(request, "team/list.html", ctx, page=page, status=status)


@router.get("/w/{workspace_id}/team")
def team_page(request: Request, workspace_id: str) -> Response:
    return _team(request, _page(request, workspace_id))


async def _act(request: Request, workspace_id: str, action: Action) -> Response:
    form = await checked_form(request)

    def run() -> Response:
        page = _page(request, workspace_id)
        try:
            message = action(page, form)
        except RuleViolationError as exc:
            return _team(request, page, violations=exc.violations, status=exc.status, form=form)
        except FormInvalid as exc:
            return _team(request, page, violations=exc.violations, status=exc.status, form=form)
        session_of(request).flash(message)
        return redirect(request, f"{page.base}/team")

    return await run_in_threadpool(run)


def _field(form: FormData, name: str) -> str:
    """A text field as posted, trimmed; its model (`validated`) bounds it."""
    return str(form.get(name) or "").strip()


@router.post("/w/{workspace_id}/team/invite")
async def invite_member(request: Request, workspace_id: str) -> Response:
    def action(page: WorkspaceContext, form: FormData) -> str:
        rg = page.viewer.ui.rolegate
        body = validated(InviteIn, {name: _field(form, name) for name in ("email", "role", "name")})
        sent = invite(
            rg.uow(),
            actor=page.actor,
            workspace_id=workspace_id,
            email=body.email,
            role_id=body.role,
            name=body.name,
            policy=rg.mail_policy,
        )
        announce(page.viewer.request, "member.invited", member_id=sent.member.member.id, email=sent.member.email, name=sent.member.name)
        return f"Invitation sent to {sent.member.email}."

    return await _act(request, workspace_id, action)


def _chosen_role(request: Request) -> str | None:
    """The role the picker chose (`?role=`), trimmed and bounded like the filters."""
    return _filter(request, "role")


@router.get("/w/{workspace_id}/team/ownership")
def ownership_dialog(request: Request, workspace_id: str) -> Response:
    """T11 from a member's actions menu: ownership to that member (`?to=`), with the
    role the giver takes, confirmed in the dialog."""
    page = _page(request, workspace_id)
    view = team_view(page.viewer.ui.rolegate.reader(), actor=page.actor, workspace_id=workspace_id)
    me = page.member.member.id if page.membership is not None else None
    to = _filter(request, "to")
    receivers = [m for m in view.active if m.info.member.id != me]
    chosen = next((m for m in receivers if m.info.member.id == to), None)
    if chosen is None:
        raise StarletteHTTPException(404)
    ctx = {"to": chosen, "receivers": receivers, "roles": list(view.roles), "default_role": _default_role(view, page, None), "schema": view.schema}
    return render(request, "team/ownership.html", ctx, page=page)


@router.get("/w/{workspace_id}/team/{member_id}/role")
def role_dialog(request: Request, workspace_id: str, member_id: str) -> Response:
    """Issue 15: the role change of one member, with what it changes (a page without
    JavaScript; the dialog's content with htmx)."""
    page = _page(request, workspace_id)
    preview = member_role_preview(
        page.viewer.ui.rolegate.reader(), actor=page.actor, workspace_id=workspace_id, member_id=member_id, role_id=_chosen_role(request)
    )
    return render(request, "team/role.html", {"p": preview, "schema": preview.schema}, page=page)


@router.get("/w/{workspace_id}/team/{member_id}/role/preview")
def role_preview(request: Request, workspace_id: str, member_id: str) -> Response:
    """The preview alone, which the role picker fetches on each change (htmx)."""
    page = _page(request, workspace_id)
    preview = member_role_preview(
        page.viewer.ui.rolegate.reader(), actor=page.actor, workspace_id=workspace_id, member_id=member_id, role_id=_chosen_role(request)
    )
    return render(request, "team/_role_preview.html", {"p": preview, "schema": preview.schema}, page=page, fragment=True)


@router.get("/w/{workspace_id}/team/{member_id}/transfer")
def transfer_dialog(request: Request, workspace_id: str, member_id: str) -> Response:
    """N9, C6: whose records go where, chosen and confirmed in one dialog."""
    page = _page(request, workspace_id)
    view = removal_view(page.viewer.ui.rolegate.reader(), actor=page.actor, workspace_id=workspace_id, member_id=member_id)
    return render(request, "team/transfer.html", {"m": view.member, "others": view.others, "schema": view.schema}, page=page)


@router.post("/w/{workspace_id}/team/{member_id}/role")
async def change_role(request: Request, workspace_id: str, member_id: str) -> Response:
    def action(page: WorkspaceContext, form: FormData) -> str:
        body = validated(MemberChangeIn, {"role": _field(form, "role")})
        done = change_member_role(
            page.viewer.ui.rolegate.uow(),
            actor=page.actor,
            workspace_id=workspace_id,
            member_id=member_id,
            role_id=body.role,
        )
        return f"{done.member.name or done.member.email} has a new {page.schema.words.role.lower()}."

    return await _act(request, workspace_id, action)


@router.post("/w/{workspace_id}/team/{member_id}/disable")
async def disable(request: Request, workspace_id: str, member_id: str) -> Response:
    def action(page: WorkspaceContext, form: FormData) -> str:
        done = disable_member(page.viewer.ui.rolegate.uow(), actor=page.actor, workspace_id=workspace_id, member_id=member_id)
        announce(page.viewer.request, "member.disabled", member_id=done.member.member.id, email=done.member.email, name=done.member.name)
        return f"{done.member.name or done.member.email} is disabled; their seat is free."

    return await _act(request, workspace_id, action)


@router.post("/w/{workspace_id}/team/{member_id}/enable")
async def enable(request: Request, workspace_id: str, member_id: str) -> Response:
    def action(page: WorkspaceContext, form: FormData) -> str:
        done = enable_member(page.viewer.ui.rolegate.uow(), actor=page.actor, workspace_id=workspace_id, member_id=member_id)
        return f"{done.member.name or done.member.email} is enabled."

    return await _act(request, workspace_id, action)


@router.get("/w/{workspace_id}/team/{member_id}/delete")
def delete_page(request: Request, workspace_id: str, member_id: str) -> Response:
    """N12, E7: the confirmation page: who is deleted, and what names them still (C6)."""
    page = _page(request, workspace_id)
    view = removal_view(page.viewer.ui.rolegate.reader(), actor=page.actor, workspace_id=workspace_id, member_id=member_id)
    ctx = {"m": view.member, "others": view.others, "schema": view.schema, "can_assign_records": page.can(AdminRight.ASSIGN_RECORDS)}
    return render(request, "team/delete.html", ctx, page=page)


@router.post("/w/{workspace_id}/team/{member_id}/delete")
async def delete(request: Request, workspace_id: str, member_id: str) -> Response:
    def action(page: WorkspaceContext, form: FormData) -> str:
        done = delete_member(page.viewer.ui.rolegate.uow(), actor=page.actor, workspace_id=workspace_id, member_id=member_id)
        return f"{done.member.name or done.member.email} is deleted from this workspace; their seat is free."

    return await _act(request, workspace_id, action)


@router.post("/w/{workspace_id}/team/{member_id}/reset")
async def send_reset(request: Request, workspace_id: str, member_id: str) -> Response:
    def action(page: WorkspaceContext, form: FormData) -> str:
        rg = page.viewer.ui.rolegate
        send_password_reset(
            rg.uow(), actor=page.actor, workspace_id=workspace_id, member_id=member_id, policy=rg.mail_policy
        )
        return "A password reset email is on its way."

    return await _act(request, workspace_id, action)


@router.post("/w/{workspace_id}/team/{member_id}/transfer")
async def transfer(request: Request, workspace_id: str, member_id: str) -> Response:
    def action(page: WorkspaceContext, form: FormData) -> str:
        body = validated(TransferIn, {"to": _field(form, "to")})
        done = transfer_records(
            page.viewer.ui.rolegate.uow(),
            actor=page.actor,
            workspace_id=workspace_id,
            from_member=member_id,
            to_member=body.to,
        )
        what = page.schema.assigned_records(done.moved)
        if done.references:
            what += f" and {done.references} reference{'' if done.references == 1 else 's'}"
        return f"Transferred {what} to {done.receiver}."

    return await _act(request, workspace_id, action)


@router.post("/w/{workspace_id}/team/invitations/{invitation_id}/resend")
async def resend(request: Request, workspace_id: str, invitation_id: str) -> Response:
    def action(page: WorkspaceContext, form: FormData) -> str:
        rg = page.viewer.ui.rolegate
        sent = resend_invitation(
            rg.uow(), actor=page.actor, workspace_id=workspace_id, invitation_id=invitation_id, policy=rg.mail_policy
        )
        return f"Invitation sent again to {sent.member.email}; the previous link no longer works."

    return await _act(request, workspace_id, action)


@router.post("/w/{workspace_id}/team/invitations/{invitation_id}/revoke")
async def revoke(request: Request, workspace_id: str, invitation_id: str) -> Response:
    def action(page: WorkspaceContext, form: FormData) -> str:
        revoke_invitation(
            page.viewer.ui.rolegate.uow(), actor=page.actor, workspace_id=workspace_id, invitation_id=invitation_id
        )
        return "Invitation revoked; its seat is free."

    return await _act(request, workspace_id, action)


@router.post("/w/{workspace_id}/team/ownership")
async def ownership(request: Request, workspace_id: str) -> Response:
    def action(page: WorkspaceContext, form: FormData) -> str:
        body = validated(OwnershipIn, {"to": _field(form, "to"), "new_role": _field(form, "new_role")})
        transfer_ownership(
            page.viewer.ui.rolegate.uow(),
            actor=page.actor,
            workspace_id=workspace_id,
            to_member=body.to,
            new_role=body.new_role,
        )
        return "Ownership transferred."

    return await _act(request, workspace_id, action)


@router.get("/w/{workspace_id}/outbox")
def outbox(request: Request, workspace_id: str) -> Response:
    """The developer page, only where the operator turned it on (`ROLEGATE_DEV_OUTBOX`):
    the viewer's own mail, never anyone else's (`developer_mails`)."""
    ui = ui_of(request)
    if not ui.rolegate.settings.dev_outbox:
        raise StarletteHTTPException(404)
    page = _page(request, workspace_id, "outbox")
    mails = developer_mails(ui.rolegate.uow(), viewer_email=page.viewer.user.email)
    return render(request, "team/outbox.html", {"mails": mails, "smtp": ui.rolegate.outbox is not None}, page=page)
