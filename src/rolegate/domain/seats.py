"""Seats: which paid pool a role consumes (N1, N2, K2, T5), and capacity."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rolegate.domain.roles import Member, MemberStatus, Role
from rolegate.domain.schema import ProductSchema
from rolegate.domain.violations import Violation

__all__ = ["SeatHolders", "seat_holders", "seat_of", "seat_rule", "seat_usage", "seat_violations"]


def seat_of(schema: ProductSchema, role: Role) -> str | None:
    """The seat a holder of `role` consumes: its level's seat (N2: the level follows
    the marker permission, so a role with the CSM seat permission takes a CSM seat)."""
    return schema.levels[schema.level_for(role.level, role.grants)].seat


@dataclass(frozen=True, slots=True)
class SeatHolders:
    """T3: active and invited members of a seat type, counted apart; both hold a seat."""

    active: int = 0
    invited: int = 0

    @property
    def used(self) -> int:
        return self.active + self.invited


def seat_holders(schema: ProductSchema, roles: Mapping[str, Role], members: Iterable[Member]) -> dict[str, SeatHolders]:
    """Per seat type, its active and invited holders. Invited members hold a seat
    (reserved for them); disabled members free theirs."""
    active = dict.fromkeys(schema.seats, 0)
    invited = dict.fromkeys(schema.seats, 0)
    for m in members:
        if m.status is MemberStatus.DISABLED:
            continue
        seat = seat_of(schema, roles[m.role])
        if seat is not None:
            (invited if m.status is MemberStatus.INVITED else active)[seat] += 1
    return {key: SeatHolders(active[key], invited[key]) for key in schema.seats}


def seat_usage(schema: ProductSchema, roles: Mapping[str, Role], members: Iterable[Member]) -> dict[str, int]:
    """Seats in use per seat type (active and invited holders)."""
    return {key: holders.used for key, holders in seat_holders(schema, roles, members).items()}


def seat_rule(schema: ProductSchema, seat: str) -> str:
    """The code a full `seat` is refused with: the seat's own rule (N1, K2), else `seats`."""
    return schema.seats[seat].rule or "seats"


def seat_violations(schema: ProductSchema, seat: str | None, *, used: int, capacity: int | None, extra: int = 1) -> list[Violation]:
    """Taking `extra` more seats of `seat` must fit its capacity (None: unlimited)."""
    if seat is None or capacity is None or used + extra <= capacity:
        return []
    spec = schema.seats[seat]
    return [Violation(seat_rule(schema, seat), f"No free {spec.label}: {used} of {capacity} in use.", f"Free a {spec.label} or raise the capacity.")]
