"""The Accounts page: the records of the product's assignable top-level object (the
accounts of CustomerSuccessBox and Natero), as the member may see them, page by page
(`lookup` compiled to SQL, never a loop of checks); assigning one to a member (N9,
through the assign-records right: N12, C1); and who can see one account and why.

Nothing is decided here: the list is `accounts_page`, one account `account_page`,
the assignment `assign_record`.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from rolegate.domain.errors import InvalidRecordError, NotFoundError, RuleViolationError
from rolegate.domain.schema import ObjectType, ProductSchema
from rolegate.domain.violations import Violation
from rolegate.domain.words import quoted
from rolegate.engine import RecordRef
from rolegate.services.assignments import account_page, accounts_page, assign_record
from rolegate.services.commands import AssigneeIn
from rolegate.web.context import WorkspaceContext, open_workspace
from rolegate.web.forms import FormInvalid, validated
from rolegate.web.pages import checked_form, page_router, render, session_of, ui_of
from rolegate.web.render import redirect

router = page_router()

PAGE_SIZE = 50


def assignable_object(schema: ProductSchema) -> ObjectType | None:
    """The top-level object whose records are assigned to members, if the product has one."""
    return next(
        (o for o in schema.objects.values() if o.assignable and o.parent is None and o.view_action is not None), None
    )


def _page(request: Request, workspace_id: str) -> tuple[WorkspaceContext, ObjectType]:
    page = open_workspace(ui_of(request), request, session_of(request), workspace_id, current="accounts")
    otype = assignable_object(page.schema)
    if otype is None:
        raise NotFoundError(
            f"{page.schema.name} has no records assigned to members", decision=None, fix="Use the navigation."
        )
    if page.membership is None:
        # Records are listed as a member sees them (N11, C3); a site administrator who is
        # not a member of this workspace sees none (E1 is about roles, not records).
        raise NotFoundError(
            f"{otype.label}s are listed as a member of this workspace sees them, and you are not one",
            decision=None,
            fix="Open this page from a workspace you are a member of, or ask its administrator to invite you.",
        )
    return page, otype


@router.get("/w/{workspace_id}/accounts")
def accounts(request: Request, workspace_id: str, cursor: str | None = None) -> Response:
    page, otype = _page(request, workspace_id)
    assert otype.view_action is not None
    member = page.member.member.id
    try:
        found = accounts_page(
            page.viewer.ui.rolegate.reader(),
            page.snapshot,
            actor=page.actor,
            workspace_id=workspace_id,
            member=member,
            action=otype.view_action,
            object_type=otype.key,
            cursor=cursor,
            limit=PAGE_SIZE,
        )
    except InvalidRecordError:
        return redirect(request, f"{page.base}/accounts")  # a stale cursor: start again
    scope = page.snapshot.check(member, otype.view_action).scope.label
    return render(
        request,
        "accounts/list.html",
        {
            "otype": otype,
            "rows": found.records,
            "names": found.names,
            "eligible": found.choices,
            "can_assign": found.may_assign,
            "next_cursor": found.next_cursor,
            "first_page": cursor is None,
            "scope": scope,
        },
        page=page,
    )


def _detail(
    request: Request,
    page: WorkspaceContext,
    otype: ObjectType,
    record_id: str,
    violations: tuple[Violation, ...] = (),
    status: int = 200,
) -> Response:
    found = account_page(
        page.viewer.ui.rolegate.reader(),
        page.snapshot,
        actor=page.actor,
        workspace_id=page.workspace.id,
        member=page.member.member.id,
        ref=RecordRef(otype.key, record_id),
    )
    return render(
        request,
        "accounts/detail.html",
        {
            "otype": otype,
            "record": found.record,
            "viewers": found.viewers,
            "names": found.names,
            "eligible": found.choices,
            "can_assign": found.may_assign,
            "violations": violations,
        },
        page=page,
        status=status,
    )


@router.get("/w/{workspace_id}/accounts/{record_id}")
def account(request: Request, workspace_id: str, record_id: str) -> Response:
    page, otype = _page(request, workspace_id)
    return _detail(request, page, otype, record_id)


@router.post("/w/{workspace_id}/accounts/{record_id}/assignee")
async def assign(request: Request, workspace_id: str, record_id: str) -> Response:
    """Assign (or unassign, with an empty choice) through `assign_record`; a refusal
    (N9) shows the rule, its message and its fix on the account's page."""
    form = await checked_form(request)

    def run() -> Response:
        page, otype = _page(request, workspace_id)
        chosen = str(form.get("assignee") or "") or None
        try:
            validated(AssigneeIn, {"assignee": chosen})
        except FormInvalid as exc:
            return _detail(request, page, otype, record_id, exc.violations, status=exc.status)
        try:
            done = assign_record(
                page.viewer.ui.rolegate.uow(),
                actor=page.actor,
                workspace_id=workspace_id,
                ref=RecordRef(otype.key, record_id),
                assignee=chosen,
            )
        except RuleViolationError as exc:
            return _detail(request, page, otype, record_id, exc.violations, status=exc.status)
        who = "no one" if done.record.assignee is None else "the chosen member"
        session_of(request).flash(
            f"{otype.label} {quoted(record_id)} is now assigned to {who}." if done.changed else "Nothing changed."
        )
        back = str(form.get("back") or "")
        return redirect(
            request, back if back.startswith(f"{page.base}/accounts") else f"{page.base}/accounts/{record_id}"
        )

    return await run_in_threadpool(run)
