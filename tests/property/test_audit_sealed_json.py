"""An audit event serialized once (`sealed_json`, used by bulk writers) hashes exactly
as `event_hash` does (what `rolegate audit verify` recomputes), and its `before` and
`after` texts read back as the values that were hashed, for random events."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolegate.domain.workspace import AuditEvent, event_hash, sealed_json

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

text = st.text(max_size=12)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=False, allow_infinity=False) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.sampled_from([UTC, timezone(timedelta(hours=-5))]))


@st.composite
def events(draw: st.DrawFn) -> AuditEvent:
    return AuditEvent(
        workspace_id=draw(text),
        seq=draw(st.integers(1, 2**50)),
        id=draw(text),
        at=draw(moments),
        actor=draw(text),
        action=draw(text),
        target_type=draw(text),
        target_id=draw(text),
        before=draw(json_values),
        after=draw(json_values),
        revision=draw(st.integers(1, 2**50)),
        prev_hash=draw(text),
    )


@PROPERTY
@given(events())
def test_audit_sealed_json_hashes_as_event_hash(event: AuditEvent) -> None:
    digest = sealed_json(event)[0]
    assert digest == event_hash(event)
    assert digest == sealed_json(event, event.at.astimezone(UTC).isoformat())[0]


@PROPERTY
@given(events())
def test_audit_sealed_texts_read_back_as_the_hashed_values(event: AuditEvent) -> None:
    digest, before, after = sealed_json(event)
    stored = replace(
        event,
        before=None if before is None else json.loads(before),
        after=None if after is None else json.loads(after),
    )
    assert event_hash(stored) == digest
    assert (before is None) == (event.before is None)
    assert (after is None) == (event.after is None)
