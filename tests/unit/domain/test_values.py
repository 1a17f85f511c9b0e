"""The domain's value types: who acts (Actor), the audit event's hash and its sealed
JSON, violations and the errors that carry them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from rolegate.domain.errors import (
    ActorRefusedError,
    ErrorCode,
    LoginRequiredError,
    RateLimitedError,
    RevisionNotReachedError,
    RolegateError,
    RuleViolationError,
    StoreUnavailableError,
    UnavailableError,
    http_problem,
)
from rolegate.domain.violations import FORM_RULE, Violation, form_violations, raise_if, refuse
from rolegate.domain.workspace import Actor, AuditEvent, event_hash, sealed_json


def test_an_actor_is_a_member_a_site_administrator_or_the_platform() -> None:
    member, site, platform = Actor.member("m1"), Actor.site_admin("u1"), Actor.system("cli")
    assert [a.label for a in (member, site, platform)] == ["member:m1", "site-admin:u1", "platform:cli"]
    assert [a.is_platform for a in (member, site, platform)] == [False, False, True]


def event(before: object, after: object) -> AuditEvent:
    return AuditEvent(
        "ws",
        3,
        "ev",
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "member:m1",
        "role.update",
        "role",
        "r1",
        before,
        after,
        4,
        "prev",
    )


@pytest.mark.parametrize(("before", "after"), [(None, {"b": 1, "a": [1, "é"]}), ({"x": None}, None), (None, None)])
def test_sealed_json_hashes_as_event_hash_and_keeps_its_texts(before: object, after: object) -> None:
    e = event(before, after)
    digest, before_text, after_text = sealed_json(e)
    assert digest == event_hash(e)
    assert before_text == (None if before is None else json.dumps(before, sort_keys=True, separators=(",", ":")))
    assert (after_text is None) is (after is None)
    assert sealed_json(e, at=e.at.isoformat())[0] == digest  # the time passed in, as payload() writes it


def test_changing_any_part_of_an_event_changes_its_hash() -> None:
    e = event(None, {"a": 1})
    assert event_hash(e) != event_hash(event(None, {"a": 2}))


def test_violations_refuse_only_when_there_are_some() -> None:
    v, w = Violation("N8", "Unknown level.", "Choose one."), Violation("N4", "No landing page.", "Pick one.")
    assert str(v) == "[N8] Unknown level."
    raise_if([])
    with pytest.raises(RuleViolationError) as info:
        raise_if([v, w])
    assert info.value.violations == (v, w)
    assert info.value.rule_id == "N8"
    assert info.value.fix == "Choose one."
    assert str(info.value) == "[N8] Unknown level.; [N4] No landing page. Choose one."
    with pytest.raises(RuleViolationError) as refused:
        refuse(w)
    assert refused.value.violations == (w,)


def test_errors_carry_their_data() -> None:
    stale = RevisionNotReachedError("ws", 3, 5)
    assert (stale.current, stale.wanted, stale.code) == (3, 5, ErrorCode.REVISION_NOT_REACHED)
    assert "at revision 3 here, not yet 5" in stale.message
    login = LoginRequiredError("log in first", email="a@b.test")
    assert (login.email, login.fix) == ("a@b.test", "")
    actor = ActorRefusedError("no such member", rule_id="E1")
    assert actor.rule_id == "E1"
    assert ActorRefusedError("no such member").rule_id is None
    limited = RateLimitedError("too many", retry_after=15)
    assert (limited.retry_after, limited.fix) == (15, "Wait 15 seconds, then try again.")
    assert RateLimitedError("too many", retry_after=15, fix="Later.").fix == "Later."
    assert RateLimitedError("too many", retry_after=1).fix == "Wait 1 second, then try again."
    assert UnavailableError("restarting", retry_after=1).fix == "Retry after 1 second."
    assert UnavailableError("restarting", retry_after=3).fix == "Retry after 3 seconds."
    # What happened and what to do read as two sentences, whatever the message ends with.
    assert str(RolegateError("no role 'exec' in this workspace", fix="List the roles.")) == "no role 'exec' in this workspace. List the roles."
    assert str(RolegateError("This link has expired.", fix="Ask for a new one.")) == "This link has expired. Ask for a new one."
    assert (str(RolegateError("nothing to do")), str(RolegateError("", fix="Do this."))) == ("nothing to do", "Do this.")
    down = StoreUnavailableError("refused", retry_after=4, detail="connection refused")
    assert (down.kind, down.retry_after) == ("refused", 4)
    assert (
        down.message == "the database is unreachable (refused): connection refused; the request could not be completed"
    )
    assert (
        StoreUnavailableError("timeout").message
        == "the database is unreachable (timeout); the request could not be completed"
    )


def test_an_http_framework_error_is_its_problem_with_its_status() -> None:
    assert (http_problem(404).code, http_problem(404).status) == ("not_found", 404)
    assert (http_problem(405).code, http_problem(413).code) == ("method_not_allowed", "body_too_large")
    teapot = http_problem(418)
    assert (teapot.code, teapot.status) == ("http_error", 418)


def test_a_form_that_does_not_fit_is_the_form_rules_violations() -> None:
    found = form_violations([("name: required.", "Fill it in."), ("email: too long.", "Shorten it.")])
    assert found == (Violation(FORM_RULE, "name: required.", "Fill it in."), Violation(FORM_RULE, "email: too long.", "Shorten it."))
    assert form_violations([]) == ()
