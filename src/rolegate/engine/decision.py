"""What the engine answers: a Decision with its reasons and the revision it used."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from rolegate.domain.schema import Scope

__all__ = ["Decision", "Explanation", "Reason", "ReasonCode"]


class ReasonCode(StrEnum):
    GRANTED = "granted"
    NARROWED = "narrowed"
    NO_PERMISSION = "no_permission"
    NOT_GRANTED = "not_granted"
    ABOVE_CEILING = "above_ceiling"
    FEATURE_OFF = "feature_off"
    REQUIREMENT_MISSING = "requirement_missing"
    NOT_VISIBLE = "not_visible"
    PARENT_NOT_ACCESSIBLE = "parent_not_accessible"
    RECORD_OUT_OF_SCOPE = "record_out_of_scope"
    RECORD_NOT_FOUND = "record_not_found"
    MEMBER_INACTIVE = "member_inactive"
    UNKNOWN_MEMBER = "unknown_member"


@dataclass(frozen=True, slots=True)
class Reason:
    code: ReasonCode
    message: str
    permission: str | None = None
    rule_id: str | None = None

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class Decision:
    """May the member perform `action` (on the record, if one was given)?

    Without a record, `scope` says on which records the action is granted.
    Decisions without a record are built once per role when a snapshot compiles,
    so `check` returns them without allocating.
    """

    action: str
    allowed: bool
    scope: Scope
    reasons: tuple[Reason, ...]
    revision: int
    object_type: str | None = field(default=None, repr=False)
    plan: tuple[tuple[int, int, bool], ...] = field(default=(), repr=False, compare=False)
    """Record constraints: (steps up to the assignment carrier, allowed Scope bits as an int,
    whether it is the action's own scope rather than an ancestor's visibility)."""

    def __bool__(self) -> bool:
        return self.allowed

    def to_json(self) -> dict[str, object]:
        return {
            "action": self.action,
            "allowed": self.allowed,
            "scope": self.scope.label,
            "reasons": [
                {"code": r.code.value, "message": r.message, "permission": r.permission, "rule": r.rule_id}
                for r in self.reasons
            ],
            "revision": self.revision,
        }


@dataclass(frozen=True, slots=True)
class Explanation:
    """`explain`: the decision and, in words, the chain that led to it."""

    decision: Decision
    member: str
    role: str | None
    level: str | None
    lines: tuple[str, ...]

    def __str__(self) -> str:
        return "\n".join(self.lines)
