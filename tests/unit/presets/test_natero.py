"""Natero preset (seed 000): the rules of SEED_RULES.md section N the library decides."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from rolegate.domain.permissions import effective_permissions
from rolegate.domain.roles import Member, Role, RoleKind, role_from_system
from rolegate.domain.rules.role_rules import (
    HolderCounts,
    assignee_permission_violations,
    role_deletion_violations,
    role_violations,
)
from rolegate.domain.rules.team_rules import assignee_violations
from rolegate.domain.schema import AdminRight, Scope
from rolegate.domain.seats import seat_of
from rolegate.domain.violations import Violation
from rolegate.engine import InMemoryRecordIndex, ReasonCode, Record, RecordRef, Snapshot, compile_snapshot
from rolegate.presets import load_preset

SCHEMA = load_preset("natero")
NO_FEATURES: frozenset[str] = frozenset()

CSM_SEAT = "accounts.csm_seat"
N9_ACTIONS = (
    "accounts.manage_alerts",
    "accounts.receive_auto_tasks",
    "accounts.add_tasks",
    "accounts.deploy_workflows",
    "accounts.update_interactions",
    "accounts.update_attributes",
    "accounts.configure_settings",
)


def system(key: str) -> Role:
    return role_from_system(SCHEMA, SCHEMA.system_roles[key])


def custom(grants: Iterable[str], *, landing_page: str | None = "dashboard", name: str = "Renewals") -> Role:
    g = frozenset(grants)
    return Role(
        id="custom",
        name=name,
        kind=RoleKind.CUSTOM,
        level=SCHEMA.level_for(None, g),
        grants=g,
        landing_page=landing_page,
    )


def effective(role: Role) -> frozenset[str]:
    return effective_permissions(SCHEMA, role.level, role.grants, NO_FEATURES)


def rule_ids(violations: Iterable[Violation]) -> list[str]:
    return [v.rule_id for v in violations]


def granted_actions(perms: Iterable[str]) -> set[str]:
    return {g.action for p in perms for g in SCHEMA.permissions[p].grants}


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    """Two CSMs with an account each, an unassigned account, and one member per default role."""
    roles = [system(k) for k in SCHEMA.system_roles]
    members = [
        Member("ann", "csm"),
        Member("bob", "csm"),
        Member("mia", "csm_manager"),
        Member("eve", "executive"),
        Member("gus", "guest"),
        Member("ali", "analyst"),
    ]
    records = InMemoryRecordIndex(
        [
            Record("account", "a_ann", assignee="ann"),
            Record("account", "a_bob", assignee="bob"),
            Record("account", "a_free"),
            Record("task", "t_ann", parent=RecordRef("account", "a_ann")),
            Record("task", "t_bob", parent=RecordRef("account", "a_bob")),
            Record("account_user", "u_bob", parent=RecordRef("account", "a_bob")),
        ]
    )
    return compile_snapshot(SCHEMA, roles=roles, members=members, records=records)


# -- N1, N2: seats follow the CSM seat permission ------------------------------------------


def test_N1_two_paid_seat_types() -> None:
    assert set(SCHEMA.seats) == {"csm", "analyst"}
    assert {lv.seat for lv in SCHEMA.levels.values()} == {"csm", "analyst"}


def test_N2_role_with_csm_seat_takes_csm_level() -> None:
    assert SCHEMA.level_for(None, frozenset({CSM_SEAT})) == "csm"
    assert SCHEMA.level_for(None, frozenset({CSM_SEAT, "accounts.view_all"})) == "csm"
    assert seat_of(SCHEMA, custom([CSM_SEAT])) == "csm"


def test_N2_role_without_csm_seat_takes_analyst_seat() -> None:
    everything_else = frozenset(SCHEMA.permissions) - {CSM_SEAT}
    assert SCHEMA.level_for(None, everything_else) == "analyst"
    assert SCHEMA.level_for(None, frozenset()) == "analyst"
    assert seat_of(SCHEMA, custom(everything_else)) == "analyst"


def test_N2_level_that_does_not_follow_the_marker_is_refused() -> None:
    wrong = custom([CSM_SEAT], landing_page="my_accounts").with_changes(level="analyst")
    assert "N2" in rule_ids(role_violations(SCHEMA, wrong, NO_FEATURES))
    wrong_other_way = custom(["accounts.view_all"]).with_changes(level="csm")
    assert "N2" in rule_ids(role_violations(SCHEMA, wrong_other_way, NO_FEATURES))


def test_N2_analyst_seat_takes_any_permission_except_csm_seat() -> None:
    ceiling = SCHEMA.levels["analyst"].ceiling
    assert ceiling == frozenset(SCHEMA.permissions) - {CSM_SEAT}
    # Even if forced in, the CSM seat permission has no effect at the analyst level.
    assert CSM_SEAT not in effective_permissions(SCHEMA, "analyst", frozenset({CSM_SEAT}), NO_FEATURES)


# -- N3: the five default roles ---------------------------------------------------------


def test_N3_five_default_roles_and_their_seats() -> None:
    names = {k: r.name for k, r in SCHEMA.system_roles.items()}
    assert names == {
        "csm": "CSM",
        "csm_manager": "CSM Manager",
        "executive": "Executive",
        "guest": "Guest",
        "analyst": "Analyst",
    }
    seats = {k: seat_of(SCHEMA, system(k)) for k in SCHEMA.system_roles}
    assert seats == {"csm": "csm", "csm_manager": "csm", "executive": "analyst", "guest": "analyst", "analyst": "analyst"}


def test_N3_default_roles_permissions() -> None:
    every = frozenset(SCHEMA.permissions)
    assert effective(system("csm_manager")) == every
    assert effective(system("analyst")) == every - {CSM_SEAT}
    assert effective(system("executive")) == {"accounts.view_all", "accounts.update"}
    assert effective(system("guest")) == {"accounts.view_all"}
    assert CSM_SEAT in effective(system("csm"))


def test_N3_csm_manager_manages_users_settings_and_all_accounts(snap: Snapshot) -> None:
    for action in ("members.manage", "settings.create_workflows", "accounts.view", "accounts.update_attributes"):
        decision = snap.check("mia", action)
        assert decision.allowed, action
        assert decision.scope is Scope.ALL, action
    assert snap.check("mia", "accounts.update_attributes", RecordRef("account", "a_bob")).allowed


def test_N3_guest_views_but_does_not_update(snap: Snapshot) -> None:
    assert snap.check("gus", "accounts.view", RecordRef("account", "a_bob")).allowed
    assert snap.check("gus", "account_users.view", RecordRef("account_user", "u_bob")).allowed
    assert not snap.check("gus", "accounts.update_attributes", RecordRef("account", "a_bob")).allowed


# -- N4, N5, N8: landing pages, editing, creating --------------------------------------------


def test_N4_every_default_role_has_a_landing_page_it_can_open() -> None:
    for key in SCHEMA.system_roles:
        role = system(key)
        assert role.landing_page in SCHEMA.landing_pages, key
        assert role_violations(SCHEMA, role, NO_FEATURES, system_ok=True) == [], key


def test_N4_role_without_landing_page_is_refused() -> None:
    assert rule_ids(role_violations(SCHEMA, custom(["accounts.view_all"], landing_page=None), NO_FEATURES)) == ["N4"]


def test_N4_landing_page_the_role_cannot_open_is_refused() -> None:
    no_seat = custom(["accounts.view_all"], landing_page="my_accounts")
    assert rule_ids(role_violations(SCHEMA, no_seat, NO_FEATURES)) == ["N4"]
    unknown = custom(["accounts.view_all"], landing_page="nowhere")
    assert rule_ids(role_violations(SCHEMA, unknown, NO_FEATURES)) == ["N4"]
    assert role_violations(SCHEMA, custom(["accounts.view_all"], landing_page="all_accounts"), NO_FEATURES) == []


def test_N5_default_role_landing_page_and_permissions_can_be_edited() -> None:
    csm = system("csm")
    assert csm.editable
    edited = csm.with_changes(grants=csm.grants | {"settings.configure_product"}, landing_page="settings")
    assert role_violations(SCHEMA, edited, NO_FEATURES, previous=csm) == []
    trimmed = csm.with_changes(grants=csm.grants - {"accounts.update"}, landing_page="dashboard")
    assert role_violations(SCHEMA, trimmed, NO_FEATURES, previous=csm) == []


def test_N5_turning_csm_seat_on_or_off_on_a_default_role_is_allowed() -> None:
    guest = system("guest")
    promoted = guest.with_changes(grants=guest.grants | {CSM_SEAT}, level="csm")
    assert role_violations(SCHEMA, promoted, NO_FEATURES, previous=guest) == []
    csm = system("csm")
    demoted = csm.with_changes(grants=csm.grants - {CSM_SEAT}, level="analyst", landing_page="dashboard")
    assert role_violations(SCHEMA, demoted, NO_FEATURES, previous=csm) == []


def test_N8_new_role_has_name_landing_page_and_permissions() -> None:
    ok = custom(["accounts.view_all", "accounts.update"], landing_page="all_accounts")
    assert role_violations(SCHEMA, ok, NO_FEATURES) == []
    assert "N8" in rule_ids(role_violations(SCHEMA, custom(["accounts.view_all"], name="  "), NO_FEATURES))
    assert "unknown_key" in rule_ids(role_violations(SCHEMA, custom(["accounts.view_everything"]), NO_FEATURES))


def test_N8_new_csm_role_takes_a_csm_seat() -> None:
    role = custom([CSM_SEAT], landing_page="my_accounts")
    assert role.level == "csm"
    assert role_violations(SCHEMA, role, NO_FEATURES) == []


# -- N6, N7: roles whose holders have accounts ----------------------------------------------


def test_N6_cannot_drop_csm_seat_while_accounts_assigned() -> None:
    csm = system("csm")
    without = csm.with_changes(grants=csm.grants - {CSM_SEAT}, level="analyst")
    violations = assignee_permission_violations(SCHEMA, effective(csm), effective(without), {"account": 2})
    assert rule_ids(violations) == ["N6"]
    assert "Customer Success Manager Seat" in violations[0].message


def test_N6_csm_seat_can_be_dropped_once_accounts_are_unassigned() -> None:
    csm = system("csm")
    without = csm.with_changes(grants=csm.grants - {CSM_SEAT}, level="analyst")
    assert assignee_permission_violations(SCHEMA, effective(csm), effective(without), {"account": 0}) == []
    assert assignee_permission_violations(SCHEMA, effective(csm), effective(without), {}) == []


def test_N6_other_permissions_can_be_dropped_while_accounts_assigned() -> None:
    manager = system("csm_manager")
    trimmed = manager.with_changes(grants=manager.grants - {"accounts.update", "users.configure"})
    assert assignee_permission_violations(SCHEMA, effective(manager), effective(trimmed), {"account": 5}) == []


def test_N7_role_held_by_members_with_assigned_accounts_cannot_be_deleted() -> None:
    role = custom([CSM_SEAT], landing_page="my_accounts")
    refused = role_deletion_violations(SCHEMA, role, HolderCounts(active=2, with_assigned_records=1))
    assert "N7" in rule_ids(refused)
    assert "N7" not in rule_ids(role_deletion_violations(SCHEMA, role, HolderCounts(active=2)))
    assert role_deletion_violations(SCHEMA, role, HolderCounts()) == []


# -- N9 to N14: what each permission opens -----------------------------------------------------


def test_N9_only_the_csm_seat_lets_a_member_be_assigned_accounts() -> None:
    assert SCHEMA.objects["account"].assignee_action == "accounts.be_assigned"
    assert SCHEMA.permissions_by_action["accounts.be_assigned"] == (CSM_SEAT,)
    csm_ok = assignee_violations(SCHEMA, object_type="account", member="ann", effective=effective(system("csm")), active=True)
    assert csm_ok == []
    for key in ("executive", "guest", "analyst"):
        refused = assignee_violations(SCHEMA, object_type="account", member="x", effective=effective(system(key)), active=True)
        assert rule_ids(refused) == ["N9"], key


def test_N9_csm_seat_actions_apply_to_assigned_accounts() -> None:
    grants = {g.action: g.scope for g in SCHEMA.permissions[CSM_SEAT].grants}
    for action in N9_ACTIONS:
        assert grants[action] is Scope.ASSIGNED, action
    assert grants["accounts.be_assigned"] is Scope.ALL


def test_N9_csm_deploys_workflows_only_on_own_accounts(snap: Snapshot) -> None:
    assert snap.check("ann", "accounts.deploy_workflows").scope is Scope.ASSIGNED
    assert snap.check("ann", "accounts.deploy_workflows", RecordRef("account", "a_ann")).allowed
    other = snap.check("ann", "accounts.deploy_workflows", RecordRef("account", "a_bob"))
    assert not other.allowed
    assert other.reasons[-1].code is ReasonCode.RECORD_OUT_OF_SCOPE
    assert not snap.check("ann", "accounts.deploy_workflows", RecordRef("account", "a_free")).allowed
    # Full access still means the CSM seat's actions on one's own accounts only.
    assert snap.check("mia", "accounts.deploy_workflows").scope is Scope.ASSIGNED
    # Without the CSM seat, on no account at all.
    assert not snap.check("eve", "accounts.deploy_workflows").allowed
    assert not snap.check("ali", "accounts.deploy_workflows").allowed


def test_N10_configure_product_settings_actions() -> None:
    assert granted_actions(["settings.configure_product"]) == {
        "settings.define_dimensions",
        "settings.customize_layout",
        "settings.configure_health_score",
        "settings.create_alert_rules",
        "settings.create_workflows",
        "settings.create_email_triggers",
    }


def test_N10_only_roles_with_product_settings_configure_them(snap: Snapshot) -> None:
    assert snap.check("ali", "settings.create_email_triggers").allowed
    assert not snap.check("ann", "settings.create_email_triggers").allowed
    assert not snap.check("eve", "settings.configure_health_score").allowed


def test_N11_view_all_accounts_shows_every_account_and_its_users(snap: Snapshot) -> None:
    grants = {g.action: g.scope for g in SCHEMA.permissions["accounts.view_all"].grants}
    assert grants["accounts.view"] is Scope.ALL
    assert grants["account_users.view"] is Scope.ALL
    for account in ("a_ann", "a_bob", "a_free"):
        assert snap.check("gus", "accounts.view", RecordRef("account", account)).allowed, account


def test_N11_without_view_all_a_csm_sees_only_assigned_accounts(snap: Snapshot) -> None:
    assert snap.check("ann", "accounts.view", RecordRef("account", "a_ann")).allowed
    denied = snap.check("ann", "accounts.view", RecordRef("account", "a_bob"))
    assert not denied.allowed
    assert denied.reasons[-1].rule_id == "N11"
    assert not snap.check("ann", "accounts.view", RecordRef("account", "a_free")).allowed
    assert not snap.check("ann", "account_users.view", RecordRef("account_user", "u_bob")).allowed
    visible = snap.lookup("ann", "accounts.view", "account")
    index = InMemoryRecordIndex(
        [Record("account", "a_ann", assignee="ann"), Record("account", "a_bob", assignee="bob"), Record("account", "a_free")]
    )
    assert [r.id for r in index if visible.matches(index, r.ref)] == ["a_ann"]


def test_N12_configure_users_actions() -> None:
    assert granted_actions(["users.configure"]) == {
        "members.manage",
        "roles.configure",
        "roles.assign",
        "accounts.configure_assignment",
    }
    # Every admin right comes from "Configure users".
    for right in AdminRight:
        assert SCHEMA.permissions_by_action[SCHEMA.admin_actions[right]] == ("users.configure",), right


def test_N12_only_roles_that_configure_users_have_the_admin_rights(snap: Snapshot) -> None:
    for right in AdminRight:
        assert snap.has_right("mia", right).allowed, right
        assert snap.has_right("ali", right).allowed, right
        for member in ("ann", "eve", "gus"):
            assert not snap.has_right(member, right).allowed, (member, right)


def test_N12_someone_must_keep_the_right_to_configure_users() -> None:
    assert SCHEMA.guardian.right is AdminRight.MANAGE_MEMBERS
    assert SCHEMA.guardian.rule_id == "N12"


def test_N13_update_accounts_actions() -> None:
    assert granted_actions(["accounts.update"]) == {
        "accounts.update_attributes",
        "accounts.add_tasks",
        "tasks.update",
        "accounts.bulk_edit",
        "accounts.manage_delete_lists",
        "accounts.update_interactions",
        "accounts.send_emails",
        "campaigns.manage",
    }


def test_N13_update_accounts_acts_on_the_accounts_the_member_sees(snap: Snapshot) -> None:
    # The executive sees every account, so updates every account.
    for account in ("a_ann", "a_bob", "a_free"):
        assert snap.check("eve", "accounts.update_attributes", RecordRef("account", account)).allowed, account
    assert snap.check("eve", "tasks.update", RecordRef("task", "t_bob")).allowed
    # The CSM has "Update accounts" too, but sees only their own accounts.
    assert snap.check("ann", "accounts.send_emails", RecordRef("account", "a_ann")).allowed
    assert not snap.check("ann", "accounts.send_emails", RecordRef("account", "a_bob")).allowed
    assert snap.check("ann", "tasks.update", RecordRef("task", "t_ann")).allowed
    assert not snap.check("ann", "tasks.update", RecordRef("task", "t_bob")).allowed
    # The guest does not have it.
    assert not snap.check("gus", "accounts.bulk_edit").allowed


def test_N14_configure_data_connectors_actions(snap: Snapshot) -> None:
    assert granted_actions(["settings.data_connectors"]) == {
        "connectors.api_keys",
        "connectors.api_uploader",
        "connectors.third_party",
        "connectors.enable_email_campaigns",
        "connectors.it_administration",
    }
    assert snap.check("ali", "connectors.api_keys").allowed
    assert snap.check("mia", "connectors.it_administration").allowed
    assert not snap.check("ann", "connectors.api_keys").allowed
    assert not snap.check("eve", "connectors.third_party").allowed
