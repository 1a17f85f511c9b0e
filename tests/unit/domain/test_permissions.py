"""Effective permissions: system-only permissions never reach custom roles (E7)."""

from __future__ import annotations

import pytest

from rolegate.domain.errors import SchemaError
from rolegate.domain.permissions import PermissionStatus, resolve_permissions, role_permissions
from rolegate.domain.roles import Member, Role, RoleKind, role_from_system
from rolegate.domain.schema import AdminRight
from rolegate.domain.schema_build import parse_schema
from rolegate.engine import ReasonCode, compile_snapshot
from rolegate.presets import load_preset
from tests.unit.domain.test_schema_build import minimal

EM = load_preset("email_marketing")


def test_E7_custom_role_never_holds_a_system_only_permission_even_if_stored() -> None:
    # Saving refuses it (role_violations), but a row written before, or by hand, must not count.
    smuggled = Role("x", "Smuggler", RoleKind.CUSTOM, "site_administrator", frozenset({"site.administer"}))
    assert "site.administer" not in role_permissions(EM, smuggled, frozenset())
    states = resolve_permissions(EM, smuggled.level, smuggled.grants, frozenset(), system_role=False)
    assert states["site.administer"].status is PermissionStatus.SYSTEM_ONLY
    site = role_from_system(EM, EM.system_roles["site_administrator"])
    snap = compile_snapshot(EM, roles=[smuggled, site], members=[Member("m", "x"), Member("s", "site_administrator")])
    denied = snap.has_right("m", AdminRight.ASSIGN_ROLES)
    assert not denied.allowed
    assert denied.reasons[0].rule_id == "E7"
    assert snap.has_right("s", AdminRight.ASSIGN_ROLES).allowed


def test_E7_system_only_permission_cannot_sit_in_a_level_floor() -> None:
    data = minimal()
    data["permissions"]["admin.all"]["system_only"] = True
    data["levels"]["member"]["floor"] = ["admin.all"]
    with pytest.raises(SchemaError) as info:
        parse_schema(data)
    assert any("'admin.all' is system_only and cannot be in a floor" in str(p) for p in info.value.problems)


def test_E7_denial_reason_code_for_system_only_is_not_granted() -> None:
    smuggled = Role("x", "Smuggler", RoleKind.CUSTOM, "site_administrator", frozenset({"site.administer"}))
    snap = compile_snapshot(EM, roles=[smuggled], members=[Member("m", "x")])
    assert snap.check("m", EM.admin_actions[AdminRight.MANAGE_ROLES]).reasons[0].code is ReasonCode.NOT_GRANTED


def test_E7_matrix_marks_system_only_permissions_unavailable_for_custom_roles() -> None:
    from rolegate.domain.matrix import Cell, permission_matrix

    custom = Role("x", "Custom", RoleKind.CUSTOM, "site_administrator", frozenset())
    site = role_from_system(EM, EM.system_roles["site_administrator"])
    matrix = permission_matrix(EM, [custom, site], frozenset())
    assert matrix.cell("x", "site.administer") is Cell.UNAVAILABLE
    assert matrix.cell("site_administrator", "site.administer") is Cell.ON
