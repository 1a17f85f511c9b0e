"""The rules a member's deletion checks (N12, E7): nobody deletes themselves (C5)."""

from __future__ import annotations

from rolegate.domain.rules.team_rules import self_removal_violations


def test_C5_a_member_cannot_delete_themselves() -> None:
    assert [v.rule_id for v in self_removal_violations(actor="adm", member="adm")] == ["C5"]
    assert self_removal_violations(actor="adm", member="cat") == []
