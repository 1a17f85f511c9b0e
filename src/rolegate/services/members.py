"""Use cases on members: invite, activate, change role, disable, enable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from rolegate.domain.errors import NotFoundError
from rolegate.domain.permissions import role_permissions
from rolegate.domain.roles import Member, MemberStatus, Role
from rolegate.domain.rules.directory_rules import directory_role_violations, is_directory
from rolegate.domain.rules.team_rules import (
    assignments_kept_violations,
    disable_blockers,
    email_violations,
    guardian_violations,
    guardians_after,
    is_guardian,
    joining_violations,
    membership_violations,
    self_disable_violations,
    self_removal_violations,
    unassignable_types,
)
from rolegate.domain.schema import AdminRight
from rolegate.domain.seats import seat_of, seat_usage, seat_violations
from rolegate.domain.violations import Violation
from rolegate.domain.words import quoted
from rolegate.domain.workspace import Actor
from rolegate.services.context import (
    WorkspaceState,
    admin_escalation,
    authorize,
    known_as,
    load_state,
    member_name,
    member_with_role,
    new_id,
    raise_if,
    record_change,
    role_escalation,
    with_role,
)
from rolegate.services.passwords import hash_password
from rolegate.store.repositories import MemberInfo, member_updated, member_updating, utcnow
from rolegate.store.uow import UnitOfWork

__all__ = [
    "MemberChanged",
    "MemberDeleted",
    "MemberInfo",
    "activate_member",
    "activate_member_locked",
    "add_member",
    "add_member_locked",
    "change_member_role",
    "change_member_role_locked",
    "delete_member",
    "disable_member",
    "ensure_user",
    "enable_member",
    "invite_member",
    "member_json",
    "seat_check",
    "written_members",
]


@dataclass(frozen=True, slots=True)
class MemberChanged:
    """A member as a use case left them, and the workspace revision after it (the
    current one when nothing had to change)."""

    member: MemberInfo
    revision: int


def written_members(uow: UnitOfWork, workspace_id: str, *member_ids: str) -> list[MemberInfo]:
    """The members' rows as this transaction wrote them (their timestamps are the store's)."""
    out = []
    for member_id in member_ids:
        info = uow.members.get(workspace_id, member_id)
        assert info is not None  # written in this transaction, with the workspace locked
        out.append(info)
    return out


def _changed(uow: UnitOfWork, workspace_id: str, member_id: str, revision: int) -> MemberChanged:
    return MemberChanged(written_members(uow, workspace_id, member_id)[0], revision)


def member_json(member: Member, email: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"id": member.id, "role": member.role, "status": member.status.value}
    if email is not None:
        data["email"] = email
    return data


def in_use_violations(uow: UnitOfWork, state: WorkspaceState, member_id: str) -> list[Violation]:
    """C6 (N9): what keeps the member from being disabled, deleted or deprovisioned:
    records assigned to them, references in the host product. The refusal names the
    person as the team knows them (their name, else their email), never their id."""
    workspace_id = state.workspace.id
    assignable = [o.key for o in state.schema.objects.values() if o.assignable]
    info = uow.members.get(workspace_id, member_id)
    return disable_blockers(
        state.schema,
        member=(info.name or info.email) if info is not None else member_id,
        assigned_records=uow.records.assigned_count(workspace_id, member_id, assignable) if assignable else 0,
        references=uow.members.references(workspace_id, member_id),
    )


def seat_check(state: WorkspaceState, role: Role, *, moving_from: Role | None = None) -> list[Violation]:
    """A member taking `role` consumes its seat: there must be one free (N1, K2)."""
    seat = seat_of(state.schema, role)
    if seat is None or (moving_from is not None and seat_of(state.schema, moving_from) == seat):
        return []
    used = seat_usage(state.schema, state.roles, state.members).get(seat, 0)
    return seat_violations(state.schema, seat, used=used, capacity=state.workspace.seat_capacities.get(seat))


def _last_guardian(uow: UnitOfWork, state: WorkspaceState, actor: Actor, member_id: str, *, stays_guardian: bool) -> list[Violation]:
    """C4/T11 for a change of `member_id`; the refusal names them as the team knows them
    (looked up only for a refusal)."""
    guardians = _guardians(state)
    me = actor.member_id or ""
    found = guardian_violations(state.schema, member=member_id, actor=me, active_guardians=guardians, stays_guardian=stays_guardian)
    if found and member_id != me:
        who = member_name(uow, state.workspace.id, member_id)
        found = guardian_violations(state.schema, member=member_id, actor=me, active_guardians=guardians, stays_guardian=stays_guardian, who=who)
    return found


def _guardians(state: WorkspaceState) -> set[str]:
    return guardians_after(state.schema, state.members, state.roles, state.workspace.features)


def _role_perms(state: WorkspaceState, role: Role) -> frozenset[str]:
    return role_permissions(state.schema, role, state.workspace.features)


def _stays_guardian(state: WorkspaceState, role: Role) -> bool:
    schema = state.schema
    return is_guardian(schema, role, role_permissions(schema, role, state.workspace.features))


def ensure_user(uow: UnitOfWork, email: str, name: str, password: str | None, *, rule_id: str | None = None) -> str:
    """The user of `email`, made (without a login) when nobody has it yet; `rule_id`:
    the product's membership rule, where a workspace is at hand."""
    row = uow.users.by_email(email)
    if row is not None:
        return str(row.id)
    raise_if(email_violations(email, rule_id=rule_id) if rule_id is not None else email_violations(email))
    # Two workspaces may invite the same new person at once: whoever inserts second
    # gets the first one's user (no unique-violation error).
    return uow.users.add_if_absent(new_id(), email, name=name, password_hash=hash_password(password) if password else None)


