"""Effective permissions: `(grants | floor) & ceiling`, minus feature-gated ones whose
feature is off (E5), minus those whose requirements are not effective (E6), to a fixed
point. Each permission also gets the reason it is or is not effective, for `explain`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from rolegate.domain.roles import Role
from rolegate.domain.schema import ProductSchema

__all__ = [
    "PermissionState",
    "PermissionStatus",
    "effective_permissions",
    "locked_permissions",
    "privileges",
    "resolve_permissions",
    "role_permissions",
]


class PermissionStatus(StrEnum):
    EFFECTIVE = "effective"
    NOT_GRANTED = "not_granted"
    ABOVE_CEILING = "above_ceiling"
    FEATURE_OFF = "feature_off"
    REQUIREMENT_MISSING = "requirement_missing"
    SYSTEM_ONLY = "system_only"


@dataclass(frozen=True, slots=True)
class PermissionState:
    permission: str
    status: PermissionStatus
    from_floor: bool = False
    missing: tuple[str, ...] = ()
    """REQUIREMENT_MISSING: the requirements that are not effective."""

    @property
    def effective(self) -> bool:
        return self.status is PermissionStatus.EFFECTIVE


def resolve_permissions(
    schema: ProductSchema, level: str, grants: frozenset[str], features: frozenset[str], *, system_role: bool = True
) -> Mapping[str, PermissionState]:
    """The state of every permission of the schema for a role of `level` granting `grants`.

    A custom role (`system_role=False`) never holds a `system_only` permission (E7), even
    if one was stored on it: only saving a role refuses it, so deciding must ignore it too."""
    lv = schema.levels[level]
    held = grants | lv.floor
    states: dict[str, PermissionState] = {}
    live: set[str] = set()
    for key, perm in schema.permissions.items():
        floor = key in lv.floor
        if key not in held:
            states[key] = PermissionState(key, PermissionStatus.NOT_GRANTED)
        elif key not in lv.ceiling:
            states[key] = PermissionState(key, PermissionStatus.ABOVE_CEILING, floor)
        elif perm.system_only and not system_role:
            states[key] = PermissionState(key, PermissionStatus.SYSTEM_ONLY, floor)
        elif perm.feature is not None and perm.feature not in features:
            states[key] = PermissionState(key, PermissionStatus.FEATURE_OFF, floor)
        else:
            live.add(key)
    # E6: drop what needs a permission that is not live, until nothing changes.
    changed = True
    while changed:
        changed = False
        for key in sorted(live):
            missing = schema.permissions[key].requires - live
            if missing:
                live.discard(key)
                states[key] = PermissionState(
                    key, PermissionStatus.REQUIREMENT_MISSING, key in lv.floor, tuple(sorted(missing))
                )
                changed = True
    for key in live:
        states[key] = PermissionState(key, PermissionStatus.EFFECTIVE, key in lv.floor)
    return states


def effective_permissions(
    schema: ProductSchema, level: str, grants: frozenset[str], features: frozenset[str], *, system_role: bool = True
) -> frozenset[str]:
    states = resolve_permissions(schema, level, grants, features, system_role=system_role)
    return frozenset(k for k, s in states.items() if s.effective)


def role_permissions(schema: ProductSchema, role: Role, features: frozenset[str]) -> frozenset[str]:
    """The effective permissions of `role` in a workspace with `features`."""
    return effective_permissions(schema, role.level, role.grants, features, system_role=role.is_system)


def locked_permissions(schema: ProductSchema, level: str, *, system_role: bool) -> frozenset[str]:
    """T7: what a role of `level` holds whatever it grants, so an editor shows it on and
    fixed: the level's floor within its ceiling, less what only system roles may hold
    when the role is custom (E7)."""
    lv = schema.levels[level]
    return frozenset(k for k in lv.floor & lv.ceiling if system_role or not schema.permissions[k].system_only)


def privileges(schema: ProductSchema, perms: frozenset[str]) -> frozenset[str]:
    """What of `perms` is a privilege for the no-escalation rule: all but the permissions
    whose only effect is the seat they take (N12: whoever adds, deletes and modifies users
    adds CSMs without holding the Customer Success Manager Seat). Seat rules still apply."""
    return frozenset(p for p in perms if not schema.permissions[p].seat_only)
