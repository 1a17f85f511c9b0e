"""An administrator record (E7): a member's name and email, viewed and edited by whoever
manages members; the role on it is changed only by those who may assign roles."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rolegate.domain.errors import PermissionDeniedError
from rolegate.domain.roles import Role
from rolegate.domain.rules.site_rules import record_edit_violations
from rolegate.domain.schema import AdminRight
from rolegate.domain.workspace import Actor
from rolegate.services.context import WorkspaceState, admin_escalation, authorize, load_state, raise_if, record_change
from rolegate.services.members import _role_perms
from rolegate.services.sites import actor_for_user, user_of_actor
from rolegate.store.repositories import MemberInfo
from rolegate.store.uow import UnitOfWork

__all__ = ["MemberRecord", "get_member_record", "update_member_record"]


@dataclass(frozen=True, slots=True)
class MemberRecord:
    info: MemberInfo
    role: Role
    may_assign_roles: bool
    """E7: whether the viewer may change the role on this record (site administrators)."""
    assignable_roles: tuple[Role, ...]


def _may(state: WorkspaceState, actor: Actor, right: AdminRight) -> bool:
    try:
        authorize(state, actor, right)
    except PermissionDeniedError:
        return False
    return True


def get_member_record(uow: UnitOfWork, *, actor: Actor, workspace_id: str, member_id: str) -> MemberRecord:
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.MANAGE_MEMBERS)
        member = state.member(member_id)
        info = uow.members.get(workspace_id, member_id)
        assert info is not None  # the member exists (state.member)
        may_assign = _may(state, actor, AdminRight.ASSIGN_ROLES)
        roles = tuple(sorted(state.roles.values(), key=lambda r: (not r.is_system, r.name.lower()))) if may_assign else ()
        return MemberRecord(info, state.roles[member.role], may_assign, roles)


def update_member_record(uow: UnitOfWork, *, actor: Actor, workspace_id: str, member_id: str, name: str, email: str) -> MemberInfo:
    """E7: managing administrator records is not assigning roles: this edits the name
    and email only. The record is the person's login, so every workspace it reaches
    must be one the actor manages members in (E9)."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_MEMBERS)
        member = state.member(member_id)
        before = uow.members.get(workspace_id, member_id)
        assert before is not None
        role = state.roles[member.role]
        unmanaged: list[str] = []
        user_id = user_of_actor(uow, workspace_id, actor)
        for other_id, _ in uow.sites.memberships_of_user(before.user_id):
            if other_id == workspace_id:
                continue
            other = uow.workspaces.get(other_id)
            assert other is not None
            acting = actor_for_user(uow, other, user_id, fallback=actor)
            if acting is None or not _may(load_state(uow, other_id, lock=False), acting, AdminRight.MANAGE_MEMBERS):
                unmanaged.append(other.name)
        clean_email = email.strip().lower()
        raise_if(
            record_edit_violations(email_taken=uow.sites.email_taken(clean_email, except_user=before.user_id), email=email, unmanaged_workspaces=unmanaged)
            + admin_escalation(state, actor, _role_perms(state, role), f"Member {member_id!r} (role {role.name!r})")
        )
        new_name = name.strip()
        if (new_name, clean_email) == (before.name, before.email):
            return before
        uow.sites.update_user(before.user_id, name=new_name, email=clean_email)
        record_change(
            uow, workspace_id, actor, "member.update_record", "member", member_id, {"name": before.name, "email": before.email}, {"name": new_name, "email": clean_email}
        )
        uow.commit()
    return replace(before, name=new_name, email=clean_email)
