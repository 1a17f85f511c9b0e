"""A member's role change on the Team page, before it is made (issue 15, item 1): the
permissions the member gains and loses, area by area, the seat they use afterwards,
and whether the change would be refused (the real use case, `change_member_role`, run
in a transaction that is rolled back: the answer is the one confirming gives)."""

from __future__ import annotations

from dataclasses import dataclass

from rolegate.domain.errors import NotFoundError
from rolegate.domain.permissions import role_permissions
from rolegate.domain.role_change import AreaChange, SeatMove, permission_changes, roles_offered, seat_move
from rolegate.domain.roles import Role
from rolegate.domain.schema import AdminRight, ProductSchema
from rolegate.domain.workspace import Actor
from rolegate.services.context import authorize, load_state
from rolegate.services.members import change_member_role
from rolegate.services.role_preview import Refusal, dry_run
from rolegate.store.repositories import MemberInfo
from rolegate.store.uow import UnitOfWork

__all__ = ["MemberRolePreview", "member_role_preview"]


@dataclass(frozen=True, slots=True)
class MemberRolePreview:
    """The member, their role now (`before`) and the one chosen (`after`, the same when
    none is chosen yet), what changes, and the roles the picker offers (for the only
    administrator, only those that keep them one: `roles_offered`)."""

    schema: ProductSchema
    member: MemberInfo
    before: Role
    after: Role
    changes: tuple[AreaChange, ...]
    seat: SeatMove
    refusal: Refusal
    roles: tuple[Role, ...]
    revision: int

    @property
    def chosen(self) -> bool:
        return self.after.id != self.before.id

    @property
    def name(self) -> str:
        """The member as the team knows them: their name, else their email."""
        return self.member.name or self.member.email


def member_role_preview(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, member_id: str, role_id: str | None = None
) -> MemberRolePreview:
    """What giving `member_id` the role `role_id` would change (None: their own role,
    nothing yet). Seeing it needs the view-roles right, as the Team page does; the dry
    run says when the actor may not assign roles. Changes nothing."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_ROLES)
        member = state.member(member_id)
        info = uow.members.get(workspace_id, member_id)
    if info is None:  # pragma: no cover - state.member refused an unknown member above
        raise NotFoundError(f"no member {member_id!r}", decision=None, fix="Check the member id.")
    schema, feats = state.schema, state.workspace.features
    before = state.roles[member.role]
    after = state.role(role_id) if role_id else before
    changes = permission_changes(schema, role_permissions(schema, before, feats), role_permissions(schema, after, feats))
    seat = seat_move(schema, state.roles, state.members, member=member, role=after, capacities=state.workspace.seat_capacities)
    refusal = Refusal()
    if after.id != before.id:
        refusal = dry_run(
            uow,
            lambda dry: change_member_role(dry, actor=actor, workspace_id=workspace_id, member_id=member_id, role_id=after.id),
        )
    return MemberRolePreview(
        schema, info, before, after, changes, seat, refusal,
        roles_offered(schema, state.roles, state.members, member=member, features=feats), state.workspace.revision,
    )
