"""Seats: which paid pool a role consumes (N1, N2, K2, T5), and capacity."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rolegate.domain.roles import Member, MemberStatus, Role
from rolegate.domain.schema import ProductSchema
from rolegate.domain.violations import Violation

__all__ = ["seat_of", "seat_usage", "seat_violations"]


def seat_of(schema: ProductSchema, role: Role) -> str | None:
    """The seat a holder of `role` consumes: its level's seat (N2: the level follows
    the marker permission, so a role with the CSM seat permission takes a CSM seat)."""
    return schema.levels[schema.level_for(role.level, role.grants)].seat


def seat_usage(schema: ProductSchema, roles: Mapping[str, Role], members: Iterable[Member]) -> dict[str, int]:
    """Seats in use per seat type. Invited members hold a seat (reserved for them);
    disabled members free theirs."""
    used = dict.fromkeys(schema.seats, 0)
    for m in members:
        if m.status is MemberStatus.DISABLED:
            continue
        seat = seat_of(schema, roles[m.role])
        if seat is not None:
            used[seat] += 1
    return used


def seat_violations(schema: ProductSchema, seat: str | None, *, used: int, capacity: int | None, extra: int = 1) -> list[Violation]:
    """Taking `extra` more seats of `seat` must fit its capacity (None: unlimited)."""
    if seat is None or capacity is None or used + extra <= capacity:
        return []
    spec = schema.seats[seat]
    return [Violation(spec.rule or "seats", f"No free {spec.label}: {used} of {capacity} in use.", f"Free a {spec.label} or raise the capacity.")]
