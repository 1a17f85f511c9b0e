"""Team safety rules as pure functions (C4, C5, C6, N9), on the presets that state them."""

from __future__ import annotations

from rolegate.domain.permissions import effective_permissions
from rolegate.domain.roles import Member, MemberStatus, role_from_system
from rolegate.domain.rules.team_rules import (
    assignee_violations,
    assignments_kept_violations,
    disable_blockers,
    email_violations,
    guardian_violations,
    invitation_open_violations,
    is_guardian,
    joining_violations,
    membership_violations,
    self_disable_violations,
    self_transfer_violations,
    unknown_assignee_violations,
)
from rolegate.domain.seats import seat_usage, seat_violations
from rolegate.presets import load_preset

CSB = load_preset("customersuccessbox")


def test_C4_only_administrator_cannot_downgrade_themselves() -> None:
    violations = guardian_violations(CSB, member="ada", actor="ada", active_guardians={"ada"}, stays_guardian=False)
    assert [v.rule_id for v in violations] == ["C4"]
    assert "only Administrator" in violations[0].message
    assert "another member Administrator" in violations[0].fix


def test_C4_with_a_second_administrator_the_downgrade_is_allowed() -> None:
    assert guardian_violations(CSB, member="ada", actor="ada", active_guardians={"ada", "bea"}, stays_guardian=False) == []
    assert guardian_violations(CSB, member="ada", actor="ada", active_guardians={"ada"}, stays_guardian=True) == []


def test_C4_administrator_profile_is_the_guardian() -> None:
    roles = {k: role_from_system(CSB, r) for k, r in CSB.system_roles.items()}
    guardians = [k for k, r in roles.items() if is_guardian(CSB, r, effective_permissions(CSB, r.level, r.grants, frozenset(CSB.features)))]
    assert guardians == ["administrator"]


def test_C5_member_cannot_disable_themselves() -> None:
    assert [v.rule_id for v in self_disable_violations(CSB, actor="ada", member="ada")] == ["C5"]
    assert self_disable_violations(CSB, actor="ada", member="bea") == []


def test_C6_member_with_accounts_or_playbook_tasks_cannot_be_disabled() -> None:
    blocked = disable_blockers(CSB, member="carl", assigned_records=3, references=["Onboarding / Kickoff call"])
    assert [v.rule_id for v in blocked] == ["C6", "C6"]
    assert "is assigned 3 accounts." in blocked[0].message
    assert "Onboarding / Kickoff call" in blocked[1].message
    assert disable_blockers(CSB, member="carl", assigned_records=0, references=[]) == []


def test_N9_only_members_whose_role_allows_it_are_assigned_accounts() -> None:
    natero = load_preset("natero")
    roles = {k: role_from_system(natero, r) for k, r in natero.system_roles.items()}

    def eff(key: str) -> frozenset[str]:
        r = roles[key]
        return effective_permissions(natero, r.level, r.grants, frozenset())

    assert assignee_violations(natero, object_type="account", member="c", effective=eff("csm"), active=True) == []
    refused = assignee_violations(natero, object_type="account", member="g", effective=eff("guest"), active=True)
    assert [v.rule_id for v in refused] == ["N9"]
    assert "Customer Success Manager Seat" in refused[0].fix
    assert [v.rule_id for v in assignee_violations(natero, object_type="account", member="c", effective=eff("csm"), active=False)] == ["N9"]


def test_N1_seat_usage_counts_invited_and_frees_disabled() -> None:
    natero = load_preset("natero")
    roles = {k: role_from_system(natero, r) for k, r in natero.system_roles.items()}
    members = [
        Member("a", "csm"),
        Member("b", "csm_manager", MemberStatus.INVITED),
        Member("c", "guest"),
        Member("d", "csm", MemberStatus.DISABLED),
    ]
    assert seat_usage(natero, roles, members) == {"csm": 2, "analyst": 1}
    full = seat_violations(natero, "csm", used=2, capacity=2)
    assert len(full) == 1
    assert "2 of 2" in full[0].message
    assert seat_violations(natero, "csm", used=1, capacity=2) == []
    assert seat_violations(natero, "csm", used=99, capacity=None) == []


def test_T11_nobody_hands_out_more_than_they_hold() -> None:
    from rolegate.domain.rules.team_rules import escalation_violations

    tel = load_preset("telephony")
    admin = role_from_system(tel, tel.system_roles["administrator"])
    owner = role_from_system(tel, tel.system_roles["owner"])
    admin_perms = effective_permissions(tel, admin.level, admin.grants, frozenset())
    owner_perms = effective_permissions(tel, owner.level, owner.grants, frozenset())
    refused = escalation_violations(tel, actor_permissions=admin_perms, target_permissions=owner_perms, what="Role 'Owner'")
    assert [v.rule_id for v in refused] == ["T11"]
    assert "'Billing'" in refused[0].message
    assert escalation_violations(tel, actor_permissions=owner_perms, target_permissions=admin_perms, what="x") == []


def test_C4_editing_a_role_cannot_leave_no_administrator() -> None:
    from rolegate.domain.rules.team_rules import guardians_after, team_lockout_violations

    roles = {k: role_from_system(CSB, r) for k, r in CSB.system_roles.items()}
    members = [Member("ada", "administrator"), Member("sam", "super_manager")]
    before = guardians_after(CSB, members, roles, frozenset(CSB.features))
    after = guardians_after(CSB, [Member("ada", "super_manager"), members[1]], roles, frozenset(CSB.features))
    assert before == {"ada"}
    assert after == set()
    assert [v.rule_id for v in team_lockout_violations(CSB, before, after, what="This change")] == ["C4"]
    assert team_lockout_violations(CSB, before, before, what="This change") == []


