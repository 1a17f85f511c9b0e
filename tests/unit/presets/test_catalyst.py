"""Catalyst preset (seed 002): the rules of SEED_RULES.md section K the library decides."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from importlib import resources
from typing import Any

import pytest
import yaml

from rolegate.domain.fields import field_decision
from rolegate.domain.permissions import effective_permissions
from rolegate.domain.roles import Member, Role, RoleKind, role_from_system
from rolegate.domain.rules.role_rules import HolderCounts, role_deletion_violations, role_violations
from rolegate.domain.schema import AdminRight, FieldAccess, ProductSchema
from rolegate.domain.schema_build import parse_schema
from rolegate.domain.seats import seat_of
from rolegate.domain.violations import Violation
from rolegate.engine import Snapshot, compile_snapshot
from rolegate.presets import load_preset

SCHEMA = load_preset("catalyst")
NO_FEATURES: frozenset[str] = frozenset()

LIMITED = {"objects.view", "notes.view", "tasks.view", "layouts.view"}
STANDARD = LIMITED | {"objects.update", "notes.take", "tasks.create", "layouts.create"}
HIGH = STANDARD | {
    "members.invite",
    "members.remove",
    "playbooks.create",
    "segments.edit_any",
    "settings.access",
    "roles.manage",
}
R, W, N = FieldAccess.READ, FieldAccess.WRITE, FieldAccess.NONE


def system(key: str) -> Role:
    return role_from_system(SCHEMA, SCHEMA.system_roles[key])


def custom(
    level: str,
    fields: Mapping[tuple[str, str], FieldAccess] | None = None,
    *,
    grants: Iterable[str] = (),
    name: str = "CSM",
) -> Role:
    return Role(
        id="csm",
        name=name,
        kind=RoleKind.CUSTOM,
        level=level,
        grants=frozenset(grants),
        field_access=dict(fields or {}),
    )


def effective(role: Role, schema: ProductSchema = SCHEMA) -> frozenset[str]:
    return effective_permissions(schema, role.level, role.grants, NO_FEATURES)


def access(role: Role, obj: str, field: str, schema: ProductSchema = SCHEMA) -> FieldAccess:
    return field_decision(schema, role, obj, field).access


def rule_ids(violations: Iterable[Violation]) -> list[str]:
    return [v.rule_id for v in violations]


def actions_of(perms: Iterable[str]) -> set[str]:
    return {g.action for p in perms for g in SCHEMA.permissions[p].grants}


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    roles = [
        *(system(k) for k in SCHEMA.system_roles),
        Role(
            id="analyst",
            name="Analyst",
            kind=RoleKind.CUSTOM,
            level="limited",
            grants=frozenset(),
            field_access={("account", "health_notes"): R, ("account", "renewal_risk"): N},
        ),
    ]
    members = [Member("ada", "admin"), Member("mo", "member"), Member("vi", "viewer"), Member("al", "analyst")]
    return compile_snapshot(SCHEMA, roles=roles, members=members)


# -- K1, K2, K3: access levels, licenses, system roles --------------------------------------


def test_K1_access_levels_are_their_features() -> None:
    assert [lv.key for lv in SCHEMA.levels_by_rank()] == ["limited", "standard", "high"]
    assert SCHEMA.levels["limited"].floor == LIMITED
    assert SCHEMA.levels["standard"].floor == STANDARD
    assert SCHEMA.levels["high"].floor == HIGH == frozenset(SCHEMA.permissions)
    for key, expected in (("limited", LIMITED), ("standard", STANDARD), ("high", HIGH)):
        assert effective(custom(key)) == expected, key


def test_K1_a_level_cannot_grant_a_higher_level_feature() -> None:
    refused = role_violations(SCHEMA, custom("standard", grants=["members.invite", "playbooks.create"]), NO_FEATURES)
    assert rule_ids(refused) == ["K1"]
    refused = role_violations(SCHEMA, custom("limited", grants=["notes.take"]), NO_FEATURES)
    assert rule_ids(refused) == ["K1"]
    assert "notes.take" not in effective(custom("limited", grants=["notes.take"]))


def test_K1_limited_is_read_only_on_fields() -> None:
    refused = role_violations(SCHEMA, custom("limited", {("account", "health_notes"): W}), NO_FEATURES)
    assert rule_ids(refused) == ["K1"]
    assert SCHEMA.levels["limited"].field_ceiling is R
    assert actions_of(LIMITED) == {
        "accounts.view",
        "contacts.view",
        "opportunities.view",
        "custom_objects.view",
        "notes.view",
        "tasks.view",
        "layouts.view",
    }


def test_K2_high_and_standard_take_editor_limited_takes_viewer() -> None:
    assert set(SCHEMA.seats) == {"editor", "viewer"}
    assert {k: lv.seat for k, lv in SCHEMA.levels.items()} == {"limited": "viewer", "standard": "editor", "high": "editor"}
    assert seat_of(SCHEMA, system("admin")) == "editor"
    assert seat_of(SCHEMA, system("member")) == "editor"
    assert seat_of(SCHEMA, system("viewer")) == "viewer"
    assert seat_of(SCHEMA, custom("limited")) == "viewer"


def test_K3_three_system_roles_one_per_level() -> None:
    assert {k: (r.name, r.level) for k, r in SCHEMA.system_roles.items()} == {
        "admin": ("Admin", "high"),
        "member": ("Member", "standard"),
        "viewer": ("Viewer", "limited"),
    }


def test_K3_admin_has_settings_segments_and_playbooks(snap: Snapshot) -> None:
    for action in ("settings.access", "segments.edit_any", "playbooks.create", "roles.manage"):
        assert snap.check("ada", action).allowed, action


def test_K3_member_has_no_playbooks_or_settings_but_everything_else(snap: Snapshot) -> None:
    assert not snap.check("mo", "playbooks.create").allowed
    assert not snap.check("mo", "settings.access").allowed
    for action in ("accounts.update", "opportunities.update", "notes.take", "tasks.create", "layouts.create"):
        assert snap.check("mo", action).allowed, action


def test_K3_viewer_is_strictly_read_only(snap: Snapshot) -> None:
    allowed = {a for a in SCHEMA.actions if snap.check("vi", a).allowed}
    assert allowed == actions_of(LIMITED)
    for otype in SCHEMA.objects.values():
        assert snap.writable_fields("vi", otype.key) == frozenset(), otype.key
        assert snap.readable_fields("vi", otype.key) == frozenset(otype.fields), otype.key


# -- K4, K5, K6: system roles are fixed, custom roles keep their level ------------------------


def test_K4_system_roles_cannot_be_edited() -> None:
    for key in SCHEMA.system_roles:
        role = system(key)
        assert not role.editable, key
        renamed = role.with_changes(name="Renamed")
        assert rule_ids(role_violations(SCHEMA, renamed, NO_FEATURES, previous=role)) == ["K4"], key
        refielded = role.with_changes(field_access={("account", "health_notes"): R})
        assert rule_ids(role_violations(SCHEMA, refielded, NO_FEATURES, previous=role)) == ["K4"], key


def test_K4_system_roles_cannot_be_deleted() -> None:
    for key in SCHEMA.system_roles:
        role = system(key)
        assert not role.deletable, key
        assert role_deletion_violations(SCHEMA, role, HolderCounts()) != [], key


def test_K4_deleting_a_system_role_cites_K4() -> None:
    assert rule_ids(role_deletion_violations(SCHEMA, system("admin"), HolderCounts())) == ["K4"]


def test_K5_system_roles_mirror_the_integration_owner() -> None:
    for key in SCHEMA.system_roles:
        assert system(key).mirror_integration, key
    member = system("member")
    # Everything the integration owner may do, without per-field configuration ...
    assert access(member, "account", "health_notes") is W
    assert access(member, "account", "arr") is W
    assert access(member, "custom_object", "name") is W
    # ... and no more than the integration user (K9) or the level (K1).
    assert access(member, "account", "contract_value") is R
    assert access(system("admin"), "account", "contract_value") is R
    assert access(system("viewer"), "account", "health_notes") is R
    # A custom role of the same level does not mirror: unconfigured fields stay closed (K8).
    assert access(custom("standard"), "account", "health_notes") is N


def test_K6_custom_role_level_cannot_change_after_save() -> None:
    saved = custom("standard")
    assert role_violations(SCHEMA, saved, NO_FEATURES) == []
    for level in ("high", "limited"):
        changed = saved.with_changes(level=level)
        assert "K6" in rule_ids(role_violations(SCHEMA, changed, NO_FEATURES, previous=saved)), level


def test_K6_the_cited_rule_comes_from_the_schema() -> None:
    # A product with the same policy but its own rulebook cites its own ids: the engine
    # and the editor ask the schema (`rule_ids: level_locked`, `level_ceiling`).
    own = dataclasses.replace(SCHEMA, rule_ids={**SCHEMA.rule_ids, "level_locked": "X6", "level_ceiling": "X5"})
    saved = custom("standard")
    assert "X6" in rule_ids(role_violations(own, saved.with_changes(level="high"), NO_FEATURES, previous=saved))
    assert "K6" not in rule_ids(role_violations(own, saved.with_changes(level="high"), NO_FEATURES, previous=saved))
    assert own.rule("level_ceiling") == "X5"
    assert SCHEMA.rule("level_ceiling") == "K1"


def test_K6_custom_role_name_and_field_permissions_can_change() -> None:
    saved = custom("standard", {("account", "health_notes"): R})
    edited = saved.with_changes(
        name="Senior CSM",
        field_access={
            ("account", "health_notes"): W,
            ("contact", "notes"): R,
            ("opportunity", "next_steps"): W,
            ("custom_object", "name"): R,
        },
    )
    assert role_violations(SCHEMA, edited, NO_FEATURES, previous=saved) == []
    assert access(edited, "account", "health_notes") is W
    assert access(edited, "custom_object", "name") is R


def test_K6_objects_with_field_permissions() -> None:
    assert set(SCHEMA.objects) == {"account", "contact", "opportunity", "custom_object"}
    unknown = custom("standard", {("account", "no_such_field"): R})
    assert rule_ids(role_violations(SCHEMA, unknown, NO_FEATURES)) == ["K6"]


# -- K7 to K11: field permissions ---------------------------------------------------------------


def test_K7_default_fields_are_always_readable() -> None:
    defaults = {(o.key, f.name) for o in SCHEMA.objects.values() for f in o.fields.values() if f.default}
    assert defaults == {
        ("account", "name"),
        ("account", "owner"),
        ("contact", "email"),
        ("opportunity", "name"),
        ("opportunity", "stage"),
    }
    for obj, field in defaults:
        decision = field_decision(SCHEMA, custom("limited"), obj, field)
        assert decision.access is R, (obj, field)
        assert decision.read_locked, (obj, field)


def test_K7_read_of_a_default_field_cannot_be_removed() -> None:
    refused = role_violations(SCHEMA, custom("standard", {("account", "name"): N}), NO_FEATURES)
    assert rule_ids(refused) == ["K7"]
    # Even stored, it stays readable.
    assert access(custom("standard", {("account", "name"): N}), "account", "name") is R


def test_K7_write_of_a_default_field_is_editable_as_the_level_allows() -> None:
    for fields in ({("opportunity", "stage"): W}, {("opportunity", "stage"): R}):
        assert role_violations(SCHEMA, custom("standard", fields), NO_FEATURES) == []
    assert access(custom("standard", {("opportunity", "stage"): W}), "opportunity", "stage") is W
    assert access(custom("standard", {("opportunity", "stage"): R}), "opportunity", "stage") is R
    assert rule_ids(role_violations(SCHEMA, custom("limited", {("opportunity", "stage"): W}), NO_FEATURES)) == ["K1"]


def test_K8_new_fields_and_additional_objects_are_not_granted_to_standard_or_limited() -> None:
    for level in ("standard", "limited"):
        role = custom(level)
        assert access(role, "account", "health_notes") is N, level
        assert access(role, "account", "arr") is N, level
        assert access(role, "custom_object", "name") is N, level
        assert access(role, "custom_object", "status") is N, level
    # High gets them; an administrator configures the others.
    assert access(custom("high"), "custom_object", "name") is W
    assert access(custom("standard", {("custom_object", "name"): W}), "custom_object", "name") is W


def test_K9_synced_field_capped_at_read_cannot_be_granted_write() -> None:
    assert SCHEMA.objects["account"].fields["contract_value"].synced_from == "salesforce"
    refused = role_violations(SCHEMA, custom("high", {("account", "contract_value"): W}), NO_FEATURES)
    assert rule_ids(refused) == ["K9"]
    assert role_violations(SCHEMA, custom("high", {("account", "contract_value"): R}), NO_FEATURES) == []
    for role in (custom("high"), system("admin"), system("member")):
        decision = field_decision(SCHEMA, role, "account", "contract_value")
        assert decision.access is R
        assert decision.cap is R


def test_K9_synced_field_the_integration_user_writes_stays_writable() -> None:
    assert SCHEMA.objects["account"].fields["arr"].synced_from == "salesforce"
    role = custom("standard", {("account", "arr"): W})
    assert role_violations(SCHEMA, role, NO_FEATURES) == []
    assert access(role, "account", "arr") is W


def _with_synced_health_notes(cap: str) -> ProductSchema:
    text = resources.files("rolegate.presets").joinpath("catalyst.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    data["objects"]["account"]["fields"]["health_notes"]["synced_from"] = "salesforce"
    data["integrations"]["salesforce"]["field_caps"]["account.health_notes"] = cap
    return parse_schema(data, source="catalyst with health_notes synced")


def test_K10_converting_a_local_field_to_synced_needs_no_role_change() -> None:
    role = custom("standard", {("account", "health_notes"): W})
    assert role_violations(SCHEMA, role, NO_FEATURES) == []
    for cap, expected in (("write", W), ("read", R)):
        synced = _with_synced_health_notes(cap)
        # The stored permission is still valid when the role is saved again ...
        renamed = role.with_changes(name="Renamed")
        assert role_violations(synced, renamed, NO_FEATURES, previous=role) == [], cap
        # ... and the integration cap applies by itself.
        assert access(role, "account", "health_notes", synced) is expected, cap


def test_K11_three_field_permission_combinations() -> None:
    assert list(FieldAccess) == [N, R, W]
    assert W > R > N  # write includes read


def test_K11_write_without_read_is_not_possible(snap: Snapshot) -> None:
    for member in ("ada", "mo", "vi", "al"):
        for obj in SCHEMA.objects:
            assert snap.writable_fields(member, obj) <= snap.readable_fields(member, obj), (member, obj)
    assert access(custom("standard", {("contact", "notes"): W}), "contact", "notes") >= R


# -- K12: what the member sees ---------------------------------------------------------------------


def test_K12_fields_without_read_disappear(snap: Snapshot) -> None:
    record = {"name": "Acme", "owner": "ada", "contract_value": 1200, "arr": 900, "health_notes": "ok", "renewal_risk": "low"}
    seen = snap.filter_fields("al", "account", record)
    assert "renewal_risk" not in seen  # neither read nor write
    assert "arr" not in seen  # not configured on a limited custom role (K8)
    assert seen == {"name": "Acme", "owner": "ada", "health_notes": "ok"}
    assert snap.filter_fields("ada", "account", record) == record


def test_K12_read_only_fields_are_seen_but_not_updated(snap: Snapshot) -> None:
    assert snap.field_access("al", "account", "health_notes") is R
    assert "health_notes" in snap.readable_fields("al", "account")
    assert "health_notes" not in snap.writable_fields("al", "account")
    assert "contract_value" in snap.readable_fields("mo", "account")
    assert "contract_value" not in snap.writable_fields("mo", "account")
    assert "health_notes" in snap.writable_fields("mo", "account")


# -- K13: only High manages roles -------------------------------------------------------------------


def test_K13_only_high_roles_manage_roles_and_permissions(snap: Snapshot) -> None:
    for right in AdminRight:
        assert snap.has_right("ada", right).allowed, right
        for member in ("mo", "vi", "al"):
            assert not snap.has_right(member, right).allowed, (member, right)
    for level in ("standard", "limited"):
        assert "roles.manage" not in SCHEMA.levels[level].ceiling, level
        refused = role_violations(SCHEMA, custom(level, grants=["roles.manage"]), NO_FEATURES)
        assert rule_ids(refused) == ["K1"], level
    assert "roles.manage" in effective(custom("high"))


def test_K13_someone_at_high_must_remain() -> None:
    assert SCHEMA.guardian.level == "high"
    assert SCHEMA.guardian.rule_id == "K13"
