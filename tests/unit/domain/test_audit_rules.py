"""The audit log's rules (E8): retention, and the days its filters read."""

from __future__ import annotations

from datetime import date

from rolegate.domain.rules.audit_rules import filter_day, retention_violations


def test_E8_events_are_kept_at_least_a_day_or_forever() -> None:
    assert retention_violations(None, rule_id="E8") == []
    assert retention_violations(1, rule_id="E8") == []
    [v] = retention_violations(0, rule_id="E8")
    assert (v.rule_id, v.message, v.fix) == (
        "E8",
        "Retention of 0 days is too short.",
        "Keep events at least 1 day, or forever.",
    )


def test_E8_a_filter_day_is_a_date_with_a_next_day() -> None:
    assert filter_day("  ", rule_id="E8") == (None, [])
    assert filter_day(" 2026-03-01 ", rule_id="E8") == (date(2026, 3, 1), [])
    for raw in ("yesterday", "9999-12-31"):  # the last day has no next one for `until`
        day, [v] = filter_day(raw, rule_id="E8")
        assert day is None
        assert (v.rule_id, v.message) == ("E8", f"{raw!r} is not a date.")
