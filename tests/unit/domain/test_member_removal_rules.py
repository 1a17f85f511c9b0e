"""The rules a member's deletion checks (N12, E7): nobody deletes themselves (C5); and
the default role a new administrator record gets (E7)."""

from __future__ import annotations

import dataclasses
from importlib import resources

import pytest
import yaml

from rolegate.domain.errors import SchemaError
from rolegate.domain.permissions import role_permissions
from rolegate.domain.roles import RoleKind, role_from_system
from rolegate.domain.rules.team_rules import default_member_role, self_removal_violations
from rolegate.domain.schema_build import parse_schema
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


def test_the_schema_names_the_default_role() -> None:
    """Issue 15 (safe by default): `default_role:` is what pickers start on and what E7's
    records get; unset, the narrowest system role; a role the schema does not have is a
    schema error."""
    schema = load_preset("telephony")
    assert schema.default_role == "analyst"
    roles = [role_from_system(schema, sr, role_id=key) for key, sr in schema.system_roles.items()]
    features = schema.feature_defaults
    assert default_member_role(schema, roles, features).id == "analyst"
    wide = dataclasses.replace(schema, default_role="administrator")
    assert default_member_role(wide, roles, features).id == "administrator"
    unnamed = dataclasses.replace(schema, default_role=None)
    assert default_member_role(unnamed, iter(roles), features).id == "analyst"  # the narrowest, from an iterator too
    data = yaml.safe_load(resources.files("rolegate.presets").joinpath("telephony.yaml").read_text(encoding="utf-8"))
    data["default_role"] = "anaylst"
    with pytest.raises(SchemaError) as err:
        parse_schema(data, source="typo")
    assert any(p.path == "default_role" and "analyst" in p.hint for p in err.value.problems)