def test_K13_nobody_hands_out_field_access_they_do_not_hold() -> None:
    from rolegate.domain.fields import role_field_access
    from rolegate.domain.roles import Role, RoleKind
    from rolegate.domain.rules.team_rules import field_escalation_violations
    from rolegate.domain.schema import FieldAccess

    cat = load_preset("catalyst")
    delegate = Role("d", "Delegate", RoleKind.CUSTOM, "high", frozenset(), field_access={("account", "arr"): FieldAccess.READ})
    held = role_field_access(cat, delegate)
    # K8: the High level writes what the role does not mention; K9 caps a synced field.
    assert held[("account", "renewal_risk")] is FieldAccess.WRITE
    assert held[("account", "contract_value")] is FieldAccess.READ
    assert held[("account", "arr")] is FieldAccess.READ
    refused = field_escalation_violations(cat, actor_fields=held, target_fields={("account", "arr"): FieldAccess.WRITE}, what="Role 'X'")
    assert [v.rule_id for v in refused] == ["K13"]
    assert refused[0].message == "Role 'X' gives field access you do not hold: Account: ARR (write)."
    assert field_escalation_violations(cat, actor_fields=held, target_fields={("account", "arr"): FieldAccess.READ}, what="x") == []
    # Six fields beyond the actor: five are named; a field the schema lost is named by its key.
    many = {("account", f): FieldAccess.WRITE for f in ("arr", "contract_value", "health_notes", "name", "owner", "renewal_risk")}
    many[("gone", "field")] = FieldAccess.READ
    message = field_escalation_violations(cat, actor_fields={}, target_fields=many, what="x")[0].message
    assert message.endswith("(write) and 2 more.")
    assert "Account: ARR (write)" in message
    assert "gone.field (read)" in field_escalation_violations(cat, actor_fields={}, target_fields={("gone", "field"): FieldAccess.READ}, what="x")[0].message


def test_N9_records_go_to_a_member_of_the_workspace_and_not_to_their_holder() -> None:
    natero = load_preset("natero")
    assert [(v.rule_id, v.message) for v in unknown_assignee_violations(natero, member="ghost")] == [
        ("N9", "No member 'ghost' in this workspace.")
    ]
    assert [v.rule_id for v in self_transfer_violations(natero, source="ann", target="ann")] == ["N9"]
    assert self_transfer_violations(natero, source="ann", target="bob") == []


def test_N9_a_member_with_accounts_keeps_a_role_that_may_hold_them() -> None:
    natero = load_preset("natero")
    roles = {k: role_from_system(natero, r) for k, r in natero.system_roles.items()}

    def eff(key: str) -> frozenset[str]:
        r = roles[key]
        return effective_permissions(natero, r.level, r.grants, frozenset())

    refused = assignments_kept_violations(
        natero, member="c", role_name="Guest", effective=eff("guest"), assigned={"account": 2}
    )
    assert [(v.rule_id, v.message) for v in refused] == [
        ("N9", "c is assigned 2 accounts, which the Guest role cannot hold.")
    ]
    assert (
        assignments_kept_violations(
            natero, member="c", role_name="Guest", effective=eff("guest"), assigned={"account": 0}
        )
        == []
    )
    assert (
        assignments_kept_violations(natero, member="c", role_name="CSM", effective=eff("csm"), assigned={"account": 2})
        == []
    )


def test_C2_a_person_joins_once_by_an_email_address() -> None:
    assert [v.rule_id for v in email_violations("not-an-email")] == ["email_invalid"]  # plain validation
    assert [v.rule_id for v in email_violations("x" * 321 + "@example.com", rule_id="E1")] == ["E1"]
    assert email_violations("ann@example.com") == []
    assert [v.message for v in membership_violations(CSB, email="ann@example.com", already_member=True)] == [
        "ann@example.com is already a member of this workspace."
    ]
    assert membership_violations(CSB, email="ann@example.com", already_member=False) == []


def test_T4_an_invitation_is_accepted_once_and_by_its_person_when_their_login_exists() -> None:
    invited = Member("m", "csm", MemberStatus.INVITED)
    assert joining_violations(CSB, member=invited, by_themselves=True, claimed_email="m@example.com") == []
    assert joining_violations(CSB, member=invited, by_themselves=False, claimed_email=None) == []
    claimed = joining_violations(load_preset("telephony"), member=invited, by_themselves=False, claimed_email="m@example.com")
    assert [(v.rule_id, v.message) for v in claimed] == [
        ("T4", "m@example.com already has a Rolegate login, so only they can accept this invitation.")
    ]
    active = joining_violations(CSB, member=Member("m", "csm"), by_themselves=True, claimed_email=None)
    assert [v.message for v in active] == ["This member is active, not invited."]
    assert [v.message for v in invitation_open_violations(CSB, accepted=True, revoked=False)] == [
        "This invitation was already accepted."
    ]
    assert [v.message for v in invitation_open_violations(CSB, accepted=False, revoked=True)] == [
        "This invitation was already revoked."
    ]
    assert invitation_open_violations(CSB, accepted=False, revoked=False) == []


def test_C6_N7_refusals_count_what_is_assigned_in_the_products_words() -> None:
    assert [CSB.assigned_records(n) for n in (None, 1, 2)] == ["accounts", "1 account", "2 accounts"]
    telephony = load_preset("telephony")  # nothing is assigned to members there
    assert [telephony.assigned_records(n) for n in (None, 1)] == ["records", "1 record"]
