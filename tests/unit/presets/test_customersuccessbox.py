"""CustomerSuccessBox preset (seed 001): the rules of SEED_RULES.md section C the library decides."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import pytest

from rolegate.domain.permissions import effective_permissions
from rolegate.domain.roles import Member, Role, RoleKind, role_from_system
from rolegate.domain.rules.role_rules import role_violations
from rolegate.domain.rules.team_rules import (
    disable_blockers,
    guardian_violations,
    is_guardian,
    self_disable_violations,
)
from rolegate.domain.schema import AdminRight, Scope
from rolegate.domain.violations import Violation
from rolegate.engine import InMemoryRecordIndex, Record, RecordRef, Snapshot, compile_snapshot
from rolegate.presets import load_preset

SCHEMA = load_preset("customersuccessbox")
NO_FEATURES: frozenset[str] = frozenset()
PROFILES = ("administrator", "super_manager", "csm", "developer")
CHILDREN = ("subscription", "account_user", "task", "milestone", "usage_event")
TEAM_ACTIONS = ("team.view", "team.manage_members", "team.assign_profiles", "team.send_password_reset")
OWN_AND_UNASSIGNED = Scope.ASSIGNED | Scope.UNASSIGNED


def system(key: str) -> Role:
    return role_from_system(SCHEMA, SCHEMA.system_roles[key])


def effective(role: Role) -> frozenset[str]:
    return effective_permissions(SCHEMA, role.level, role.grants, NO_FEATURES)


def rule_ids(violations: Iterable[Violation]) -> list[str]:
    return [v.rule_id for v in violations]


def on(member: str, type_: str, id_: str, action: str, snap: Snapshot) -> bool:
    return snap.check(member, action, RecordRef(type_, id_)).allowed


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    """Two CSMs with an account each, an unassigned account, records under all three."""
    members = [
        Member("adm", "administrator"),
        Member("sup", "super_manager"),
        Member("cat", "csm"),
        Member("dan", "csm"),
        Member("dev", "developer"),
    ]
    records: list[Record] = []
    for account, assignee in (("a_cat", "cat"), ("a_dan", "dan"), ("a_free", None)):
        acc = RecordRef("account", account)
        records.append(Record("account", account, assignee=assignee))
        suffix = account.removeprefix("a_")
        for child in CHILDREN:
            records.append(Record(child, f"{child}_{suffix}", parent=acc))
        records.append(Record("task_comment", f"comment_{suffix}", parent=RecordRef("task", f"task_{suffix}")))
    return compile_snapshot(
        SCHEMA,
        roles=[system(k) for k in SCHEMA.system_roles],
        members=members,
        records=InMemoryRecordIndex(records),
    )


# -- C1, C8: team management -------------------------------------------------------------


def test_C1_only_administrators_manage_the_team() -> None:
    for action in TEAM_ACTIONS:
        holders = [k for k in PROFILES if any(g.action == action for p in effective(system(k)) for g in SCHEMA.permissions[p].grants)]
        assert holders == ["administrator"], action


def test_C1_admin_rights_belong_to_the_administrator_profile(snap: Snapshot) -> None:
    for right in AdminRight:
        assert snap.has_right("adm", right).allowed, right
        for member in ("sup", "cat", "dev"):
            assert not snap.has_right(member, right).allowed, (member, right)


def test_C8_administrator_sends_password_reset_emails(snap: Snapshot) -> None:
    assert snap.check("adm", "team.send_password_reset").allowed
    assert not snap.check("sup", "team.send_password_reset").allowed
    assert not snap.check("dev", "team.send_password_reset").allowed


# -- C2, C3: one pre-defined profile per member ----------------------------------------------


def test_C2_a_member_holds_exactly_one_profile(snap: Snapshot) -> None:
    fields = {f.name for f in dataclasses.fields(Member)}
    assert "role" in fields
    assert "roles" not in fields
    role = snap.role_of("cat")
    assert role is not None
    assert role.id == "csm"
    assert snap.effective_permissions("cat") == effective(system("csm"))


def test_C3_four_predefined_profiles() -> None:
    assert {k: r.name for k, r in SCHEMA.system_roles.items()} == {
        "administrator": "Administrator",
        "super_manager": "Super Manager",
        "csm": "Customer Success Manager",
        "developer": "Developer",
    }
    assert not SCHEMA.custom_roles_allowed


def test_C3_custom_profiles_cannot_be_created() -> None:
    role = Role(id="ops", name="Ops", kind=RoleKind.CUSTOM, level="member", grants=frozenset({"accounts.view_all"}))
    assert "C3" in rule_ids(role_violations(SCHEMA, role, NO_FEATURES))


def test_C3_administrator_accesses_and_manages_the_entire_platform(snap: Snapshot) -> None:
    assert effective(system("administrator")) == frozenset(SCHEMA.permissions)
    for action in SCHEMA.actions:
        decision = snap.check("adm", action)
        assert decision.allowed, action
        assert decision.scope is Scope.ALL, action


def test_C3_super_manager_manages_all_accounts_segments_playbooks_but_not_settings(snap: Snapshot) -> None:
    for action in ("segments.manage", "playbooks.manage", "accounts.update", "tasks.update", "milestones.update"):
        decision = snap.check("sup", action)
        assert decision.allowed, action
        assert decision.scope is Scope.ALL, action
    assert on("sup", "account", "a_dan", "accounts.update", snap)
    assert on("sup", "task_comment", "comment_cat", "task_comments.update", snap)
    for action in ("settings.manage", "settings.developer_console", *TEAM_ACTIONS):
        assert not snap.check("sup", action).allowed, action


def test_C3_csm_has_own_and_unassigned_accounts(snap: Snapshot) -> None:
    assert snap.check("cat", "accounts.view").scope == OWN_AND_UNASSIGNED
    assert snap.check("cat", "accounts.update").scope == OWN_AND_UNASSIGNED
    assert on("cat", "account", "a_cat", "accounts.view", snap)
    assert on("cat", "account", "a_free", "accounts.view", snap)
    assert not on("cat", "account", "a_dan", "accounts.view", snap)
    assert on("cat", "account", "a_free", "accounts.update", snap)
    assert not on("cat", "account", "a_dan", "accounts.update", snap)


def test_C3_csm_has_the_records_under_own_and_unassigned_accounts(snap: Snapshot) -> None:
    for child in CHILDREN:
        view = SCHEMA.objects[child].view_action
        assert view is not None
        assert snap.check("cat", view).scope == OWN_AND_UNASSIGNED, child
        assert on("cat", child, f"{child}_cat", view, snap), child
        assert on("cat", child, f"{child}_free", view, snap), child
        assert not on("cat", child, f"{child}_dan", view, snap), child


def test_C3_csm_cannot_manage_segments_or_playbooks(snap: Snapshot) -> None:
    assert not snap.check("cat", "segments.manage").allowed
    assert not snap.check("cat", "playbooks.manage").allowed
    assert not snap.check("cat", "settings.manage").allowed


def test_C3_developer_has_only_the_developer_console_of_settings(snap: Snapshot) -> None:
    assert snap.check("dev", "settings.developer_console").allowed
    assert not snap.check("dev", "settings.manage").allowed
    for action in TEAM_ACTIONS:
        assert not snap.check("dev", action).allowed, action


def test_C3_developer_creates_new_records_and_views_all_records(snap: Snapshot) -> None:
    assert snap.check("dev", "accounts.create").allowed
    assert on("dev", "account", "a_dan", "accounts.add_records", snap)
    for account in ("a_cat", "a_dan", "a_free"):
        assert on("dev", "account", account, "accounts.view", snap), account
    for child in CHILDREN:
        view = SCHEMA.objects[child].view_action
        assert view is not None
        assert on("dev", child, f"{child}_dan", view, snap), child
    # Viewing all is not managing all.
    assert not snap.check("dev", "accounts.update").allowed


# -- C4, C5, C6: the team stays manageable ------------------------------------------------


def test_C4_sole_administrator_cannot_downgrade_themselves() -> None:
    assert SCHEMA.guardian.role == "administrator"
    assert SCHEMA.guardian.rule_id == "C4"
    admin = system("administrator")
    assert is_guardian(SCHEMA, admin, effective(admin))
    assert not is_guardian(SCHEMA, system("super_manager"), effective(system("super_manager")))
    refused = guardian_violations(SCHEMA, member="adm", actor="adm", active_guardians={"adm"}, stays_guardian=False)
    assert rule_ids(refused) == ["C4"]
    two = guardian_violations(SCHEMA, member="adm", actor="adm", active_guardians={"adm", "ada"}, stays_guardian=False)
    assert two == []


def test_C5_a_member_cannot_disable_themselves() -> None:
    assert rule_ids(self_disable_violations(SCHEMA, actor="adm", member="adm")) == ["C5"]
    assert self_disable_violations(SCHEMA, actor="adm", member="cat") == []


def test_C6_csm_of_an_account_or_named_in_a_playbook_cannot_be_disabled() -> None:
    assert rule_ids(disable_blockers(SCHEMA, member="cat", assigned_records=1, references=())) == ["C6"]
    assert rule_ids(disable_blockers(SCHEMA, member="cat", assigned_records=0, references=("Onboarding: kickoff call",))) == ["C6"]
    assert disable_blockers(SCHEMA, member="cat", assigned_records=0, references=()) == []


# -- C7: account access is hierarchical ------------------------------------------------------


def test_C7_child_objects_are_declared_under_account() -> None:
    for child in CHILDREN:
        otype = SCHEMA.objects[child]
        assert otype.parent == "account", child
        assert otype.ancestors == ("account",), child
        assert otype.view_action is not None, child
        # The assignment that decides access is the account's, one step up.
        assert otype.carrier_offset == 1, child
    comment = SCHEMA.objects["task_comment"]
    assert comment.ancestors == ("task", "account")
    assert comment.carrier_offset == 2


def test_C7_records_follow_their_account_at_depth_two(snap: Snapshot) -> None:
    assert on("cat", "task_comment", "comment_cat", "task_comments.view", snap)
    assert on("cat", "task_comment", "comment_free", "task_comments.update", snap)
    denied = snap.check("cat", "task_comments.view", RecordRef("task_comment", "comment_dan"))
    assert not denied.allowed
    assert "account" in denied.reasons[-1].message


def test_C7_lists_of_child_records_filter_on_the_account(snap: Snapshot) -> None:
    comments = snap.lookup("cat", "task_comments.view", "task_comment")
    assert comments.to_json()["filter"] == {
        "op": "assignee",
        "path": ["task", "account"],
        "member": "cat",
        "include": ["assigned", "unassigned"],
    }
    assert snap.lookup("dev", "task_comments.view", "task_comment").is_all


def test_C7_moving_an_account_to_another_csm_moves_its_records() -> None:
    records = InMemoryRecordIndex(
        [
            Record("account", "a1", assignee="cat"),
            Record("task", "t1", parent=RecordRef("account", "a1")),
            Record("task_comment", "c1", parent=RecordRef("task", "t1")),
        ]
    )
    members = [Member("cat", "csm"), Member("dan", "csm")]
    roles = [system("csm")]
    before = compile_snapshot(SCHEMA, roles=roles, members=members, records=records)
    assert before.check("cat", "task_comments.view", RecordRef("task_comment", "c1")).allowed
    assert not before.check("dan", "task_comments.view", RecordRef("task_comment", "c1")).allowed
    records.upsert(Record("account", "a1", assignee="dan"))
    after = compile_snapshot(SCHEMA, roles=roles, members=members, records=records, revision=1)
    assert not after.check("cat", "task_comments.view", RecordRef("task_comment", "c1")).allowed
    assert after.check("dan", "task_comments.view", RecordRef("task_comment", "c1")).allowed
