"""Members: list, invite, change role, disable, enable, activate (accept the invitation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from rolegate.api.deps import DEFAULT_PAGE_SIZE, AdminAccess, AdminContext, PageCursor, PageLimit
from rolegate.api.limits import ApiRoute
from rolegate.api.schemas.members import MemberDeletedOut, MemberListOut, MemberWritten
from rolegate.api.schemas.workspaces import MemberOut
from rolegate.services.commands import NO_NUL, InviteIn, MemberChangeIn
from rolegate.services.invitations import invite as invite_by_email
from rolegate.services.members import (
    MemberChanged,
    MemberInfo,
    activate_member,
    change_member_role,
    delete_member,
    disable_member,
    enable_member,
)
from rolegate.services.team import list_members as team_members
from rolegate.services.team import read_member

__all__ = ["member_out", "router"]

router = APIRouter(prefix="/v1/workspaces/{workspace_id}/members", tags=["members"], route_class=ApiRoute)

MemberId = Annotated[str, Path(min_length=1, max_length=36, pattern=NO_NUL, description="The member id.")]
StatusChange = Callable[..., MemberChanged]
"""disable_member, enable_member, activate_member: (uow, *, actor, workspace_id, member_id)."""


def member_out(info: MemberInfo) -> MemberOut:
    m = info.member
    return MemberOut(
        id=m.id,
        email=info.email,
        name=info.name,
        role=m.role,
        status=m.status.value,
        invited_at=info.invited_at,
        activated_at=info.activated_at,
        disabled_at=info.disabled_at,
    )


def _written(done: MemberChanged) -> MemberWritten:
    return MemberWritten(member=member_out(done.member), revision=done.revision)


Filter = Annotated[str | None, Query(max_length=64, pattern=NO_NUL)]
StatusFilter = Annotated[
    Literal["invited", "active", "disabled"] | None, Query(description="invited, active or disabled (another value is a 422).")
]


@router.get("", response_model=MemberListOut, summary="List the members")
def list_members(
    ctx: AdminAccess,
    status: StatusFilter = None,
    role: Filter = None,
    seat: Filter = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> MemberListOut:
    """The actor needs the view-roles right (T10; the products have no separate right to
    see the team). Filters: `status` (invited, active, disabled), `role` (a role id),
    `seat` (a seat type of the product, e.g. `csm`). Answers `{"members": [...],
    "revision": n, "next_cursor": ...}` (the shape of every list), in the order the
    members were added; `next_cursor` is set exactly when more follow."""
    found = team_members(
        ctx.rolegate.reader(), actor=ctx.actor, workspace_id=ctx.workspace_id, status=status, role=role, seat=seat, cursor=cursor, limit=limit
    )
    return MemberListOut(members=[member_out(i) for i in found.members], revision=found.revision, next_cursor=found.next_cursor)


@router.get("/{member_id}", response_model=MemberWritten, summary="Read a member")
def get(member_id: MemberId, ctx: AdminAccess) -> MemberWritten:
    """One member and the revision read, for whoever may list them (T10); 404 for an id
    not of this workspace."""
    found = read_member(ctx.rolegate.reader(), actor=ctx.actor, workspace_id=ctx.workspace_id, member_id=member_id)
    return MemberWritten(member=member_out(found.members[0]), revision=found.revision)


@router.post("", status_code=201, response_model=MemberWritten, summary="Invite a member")
def invite(body: InviteIn, ctx: AdminAccess) -> MemberWritten:
    """The invited member reserves a seat of their role's level (N1, K2) and can do
    nothing until they accept (T4): the invitation email's link, or `POST .../activate`.
    The same as `POST .../invitations`, answered with the member."""
    sent = invite_by_email(
        ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, email=body.email, role_id=body.role, name=body.name, policy=ctx.rolegate.mail_policy
    )
    return MemberWritten(member=member_out(sent.member), revision=sent.revision)


@router.patch("/{member_id}", response_model=MemberWritten, summary="Change a member's role")
def change(member_id: MemberId, body: MemberChangeIn, ctx: AdminAccess) -> MemberWritten:
    """Refused when no seat is free (N1, K2), when the last administrator/owner would
    lose the role (C4, T11), or when the member's assigned accounts need the role (N9)."""
    return _written(change_member_role(ctx.uow(batched=True), actor=ctx.actor, workspace_id=ctx.workspace_id, member_id=member_id, role_id=body.role))


def _status_change(ctx: AdminContext, member_id: str, use_case: StatusChange) -> MemberWritten:
    return _written(use_case(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, member_id=member_id))


@router.post("/{member_id}/disable", response_model=MemberWritten, summary="Disable a member")
def disable(member_id: MemberId, ctx: AdminAccess) -> MemberWritten:
    """Frees their seat. Refused for oneself (C5), while accounts are assigned to them
    or a playbook names them (C6), and for the last administrator/owner (C4, T11)."""
    return _status_change(ctx, member_id, disable_member)


@router.post("/{member_id}/enable", response_model=MemberWritten, summary="Enable a disabled member")
def enable(member_id: MemberId, ctx: AdminAccess) -> MemberWritten:
    """Takes a seat again: one must be free."""
    return _status_change(ctx, member_id, enable_member)


@router.post("/{member_id}/activate", response_model=MemberWritten, summary="Activate an invited member (invitation accepted)")
def activate(member_id: MemberId, ctx: AdminAccess) -> MemberWritten:
    """T4. The actor is the member themselves, or one with the manage-members right."""
    return _status_change(ctx, member_id, activate_member)


@router.delete("/{member_id}", response_model=MemberDeletedOut, summary="Delete a member")
def delete(member_id: MemberId, ctx: AdminAccess) -> MemberDeletedOut:
    """N12, E7: removes the member from the workspace and frees their seat; the person's
    login stays (other workspaces may use it; they can be invited again). Audited as
    `member.delete`. Refused for oneself (C5), while records are assigned to them or the
    host product names them (N9, C6: `POST .../transfer` moves both), for the last
    administrator/owner (C4, T11), and for a member holding more than the actor."""
    done = delete_member(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, member_id=member_id)
    return MemberDeletedOut(member=member_out(done.member), user_id=done.member.user_id, revision=done.revision)
