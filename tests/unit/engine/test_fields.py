"""Field-level security through the engine (seed 002, K5-K12): the workspace registry
folded into the schema, `filter_fields` / `filter_records`, `check_write`,
`visible_fields` and the K12 verdicts on filters, segments, layouts, notes and
dashboard modules."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from rolegate.domain.errors import NotFoundError
from rolegate.domain.field_registry import FieldRegistry, RegisteredField, RegisteredObject, apply_registry
from rolegate.domain.field_usage import FieldUse, UsageKind
from rolegate.domain.roles import Member, MemberStatus, Role, RoleKind, role_from_system
from rolegate.domain.rules.field_rules import (
    field_addition_violations,
    integration_access_violations,
    object_addition_violations,
    sync_violations,
)
from rolegate.domain.rules.role_rules import role_violations
from rolegate.domain.schema import FieldAccess, ProductSchema
from rolegate.engine import Snapshot, compile_snapshot
from rolegate.presets import load_preset

PRESET = load_preset("catalyst")
R, W, N = FieldAccess.READ, FieldAccess.WRITE, FieldAccess.NONE
NO_FEATURES: frozenset[str] = frozenset()

REGISTRY = FieldRegistry(
    objects=(RegisteredObject("project", "Project"),),
    fields=(
        RegisteredField("project", "budget", "Budget", True),
        RegisteredField("project", "crm_id", "CRM id", True, "salesforce", R),
        RegisteredField("account", "nps", "NPS", True),
        RegisteredField("account", "health_notes", "Health notes", False, "salesforce", R),  # K10 conversion, capped read
    ),
)
SCHEMA = apply_registry(PRESET, REGISTRY)


def custom(role_id: str, level: str, fields: Mapping[tuple[str, str], FieldAccess] | None = None) -> Role:
    return Role(id=role_id, name=role_id, kind=RoleKind.CUSTOM, level=level, grants=frozenset(), field_access=dict(fields or {}))


def snapshot(schema: ProductSchema, *roles: Role) -> Snapshot:
    system = [role_from_system(schema, sr) for sr in schema.system_roles.values()]
    members = [Member(f"m-{r.id}", r.id) for r in (*system, *roles)]
    members.append(Member("gone", roles[0].id if roles else "admin", MemberStatus.DISABLED))
    return compile_snapshot(schema, roles=[*system, *roles], members=members)


CSM = custom(
    "csm",
    "standard",
    {
        ("account", "health_notes"): W,  # stored before the conversion (K10)
        ("account", "renewal_risk"): R,
        ("account", "arr"): W,
        ("account", "contract_value"): R,
        ("account", "owner"): W,
    },
)
ANALYST = custom("analyst", "limited", {("account", "renewal_risk"): R})
LEAD = custom("lead", "high")


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    return snapshot(SCHEMA, CSM, ANALYST, LEAD)


# -- the registry -----------------------------------------------------------------------


def test_K6_additional_objects_and_fields_join_the_schema() -> None:
    assert "project" in SCHEMA.objects
    assert "project" not in PRESET.objects
    assert set(SCHEMA.objects["project"].fields) == {"budget", "crm_id"}
    assert SCHEMA.objects["account"].fields["nps"].synced_from is None
    assert apply_registry(PRESET, FieldRegistry()) is PRESET
    # The preset itself is untouched (frozen, shared by every workspace).
    assert "nps" not in PRESET.objects["account"].fields


def test_K6_object_and_field_additions_are_checked() -> None:
    assert object_addition_violations(PRESET, "project", "Project") == []
    assert [v.rule_id for v in object_addition_violations(PRESET, "account", "Account")] == ["K6"]
    assert [v.rule_id for v in object_addition_violations(PRESET, "Bad Key", " ")] == ["K6", "K6"]
    assert field_addition_violations(PRESET, "account", "nps", "NPS") == []
    assert [v.rule_id for v in field_addition_violations(PRESET, "account", "name", "Name")] == ["K6"]
    assert [v.rule_id for v in field_addition_violations(PRESET, "nothing", "x", "X")] == ["K6"]
    assert [v.rule_id for v in field_addition_violations(PRESET, "account", "x", "X", synced_from="hubspot")] == ["K9"]
    assert [v.rule_id for v in field_addition_violations(PRESET, "account", "x", "X", integration_access=R)] == ["K9"]


def test_K8_new_fields_and_objects_reach_no_standard_or_limited_custom_role(snap: Snapshot) -> None:
    for member in ("m-csm", "m-analyst"):
        assert snap.field_access(member, "account", "nps") is N, member
        assert snap.readable_fields(member, "project") == frozenset(), member
        decision = snap.field_decision(member, "project", "budget")
        assert decision is not None
        assert decision.rule_id == "K8"


def test_K8_high_gets_new_fields_as_the_preset_says(snap: Snapshot) -> None:
    assert PRESET.levels["high"].new_field_access is W
    assert snap.field_access("m-lead", "account", "nps") is W
    assert snap.field_access("m-lead", "project", "budget") is W
    # ... capped by the integration on a synced field (K9).
    assert snap.field_access("m-lead", "project", "crm_id") is R


def test_K5_system_roles_mirror_the_integration_owner_on_new_fields(snap: Snapshot) -> None:
    assert snap.field_access("m-admin", "project", "budget") is W
    assert snap.field_access("m-member", "account", "nps") is W
    assert snap.field_access("m-member", "project", "crm_id") is R  # the integration user reads only (K9)
    assert snap.field_access("m-viewer", "project", "budget") is R  # Limited: never write (K1)
    decision = snap.field_decision("m-member", "project", "budget")
    assert decision is not None
    assert decision.rule_id == "K5"


def test_K9_integration_cap_set_per_synced_field_caps_every_role() -> None:
    writable = apply_registry(PRESET, FieldRegistry(fields=(RegisteredField("account", "arr", "ARR", False, None, R),)))
    snap = snapshot(writable, CSM)
    assert snap.field_access("m-csm", "account", "arr") is R
    assert snap.field_access("m-admin", "account", "arr") is R
    refusal = snap.check_write("m-csm", "account", ["arr"]).refused[0]
    assert (refusal.field, refusal.rule_id) == ("arr", "K9")
    # And granting write on it is refused, naming K9.
    role = custom("x", "standard", {("account", "arr"): W})
    assert [v.rule_id for v in role_violations(writable, role, NO_FEATURES)] == ["K9"]
    assert [v.rule_id for v in integration_access_violations(PRESET, "account", "renewal_risk", "read")] == ["K9"]
    assert [v.rule_id for v in integration_access_violations(PRESET, "account", "arr", "all")] == ["K11"]


def test_K10_converting_a_field_changes_no_role_only_its_cap(snap: Snapshot) -> None:
    before = snapshot(PRESET, CSM)
    assert before.field_access("m-csm", "account", "health_notes") is W
    # Same stored role, converted field: the integration user's read caps it.
    assert CSM.field_access[("account", "health_notes")] is W
    assert snap.field_access("m-csm", "account", "health_notes") is R
    # Saving the role with other changes does not trip over the stored write (K10).
    edited = CSM.with_changes(name="CSM 2")
    assert role_violations(SCHEMA, edited, NO_FEATURES, previous=CSM) == []
    # Converted with the integration's default cap (write): nothing changes at all.
    plain = apply_registry(PRESET, FieldRegistry(fields=(RegisteredField("account", "renewal_risk", "Renewal risk", False, "salesforce"),)))
    assert snapshot(plain, CSM).field_access("m-csm", "account", "renewal_risk") is R
    assert snapshot(plain, CSM).field_access("m-member", "account", "renewal_risk") is W
    assert [v.rule_id for v in sync_violations(PRESET, "account", "arr", "salesforce")] == ["K10"]
    assert [v.rule_id for v in sync_violations(PRESET, "account", "nothing", "salesforce")] == ["K10"]
    assert sync_violations(PRESET, "account", "renewal_risk", "salesforce") == []


def test_K7_default_fields_stay_readable_and_their_write_follows_the_role(snap: Snapshot) -> None:
    assert snap.field_access("m-analyst", "account", "name") is R
    assert snap.field_access("m-csm", "account", "owner") is W
    assert snap.field_access("m-csm", "account", "name") is R
    d = snap.field_decision("m-analyst", "account", "name")
    assert d is not None
    assert d.read_locked


def test_K11_check_write_accepts_write_and_names_every_other_field(snap: Snapshot) -> None:
    result = snap.check_write("m-csm", "account", {"arr": 1, "renewal_risk": "high", "nps": 9, "owner": "x", "ghost": 1, "contract_value": 3})
    assert not result.allowed
    assert result.writable == ("arr", "owner")
    by_field = {r.field: r for r in result.refused}
    assert set(by_field) == {"renewal_risk", "nps", "ghost", "contract_value"}
    assert by_field["renewal_risk"].access is R
    assert by_field["renewal_risk"].rule_id == "K11"
    assert "read only" in by_field["renewal_risk"].message
    assert by_field["nps"].access is N
    assert by_field["nps"].rule_id == "K8"
    assert by_field["ghost"].rule_id == "K8"
    assert by_field["contract_value"].rule_id == "K9"  # stored read, but no role could write it: the cap is named
    assert result.refused_fields == ("renewal_risk", "nps", "ghost", "contract_value")
    assert snap.check_write("m-csm", "account", ["arr", "owner"]).allowed
    assert snap.check_write("m-csm", "account", []).allowed


def test_K1_limited_never_writes_and_the_refusal_says_so(snap: Snapshot) -> None:
    result = snap.check_write("m-viewer", "account", ["health_notes", "renewal_risk"])
    # The level caps first (Limited: never write), synced or not.
    assert [r.rule_id for r in result.refused] == ["K1", "K1"]
    assert all("at most read" in r.message for r in result.refused)


def test_K12_filter_fields_drops_what_the_member_may_not_read(snap: Snapshot) -> None:
    record = {"name": "Acme", "owner": "ada", "arr": 10, "renewal_risk": "low", "nps": 8, "health_notes": "ok", "ghost": 1}
    assert snap.filter_fields("m-analyst", "account", record) == {"name": "Acme", "owner": "ada", "renewal_risk": "low"}
    assert snap.filter_fields("m-csm", "account", record) == {"name": "Acme", "owner": "ada", "arr": 10, "renewal_risk": "low", "health_notes": "ok"}
    assert snap.filter_fields("gone", "account", record) == {}
    page = [record, {"name": "Beta", "nps": 1}, {}]
    filtered = snap.filter_records("m-analyst", "account", page)
    assert filtered == [snap.filter_fields("m-analyst", "account", r) for r in page]
    assert filtered[0] is not record
    assert "nps" in record


def test_K12_inactive_members_write_nothing(snap: Snapshot) -> None:
    result = snap.check_write("gone", "account", ["name"])
    assert not result.allowed
    assert "disabled" in result.refused[0].message


def test_K12_a_member_id_not_of_the_workspace_is_not_found_in_every_field_decision(snap: Snapshot) -> None:
    for decide in (
        lambda: snap.check_write("nobody", "account", ["name"]),
        lambda: snap.visible_fields("nobody", "account"),
        lambda: snap.filter_fields("nobody", "account", {"name": "Acme"}),
        lambda: snap.filter_records("nobody", "account", [{"name": "Acme"}]),
    ):
        with pytest.raises(NotFoundError, match="no member 'nobody'"):
            decide()


def test_K12_visible_fields_for_filters_segments_layouts_notes_and_modules(snap: Snapshot) -> None:
    uses = [
        FieldUse(UsageKind.SEGMENT, "at-risk", ("renewal_risk", "name")),
        FieldUse(UsageKind.SEGMENT, "big-arr", ("arr",)),
        FieldUse(UsageKind.DASHBOARD_MODULE, "arr-chart", ("arr", "name")),
        FieldUse(UsageKind.FILTER, "by-nps", ("nps",)),
        FieldUse(UsageKind.LAYOUT, "summary", ("name", "arr", "renewal_risk")),
        FieldUse(UsageKind.NOTE, "qbr", ("health_notes",)),
    ]
    seen = snap.visible_fields("m-analyst", "account", uses)
    assert seen.readable == {"name", "owner", "renewal_risk"}
    assert seen.writable == frozenset()
    assert seen.read_only == seen.readable
    assert dict(seen.access)["arr"] is N
    assert dict(seen.access)["name"] is R
    verdicts = {v.id: v for v in seen.uses}
    assert verdicts["at-risk"].visible
    assert verdicts["at-risk"].read_only_fields == ("renewal_risk", "name")
    assert not verdicts["big-arr"].visible  # a segment filtering on a hidden field is hidden
    assert not verdicts["arr-chart"].visible  # a dashboard module containing it too
    assert not verdicts["by-nps"].visible
    assert verdicts["summary"].visible
    assert verdicts["summary"].flagged
    assert verdicts["summary"].hidden_fields == ("arr",)
    assert verdicts["qbr"].visible
    assert verdicts["qbr"].flagged
    assert all(v.rule_id == "K12" for v in seen.uses)
    # With write, the same segment's value can be updated.
    lead = {v.id: v for v in snap.visible_fields("m-csm", "account", uses).uses}
    assert lead["big-arr"].visible
    assert lead["big-arr"].editable_fields == ("arr",)
