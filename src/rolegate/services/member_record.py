"""An administrator record (E7): a member's name and email, viewed by whoever manages
members, who may edit the name this workspace shows (never the person's login); the role
on it is changed only by those who may assign roles."""

from __future__ import annotations

from dataclasses import dataclass

from rolegate.domain.errors import PermissionDeniedError
from rolegate.domain.roles import Role
from rolegate.domain.rules.site_rules import record_edit_violations
from rolegate.domain.schema import AdminRight
from rolegate.domain.workspace import Actor
from rolegate.services.context import (
    WorkspaceState,
    admin_escalation,
    authorize,
    load_state,
    member_with_role,
    raise_if,
    record_change,
)
from rolegate.services.invitations import invite
from rolegate.services.mail import MailPolicy
from rolegate.services.members import _role_perms, change_member_role_locked, written_members
from rolegate.store.repositories import MemberInfo
from rolegate.store.uow import UnitOfWork

__all__ = [
    "MemberRecord",
    "RecordCreated",
    "RecordList",
    "create_member_record",
    "get_member_record",
    "member_records",
    "save_member_record",
    "update_member_record",
]


@dataclass(frozen=True, slots=True)
class MemberRecord:
    info: MemberInfo
    role: Role
    may_assign_roles: bool
    """E7: whether the viewer may change the role on this record (site administrators)."""
    assignable_roles: tuple[Role, ...]
    revision: int

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def email(self) -> str:
        return self.info.email


@dataclass(frozen=True, slots=True)
class RecordList:
    """The administrator records of a workspace: each member with their role's name."""

    rows: tuple[tuple[MemberInfo, str], ...]
    revision: int
    may_assign_roles: bool = False
    """E7: whether the viewer may change the roles on these records (site administrators)."""


def _may(state: WorkspaceState, actor: Actor, right: AdminRight) -> bool:
    try:
        authorize(state, actor, right)
    except PermissionDeniedError:
        return False
    return True


def member_records(uow: UnitOfWork, *, actor: Actor, workspace_id: str) -> RecordList:
    """E7: the list, for whoever manages members."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.MANAGE_MEMBERS)
        infos = uow.members.all(workspace_id)
    return RecordList(tuple((i, state.roles[i.member.role].name) for i in infos), state.workspace.revision, _may(state, actor, AdminRight.ASSIGN_ROLES))


@dataclass(frozen=True, slots=True)
class RecordCreated:
    record: MemberRecord
    revision: int


def create_member_record(uow: UnitOfWork, *, actor: Actor, workspace_id: str, email: str, name: str, policy: MailPolicy) -> RecordCreated:
    """E7: whoever manages members creates an administrator record without assigning a
    role: the new member gets the workspace's default role (`default_member_role`) and
    an invitation email to choose a password (T4); a site administrator changes the role.
    The seat and membership rules are the invitation's."""
    sent = invite(uow, actor=actor, workspace_id=workspace_id, email=email, role_id=None, name=name, policy=policy)
    record = get_member_record(uow, actor=actor, workspace_id=workspace_id, member_id=sent.member.member.id)
    return RecordCreated(record, sent.revision)


def _record(uow: UnitOfWork, state: WorkspaceState, actor: Actor, member_id: str, revision: int) -> MemberRecord:
    info = written_members(uow, state.workspace.id, member_id)[0]
    may_assign = _may(state, actor, AdminRight.ASSIGN_ROLES)
    roles = tuple(sorted(state.roles.values(), key=lambda r: (not r.is_system, r.name.lower()))) if may_assign else ()
    return MemberRecord(info, state.roles[info.member.role], may_assign, roles, revision)


def get_member_record(uow: UnitOfWork, *, actor: Actor, workspace_id: str, member_id: str) -> MemberRecord:
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.MANAGE_MEMBERS)
        state.member(member_id)  # not found otherwise
        return _record(uow, state, actor, member_id, state.workspace.revision)


def update_member_record(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, member_id: str, name: str, email: str | None = None
) -> MemberRecord:
    """E7: managing administrator records is not assigning roles: this edits the name
    this workspace shows for the member, and only that. The email is the person's login,
    which other workspaces and sites may share, so a different one is refused (the person
    changes it themselves, `services.email_change`); `email` equal to the current one,
    or None, leaves it."""
    return save_member_record(uow, actor=actor, workspace_id=workspace_id, member_id=member_id, name=name, email=email)


def save_member_record(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, member_id: str, name: str, email: str | None = None, role_id: str | None = None
) -> MemberRecord:
    """The record's form in one change: first the role, when one is given (refused
    unless the actor may assign roles, E7, before anything is written), then the name
    (`update_member_record`). All or nothing."""
    with uow:
        state = load_state(uow, workspace_id)
        revision = state.workspace.revision
        if role_id:
            revision = change_member_role_locked(uow, state, actor=actor, member_id=member_id, role_id=role_id).revision
        revision = _rename_locked(uow, state, actor=actor, member_id=member_id, name=name, email=email) or revision
        record = _record(uow, state, actor, member_id, revision)
        uow.commit()
    return record


def _rename_locked(uow: UnitOfWork, state: WorkspaceState, *, actor: Actor, member_id: str, name: str, email: str | None) -> int | None:
    """The revision the name change made; None when the name is the same."""
    workspace_id = state.workspace.id
    authorize(state, actor, AdminRight.MANAGE_MEMBERS)
    member = state.member(member_id)
    before = written_members(uow, workspace_id, member_id)[0]
    role = state.roles[member.role]
    raise_if(
        record_edit_violations(email_now=before.email, email_asked=email, name=name, rule_id=state.schema.rule("member_record"))
        + admin_escalation(state, actor, _role_perms(state, role), lambda: member_with_role(uow, state, member_id))
    )
    new_name = name.strip()
    if new_name == before.name:
        return None
    uow.members.set_name(workspace_id, member_id, new_name)
    return record_change(
        uow, workspace_id, actor, "member.update_record", "member", member_id, {"name": before.name, "email": before.email}, {"name": new_name, "email": before.email}
    )
