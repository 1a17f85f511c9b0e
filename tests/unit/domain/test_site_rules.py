"""The domain of issue 8, without a database: copying roles across a site (E9), editing a
shared administrator record (E7, E9), the copy preview, and audit diffs (E8)."""

from __future__ import annotations

from rolegate.domain.audit_diff import Change, diff
from rolegate.domain.role_copy import copy_preview
from rolegate.domain.roles import Role, RoleKind
from rolegate.domain.rules.site_rules import (
    copy_target_violations,
    last_administrator_violations,
    record_edit_violations,
)
from rolegate.domain.violations import Violation
from rolegate.presets import load_preset

EMAIL = load_preset("email_marketing")
NATERO = load_preset("natero")


def _copy(**kw: object) -> list[Violation]:
    args: dict[str, object] = {
        "source_preset": "email_marketing",
        "source_organization": "org",
        "target_name": "B",
        "target_preset": "email_marketing",
        "target_organization": "org",
        "administers_target": True,
    } | kw
    return copy_target_violations(EMAIL, **args)  # type: ignore[arg-type]


def test_E9_copy_only_within_the_site_the_preset_and_what_the_actor_administers() -> None:
    assert _copy() == []
    assert [v.rule_id for v in _copy(target_organization="other")] == ["E9"]
    assert "another site" in _copy(target_organization="other")[0].message
    assert "runs preset 'natero'" in _copy(target_preset="natero")[0].message
    assert "do not manage roles" in _copy(administers_target=False)[0].message
    assert len(_copy(target_preset="natero", administers_target=False)) == 2


def test_E7_a_record_edit_never_changes_the_login_email() -> None:
    assert record_edit_violations(email_now="a@b.c", email_asked=None, name="Ann") == []
    assert record_edit_violations(email_now="a@b.c", email_asked=" A@B.c ", name="Ann") == []
    [moved] = record_edit_violations(email_now="a@b.c", email_asked="other@b.c", name="Ann")
    assert moved.rule_id == "E7"
    assert "only they can change it" in moved.message
    assert "account page" in moved.fix
    assert [v.rule_id for v in record_edit_violations(email_now="a@b.c", email_asked=None, name="x" * 201)] == ["E7"]


def _role(grants: set[str], level: str = "account_administrator", role_id: str = "r") -> Role:
    return Role(role_id, "SMS analyst", RoleKind.CUSTOM, level, frozenset(grants))


def test_E9_E5_preview_names_permissions_inert_in_the_target_and_what_holders_gain() -> None:
    role = _role({"contacts.view", "contacts_sms.view", "campaigns.view"})
    p = copy_preview(EMAIL, role, workspace_id="b", workspace_name="B", features=frozenset(), existing=None, holders=0, seats_used={}, seat_capacities={}, violations=[])
    assert (p.action, p.inert, p.gained, p.lost, p.refused, p.seat_impact) == ("create", ("contacts_sms.view",), (), (), False, "takes no seat")
    existing = _role({"contacts.view"}, role_id="x")
    p = copy_preview(EMAIL, role, workspace_id="b", workspace_name="B", features=frozenset({"sms"}), existing=existing, holders=3, seats_used={}, seat_capacities={}, violations=[])
    assert (p.action, p.inert, p.gained, p.holders) == ("update", (), ("campaigns.view", "contacts_sms.view"), 3)
    p = copy_preview(EMAIL, role, workspace_id="b", workspace_name="B", features=frozenset(), existing=role, holders=1, seats_used={}, seat_capacities={}, violations=[])
    assert p.action == "unchanged"
    refused = copy_preview(EMAIL, role, workspace_id="b", workspace_name="B", features=frozenset(), existing=None, holders=0, seats_used={}, seat_capacities={}, violations=[Violation("E9", "x", "y")])
    assert (refused.action, refused.refused) == ("refused", True)


def test_N2_preview_says_what_a_seat_move_costs() -> None:
    csm = Role("c", "Team lead", RoleKind.CUSTOM, "csm", frozenset({"accounts.csm_seat"}))
    analyst = Role("a", "Team lead", RoleKind.CUSTOM, "analyst", frozenset())
    seat = NATERO.levels["csm"].seat
    assert seat is not None
    p = copy_preview(NATERO, csm, workspace_id="b", workspace_name="B", features=frozenset(), existing=analyst, holders=2, seats_used={seat: 3}, seat_capacities={seat: 5}, violations=[])
    assert p.seat_impact == f"2 holders move to the {seat} seat: 5 of 5 in use"
    p = copy_preview(NATERO, csm, workspace_id="b", workspace_name="B", features=frozenset(), existing=None, holders=0, seats_used={seat: 3}, seat_capacities={seat: None}, violations=[])
    assert p.seat_impact == f"each member given it takes a {seat} seat (3 of unlimited in use)"
    p = copy_preview(NATERO, csm, workspace_id="b", workspace_name="B", features=frozenset(), existing=csm, holders=2, seats_used={seat: 3}, seat_capacities={seat: 5}, violations=[])
    assert p.seat_impact == f"{seat} seat, no change (3 of 5 in use)"


def test_E8_diff_reads_as_changes() -> None:
    before = {"name": "A", "grants": ["x", "y"], "level": "l1", "gone": 1}
    after = {"name": "B", "grants": ["y", "z"], "level": "l1", "new": None}
    changes = diff(before, after)
    assert [str(c) for c in changes] == ["gone: - 1", "grants: - 'x'", "grants: + 'z'", "name: 'A' -> 'B'", "new: + (none)"]
    assert diff(before, before) == []
    assert diff(None, {"a": 1}) == [Change("a", "added", after=1)]
    assert diff({"a": 1}, None) == [Change("a", "removed", before=1)]
    assert diff(None, {}) == [Change("(value)", "added", after={})]
    assert diff({}, None) == [Change("(value)", "removed", before={})]
    assert diff(["a", "b"], ["b", "a"]) == [Change("(value)", "changed", ["a", "b"], ["b", "a"])]
    assert diff(1, 2) == [Change("(value)", "changed", 1, 2)]
    assert diff({"f": {"o": {"x": "read"}}}, {"f": {"o": {"x": "write"}}}) == [Change("f.o.x", "changed", "read", "write")]


def test_E1_a_site_keeps_its_last_administrator() -> None:
    assert last_administrator_violations(frozenset({"u1", "u2"}), "u1") == []
    [v] = last_administrator_violations(frozenset({"u1"}), "u1")
    assert (v.rule_id, v.message) == ("E1", "This is the site's last administrator.")


def test_E7_a_record_edit_cites_the_products_rule() -> None:
    [v] = record_edit_violations(email_now="a@b.c", email_asked=None, name="x" * 201, rule_id="X7")
    assert v.rule_id == "X7"
