"""What giving a member another role changes for them, before it is given (issue 15,
item 1): the permissions they gain and lose, area by area in the schema's order, and
the seat they use afterwards with the usage of that seat type. Pure: the Team page's
preview (`services.member_role_preview`) reads the workspace and calls these."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rolegate.domain.permissions import role_permissions
from rolegate.domain.roles import Member, MemberStatus, Role
from rolegate.domain.rules.team_rules import guardians_after, is_guardian
from rolegate.domain.schema import Area, Permission, ProductSchema
from rolegate.domain.seats import seat_of, seat_usage

__all__ = ["AreaChange", "SeatMove", "permission_changes", "roles_offered", "seat_move"]


@dataclass(frozen=True, slots=True)
class AreaChange:
    """One area's permissions that become effective (`gained`) or stop being (`lost`)."""

    area: Area
    gained: tuple[Permission, ...]
    lost: tuple[Permission, ...]


def permission_changes(schema: ProductSchema, before: frozenset[str], after: frozenset[str]) -> tuple[AreaChange, ...]:
    """The difference between two sets of effective permissions, grouped by area; only
    areas where something changes, areas and permissions in the schema's order (the
    order the role editor shows them in)."""
    out = []
    for key, area in schema.areas.items():
        perms = [p for p in schema.permissions.values() if p.area == key]
        gained = tuple(p for p in perms if p.key in after and p.key not in before)
        lost = tuple(p for p in perms if p.key in before and p.key not in after)
        if gained or lost:
            out.append(AreaChange(area, gained, lost))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class SeatMove:
    """The seat a member uses before and after a role change, and the usage of the seat
    type they use afterwards (counting them). A disabled member uses no seat either way
    (enabling them takes one)."""

    before: str | None
    after: str | None
    used: int
    """Seats of `after` in use after the change (0 when `after` is None)."""
    capacity: int | None
    """The capacity of `after` (None: unlimited, or no seat)."""
    holds_seat: bool
    """False for a disabled member: the change moves no seat now."""

    @property
    def changes(self) -> bool:
        return self.holds_seat and self.before != self.after


def seat_move(
    schema: ProductSchema,
    roles: Mapping[str, Role],
    members: Iterable[Member],
    *,
    member: Member,
    role: Role,
    capacities: Mapping[str, int | None],
) -> SeatMove:
    """The seat `member` uses with their role and with `role` instead (N1, N2, T3)."""
    everyone = list(members)
    after_members = [Member(m.id, role.id, m.status) if m.id == member.id else m for m in everyone]
    after_seat = seat_of(schema, role)
    used = seat_usage(schema, {**roles, role.id: role}, after_members).get(after_seat, 0) if after_seat else 0
    return SeatMove(
        before=seat_of(schema, roles[member.role]),
        after=after_seat,
        used=used,
        capacity=capacities.get(after_seat) if after_seat else None,
        holds_seat=member.status is not MemberStatus.DISABLED,
    )


def roles_offered(
    schema: ProductSchema, roles: Mapping[str, Role], members: Iterable[Member], *, member: Member, features: frozenset[str]
) -> tuple[Role, ...]:
    """The roles a member may be given without leaving the workspace without a guardian
    (C4, T11, K13, N12, E1): every role, except for the only active guardian, who is
    offered only the roles that keep them one (their own among them). Offering no
    other role is how the Team page does not offer demoting the only administrator;
    the use case still refuses it (`guardian_violations`)."""
    guardians = guardians_after(schema, members, roles, features)
    if guardians != {member.id}:
        return tuple(roles.values())
    return tuple(r for r in roles.values() if is_guardian(schema, r, role_permissions(schema, r, features)))
