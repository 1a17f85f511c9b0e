"""A bad product schema lists every problem with its path and a hint; never a traceback."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from rolegate.domain.errors import SchemaError
from rolegate.domain.schema import FieldAccess, Scope
from rolegate.domain.schema_build import parse_schema
from rolegate.presets.loader import load_schema_text


def minimal() -> dict[str, Any]:
    return {
        "key": "mini",
        "name": "Mini",
        "features": {"sms": {"label": "SMS"}},
        "objects": {
            "account": {"label": "Account", "assignable": True, "view_action": "accounts.view"},
            "task": {"label": "Task", "parent": "account", "view_action": "tasks.view"},
        },
        "actions": {
            "accounts.view": {"object": "account"},
            "tasks.view": {"object": "task"},
            "assets.view_media": {},
            "assets.manage_media": {},
            "admin.all": {},
        },
        "areas": {"assets": {"label": "Assets"}, "accounts": {"label": "Accounts"}, "admin": {"label": "Admin"}},
        "permissions": {
            "assets.view_media": {"label": "View Media", "grants": ["assets.view_media"]},
            "assets.manage_media": {"label": "Manage Media", "grants": ["assets.manage_media"], "requires": ["assets.view_media"]},
            "accounts.own": {"label": "Own accounts", "grants": [{"action": "accounts.view", "scope": "assigned"}, "tasks.view"]},
            "admin.all": {"label": "Admin", "grants": ["admin.all"]},
        },
        "levels": {"member": {"label": "Member", "rank": 1}},
        "roles": {"admin": {"name": "Admin", "level": "member", "grants": "all"}},
        "admin": dict.fromkeys(("view_roles", "manage_roles", "manage_members", "assign_roles", "assign_records", "view_audit"), "admin.all"),
    }


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(SchemaError) as info:
        parse_schema(data)
    return [str(p) for p in info.value.problems]


def test_minimal_schema_builds() -> None:
    schema = parse_schema(minimal())
    assert schema.permissions["assets.manage_media"].requires == frozenset({"assets.view_media"})
    assert schema.permissions["accounts.own"].grants[0].scope is Scope.ASSIGNED
    assert schema.objects["task"].ancestors == ("account",)
    assert schema.objects["task"].carrier_offset == 1
    assert schema.permissions_by_action["tasks.view"] == ("accounts.own",)


def test_unknown_requirement_is_reported_with_path_and_suggestion() -> None:
    data = minimal()
    data["permissions"]["assets.manage_media"]["requires"] = ["assets.veiw_media"]
    assert problems_of(data) == [
        "permissions.assets.manage_media.requires[0]: unknown permission 'assets.veiw_media' (did you mean 'assets.view_media'?)"
    ]


def test_every_problem_is_listed_not_just_the_first() -> None:
    data = minimal()
    data["permissions"]["assets.manage_media"]["requires"] = ["assets.veiw_media"]
    data["permissions"]["assets.view_media"]["feature"] = "smss"
    data["levels"]["member"]["seat"] = "editor"
    data["roles"]["admin"]["level"] = "membr"
    found = problems_of(data)
    assert len(found) == 4
    assert any(p.startswith("permissions.assets.view_media.feature: unknown feature 'smss' (did you mean 'sms'?)") for p in found)
    assert any(p.startswith("levels.member.seat: unknown seat 'editor'") for p in found)
    assert any(p.startswith("roles.admin.level: unknown level 'membr' (did you mean 'member'?)") for p in found)


def test_requires_cycle_is_rejected() -> None:
    data = minimal()
    data["permissions"]["assets.view_media"]["requires"] = ["assets.manage_media"]
    found = problems_of(data)
    assert found == [
        "permissions.assets.view_media.requires: requires form a cycle (assets.view_media -> assets.manage_media -> assets.view_media)"
    ]


def test_object_parent_cycle_is_rejected() -> None:
    data = minimal()
    data["objects"]["account"]["parent"] = "task"
    assert any("objects form a cycle" in p for p in problems_of(data))


def test_shape_errors_name_the_path_and_suggest_the_key() -> None:
    data = minimal()
    data["permissions"]["assets.view_media"]["lable"] = data["permissions"]["assets.view_media"].pop("label")
    found = problems_of(data)
    assert "permissions.assets.view_media.label: required key is missing (add it)" in found
    assert "permissions.assets.view_media.lable: unknown key (did you mean 'label'?)" in found


def test_wrong_scope_value_names_the_grant() -> None:
    data = minimal()
    data["permissions"]["accounts.own"]["grants"][0]["scope"] = "mine"
    found = problems_of(data)
    assert len(found) == 1
    assert found[0].startswith("permissions.accounts.own.grants[0].scope:")


def test_scope_needs_an_assignable_object() -> None:
    data = minimal()
    data["permissions"]["assets.view_media"]["grants"] = [{"action": "assets.view_media", "scope": "assigned"}]
    assert any(p.startswith("permissions.assets.view_media.grants[0]: scope 'assigned' needs an action on an object with assignees") for p in problems_of(data))


def test_floor_above_ceiling_is_rejected() -> None:
    data = minimal()
    data["levels"]["member"]["floor"] = ["admin.all"]
    data["levels"]["member"]["ceiling"] = ["assets.view_media"]
    assert any("'admin.all' is in the floor but above the ceiling" in p for p in problems_of(data))


def test_marker_mode_needs_a_marker() -> None:
    data = minimal()
    data["level_policy"] = {"mode": "marker"}
    data["roles"]["admin"].pop("level")
    assert any(p.startswith("level_policy.marker: mode `marker` needs a marker") for p in problems_of(data))


def test_synced_field_cap_must_reference_a_synced_field() -> None:
    data = minimal()
    data["integrations"] = {"crm": {"label": "CRM", "field_caps": {"account.arr": "read", "account.nme": "read"}}}
    data["objects"]["account"]["fields"] = {"arr": {"synced_from": "crm"}, "name": {}}
    found = problems_of(data)
    assert any(p.startswith("integrations.crm.field_caps.account.nme: unknown field 'account.nme' (did you mean 'account.name'?)") for p in found), found


def test_caps_parse_into_field_access() -> None:
    data = minimal()
    data["integrations"] = {"crm": {"label": "CRM", "field_caps": {"account.arr": "read"}}}
    data["objects"]["account"]["fields"] = {"arr": {"synced_from": "crm"}}
    schema = parse_schema(data)
    assert schema.integrations["crm"].cap("account", "arr") is FieldAccess.READ


def test_bad_yaml_is_a_schema_error_with_a_line() -> None:
    with pytest.raises(SchemaError) as info:
        load_schema_text("key: [unclosed\n")
    assert "not valid YAML" in str(info.value.problems[0])
    assert info.value.problems[0].path.startswith("line ")


def test_not_a_mapping_is_a_schema_error() -> None:
    with pytest.raises(SchemaError):
        parse_schema(["a list"])


def test_system_role_landing_page_must_be_reachable_N4() -> None:
    data = minimal()
    data["landing_pages"] = {"media": {"label": "Media", "requires": "assets.view_media"}}
    data["roles"]["admin"]["grants"] = ["admin.all"]
    data["roles"]["admin"]["landing_page"] = "media"
    assert any(p.startswith("roles.admin: Landing page “Media” needs “View Media”") for p in problems_of(data))


def test_round_trip_through_yaml() -> None:
    data = copy.deepcopy(minimal())
    schema = load_schema_text(yaml.safe_dump(data))
    assert schema.key == "mini"
