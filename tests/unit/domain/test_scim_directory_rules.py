"""Directory provisioning rules (issue 17): one role from several mapped groups, what
deprovisioning does where disabling is forbidden, who changes a managed member's role."""

from __future__ import annotations

from dataclasses import replace

from rolegate.domain.roles import role_from_system
from rolegate.domain.rules.directory_rules import (
    DIRECTORY_MANAGED,
    Deprovision,
    GroupRole,
    deprovision_outcome,
    directory_actor,
    directory_role,
    directory_role_violations,
    is_directory,
)
from rolegate.domain.rules.team_rules import disable_blockers
from rolegate.domain.workspace import Actor
from rolegate.presets import load_preset

TEL = load_preset("telephony")
ROLES = {k: role_from_system(TEL, r) for k, r in TEL.system_roles.items()}
MAPPINGS = [
    GroupRole("Engineering", "analyst", 1),
    GroupRole("IT Admins", "administrator", 5),
    GroupRole("Support Leads", "administrator", 2),
    GroupRole("Founders", "owner", 9),
]


def test_highest_level_rank_wins_whatever_the_priority() -> None:
    assert directory_role(TEL, ROLES, MAPPINGS, ["engineering", "it admins"], default="analyst") == "administrator"
    assert directory_role(TEL, ROLES, MAPPINGS, ["Engineering", "Founders", "IT Admins"], default="analyst") == "owner"


def test_same_rank_the_smaller_priority_wins() -> None:
    mappings = [GroupRole("A", "administrator", 5), GroupRole("B", "custom", 2)]
    roles = ROLES | {"custom": replace(ROLES["administrator"], id="custom", name="Ops")}
    assert directory_role(TEL, roles, mappings, ["a", "b"], default="analyst") == "custom"
    assert directory_role(TEL, roles, [GroupRole("A", "administrator", 1), GroupRole("B", "custom", 2)], ["a", "b"], default="analyst") == "administrator"


def test_same_rank_and_priority_the_group_name_decides_not_the_order_sent() -> None:
    roles = ROLES | {"ops": replace(ROLES["administrator"], id="ops", name="Ops")}
    mappings = [GroupRole("Zeta", "ops", 1), GroupRole("alpha", "administrator", 1)]
    assert directory_role(TEL, roles, mappings, ["zeta", "ALPHA"], default="analyst") == "administrator"
    assert directory_role(TEL, roles, list(reversed(mappings)), ["ALPHA", "zeta"], default="analyst") == "administrator"


def test_no_mapped_group_gives_the_default_role() -> None:
    assert directory_role(TEL, ROLES, MAPPINGS, [], default="analyst") == "analyst"
    assert directory_role(TEL, ROLES, MAPPINGS, ["Unmapped"], default="analyst") == "analyst"


def test_a_mapping_to_a_deleted_role_is_ignored() -> None:
    mappings = [GroupRole("Gone", "deleted-role", 0), GroupRole("Engineering", "analyst", 1)]
    assert directory_role(TEL, ROLES, mappings, ["gone", "engineering"], default="administrator") == "analyst"


def test_deprovisioning_suspends_where_C6_or_N9_forbid_disabling() -> None:
    blocked = disable_blockers(TEL, member="carl", assigned_records=2, references=[])
    assert deprovision_outcome(blocked) is Deprovision.SUSPEND
    assert deprovision_outcome([]) is Deprovision.DISABLE


def test_a_manual_role_change_on_a_managed_member_is_refused() -> None:
    (v,) = directory_role_violations(member="m1", managed=True, by_directory=False)
    assert v.rule_id == DIRECTORY_MANAGED
    assert v.seed_rule is None
    assert "managed by your directory" in v.message
    assert "identity provider" in v.fix
    assert directory_role_violations(member="m1", managed=True, by_directory=True) == []
    assert directory_role_violations(member="m1", managed=False, by_directory=False) == []


def test_the_directory_acts_as_the_platform_named_by_its_key() -> None:
    actor = directory_actor("0123456789ab")
    assert actor.label == "platform:scim:0123456789ab"
    assert is_directory(actor)
    assert not is_directory(Actor.system("cli"))
    assert not is_directory(Actor.member("scim:x"))
