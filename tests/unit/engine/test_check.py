"""check / require / explain on a compiled snapshot, without and with records."""

from __future__ import annotations

import pytest

from rolegate.domain.errors import (
    InvalidRecordError,
    NotFoundError,
    PermissionDeniedError,
    RolegateError,
    UnknownActionError,
)
from rolegate.domain.roles import Member
from rolegate.domain.schema import AdminRight, ProductSchema, Scope
from rolegate.engine import ReasonCode, RecordRef, Snapshot, compile_snapshot
from tests.unit.engine.conftest import A, B, U, custom


def test_check_without_record_reports_scope_and_revision(snap: Snapshot) -> None:
    d = snap.check("ann", "accounts.view")
    assert d.allowed
    assert d.scope == Scope.ASSIGNED | Scope.UNASSIGNED
    assert d.revision == 7
    assert snap.check("max", "accounts.view").scope is Scope.ALL


def test_check_without_record_returns_a_precompiled_decision(snap: Snapshot) -> None:
    # No allocation per call: the very same object comes back.
    assert snap.check("ann", "accounts.update") is snap.check("bob", "accounts.update")


def test_unknown_action_raises_with_suggestion(snap: Snapshot) -> None:
    with pytest.raises(UnknownActionError) as info:
        snap.check("ann", "accounts.veiw")
    assert "did you mean 'accounts.view'" in str(info.value)


def test_unknown_member_is_denied_not_an_error(snap: Snapshot) -> None:
    d = snap.check("zed", "accounts.view")
    assert not d.allowed
    assert d.reasons[0].code is ReasonCode.UNKNOWN_MEMBER


def test_invited_and_disabled_members_can_do_nothing(snap: Snapshot) -> None:
    for member in ("ivy", "dan"):
        d = snap.check(member, "admin.manage")
        assert not d.allowed
        assert d.reasons[0].code is ReasonCode.MEMBER_INACTIVE
        assert snap.effective_permissions(member) == frozenset()


def test_denial_names_the_missing_permission(snap: Snapshot) -> None:
    d = snap.check("nil", "admin.manage")
    assert not d.allowed
    assert [r.code for r in d.reasons] == [ReasonCode.NOT_GRANTED]
    assert d.reasons[0].permission == "admin.manage"


def test_grant_above_ceiling_is_explained(crm: ProductSchema) -> None:
    # The viewer level's ceiling excludes admin.manage: granting it has no effect.
    s = compile_snapshot(crm, roles=[custom("r", "viewer", "admin.manage")], members=[Member("m", "r")])
    d = s.check("m", "admin.manage")
    assert not d.allowed
    assert d.reasons[0].code is ReasonCode.ABOVE_CEILING
    assert "'Viewer'" in d.reasons[0].message


def test_feature_off_and_requirement_reasons(crm: ProductSchema) -> None:
    role = custom("r", "high", "sms.send")
    off = compile_snapshot(crm, features=frozenset(), roles=[role], members=[Member("m", "r")])
    assert off.check("m", "sms.send").reasons[0].code is ReasonCode.FEATURE_OFF
    on = compile_snapshot(crm, features=frozenset({"sms"}), roles=[role], members=[Member("m", "r")])
    d = on.check("m", "sms.send")
    assert not d.allowed
    assert d.reasons[0].code is ReasonCode.REQUIREMENT_MISSING
    assert "SMS view" in d.reasons[0].message


def test_object_without_view_permission_is_not_visible(snap: Snapshot) -> None:
    # editor level's floor gives tasks, but "nobody" (viewer level) sees no accounts at all.
    d = snap.check("nil", "accounts.update")
    assert not d.allowed


def test_record_assigned_to_member(snap: Snapshot) -> None:
    assert snap.check("ann", "accounts.update", A).allowed
    d = snap.check("ann", "accounts.update", B)
    assert not d.allowed
    assert d.reasons[-1].code is ReasonCode.RECORD_OUT_OF_SCOPE
    assert not snap.check("ann", "accounts.update", U).allowed  # update is own only


def test_unassigned_scope(snap: Snapshot) -> None:
    assert snap.check("ann", "accounts.view", U).allowed
    assert not snap.check("ann", "accounts.view", B).allowed


def test_scope_all_ignores_assignment(snap: Snapshot) -> None:
    for ref in (A, B, U):
        assert snap.check("max", "accounts.update", ref).allowed


def test_record_given_as_plain_tuple(snap: Snapshot) -> None:
    assert snap.check("ann", "accounts.update", ("account", "a-ann")).allowed


