"""Sites of several workspaces: site administrators (E1), the workspaces a user
may switch between and how to act in each, copying roles across the site (E9), and
administrator records (E7)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.concurrency import run_in_threadpool

from rolegate.api.deps import SITE_ADMIN_PREFIX, AdminAccess, CallerAccess, PlatformAccess, reach
from rolegate.api.limits import ApiRoute
from rolegate.api.schemas.members import MemberDeletedOut, MemberRecordCreatedOut, MemberRecordOut, MemberRecordsOut
from rolegate.api.schemas.roles import CopyPreviewOut, RoleCopyOut, ViolationOut
from rolegate.api.schemas.sites import (
    SiteAdministratorIn,
    SiteAdministratorOut,
    SiteAdministratorsOut,
    UserWorkspaceOut,
    UserWorkspacesOut,
)
from rolegate.api.schemas.workspaces import MemberOut
from rolegate.domain.errors import NotFoundError
from rolegate.domain.role_copy import CopyPreview
from rolegate.services import member_record, members, role_copy, sites
from rolegate.services.commands import NO_NUL, AdministratorRecordIn, MemberRecordIn, RoleCopyIn
from rolegate.services.member_record import MemberRecord

router = APIRouter(tags=["sites"], route_class=ApiRoute)

IdPath = Annotated[str, Path(min_length=1, max_length=36, pattern=NO_NUL)]


def _own_organization(platform: PlatformAccess, organization_id: str) -> None:
    if platform.key.organization_id != organization_id:
        raise NotFoundError(
            f"no organization {organization_id!r}", decision=None, fix="Use an API key of that organization."
        )


@router.post(
    "/v1/organizations/{organization_id}/site-administrators",
    response_model=SiteAdministratorOut,
    status_code=201,
    summary="Name a site administrator",
)
def add_site_administrator(
    platform: PlatformAccess, organization_id: IdPath, body: SiteAdministratorIn
) -> SiteAdministratorOut:
    """E1: the user (created if new) administers roles and role assignments in every
    workspace of the organization. Audited in each workspace. A new administrator
    without a password receives, at their own address, a link to choose one."""
    _own_organization(platform, organization_id)
    user_id = sites.add_site_administrator(
        platform.rolegate.uow(), actor=platform.actor, organization_id=organization_id, email=body.email, name=body.name,
        policy=platform.rolegate.mail_policy,
    )
    return SiteAdministratorOut(user_id=user_id, email=body.email.strip().lower(), name=body.name)


@router.get(
    "/v1/organizations/{organization_id}/site-administrators",
    response_model=SiteAdministratorsOut,
    summary="List site administrators",
)
def list_site_administrators(platform: PlatformAccess, organization_id: IdPath) -> SiteAdministratorsOut:
    _own_organization(platform, organization_id)
    found = sites.site_administrators(platform.rolegate.reader(), organization_id=organization_id)
    return SiteAdministratorsOut(
        organization_id=organization_id,
        administrators=[SiteAdministratorOut(user_id=u, email=e, name=n) for u, e, n in found],
    )


@router.get(
    "/v1/users/{user_id}/workspaces", response_model=UserWorkspacesOut, summary="Workspaces a user may switch between"
)
def user_workspaces(platform: PlatformAccess, user_id: IdPath) -> UserWorkspacesOut:
    """Each workspace of the key's organization the user is a member of or administers
    as site administrator, with the `Rolegate-Actor` value that acts as them there."""
    out = []
    found = sites.workspaces_of_user(
        platform.rolegate.reader(),
        user_id,
        organization_id=platform.key.organization_id,
        workspace_id=platform.key.workspace_id,
    )
    for w in found:
        actor = None
        if w.site_admin:
            actor = f"{SITE_ADMIN_PREFIX}{user_id}"
        elif w.enterable and w.member is not None:
            actor = w.member.member.id
        out.append(
            UserWorkspaceOut(
                workspace_id=w.workspace.id,
                name=w.workspace.name,
                preset=w.workspace.preset,
                organization_id=w.workspace.organization_id,
                site_admin=w.site_admin,
                member_id=w.member.member.id if w.member is not None else None,
                member_status=w.member.member.status.value if w.member is not None else None,
                actor=actor,
            )
        )
    return UserWorkspacesOut(user_id=user_id, workspaces=out)


def _preview_out(p: CopyPreview) -> CopyPreviewOut:
    return CopyPreviewOut(
        workspace_id=p.workspace_id,
        workspace_name=p.workspace_name,
        action=p.action,
        level=p.level,
        level_before=p.level_before,
        inert=list(p.inert),
        gained=list(p.gained),
        lost=list(p.lost),
        holders=p.holders,
        seat=p.seat,
        seat_impact=p.seat_impact,
        violations=[ViolationOut(rule=v.rule_id, message=v.message, fix=v.fix) for v in p.violations],
    )


@router.post(
    "/v1/workspaces/{workspace_id}/roles/{role_id}/copy",
    response_model=RoleCopyOut,
    summary="Copy a role to other workspaces of the site",
)
async def copy_role(ctx: AdminAccess, caller: CallerAccess, role_id: IdPath, body: RoleCopyIn) -> RoleCopyOut:
    """E9: the role is created (or, where a custom role of that name exists, updated) in
    each target, as the acting user is there (site administrator, or their membership).
    Refused as a whole if any target runs another preset, is of another site, or is not
    administered by the user. `dry_run` returns the previews only."""
    for target in body.targets:
        await reach(caller, target)
    uow = ctx.rolegate.uow()
    if body.dry_run:
        previews = await run_in_threadpool(
            lambda: role_copy.preview_copy(
                uow, actor=ctx.actor, workspace_id=ctx.workspace_id, role_id=role_id, targets=body.targets
            )
        )
        return RoleCopyOut(previews=[_preview_out(p) for p in previews], copied={})
    result = await run_in_threadpool(
        lambda: role_copy.copy_role(
            uow, actor=ctx.actor, workspace_id=ctx.workspace_id, role_id=role_id, targets=body.targets
        )
    )
    return RoleCopyOut(
        previews=[_preview_out(p) for p in result.previews], copied={ws: r.id for ws, r in result.roles.items()}
    )


def _record_out(r: MemberRecord) -> MemberRecordOut:
    return MemberRecordOut(
        member_id=r.info.member.id,
        user_id=r.info.user_id,
        name=r.info.name,
        email=r.info.email,
        status=r.info.member.status.value,
        role=r.role.id,
        role_name=r.role.name,
        may_assign_roles=r.may_assign_roles,
    )


@router.get(
    "/v1/workspaces/{workspace_id}/members/{member_id}/record",
    response_model=MemberRecordOut,
    summary="An administrator record",
)
def get_record(ctx: AdminAccess, member_id: IdPath) -> MemberRecordOut:
    """E7: needs the manage-members right (Account Administrators)."""
    return _record_out(
        member_record.get_member_record(
            ctx.reader(), actor=ctx.actor, workspace_id=ctx.workspace_id, member_id=member_id
        )
    )


@router.patch(
    "/v1/workspaces/{workspace_id}/members/{member_id}/record",
    response_model=MemberRecordOut,
    summary="Edit an administrator record",
)
def update_record(ctx: AdminAccess, member_id: IdPath, body: MemberRecordIn) -> MemberRecordOut:
    """E7: name and email only; the role is changed with PATCH /members/{id} by those who
    may assign roles (site administrators)."""
    return _record_out(
        member_record.update_member_record(
            ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, member_id=member_id, name=body.name, email=body.email
        )
    )


@router.get(
    "/v1/workspaces/{workspace_id}/administrator-records",
    response_model=MemberRecordsOut,
    summary="List the administrator records",
)
def list_records(ctx: AdminAccess) -> MemberRecordsOut:
    """E7: needs the manage-members right (Account Administrators); the same list as the
    admin UI's Administrator records page."""
    found = member_record.member_records(ctx.reader(), actor=ctx.actor, workspace_id=ctx.workspace_id)
    items = [
        MemberRecordOut(
            member_id=info.member.id,
            user_id=info.user_id,
            name=info.name,
            email=info.email,
            status=info.member.status.value,
            role=info.member.role,
            role_name=role_name,
            may_assign_roles=found.may_assign_roles,
        )
        for info, role_name in found.rows
    ]
    return MemberRecordsOut(items=items, revision=found.revision)


