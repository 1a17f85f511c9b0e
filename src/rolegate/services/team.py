"""The team as a whole: the members list with filters (status, role, seat type),
seat usage, moving a member's work to another member (N9), and ownership transfer (T11)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rolegate.domain.errors import NotFoundError
from rolegate.domain.paging import DEFAULT_PAGE_SIZE, creation_key, page_of
from rolegate.domain.permissions import role_permissions
from rolegate.domain.role_change import roles_offered
from rolegate.domain.roles import Member, MemberStatus, Role
from rolegate.domain.rules.ownership_rules import (
    ownership_giver_violations,
    ownership_kept_violations,
    ownership_receiver_violations,
)
from rolegate.domain.rules.team_rules import assignee_violations, guardians_after, is_guardian, self_transfer_violations
from rolegate.domain.schema import AdminRight, ProductSchema
from rolegate.domain.seats import seat_holders, seat_of, seat_usage, seat_violations
from rolegate.domain.violations import Violation
from rolegate.domain.words import quoted
from rolegate.domain.workspace import Actor
from rolegate.services.context import (
    WorkspaceState,
    admin_escalation,
    authorize,
    load_state,
    member_name,
    raise_if,
    record_change,
    role_escalation,
)
from rolegate.services.members import member_json, written_members
from rolegate.store.repositories import MemberInfo
from rolegate.store.repositories_scim import DirectoryFlags
from rolegate.store.repositories_team import InvitationRow, ReferenceRow
from rolegate.store.uow import UnitOfWork

__all__ = [
    "MemberList",
    "OwnershipTransferred",
    "RemovalView",
    "SeatCount",
    "TeamMember",
    "TeamView",
    "Transferred",
    "list_members",
    "removal_view",
    "read_member",
    "team_view",
    "transfer_ownership",
    "transfer_records",
]


@dataclass(frozen=True, slots=True)
class TeamMember:
    info: MemberInfo
    role_name: str
    seat: str | None
    invitation: InvitationRow | None
    assigned: int
    references: tuple[ReferenceRow, ...] = ()
    """C6: the places of the host product that name the member (a playbook task ...)."""
    directory: DirectoryFlags | None = None
    """SCIM (issue 17): managed by the workspace's directory, or suspended by it."""
    sole_guardian: bool = False
    """The workspace's only active administrator (C4, T11, K13, N12, E1): disabling or
    deleting them is not offered, nor a role that would demote them."""
    other_roles: int = 0
    """How many roles besides their own the member may be given (`roles_offered`)."""


@dataclass(frozen=True, slots=True)
class SeatCount:
    """T3: active and invited members are counted apart; both hold a seat."""

    key: str
    label: str
    active: int
    invited: int
    capacity: int | None

    @property
    def used(self) -> int:
        return self.active + self.invited


@dataclass(frozen=True, slots=True)
class TeamView:
    """The Team page: the members the filters keep, every active member (transfers and
    ownership go to any of them, whatever the filters show), seats, and the roles."""

    schema: ProductSchema
    roles: tuple[Role, ...]
    members: list[TeamMember]
    active: list[TeamMember]
    seats: list[SeatCount]
    revision: int
    guardian: str = ""
    """Who the workspace must keep one of, in the product's words ("Administrator")."""
    guardians: frozenset[str] = frozenset()
    """The active guardians' member ids: who may hand ownership on (T11)."""


def _guardian_name(schema: ProductSchema) -> str:
    g = schema.guardian
    if g.role is not None and g.role in schema.system_roles:
        return schema.system_roles[g.role].name
    if g.level is not None and g.level in schema.levels:
        return f"member with the {schema.levels[g.level].label} {schema.words.level.lower()}"
    return "administrator"


def _seats(state: WorkspaceState) -> list[SeatCount]:
    schema = state.schema
    out = []
    holders = seat_holders(schema, state.roles, state.members)
    for key, spec in schema.seats.items():
        out.append(SeatCount(key, spec.label, holders[key].active, holders[key].invited, state.workspace.seat_capacities.get(key)))
    return out


