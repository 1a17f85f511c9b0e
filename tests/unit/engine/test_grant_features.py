"""E4: a grant of a permission may wait for a workspace feature ("Edit, Delete,
Unsubscribe" deletes contacts only with contact delete); the rest of the permission
works without it."""

from __future__ import annotations

from rolegate.domain.roles import Member
from rolegate.domain.schema import ProductSchema
from rolegate.domain.schema_build import parse_schema
from rolegate.engine import ReasonCode, compile_snapshot
from tests.unit.engine.conftest import crm_schema_data, custom


def _schema() -> ProductSchema:
    data = crm_schema_data()
    data["actions"]["sms.delete"] = {}
    data["permissions"]["admin.manage"]["grants"] = ["admin.manage", {"action": "sms.delete", "feature": "sms"}]
    data["permissions"]["sms.purge"] = {"label": "Purge SMS", "area": "sms", "grants": ["sms.delete"]}
    return parse_schema(data)


def test_E4_a_gated_grant_waits_for_its_feature_and_says_so() -> None:
    schema = _schema()
    roles = [custom("r", "high", "admin.manage")]
    off = compile_snapshot(schema, features=[], roles=roles, members=[Member("m", "r")])
    decision = off.check("m", "sms.delete")
    assert not decision.allowed
    gated = [r for r in decision.reasons if r.permission == "admin.manage"]
    assert [(r.code, r.rule_id) for r in gated] == [(ReasonCode.FEATURE_OFF, None)]  # E4 is email marketing's
    assert "'SMS'" in gated[0].message
    assert off.check("m", "admin.manage").allowed  # the rest of the permission works
    on = compile_snapshot(schema, features=["sms"], roles=roles, members=[Member("m", "r")])
    assert on.check("m", "sms.delete").allowed


def test_E4_a_gated_grant_adds_no_reason_when_another_permission_grants_the_action() -> None:
    schema = _schema()
    roles = [custom("r", "high", "admin.manage", "sms.purge")]
    off = compile_snapshot(schema, features=[], roles=roles, members=[Member("m", "r")]).check("m", "sms.delete")
    assert off.allowed
    assert {r.permission for r in off.reasons} == {"sms.purge"}
    on = compile_snapshot(schema, features=["sms"], roles=roles, members=[Member("m", "r")]).check("m", "sms.delete")
    assert {r.permission for r in on.reasons} == {"admin.manage", "sms.purge"}
