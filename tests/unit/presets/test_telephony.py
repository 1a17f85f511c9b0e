"""Seed 004 (telephony): licenses as floors, standard and custom roles, the Owner."""

from __future__ import annotations

from rolegate.domain.matrix import Cell, permission_matrix
from rolegate.domain.permissions import effective_permissions
from rolegate.domain.roles import Member, MemberStatus, Role, RoleKind, role_from_system
from rolegate.domain.rules.role_rules import HolderCounts, role_deletion_violations, role_violations
from rolegate.domain.rules.team_rules import guardian_violations, is_guardian
from rolegate.domain.schema import AdminRight
from rolegate.engine import compile_snapshot
from rolegate.presets import load_preset

SCHEMA = load_preset("telephony")
NO_FEATURES: frozenset[str] = frozenset()
SYSTEM = {k: role_from_system(SCHEMA, r) for k, r in SCHEMA.system_roles.items()}


def custom(level: str, *grants: str, name: str = "Support lead") -> Role:
    return Role(id="support", name=name, kind=RoleKind.CUSTOM, level=level, grants=frozenset(grants))


def eff(role: Role) -> frozenset[str]:
    return effective_permissions(SCHEMA, role.level, role.grants, NO_FEATURES)


def test_T1_standard_roles_in_rank_order() -> None:
    ranked = [lv.key for lv in SCHEMA.levels_by_rank()]
    assert ranked == ["analyst", "administrator", "owner"]
    assert list(SYSTEM) == ["owner", "administrator", "analyst"]
    assert eff(SYSTEM["owner"]) == frozenset(SCHEMA.permissions)
    assert eff(SYSTEM["analyst"]) == {"reports.view"}
    admin = eff(SYSTEM["administrator"])
    for area in ("numbers", "audios", "users", "integrations"):
        assert {f"{area}.view", f"{area}.manage"} <= admin
    assert "reports.view" in admin
    assert "reports.manage" not in admin


def test_T2_permissions_can_be_added_to_a_standard_role() -> None:
    analyst = SYSTEM["analyst"]
    assert analyst.editable
    more = analyst.with_changes(grants=analyst.grants | {"numbers.view"})
    assert role_violations(SCHEMA, more, NO_FEATURES, previous=analyst) == []
    assert "numbers.view" in eff(more)


def test_T2_standard_role_keeps_its_name_and_license() -> None:
    analyst = SYSTEM["analyst"]
    renamed = analyst.with_changes(name="Reporter")
    assert [v.rule_id for v in role_violations(SCHEMA, renamed, NO_FEATURES, previous=analyst)] == ["T2"]


def test_T3_roles_carry_type_license_and_description() -> None:
    # The list page itself comes with the HTTP/UI issues; the data it shows is here.
    for role in SYSTEM.values():
        assert role.kind is RoleKind.SYSTEM
        assert role.level in SCHEMA.levels
        assert role.description


def test_T5_license_is_the_minimal_set_of_permissions() -> None:
    # A custom role with the Administrator license and no grants still has the license.
    role = custom("administrator")
    assert SCHEMA.levels["administrator"].floor <= eff(role)
    assert eff(role) == SCHEMA.levels["administrator"].floor


def test_T5_licenses_ranked_and_each_standard_role_has_its_namesake() -> None:
    ranks = {k: lv.rank for k, lv in SCHEMA.levels.items()}
    assert ranks["analyst"] < ranks["administrator"] < ranks["owner"]
    for key, role in SYSTEM.items():
        assert role.level == key


def test_T5_custom_role_is_given_one_license_and_ceiling_is_named() -> None:
    role = custom("administrator", "account.billing")
    violations = role_violations(SCHEMA, role, NO_FEATURES)
    assert [v.rule_id for v in violations] == ["T5"]
    assert "Level “Administrator” cannot grant account.billing" in violations[0].message


def test_T6_matrix_shows_every_permission_of_every_role() -> None:
    roles = [*SYSTEM.values(), custom("analyst", "numbers.view")]
    matrix = permission_matrix(SCHEMA, roles, NO_FEATURES)
    assert len(matrix.rows) == len(SCHEMA.permissions)
    assert all(len(row.cells) == len(roles) for row in matrix.rows)
    assert matrix.cell("owner", "account.billing") is Cell.LOCKED
    assert matrix.cell("analyst", "reports.view") is Cell.LOCKED
    assert matrix.cell("support", "numbers.view") is Cell.ON
    assert matrix.cell("support", "numbers.manage") is Cell.OFF
    assert matrix.cell("analyst", "account.billing") is Cell.UNAVAILABLE