def team_view(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, status: str | None = None, role: str | None = None, seat: str | None = None
) -> TeamView:
    """The members (filtered), their open invitations and assigned records, and seat
    usage. Seeing the team needs the view-roles right (T10), as the members list does."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_ROLES)
        infos = uow.members.all(workspace_id)
        invitations = {inv.member_id: inv for inv in uow.invitations.all(workspace_id, open_only=True)}
        assigned = uow.team.assigned_counts(workspace_id)
        references: dict[str, list[ReferenceRow]] = {}
        for ref in uow.team.references(workspace_id):
            references.setdefault(ref.member_id, []).append(ref)
        directory = uow.scim.flags(workspace_id)
    schema, features = state.schema, state.workspace.features
    guardians = guardians_after(schema, state.members, state.roles, features)
    everyone = []
    for info in infos:
        r = state.roles[info.member.role]
        mid = info.member.id
        offered = roles_offered(schema, state.roles, state.members, member=info.member, features=features)
        everyone.append(
            TeamMember(
                info, r.name, seat_of(schema, r), invitations.get(mid), assigned.get(mid, 0), tuple(references.get(mid, ())), directory.get(mid),
                sole_guardian=guardians == {mid}, other_roles=sum(o.id != r.id for o in offered),
            )
        )  # fmt: skip
    members = [
        m
        for m in everyone
        if (status is None or m.info.member.status.value == status) and (role is None or m.info.member.role == role) and (seat is None or m.seat == seat)
    ]
    active = [m for m in everyone if m.info.member.status is MemberStatus.ACTIVE]
    return TeamView(
        schema, tuple(state.roles.values()), members, active, _seats(state), state.workspace.revision, _guardian_name(schema), frozenset(guardians)
    )


@dataclass(frozen=True, slots=True)
class RemovalView:
    """The page confirming a member's deletion (N12, E7): who, and what still names
    them (records, references: C6), to transfer first; `others` may receive them."""

    member: TeamMember
    others: tuple[TeamMember, ...]
    schema: ProductSchema


def removal_view(uow: UnitOfWork, *, actor: Actor, workspace_id: str, member_id: str) -> RemovalView:
    """The member as the Team page shows them, with the active members who may receive their work."""
    view = team_view(uow, actor=actor, workspace_id=workspace_id)
    found = next((m for m in view.members if m.info.member.id == member_id), None)
    if found is None:
        raise NotFoundError(f"no member {member_id!r}", decision=None, fix="Check the member id.")
    return RemovalView(found, tuple(m for m in view.active if m.info.member.id != member_id), view.schema)


@dataclass(frozen=True, slots=True)
class MemberList:
    members: tuple[MemberInfo, ...]
    revision: int
    next_cursor: str | None = None


def read_member(uow: UnitOfWork, *, actor: Actor, workspace_id: str, member_id: str) -> MemberList:
    """One member (the view-roles right, as for the list; 404 for an id not of this
    workspace): a MemberList of that member alone, with the revision."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_ROLES)
        state.member(member_id)
        return MemberList(tuple(written_members(uow, workspace_id, member_id)), state.workspace.revision)


