"""Administrator records (E7): the list of a workspace's administrators, and one record
(the name this workspace shows, and the email of the person's login, which only they
change) to view, create, edit and delete (after a confirmation page). The role on a record is a control only for those who
may assign roles (site administrators); everyone else sees it as text. Not the Team
page: invitations, disabling and seats live there."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from rolegate.domain.errors import RuleViolationError
from rolegate.domain.violations import Violation
from rolegate.services.commands import AdministratorRecordIn, MemberChangeIn, MemberRecordIn
from rolegate.services.member_record import (
    MemberRecord,
    create_member_record,
    get_member_record,
    member_records,
    save_member_record,
)
from rolegate.services.members import delete_member
from rolegate.web.context import WorkspaceContext, open_workspace
from rolegate.web.forms import FormInvalid, validated
from rolegate.web.pages import checked_form, page_router, render, session_of, ui_of
from rolegate.web.render import redirect

router = page_router()


def _page(request: Request, workspace_id: str) -> WorkspaceContext:
    return open_workspace(ui_of(request), request, session_of(request), workspace_id, current="records")


def _list(
    request: Request, page: WorkspaceContext, *, violations: Sequence[Violation] = (), status: int = 200, email: str = "", name: str = ""
) -> Response:
    found = member_records(page.viewer.ui.rolegate.reader(), actor=page.actor, workspace_id=page.workspace.id)
    me = page.member.member.id if page.membership is not None else None
    ctx = {"rows": found.rows, "me": me, "violations": list(violations), "new_email": email, "new_name": name}
    return render(request, "records/list.html", ctx, page=page, status=status)


@router.get("/w/{workspace_id}/records")
def records(request: Request, workspace_id: str) -> Response:
    return _list(request, _page(request, workspace_id))


@router.post("/w/{workspace_id}/records")
async def create_record(request: Request, workspace_id: str) -> Response:
    """E7: a new record gets the workspace's default role; the form has no role."""
    form = await checked_form(request)
    email, name = str(form.get("email") or "").strip(), str(form.get("name") or "").strip()
    # A role sent with the form (forged: the form has none) is refused as the API refuses it.
    sent = {"email": email, "name": name} | ({"role": str(form.get("role"))} if "role" in form else {})

    def run() -> Response:
        page = _page(request, workspace_id)
        rg = page.viewer.ui.rolegate
        try:
            body = validated(AdministratorRecordIn, sent)
            done = create_member_record(rg.uow(), actor=page.actor, workspace_id=workspace_id, email=body.email, name=body.name, policy=rg.mail_policy)
        except (RuleViolationError, FormInvalid) as exc:
            return _list(request, page, violations=exc.violations, status=exc.status, email=email, name=name)
        session_of(request).flash(f"Administrator record of {done.record.email} created with the role {done.record.role.name}; an invitation is on its way.")
        return redirect(request, f"{page.base}/records")

    return await run_in_threadpool(run)


@router.get("/w/{workspace_id}/members/{member_id}/record/delete")
def delete_page(request: Request, workspace_id: str, member_id: str) -> Response:
    """N12, E7: the confirmation page."""
    page = _page(request, workspace_id)
    found = get_member_record(page.viewer.ui.rolegate.reader(), actor=page.actor, workspace_id=workspace_id, member_id=member_id)
    return render(request, "records/delete.html", {"record": found, "violations": []}, page=page)


@router.post("/w/{workspace_id}/members/{member_id}/record/delete")
async def delete_record(request: Request, workspace_id: str, member_id: str) -> Response:
    await checked_form(request)

    def run() -> Response:
        page = _page(request, workspace_id)
        rg = page.viewer.ui.rolegate
        try:
            done = delete_member(rg.uow(), actor=page.actor, workspace_id=workspace_id, member_id=member_id)
        except RuleViolationError as exc:
            found = get_member_record(rg.reader(), actor=page.actor, workspace_id=workspace_id, member_id=member_id)
            return render(request, "records/delete.html", {"record": found, "violations": exc.violations}, page=page, status=exc.status)
        session_of(request).flash(f"Administrator record of {done.member.email} deleted.")
        return redirect(request, f"{page.base}/records")

    return await run_in_threadpool(run)


def _record_page(
    request: Request,
    page: WorkspaceContext,
    record: MemberRecord,
    *,
    name: str,
    email: str,
    violations: tuple[Violation, ...] = (),
    status: int = 200,
) -> Response:
    return render(
        request,
        "records/record.html",
        {"record": record, "name": name, "email": email, "violations": violations},
        page=page,
        status=status,
    )


@router.get("/w/{workspace_id}/members/{member_id}/record")
def record(request: Request, workspace_id: str, member_id: str) -> Response:
    page = _page(request, workspace_id)
    found = get_member_record(
        page.viewer.ui.rolegate.reader(), actor=page.actor, workspace_id=workspace_id, member_id=member_id
    )
    return _record_page(request, page, found, name=found.info.name, email=found.info.email)


@router.post("/w/{workspace_id}/members/{member_id}/record")
async def save_record(request: Request, workspace_id: str, member_id: str) -> Response:
    form = await checked_form(request)
    name, role = str(form.get("name", "")), form.get("role")
    # The email is the person's login: sent (by an old form, or forged) it must be the
    # current one, which the service checks; absent, it is left as it is.
    sent_email = form.get("email")
    email = sent_email if isinstance(sent_email, str) else None

    def run() -> Response:
        page = _page(request, workspace_id)
        rg = page.viewer.ui.rolegate
        try:
            validated(MemberRecordIn, {"name": name, "email": email})
            if isinstance(role, str) and role:
                validated(MemberChangeIn, {"role": role})
        except FormInvalid as exc:
            return _refused(request, page, member_id, name=name, violations=exc.violations, status=exc.status)
        try:
            # The role and the name in one change: a role sent by someone who may not
            # assign roles is refused by the service (E7) before anything is written.
            saved = save_member_record(
                rg.uow(),
                actor=page.actor,
                workspace_id=workspace_id,
                member_id=member_id,
                name=name,
                email=email,
                role_id=role if isinstance(role, str) else None,
            )
        except RuleViolationError as exc:
            return _refused(request, page, member_id, name=name, violations=exc.violations, status=exc.status)
        session_of(request).flash(f"Administrator record of {saved.info.email} saved.")
        return redirect(request, f"{page.base}/members/{member_id}/record")

    return await run_in_threadpool(run)


def _refused(
    request: Request,
    page: WorkspaceContext,
    member_id: str,
    *,
    name: str,
    violations: tuple[Violation, ...],
    status: int,
) -> Response:
    """The form again, with what was typed and why it was refused."""
    found = get_member_record(
        page.viewer.ui.rolegate.reader(), actor=page.actor, workspace_id=page.workspace.id, member_id=member_id
    )
    return _record_page(request, page, found, name=name, email=found.info.email, violations=violations, status=status)