def test_T7_view_and_manage_pairs() -> None:
    rows: dict[str, dict[str, str]] = {}
    for key, p in SCHEMA.permissions.items():
        if p.pair_row is not None:
            assert p.pair_column is not None
            rows.setdefault(p.pair_row, {})[p.pair_column] = key
    assert set(rows) == {"numbers", "audios", "users", "integrations", "reports", "roles"}
    for cols in rows.values():
        assert SCHEMA.permissions[cols["manage"]].requires == {cols["view"]}


def test_T7_license_permissions_are_locked() -> None:
    before = custom("administrator", "numbers.view", "numbers.manage", "reports.manage")
    after = before.with_changes(grants={"reports.manage"})
    violations = role_violations(SCHEMA, after, NO_FEATURES, previous=before)
    assert [v.rule_id for v in violations] == ["T7"]
    assert "numbers.manage, numbers.view" in violations[0].message
    # and even if stored without them, the license still grants them
    assert {"numbers.view", "numbers.manage"} <= eff(after)


def test_T7_custom_role_may_change_license() -> None:
    before = custom("analyst")
    after = before.with_changes(level="administrator")
    assert role_violations(SCHEMA, after, NO_FEATURES, previous=before) == []


def test_T8_standard_roles_cannot_be_created_or_deleted() -> None:
    assert [v.rule_id for v in role_violations(SCHEMA, SYSTEM["analyst"], NO_FEATURES)] == ["T8"]
    assert [v.rule_id for v in role_deletion_violations(SCHEMA, SYSTEM["analyst"], HolderCounts())] == ["T8"]
    assert role_violations(SCHEMA, custom("analyst"), NO_FEATURES) == []
    assert role_deletion_violations(SCHEMA, custom("analyst"), HolderCounts()) == []


def test_T9_only_a_role_with_no_user_can_be_deleted() -> None:
    role = custom("analyst")
    for counts in (HolderCounts(active=1), HolderCounts(invited=1)):
        violations = role_deletion_violations(SCHEMA, role, counts)
        assert [v.rule_id for v in violations] == ["T9"]
        assert "irreversible" in violations[0].fix
    assert role_deletion_violations(SCHEMA, role, HolderCounts(active=0, invited=0)) == []


def test_T10_viewing_roles_needs_owner_or_the_permission() -> None:
    roles = [*SYSTEM.values(), custom("analyst", "roles.view")]
    members = [Member("olga", "owner"), Member("adam", "administrator"), Member("ana", "analyst"), Member("sam", "support")]
    snap = compile_snapshot(SCHEMA, roles=roles, members=members)
    assert snap.has_right("olga", AdminRight.VIEW_ROLES).allowed
    assert snap.has_right("sam", AdminRight.VIEW_ROLES).allowed
    assert not snap.has_right("adam", AdminRight.VIEW_ROLES).allowed
    assert not snap.has_right("ana", AdminRight.VIEW_ROLES).allowed
    assert not snap.has_right("sam", AdminRight.MANAGE_ROLES).allowed


def test_T11_the_last_owner_cannot_be_demoted_or_disabled() -> None:
    owner = SYSTEM["owner"]
    assert is_guardian(SCHEMA, owner, eff(owner))
    assert not is_guardian(SCHEMA, SYSTEM["administrator"], eff(SYSTEM["administrator"]))
    violations = guardian_violations(SCHEMA, member="olga", actor="adam", active_guardians={"olga"}, stays_guardian=False)
    assert [v.rule_id for v in violations] == ["T11"]
    assert "transfer ownership" in violations[0].fix


def test_T11_ownership_can_be_transferred() -> None:
    # With a second owner in place, the first may step down.
    assert guardian_violations(SCHEMA, member="olga", actor="olga", active_guardians={"olga", "adam"}, stays_guardian=False) == []
    assert SCHEMA.admin_actions[AdminRight.MANAGE_MEMBERS] == "users.manage"
    assert "account.ownership" in SCHEMA.levels["owner"].floor
    assert "account.ownership" not in SCHEMA.levels["administrator"].ceiling


def test_T4_invited_member_can_do_nothing_until_active() -> None:
    roles = list(SYSTEM.values())
    invited = compile_snapshot(SCHEMA, roles=roles, members=[Member("ivan", "analyst", MemberStatus.INVITED)])
    assert not invited.check("ivan", "reports.view").allowed
    active = compile_snapshot(SCHEMA, roles=roles, members=[Member("ivan", "analyst", MemberStatus.ACTIVE)])
    assert active.check("ivan", "reports.view").allowed
