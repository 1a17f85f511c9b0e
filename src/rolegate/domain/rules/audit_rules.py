"""The audit log as a product (E8): how long its events are kept, and the dates its
filters read."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from rolegate.domain.violations import Violation
from rolegate.domain.words import count_of

__all__ = ["filter_day", "retention_violations"]


def retention_violations(days: int | None, *, rule_id: str) -> list[Violation]:
    """Events are kept at least one day, or forever (None)."""
    if days is None or days >= 1:
        return []
    return [Violation(rule_id, f"Retention of {count_of(days, 'day')} is too short.", "Keep events at least 1 day, or forever.")]


def filter_day(raw: str, *, rule_id: str) -> tuple[date | None, list[Violation]]:
    """A filter's day (`YYYY-MM-DD`; empty: no filter), else the violation naming it."""
    raw = raw.strip()
    if not raw:
        return None, []
    try:
        day = date.fromisoformat(raw)
        datetime.combine(
            day + timedelta(days=1), time(), UTC
        )  # `until` takes the whole day: 9999-12-31 has no next day
    except (ValueError, OverflowError):
        return None, [Violation(rule_id, f"{raw!r} is not a date.", "Write dates as YYYY-MM-DD.")]
    return day, []