def list_members(
    uow: UnitOfWork,
    *,
    actor: Actor,
    workspace_id: str,
    status: str | None = None,
    role: str | None = None,
    seat: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> MemberList:
    """A page of the members the filters keep (`team_view`'s), in the order they were
    added, and the cursor of the next page when more follow."""
    view = team_view(uow, actor=actor, workspace_id=workspace_id, status=status, role=role, seat=seat)
    page = page_of((m.info for m in view.members), key=lambda i: creation_key(i.created_at, i.member.id), cursor=cursor, limit=limit)
    return MemberList(page.items, view.revision, page.next_cursor)


@dataclass(frozen=True, slots=True)
class Transferred:
    records: dict[str, int]
    references: int
    revision: int
    receiver: str = ""
    """Who received them, as the team knows them (name, else email)."""

    @property
    def moved(self) -> int:
        return sum(self.records.values())


def transfer_records(uow: UnitOfWork, *, actor: Actor, workspace_id: str, from_member: str, to_member: str) -> Transferred:
    """N9: every record assigned to `from_member`, and every playbook task naming them
    (C6), goes to `to_member` in one transaction; the receiver must be an active member
    whose role may hold each type of record. Afterwards `from_member` can be disabled
    (C6) or their role deleted (N7)."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.ASSIGN_RECORDS)
        source = state.member(from_member)
        target = state.member(to_member)
        raise_if(self_transfer_violations(state.schema, source=source.id, target=target.id))
        by_type = uow.team.assigned_by_type(workspace_id, source.id)
        eff = role_permissions(state.schema, state.roles[target.role], state.workspace.features)
        violations: list[Violation] = []
        for otype in sorted(by_type):
            violations += assignee_violations(state.schema, object_type=otype, member="", effective=eff, active=target.is_active)
        if violations:  # named as the team knows them, looked up for the refusal only
            who = member_name(uow, workspace_id, target.id)
            violations = [v for o in sorted(by_type) for v in assignee_violations(state.schema, object_type=o, member=who, effective=eff, active=target.is_active)]
        raise_if(violations)
        references = uow.members.references(workspace_id, source.id)
        moved = uow.team.reassign_records(workspace_id, source.id, target.id)
        moved_refs = uow.team.move_references(workspace_id, source.id, target.id)
        got = uow.members.get(workspace_id, target.id)
        receiver = (got.name or got.email) if got is not None else ""
        if not moved and not moved_refs:
            return Transferred({}, 0, state.workspace.revision, receiver)
        revision = record_change(
            uow, workspace_id, actor, "member.transfer", "member", source.id,
            {"member": source.id, "records": by_type, "references": references},
            {"member": target.id, "records": by_type, "references": references},
        )  # fmt: skip
        uow.commit()
    return Transferred(by_type, moved_refs, revision, receiver)


@dataclass(frozen=True, slots=True)
class OwnershipTransferred:
    owner: MemberInfo
    former_owner: MemberInfo
    revision: int


def transfer_ownership(uow: UnitOfWork, *, actor: Actor, workspace_id: str, to_member: str, new_role: str) -> OwnershipTransferred:
    """T11: an owner (the preset's guardian: Owner license, Administrator profile) hands
    their role to another active member and takes `new_role`, in one change: the
    workspace has an owner before, during and after."""
    with uow:
        state = load_state(uow, workspace_id)
        schema, features = state.schema, state.workspace.features
        me = state.member(actor.member_id) if actor.member_id is not None else None
        my_role = state.roles[me.role] if me is not None else None
        owner = my_role is not None and is_guardian(schema, my_role, role_permissions(schema, my_role, features))
        raise_if(ownership_giver_violations(schema, giver=me, giver_is_owner=owner))
        assert me is not None  # ownership_giver_violations refused otherwise
        assert my_role is not None
        target = state.member(to_member)
        later = state.role(new_role)
        who = member_name(uow, workspace_id, target.id) if not target.is_active else ""
        raise_if(ownership_receiver_violations(schema, giver=me, receiver=target, who=who))
        after = [Member(m.id, my_role.id if m.id == target.id else (later.id if m.id == me.id else m.role), m.status) for m in state.members]
        violations = _seat_violations(state, after)
        violations += admin_escalation(state, actor, role_permissions(schema, state.roles[target.role], features), lambda: member_name(uow, workspace_id, target.id))
        # The new owner gets the actor's own role, which the actor holds by definition;
        # the role the actor takes in exchange is given like any other (permissions and
        # field access): an owner with narrow field access cannot widen it this way.
        violations += role_escalation(state, actor, later, f"Role {quoted(later.name)}")
        owners_before = len(guardians_after(schema, state.members, state.roles, features))
        owners_after = len(guardians_after(schema, after, state.roles, features))
        violations += ownership_kept_violations(schema, owners_before=owners_before, owners_after=owners_after)
        raise_if(violations)
        new_owner = Member(target.id, my_role.id, target.status)
        former = Member(me.id, later.id, me.status)
        uow.members.update(workspace_id, new_owner)
        uow.members.update(workspace_id, former)
        payload: dict[str, Any] = {"owner": member_json(new_owner), "former_owner": member_json(former)}
        revision = record_change(uow, workspace_id, actor, "workspace.transfer_ownership", "member", target.id, {"owner": member_json(me), "member": member_json(target)}, payload)
        written = written_members(uow, workspace_id, new_owner.id, former.id)
        uow.commit()
    return OwnershipTransferred(written[0], written[1], revision)


def _seat_violations(state: WorkspaceState, after: list[Member]) -> list[Violation]:
    """N1, K2: a seat type the exchange uses more of needs a free seat."""
    before_use = seat_usage(state.schema, state.roles, state.members)
    out: list[Violation] = []
    for seat, used in seat_usage(state.schema, state.roles, after).items():
        if used > before_use.get(seat, 0):
            out += seat_violations(state.schema, seat, used=used - 1, capacity=state.workspace.seat_capacities.get(seat))
    return out