def test_child_record_follows_the_parent_assignment(snap: Snapshot) -> None:
    assert snap.check("ann", "tasks.view", RecordRef("task", "t-ann")).allowed
    assert snap.check("ann", "tasks.view", RecordRef("task", "t-free")).allowed
    d = snap.check("ann", "tasks.view", RecordRef("task", "t-bob"))
    assert not d.allowed


def test_grandchild_record_depth_two(snap: Snapshot) -> None:
    assert snap.check("ann", "comments.view", RecordRef("comment", "c-ann")).allowed
    assert not snap.check("ann", "comments.view", RecordRef("comment", "c-bob")).allowed
    assert snap.check("bob", "comments.view", RecordRef("comment", "c-bob")).allowed


def test_missing_record_or_parent_is_denied(snap: Snapshot) -> None:
    d = snap.check("ann", "tasks.view", RecordRef("task", "t-orphan"))
    assert not d.allowed
    assert d.reasons[-1].code is ReasonCode.RECORD_NOT_FOUND
    assert not snap.check("ann", "accounts.view", RecordRef("account", "nope")).allowed


def test_record_of_the_wrong_type_is_an_error(snap: Snapshot) -> None:
    with pytest.raises(InvalidRecordError):
        snap.check("ann", "accounts.view", RecordRef("task", "t-ann"))
    with pytest.raises(InvalidRecordError):
        snap.check("max", "admin.manage", RecordRef("account", "a-ann"))


def test_denied_record_check_keeps_revision(snap: Snapshot) -> None:
    assert snap.check("ann", "accounts.update", B).revision == 7


def test_require_raises_denied_or_not_found(snap: Snapshot) -> None:
    assert snap.require("ann", "accounts.update", A).allowed
    with pytest.raises(NotFoundError):
        snap.require("ann", "accounts.update", B)  # ann cannot even see bob's account
    with pytest.raises(PermissionDeniedError) as info:
        snap.require("ann", "accounts.update", U)  # she sees it, may not update it
    assert not isinstance(info.value, NotFoundError)
    with pytest.raises(PermissionDeniedError):
        snap.require("nil", "admin.manage")


def test_explain_lists_member_role_and_reasons(snap: Snapshot) -> None:
    text = str(snap.explain("ann", "accounts.update", B))
    assert text.startswith("DENIED: ann -> accounts.update on account 'a-bob' (revision 7)")
    assert "holds role 'Csm' at level 'editor'" in text
    assert "assigned to someone else" in text
    allowed = snap.explain("max", "accounts.view")
    assert allowed.decision.allowed
    assert "scope: all" in allowed.lines


def test_has_right_uses_the_schema_admin_actions(snap: Snapshot) -> None:
    assert snap.has_right("max", AdminRight.MANAGE_ROLES).allowed
    assert not snap.has_right("ann", AdminRight.MANAGE_ROLES).allowed


def test_compile_refuses_unknown_role_or_feature(crm: ProductSchema) -> None:
    with pytest.raises(RolegateError, match="unknown role"):
        compile_snapshot(crm, roles=[], members=[Member("m", "ghost")])
    with pytest.raises(RolegateError, match="unknown features"):
        compile_snapshot(crm, features=["smss"], roles=[], members=[])


def test_decision_to_json(snap: Snapshot) -> None:
    data = snap.check("ann", "accounts.view").to_json()
    assert data["allowed"] is True
    assert data["scope"] == "assigned+unassigned"
    assert data["revision"] == 7


def test_record_check_needs_an_index(crm: ProductSchema) -> None:
    s = compile_snapshot(crm, roles=[custom("csm", "editor", "accounts.own")], members=[Member("m", "csm")])
    with pytest.raises(InvalidRecordError, match="no record index"):
        s.check("m", "accounts.view", A)


def test_N11_scope_narrowed_by_visibility_is_explained(snap: Snapshot) -> None:
    # "manager"-like grants of update with scope all, seen only on visible accounts:
    # the csm role grants update on assigned accounts and views assigned+unassigned.
    d = snap.check("ann", "tasks.update")
    assert d.allowed
    assert d.scope == Scope.ASSIGNED | Scope.UNASSIGNED
    assert d.reasons[-1].code is ReasonCode.NARROWED
    assert d.reasons[-1].rule_id is None  # the CRM schema states no parent rule (C7 is customersuccessbox's)
    assert snap.check("max", "accounts.update").reasons[-1].code is ReasonCode.GRANTED