@router.post(
    "/v1/workspaces/{workspace_id}/administrator-records",
    response_model=MemberRecordCreatedOut,
    status_code=201,
    summary="Create an administrator record",
)
def create_record(ctx: AdminAccess, body: AdministratorRecordIn) -> MemberRecordCreatedOut:
    """E7: needs the manage-members right, never the right to assign roles: the body has
    no role; the record gets the workspace's default role (its narrowest system role)
    and the person an invitation email. Only a site administrator changes the role."""
    done = member_record.create_member_record(
        ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, email=body.email, name=body.name, policy=ctx.rolegate.mail_policy
    )
    return MemberRecordCreatedOut(record=_record_out(done.record), revision=done.revision)


@router.delete(
    "/v1/workspaces/{workspace_id}/members/{member_id}/record",
    response_model=MemberDeletedOut,
    summary="Delete an administrator record",
)
def delete_record(ctx: AdminAccess, member_id: IdPath) -> MemberDeletedOut:
    """E7: the same as `DELETE .../members/{id}` (N12): the member leaves the workspace,
    their login stays; refused for oneself, for a record holding more than the actor, and
    for the last site administrator."""
    done = members.delete_member(ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, member_id=member_id)
    m = done.member
    out = MemberOut(
        id=m.member.id, email=m.email, name=m.name, role=m.member.role, status=m.member.status.value,
        invited_at=m.invited_at, activated_at=m.activated_at, disabled_at=m.disabled_at,
    )  # fmt: skip
    return MemberDeletedOut(member=out, user_id=m.user_id, revision=done.revision)
