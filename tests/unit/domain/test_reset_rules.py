"""Who an administrator may send a password reset to (C8)."""

from __future__ import annotations

from rolegate.domain.roles import MemberStatus
from rolegate.domain.rules.reset_rules import reset_target_violations


def test_C8_a_reset_goes_to_an_active_member_only() -> None:
    assert reset_target_violations("m1", MemberStatus.ACTIVE, rule_id="C8") == []
    [invited] = reset_target_violations("m1", MemberStatus.INVITED, rule_id="C8")
    assert (invited.rule_id, invited.fix) == ("C8", "Resend the invitation instead.")
    [disabled] = reset_target_violations("m1", MemberStatus.DISABLED, rule_id="C8")
    assert (disabled.rule_id, disabled.message) == ("C8", "m1 is disabled.")
