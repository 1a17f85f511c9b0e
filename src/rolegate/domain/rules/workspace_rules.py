"""A workspace's settings: the features it turns on (E4) and the capacity of each seat
(N1, K2), checked against its product schema and the seats in use."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rolegate.domain.schema import ProductSchema
from rolegate.domain.violations import Violation

__all__ = ["capacity_violations", "feature_violations", "seat_key_violations"]


def feature_violations(schema: ProductSchema, features: Iterable[str], *, fix: str) -> list[Violation]:
    """E4: only the product's own features can be turned on."""
    unknown = sorted(frozenset(features) - schema.features.keys())
    if not unknown:
        return []
    return [Violation(schema.rule("feature_unknown"), f"Unknown features: {', '.join(unknown)}.", fix)]


def seat_key_violations(schema: ProductSchema, seats: Iterable[str], *, fix: str) -> list[Violation]:
    """N1: only the product's own seats have a capacity."""
    unknown = sorted(frozenset(seats) - schema.seats.keys())
    if not unknown:
        return []
    return [Violation(schema.rule("seat_unknown"), f"Unknown seats: {', '.join(unknown)}.", fix)]


def capacity_violations(
    schema: ProductSchema, capacities: Mapping[str, int | None], *, used: Mapping[str, int]
) -> list[Violation]:
    """N1, K2: a seat's capacity can shrink only down to the seats in use (None: unlimited);
    unknown seats are `seat_key_violations`' to name."""
    out: list[Violation] = []
    for seat, cap in capacities.items():
        if seat in schema.seats and cap is not None and (cap < 0 or used.get(seat, 0) > cap):
            out.append(
                Violation(
                    schema.seats[seat].rule or schema.rule("seat_capacity"),
                    f"{seat}: {used.get(seat, 0)} in use, capacity {cap} is too small.",
                    "Free seats first (disable members or change roles).",
                )
            )
    return out
