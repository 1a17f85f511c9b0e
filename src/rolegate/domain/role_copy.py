"""What copying a role into another workspace of the site would do there (E9): the
permissions that would be inert (feature off there, E5), the level, what its holders
would gain or lose, and the seats it would take. Pure: the service gathers the inputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rolegate.domain.permissions import PermissionStatus, resolve_permissions, role_permissions
from rolegate.domain.roles import Role
from rolegate.domain.schema import ProductSchema
from rolegate.domain.seats import seat_of
from rolegate.domain.violations import NAME_TAKEN, Violation
from rolegate.domain.words import count_of, quoted

__all__ = ["CopyPreview", "copy_choice_violations", "copy_name_violations", "copy_preview", "copy_source_violations"]


@dataclass(frozen=True, slots=True)
class CopyPreview:
    """One target workspace. `action` is create (no role of that name there), update
    (a custom role of that name is overwritten), unchanged, or refused (see violations)."""

    workspace_id: str
    workspace_name: str
    action: str
    level: str
    level_before: str | None = None
    inert: tuple[str, ...] = ()
    gained: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    holders: int = 0
    seat: str | None = None
    seat_before: str | None = None
    seats_used: int = 0
    seat_capacity: int | None = None
    violations: tuple[Violation, ...] = field(default=())

    @property
    def refused(self) -> bool:
        return bool(self.violations)

    @property
    def seat_impact(self) -> str:
        """In words: which seat its holders take, and what that does to the pool."""
        if self.seat is None:
            return "takes no seat"
        cap = "unlimited" if self.seat_capacity is None else str(self.seat_capacity)
        if self.holders and self.seat != self.seat_before:
            return f"{count_of(self.holders, 'holder')} move to the {self.seat} seat: {self.seats_used + self.holders} of {cap} in use"
        if self.action == "create":
            return f"each member given it takes a {self.seat} seat ({self.seats_used} of {cap} in use)"
        return f"{self.seat} seat, no change ({self.seats_used} of {cap} in use)"


def copy_preview(
    schema: ProductSchema,
    role: Role,
    *,
    workspace_id: str,
    workspace_name: str,
    features: frozenset[str],
    existing: Role | None,
    holders: int,
    seats_used: dict[str, int],
    seat_capacities: dict[str, int | None],
    violations: list[Violation],
) -> CopyPreview:
    states = resolve_permissions(schema, role.level, role.grants, features, system_role=False)
    inert = tuple(sorted(k for k, s in states.items() if s.status is PermissionStatus.FEATURE_OFF))
    after = role_permissions(schema, role, features)
    before = role_permissions(schema, existing, features) if existing is not None else frozenset()
    seat = seat_of(schema, role)
    seat_before = seat_of(schema, existing) if existing is not None else None
    if violations:
        action = "refused"
    elif existing is None:
        action = "create"
    elif (
        existing.level,
        existing.grants,
        existing.landing_page,
        existing.description,
        dict(existing.field_access),
    ) == (
        role.level,
        role.grants,
        role.landing_page,
        role.description,
        dict(role.field_access),
    ):
        action = "unchanged"
    else:
        action = "update"
    return CopyPreview(
        workspace_id=workspace_id,
        workspace_name=workspace_name,
        action=action,
        level=role.level,
        level_before=existing.level if existing is not None else None,
        inert=inert,
        gained=tuple(sorted(after - before)) if existing is not None else (),
        lost=tuple(sorted(before - after)),
        holders=holders,
        seat=seat,
        seat_before=seat_before,
        seats_used=seats_used.get(seat, 0) if seat is not None else 0,
        seat_capacity=seat_capacities.get(seat) if seat is not None else None,
        violations=tuple(violations),
    )


def copy_source_violations(schema: ProductSchema, role: Role) -> list[Violation]:
    """E9: only custom roles are copied; every workspace of the preset has the system roles."""
    if not role.is_system:
        return []
    return [
        Violation(
            schema.rule("role_copy"),
            f"{quoted(role.name)} is a system role: every workspace of the preset has it already.",
            "Copy a custom role.",
        )
    ]


def copy_choice_violations(schema: ProductSchema, source_workspace_id: str, targets: Sequence[str]) -> list[Violation]:
    """E9: a copy goes to at least one workspace, and not to the one the role is in."""
    if not targets:
        return [Violation(schema.rule("role_copy"), "No workspace chosen.", "Tick the workspaces to copy the role to.")]
    if source_workspace_id in targets:
        return [
            Violation(
                schema.rule("role_copy"),
                "The role is already in this workspace.",
                "Choose other workspaces of the site, or clone the role.",
            )
        ]
    return []


def copy_name_violations(
    schema: ProductSchema, role: Role, *, target_name: str, existing: Role | None
) -> list[Violation]:
    """N8: a copy never overwrites a target's system role of the same name."""
    if existing is None or not existing.is_system:
        return []
    return [
        Violation(
            NAME_TAKEN,
            f"{quoted(target_name)} has a system role named {quoted(role.name)}.",
            "Rename the role before copying it.",
        )
    ]
