"""A change of the feed as JSON: UTC time, the target as an object, and its workspace
only in an organization's feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from rolegate.domain.changes import Change


def test_a_change_renders_its_target_and_utc_time() -> None:
    paris = timezone(timedelta(hours=1))
    change = Change("ws", 12, 40, "ev-1", "role.update", "role", "r1", "member:m1", datetime(2026, 12, 5, 10, 0, tzinfo=paris))
    assert change.as_json() == {
        "revision": 12,
        "seq": 40,
        "id": "ev-1",
        "action": "role.update",
        "target": {"type": "role", "id": "r1"},
        "actor": "member:m1",
        "at": datetime(2026, 12, 5, 9, 0, tzinfo=UTC).isoformat(),
    }
    assert change.as_json(with_workspace=True)["workspace_id"] == "ws"
    assert "workspace_id" not in change.as_json()


def test_a_feed_resync_says_which_workspace_and_from_where() -> None:
    from rolegate.domain.errors import FeedResyncError

    error = FeedResyncError("ws-1", 3, 9)
    assert (error.status, error.code.value, error.workspace_id, error.after, error.oldest) == (410, "feed_resync", "ws-1", 3, 9)
    assert "revision 9" in error.message
    assert "/v1/workspaces/ws-1/snapshot" in error.fix
