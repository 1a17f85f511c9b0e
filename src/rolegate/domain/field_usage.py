"""K12: where a field shows up in the app, and what a member's field access makes of
each place that uses fields.

With neither read nor write a field disappears everywhere for the member. A place
that *depends* on the field (a filter, a segment filtering on it, a dashboard module
built on it) disappears with it: showing it would reveal the field through its
results. A place that merely *shows* the field (a record view, a layout, a note) stays,
without the field, and is flagged as redacted. With read only, the member sees and
filters on the field but cannot update its value (in segments, dashboards or notes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from rolegate.domain.schema import ProductSchema

__all__ = ["DEPENDS_ON_FIELDS", "FieldUse", "UsageKind", "UsageVerdict", "usage_verdict"]


class UsageKind(StrEnum):
    RECORD_VIEW = "record_view"
    FILTER = "filter"
    SEGMENT = "segment"
    LAYOUT = "layout"
    NOTE = "note"
    DASHBOARD_MODULE = "dashboard_module"


DEPENDS_ON_FIELDS: frozenset[UsageKind] = frozenset({UsageKind.FILTER, UsageKind.SEGMENT, UsageKind.DASHBOARD_MODULE})
"""Kinds hidden as a whole when they use a field the member may not read (K12)."""


@dataclass(frozen=True, slots=True)
class FieldUse:
    """Something in the app that uses fields of one object: `fields` it filters on,
    displays or lets the member edit."""

    kind: UsageKind
    id: str
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UsageVerdict:
    kind: UsageKind
    id: str
    visible: bool
    """False: the whole thing is hidden from the member (K12)."""
    flagged: bool
    """Shown, but without `hidden_fields` (redacted)."""
    hidden_fields: tuple[str, ...]
    read_only_fields: tuple[str, ...]
    """Seen, not updatable by this member (K12, read only)."""
    editable_fields: tuple[str, ...]
    reason: str
    rule_id: str


def usage_verdict(schema: ProductSchema, use: FieldUse, readable: Iterable[str], writable: Iterable[str]) -> UsageVerdict:
    rule = schema.rule("field_hidden")
    can_read, can_write = frozenset(readable), frozenset(writable)
    used = tuple(dict.fromkeys(use.fields))
    hidden = tuple(f for f in used if f not in can_read)
    read_only = tuple(f for f in used if f in can_read and f not in can_write)
    editable = tuple(f for f in used if f in can_write)
    if not hidden:
        reason = "every field it uses is readable" + (f"; read only: {', '.join(read_only)}" if read_only else "")
        return UsageVerdict(use.kind, use.id, True, False, (), read_only, editable, reason, rule)
    names = ", ".join(hidden)
    if use.kind in DEPENDS_ON_FIELDS:
        reason = f"hidden: it uses {names}, which the member may not read{schema.cite('field_hidden')}"
        return UsageVerdict(use.kind, use.id, False, False, hidden, (), (), reason, rule)
    reason = f"shown without {names}, which the member may not read{schema.cite('field_hidden')}"
    return UsageVerdict(use.kind, use.id, True, True, hidden, read_only, editable, reason, rule)
