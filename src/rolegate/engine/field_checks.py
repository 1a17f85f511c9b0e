"""What the engine answers about fields: a write check that names every field a change
may not touch, and a member's visible fields on one object (K9, K11, K12)."""

from __future__ import annotations

from dataclasses import dataclass

from rolegate.domain.field_usage import UsageVerdict
from rolegate.domain.schema import FieldAccess

__all__ = ["FieldRefusal", "FieldVisibility", "WriteCheck"]


@dataclass(frozen=True, slots=True)
class FieldRefusal:
    field: str
    access: FieldAccess
    """What the member has on the field (none or read)."""
    rule_id: str
    message: str


@dataclass(frozen=True, slots=True)
class WriteCheck:
    """May the member write every field of a change? `refused` names each one that it
    may not, with the rule and the reason; `allowed` is true when none is refused."""

    object_type: str
    allowed: bool
    writable: tuple[str, ...]
    refused: tuple[FieldRefusal, ...]
    revision: int

    @property
    def refused_fields(self) -> tuple[str, ...]:
        return tuple(r.field for r in self.refused)


@dataclass(frozen=True, slots=True)
class FieldVisibility:
    """What a member sees of one object: for filters, segments, layouts, notes and
    dashboard modules (K12). `access` lists every declared field, hidden ones as none."""

    object_type: str
    readable: frozenset[str]
    writable: frozenset[str]
    access: tuple[tuple[str, FieldAccess], ...]
    uses: tuple[UsageVerdict, ...]
    revision: int

    @property
    def read_only(self) -> frozenset[str]:
        return self.readable - self.writable
