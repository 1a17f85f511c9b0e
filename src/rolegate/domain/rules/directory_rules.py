"""Rules of directory provisioning (SCIM, issue 17): which one role a person in several
mapped groups gets, what deprovisioning does where the product forbids disabling, and
who changes a directory-managed member's role.

Pure functions over plain inputs; `services/scim.py` feeds them from the store.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from rolegate.domain.roles import Role
from rolegate.domain.schema import ProductSchema
from rolegate.domain.violations import Violation
from rolegate.domain.workspace import Actor

__all__ = [
    "DIRECTORY_MANAGED",
    "Deprovision",
    "GroupRole",
    "deprovision_outcome",
    "directory_role",
    "directory_actor",
    "directory_role_violations",
    "is_directory",
]

DIRECTORY_MANAGED = "directory_managed"
"""A product-neutral code: the member's role belongs to the directory (no seed rule has it)."""


_DIRECTORY = "scim:"


def directory_actor(key_prefix: str) -> Actor:
    """The directory calling with the SCIM key `key_prefix`: the platform acting, named
    `platform:scim:<prefix>` in the audit log (whose key made the change)."""
    return Actor.system(f"{_DIRECTORY}{key_prefix}")


def is_directory(actor: Actor) -> bool:
    return actor.is_platform and (actor.platform or "").startswith(_DIRECTORY)


@dataclass(frozen=True, slots=True)
class GroupRole:
    """A directory group the workspace maps to a role. Among groups whose roles have the
    same level rank, the smaller `priority` wins (1 before 2)."""

    group: str
    role_id: str
    priority: int = 0


def directory_role(
    schema: ProductSchema,
    roles: Mapping[str, Role],
    mappings: Sequence[GroupRole],
    groups: Collection[str],
    *,
    default: str,
) -> str:
    """The one role of a member of `groups` (group names, compared case-insensitively):
    of the mapped groups they are in, the role of the highest level rank in the product
    schema; then the smallest configured priority; then the group name, so the answer
    never depends on the order the directory sent. No mapped group: `default` (the
    workspace's default role). A mapping to a role the workspace no longer has is ignored."""
    mine = {g.casefold() for g in groups}
    candidates = [m for m in mappings if m.group.casefold() in mine and m.role_id in roles]
    if not candidates:
        return default

    def order(m: GroupRole) -> tuple[int, int, str]:
        role = roles[m.role_id]
        rank = schema.levels[schema.level_for(role.level, role.grants)].rank
        return (-rank, m.priority, m.group.casefold())

    return min(candidates, key=order).role_id


class Deprovision(StrEnum):
    """What `active=false` or DELETE from the directory does to a member."""

    DISABLE = "disable"
    """No blocker: the member is disabled (DELETE: removed), their seat freed."""
    SUSPEND = "suspend"
    """The product forbids disabling them (C6: accounts or references name them; N9:
    records assigned): they are disabled all the same, since the directory says they
    left, and flagged for their work to be transferred; nothing they hold is moved."""


def deprovision_outcome(blockers: Sequence[Violation]) -> Deprovision:
    """`blockers`: what a manual disable would be refused by (`disable_blockers`)."""
    return Deprovision.SUSPEND if blockers else Deprovision.DISABLE


def directory_role_violations(*, member: str, managed: bool, by_directory: bool) -> list[Violation]:
    """A directory-managed member's role follows their groups: a manual change would be
    overwritten by the next sync, so it is refused (change the groups in the directory,
    or its group -> role mapping). The directory itself changes it. `member`: the
    member as the team knows them (name or email)."""
    if not managed or by_directory:
        return []
    return [
        Violation(
            DIRECTORY_MANAGED,
            f"{member} is managed by your directory: their role follows their directory groups.",
            "Change their groups in your identity provider, or the workspace's group-to-role mapping.",
        )
    ]
