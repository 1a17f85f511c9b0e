"""An administrator record (E7): a member's name and email, viewed by whoever manages
members, who may edit the name this workspace shows (never the person's login); the role
on it is changed only by those who may assign roles."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rolegate.domain.errors import PermissionDeniedError
from rolegate.domain.roles import Role
from rolegate.domain.rules.site_rules import record_edit_violations
from rolegate.domain.schema import AdminRight
from rolegate.domain.workspace import Actor
from rolegate.services.context import WorkspaceState, admin_escalation, authorize, load_state, raise_if, record_change
from rolegate.services.members import _role_perms
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


def update_member_record(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, member_id: str, name: str, email: str | None = None
) -> MemberInfo:
    """E7: managing administrator records is not assigning roles: this edits the name
    this workspace shows for the member, and only that. The email is the person's login,
    which other workspaces and sites may share, so a different one is refused (the person
    changes it themselves, `services.email_change`); `email` equal to the current one,
    or None, leaves it."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_MEMBERS)
        member = state.member(member_id)
        before = uow.members.get(workspace_id, member_id)
        assert before is not None
        role = state.roles[member.role]
        raise_if(
            record_edit_violations(email_now=before.email, email_asked=email, name=name)
            + admin_escalation(state, actor, _role_perms(state, role), f"Member {member_id!r} (role {role.name!r})")
        )
        new_name = name.strip()
        if new_name == before.name:
            return before
        uow.members.set_name(workspace_id, member_id, new_name)
        record_change(
            uow, workspace_id, actor, "member.update_record", "member", member_id, {"name": before.name, "email": before.email}, {"name": new_name, "email": before.email}
        )
        uow.commit()
    return replace(before, name=new_name)