def add_member_locked(
    uow: UnitOfWork,
    state: WorkspaceState,
    *,
    actor: Actor,
    email: str,
    role_id: str,
    name: str,
    password: str | None,
    status: MemberStatus,
    assigns_role: bool = True,
) -> MemberChanged:
    """Add a member inside an open transaction whose workspace `state` is locked (the
    invitation service adds its token and email to the same transaction).
    `assigns_role` False: the role is the workspace's default one (E7: an administrator
    record), not the actor's choice, so the actor needs no right to assign roles."""
    workspace_id = state.workspace.id
    authorize(state, actor, AdminRight.MANAGE_MEMBERS)
    if assigns_role:
        authorize(state, actor, AdminRight.ASSIGN_ROLES)  # a new member gets a role (C2), and that is assigning it (E7)
    role = state.role(role_id)
    if assigns_role:
        # Its permissions and its field access. The default role of an administrator
        # record (E7) is the workspace's, not handed out by the actor: not checked.
        raise_if(role_escalation(state, actor, role, f"Role {quoted(role.name)}"))
    user_id = ensure_user(uow, email, name, password, rule_id=state.schema.rule("membership"))
    raise_if(membership_violations(state.schema, email=email, already_member=uow.members.by_user(workspace_id, user_id) is not None))
    raise_if(seat_check(state, role))
    member = Member(new_id(), role_id, status)
    # The workspace keeps the name the adder typed: an existing person's own name (and
    # anything else their identity holds) is not the inviter's to read.
    uow.members.add(workspace_id, member, user_id=user_id, name=name.strip()[:200])
    action = "member.invite" if status is MemberStatus.INVITED else "member.add"
    revision = record_change(uow, workspace_id, actor, action, "member", member.id, None, member_json(member, email))
    return _changed(uow, workspace_id, member.id, revision)


def _add(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, email: str, role_id: str, name: str, password: str | None, status: MemberStatus
) -> MemberInfo:
    with uow:
        state = load_state(uow, workspace_id)
        added = add_member_locked(uow, state, actor=actor, email=email, role_id=role_id, name=name, password=password, status=status)
        uow.commit()
    return added.member


def invite_member(uow: UnitOfWork, *, actor: Actor, workspace_id: str, email: str, role_id: str, name: str = "") -> MemberInfo:
    """An invited member reserves a seat of their role's level and can do nothing until active (T4)."""
    return _add(uow, actor=actor, workspace_id=workspace_id, email=email, role_id=role_id, name=name, password=None, status=MemberStatus.INVITED)


def add_member(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, email: str, role_id: str, name: str = "", password: str | None = None
) -> MemberInfo:
    """An active member at once (the first owner of a workspace, imports, the demo)."""
    return _add(uow, actor=actor, workspace_id=workspace_id, email=email, role_id=role_id, name=name, password=password, status=MemberStatus.ACTIVE)


