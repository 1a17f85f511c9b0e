"""The rules a member's deletion checks (N12, E7): nobody deletes themselves (C5); and
the default role a new administrator record gets (E7)."""

from __future__ import annotations

import dataclasses

from rolegate.domain.permissions import role_permissions
from rolegate.domain.roles import RoleKind, role_from_system
from rolegate.domain.rules.team_rules import default_member_role, self_removal_violations
from rolegate.presets import load_preset


def test_C5_a_member_cannot_delete_themselves() -> None:
    assert [v.rule_id for v in self_removal_violations(load_preset("customersuccessbox"), actor="adm", member="adm")] == ["C5"]
    assert self_removal_violations(load_preset("customersuccessbox"), actor="adm", member="cat") == []


def test_E7_a_new_record_gets_the_narrowest_system_role() -> None:
    schema = load_preset("email_marketing")
    roles = {r.id: r for r in (role_from_system(schema, sr) for sr in schema.system_roles.values())}
    features = schema.feature_defaults
    chosen = default_member_role(schema, roles.values(), features)
    assert chosen.is_system
    widths = {r.id: len(role_permissions(schema, r, features)) for r in roles.values()}
    assert widths[chosen.id] == min(widths.values())
    assert widths[chosen.id] < widths["site_administrator"]
    custom = dataclasses.replace(chosen, id="narrow", name="Narrow", kind=RoleKind.CUSTOM, grants=frozenset())
    assert default_member_role(schema, [*roles.values(), custom], features).id == chosen.id  # a system role first
    assert default_member_role(schema, [custom], features).id == "narrow"
