"""Ownership transfer (T11) as pure functions, on the telephony preset that states it."""

from __future__ import annotations

from dataclasses import replace

from rolegate.domain.roles import Member, MemberStatus
from rolegate.domain.rules.ownership_rules import (
    ownership_giver_violations,
    ownership_kept_violations,
    ownership_receiver_violations,
)
from rolegate.domain.violations import Violation
from rolegate.presets import load_preset

TELEPHONY = load_preset("telephony")
OWNER = Member("olga", "owner")


def messages(violations: list[Violation]) -> list[tuple[str, str]]:
    return [(v.rule_id, v.message) for v in violations]


def test_T11_only_an_active_owner_hands_ownership_over() -> None:
    assert messages(ownership_giver_violations(TELEPHONY, giver=None, giver_is_owner=False)) == [
        ("T11", "Ownership is transferred by an owner.")
    ]
    assert messages(
        ownership_giver_violations(TELEPHONY, giver=Member("adam", "administrator"), giver_is_owner=False)
    ) == [("T11", "Only an owner can transfer ownership.")]
    disabled = Member("olga", "owner", MemberStatus.DISABLED)
    assert [v.rule_id for v in ownership_giver_violations(TELEPHONY, giver=disabled, giver_is_owner=True)] == ["T11"]
    assert ownership_giver_violations(TELEPHONY, giver=OWNER, giver_is_owner=True) == []


def test_T11_ownership_goes_to_another_active_member() -> None:
    assert messages(ownership_receiver_violations(TELEPHONY, giver=OWNER, receiver=OWNER)) == [
        ("T11", "You cannot transfer ownership to yourself.")
    ]
    invited = Member("ivy", "analyst", MemberStatus.INVITED)
    assert messages(ownership_receiver_violations(TELEPHONY, giver=OWNER, receiver=invited)) == [
        ("T11", "This member is invited: ownership goes to an active member.")
    ]
    assert ownership_receiver_violations(TELEPHONY, giver=OWNER, receiver=Member("ann", "analyst")) == []


def test_T11_the_workspace_keeps_an_owner() -> None:
    assert messages(ownership_kept_violations(TELEPHONY, owners_before=1, owners_after=0)) == [
        ("T11", "This would leave the workspace without an owner.")
    ]
    assert ownership_kept_violations(TELEPHONY, owners_before=1, owners_after=1) == []


def test_T11_ownership_stays_single_unless_the_schema_allows_several() -> None:
    assert messages(ownership_kept_violations(TELEPHONY, owners_before=1, owners_after=2)) == [
        ("T11", "This would leave 2 owners: a transfer hands ownership over, it does not share it.")
    ]
    several = replace(TELEPHONY, guardian=replace(TELEPHONY.guardian, several_owners=True))
    assert ownership_kept_violations(several, owners_before=1, owners_after=2) == []
    # two owners before (given by role assignment), two after: the transfer added none
    assert ownership_kept_violations(TELEPHONY, owners_before=2, owners_after=2) == []