def activate_member(uow: UnitOfWork, *, actor: Actor, workspace_id: str, member_id: str) -> MemberChanged:
    """T4: an invited member becomes active (accepting the invitation). The seat was
    reserved at invitation, so no seat check here."""
    with uow:
        state = load_state(uow, workspace_id)
        revision = activate_member_locked(uow, state, actor=actor, member_id=member_id)
        done = _changed(uow, workspace_id, member_id, revision)
        uow.commit()
        return done


def activate_member_locked(uow: UnitOfWork, state: WorkspaceState, *, actor: Actor, member_id: str) -> int:
    """`activate_member` inside an open transaction (accepting an invitation by its
    token); returns the revision it made."""
    workspace_id = state.workspace.id
    if actor.member_id != member_id:
        authorize(state, actor, AdminRight.MANAGE_MEMBERS)
    before = state.member(member_id)
    by_themselves = actor.member_id == member_id
    claimed: str | None = None
    if before.status is MemberStatus.INVITED and not by_themselves:
        info = uow.members.get(workspace_id, member_id)
        claimed = info.email if info is not None and uow.users.claimed(info.user_id) else None
    who = member_name(uow, workspace_id, member_id) if before.status is not MemberStatus.INVITED else ""
    raise_if(joining_violations(state.schema, member=before, by_themselves=by_themselves, claimed_email=claimed, who=who))
    after = Member(before.id, before.role, MemberStatus.ACTIVE)
    uow.members.update(workspace_id, after)
    return record_change(uow, workspace_id, actor, "member.activate", "member", member_id, member_json(before), member_json(after))


class RoleChange(NamedTuple):
    """A member's role change made in an open transaction (`change_member_role_locked`)."""

    revision: int
    """The workspace's revision after it (unchanged when the member had the role)."""
    info: MemberInfo | None
    """The member's row as read before the change; None when nothing changed."""


def change_member_role(uow: UnitOfWork, *, actor: Actor, workspace_id: str, member_id: str, role_id: str) -> MemberChanged:
    with uow:
        state = load_state(uow, workspace_id)
        now = utcnow()
        revision, info = change_member_role_locked(uow, state, actor=actor, member_id=member_id, role_id=role_id, with_commit=True, now=now)
        if info is None:
            return _changed(uow, workspace_id, member_id, revision)  # nothing changed
        done = MemberChanged(member_updated(info, Member(member_id, role_id, info.member.status), now), revision)
        uow.commit()
        return done


def change_member_role_locked(
    uow: UnitOfWork,
    state: WorkspaceState,
    *,
    actor: Actor,
    member_id: str,
    role_id: str,
    directory_sync: bool = False,
    with_commit: bool = False,
    now: datetime | None = None,
) -> RoleChange:
    """`change_member_role` inside an open transaction whose workspace `state` is locked
    (the administrator record saves a role and a name at once).
    `directory_sync`: the change follows the directory's groups (services/scim.py).
    `with_commit`: as for `record_change`; the member's row is then written with the
    commit too (`UnitOfWork.write_with_commit`). `now`: when the change is made."""
    workspace_id = state.workspace.id
    authorize(state, actor, AdminRight.ASSIGN_ROLES)  # E7: managing members is not assigning roles
    before = state.member(member_id)
    new_role = state.role(role_id)
    if before.role == role_id:
        return RoleChange(state.workspace.revision, None)
    old_role = state.roles[before.role]
    # N9: only records the new role could not hold can refuse the change: count only those.
    held = unassignable_types(state.schema, _role_perms(state, new_role))
    facts = uow.members.role_change_facts(workspace_id, member_id, held)
    if facts is None:  # in the state, so in the locked workspace: its row is there
        raise NotFoundError(f"no member {member_id!r} in this workspace", decision=None, fix="List the members to find their id.")
    who = known_as(facts.info)
    # SCIM (issue 17): a directory-managed member's role follows their directory groups.
    violations = directory_role_violations(member=who if facts.managed else "", managed=facts.managed, by_directory=directory_sync or is_directory(actor))
    if before.status is not MemberStatus.DISABLED:
        violations += seat_check(state, new_role, moving_from=old_role)
    violations += _last_guardian(uow, state, actor, member_id, stays_guardian=_stays_guardian(state, new_role))
    if any(facts.assigned.values()):
        violations += assignments_kept_violations(state.schema, member=who, role_name=new_role.name, effective=_role_perms(state, new_role), assigned=facts.assigned)
    violations += role_escalation(state, actor, new_role, f"Role {quoted(new_role.name)}")
    violations += admin_escalation(state, actor, _role_perms(state, old_role), lambda: with_role(who, old_role))
    raise_if(violations)
    after = Member(before.id, role_id, before.status)
    if with_commit:
        uow.write_with_commit(*member_updating(workspace_id, after, now or utcnow()))
    else:
        uow.members.update(workspace_id, after)
    changed = record_change(uow, workspace_id, actor, "member.change_role", "member", member_id, member_json(before), member_json(after), state=state.changed(member=after), with_commit=with_commit)
    return RoleChange(changed, facts.info)


