"""Who an administrator may send a password reset to (C8): an active member only."""

from __future__ import annotations

from rolegate.domain.roles import MemberStatus
from rolegate.domain.violations import Violation

__all__ = ["reset_target_violations"]


def reset_target_violations(who: str, status: MemberStatus, *, rule_id: str) -> list[Violation]:
    """An invited member gets their invitation again instead; a disabled one is enabled
    first. `who`: the member as the team knows them (name or email)."""
    if status is MemberStatus.INVITED:
        return [
            Violation(
                rule_id,
                f"{who} has not accepted their invitation yet.",
                "Resend the invitation instead.",
            )
        ]
    if status is MemberStatus.DISABLED:
        return [Violation(rule_id, f"{who} is disabled.", "Enable them first.")]
    return []