def disable_member(uow: UnitOfWork, *, actor: Actor, workspace_id: str, member_id: str) -> MemberChanged:
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_MEMBERS)
        before = state.member(member_id)
        if before.status is MemberStatus.DISABLED:
            return _changed(uow, workspace_id, member_id, state.workspace.revision)
        violations = self_disable_violations(state.schema, actor=actor.member_id or "", member=member_id)
        violations += in_use_violations(uow, state, member_id)
        violations += _last_guardian(uow, state, actor, member_id, stays_guardian=False)
        role = state.roles[before.role]
        violations += admin_escalation(state, actor, _role_perms(state, role), lambda: member_with_role(uow, state, member_id))
        raise_if(violations)
        after = Member(before.id, before.role, MemberStatus.DISABLED)
        uow.members.update(workspace_id, after)
        revision = record_change(uow, workspace_id, actor, "member.disable", "member", member_id, member_json(before), member_json(after))
        done = _changed(uow, workspace_id, member_id, revision)
        uow.commit()
        return done


def enable_member(uow: UnitOfWork, *, actor: Actor, workspace_id: str, member_id: str) -> MemberChanged:
    """Enabling takes a seat again: there must be one free."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_MEMBERS)
        before = state.member(member_id)
        if before.status is not MemberStatus.DISABLED:
            return _changed(uow, workspace_id, member_id, state.workspace.revision)
        role = state.roles[before.role]
        raise_if(seat_check(state, role) + admin_escalation(state, actor, _role_perms(state, role), lambda: member_with_role(uow, state, member_id)))
        info = uow.members.get(workspace_id, member_id)
        # T4: someone who never accepted their invitation goes back to invited, not active.
        status = MemberStatus.ACTIVE if info is not None and info.activated_at is not None else MemberStatus.INVITED
        after = Member(before.id, before.role, status)
        uow.members.update(workspace_id, after)
        revision = record_change(uow, workspace_id, actor, "member.enable", "member", member_id, member_json(before), member_json(after))
        done = _changed(uow, workspace_id, member_id, revision)
        uow.commit()
        return done


@dataclass(frozen=True, slots=True)
class MemberDeleted:
    """A member removed from the workspace: who they were, and the revision after it."""

    member: MemberInfo
    revision: int


def delete_member(uow: UnitOfWork, *, actor: Actor, workspace_id: str, member_id: str) -> MemberDeleted:
    """N12, E7: the member leaves the workspace and their seat is free. The person's
    identity (their login, `users` row) is never deleted: other workspaces, sites, the
    audit log and sessions may refer to it, and the same email can be invited again.
    Refused, naming what to move first, for oneself (C5), while records are assigned
    to them or the host product names them (N9, C6: `POST .../transfer`), for the last
    administrator/owner (C4, T11), and for a member holding more than the actor (E7).
    An open invitation of theirs is revoked with them. Audited as `member.delete`."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_MEMBERS)
        before = state.member(member_id)
        info = written_members(uow, workspace_id, member_id)[0]
        violations = self_removal_violations(state.schema, actor=actor.member_id or "", member=member_id)
        violations += in_use_violations(uow, state, member_id)
        violations += _last_guardian(uow, state, actor, member_id, stays_guardian=False)
        role = state.roles[before.role]
        violations += admin_escalation(state, actor, _role_perms(state, role), lambda: member_with_role(uow, state, member_id))
        raise_if(violations)
        invitation = uow.invitations.open_for_member(workspace_id, member_id)
        if invitation is not None:
            uow.invitations.close(workspace_id, invitation.id, revoked_at=utcnow())
        uow.team.delete_member(workspace_id, member_id)
        data = member_json(before, info.email) | {"name": info.name, "user": info.user_id}
        revision = record_change(uow, workspace_id, actor, "member.delete", "member", member_id, data, None)
        uow.commit()
    return MemberDeleted(info, revision)
