"""Field-level security over HTTP (K5-K12): the host's objects and fields, a role's
field permissions, and the decisions fields/filter, fields/check-write, fields/visible."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api, Tenant, assert_problem, invite, make_tenant


def catalyst_with_csm(api: Api, fields: dict[str, dict[str, str]] | None = None, level: str = "standard") -> tuple[Tenant, str, str]:
    t = make_tenant(api, "catalyst")
    r = t.api.post(t.url("/roles"), json={"name": "CSM", "level": level, "field_access": fields or {}})
    assert r.status_code == 201, r.text
    role = r.json()["role"]["id"]
    # Exactly the fields given: the K8 starting selection replaced by them.
    r = t.api.patch(t.url(f"/roles/{role}"), json={"field_access": fields or {}})
    assert r.status_code == 200, r.text
    return t, role, invite(t, "csm@acme.test", role)


def field_of(t: Tenant, obj: str, name: str) -> dict[str, Any]:
    r = t.api.get(t.url("/fields"))
    assert r.status_code == 200, r.text
    per = next(o for o in r.json()["objects"] if o["key"] == obj)
    found: dict[str, Any] = next(f for f in per["fields"] if f["name"] == name)
    return found


def test_K8_new_object_and_field_reach_no_standard_custom_role(api: Api) -> None:
    t, _role, csm = catalyst_with_csm(api, {"account": {"health_notes": "write"}})
    r = t.api.post(t.url("/objects"), json={"key": "project", "label": "Project"})
    assert r.status_code == 201, r.text
    assert r.json()["object"] == {"key": "project", "label": "Project", "added": True, "fields": []}
    r = t.api.post(t.url("/objects/project/fields"), json={"name": "budget", "label": "Budget"})
    assert r.status_code == 201, r.text
    assert r.json()["field"]["added"] is True
    revision = r.json()["revision"]
    body = {"member": csm, "object": "project", "record": {"budget": 10}, "min_revision": revision}
    assert t.api.post(t.url("/fields/filter"), json=body).json()["record"] == {}
    # K5: the Admin (system role) mirrors the integration owner and gets it.
    body["member"] = t.owner
    assert t.api.post(t.url("/fields/filter"), json=body).json()["record"] == {"budget": 10}
    assert_problem(t.api.post(t.url("/objects"), json={"key": "project", "label": "Again"}), 409, "rule_violation", rule="K6")


def test_K9_integration_access_caps_write_and_write_cannot_be_granted(api: Api) -> None:
    t, _role, csm = catalyst_with_csm(api, {"account": {"arr": "write"}})
    r = t.api.put(t.url("/objects/account/fields/arr/integration-access"), json={"access": "read"})
    assert r.status_code == 200, r.text
    assert r.json()["field"]["integration_access"] == "read"
    r = t.api.post(t.url("/fields/check-write"), json={"member": csm, "object": "account", "changes": {"arr": 5}, "min_revision": r.json()["revision"]})
    assert r.json()["allowed"] is False
    assert r.json()["refused"][0]["rule"] == "K9"
    r = t.api.post(t.url("/roles"), json={"name": "Deals", "level": "high", "field_access": {"account": {"arr": "write"}}})
    assert_problem(r, 409, "rule_violation", rule="K9")
    assert_problem(t.api.put(t.url("/objects/account/fields/renewal_risk/integration-access"), json={"access": "read"}), 409, "rule_violation", rule="K9")


def test_K10_converting_a_field_leaves_the_role_as_it_was(api: Api) -> None:
    t, role, _csm = catalyst_with_csm(api, {"account": {"renewal_risk": "write"}})
    before = t.api.get(t.url(f"/roles/{role}")).json()
    r = t.api.post(t.url("/objects/account/fields/renewal_risk/sync"), json={"integration": "salesforce"})
    assert r.status_code == 200, r.text
    assert r.json()["field"]["synced_from"] == "salesforce"
    after = t.api.get(t.url(f"/roles/{role}")).json()
    assert after["field_access"] == before["field_access"]
    assert field_of(t, "account", "renewal_risk")["synced_from"] == "salesforce"
    assert_problem(t.api.post(t.url("/objects/account/fields/renewal_risk/sync"), json={"integration": "salesforce"}), 409, "rule_violation", rule="K10")


def test_K7_K11_role_field_permissions_patch_keeps_other_fields(api: Api) -> None:
    t, role, _csm = catalyst_with_csm(api, {"account": {"health_notes": "write"}})
    r = t.api.patch(t.url(f"/roles/{role}/fields"), json={"fields": {"contact": {"notes": "read"}}})
    assert r.status_code == 200, r.text
    assert r.json()["role"]["field_access"]["account"]["health_notes"] == "write"
    assert r.json()["role"]["field_access"]["contact"]["notes"] == "read"
    assert_problem(t.api.patch(t.url(f"/roles/{role}/fields"), json={"fields": {"account": {"name": "none"}}}), 409, "rule_violation", rule="K7")
    r = t.api.patch(t.url(f"/roles/{role}/fields"), json={"fields": {"account": {"name": "admin"}}})
    assert_problem(r, 422, "request_invalid")


def test_K1_limited_role_field_write_is_refused(api: Api) -> None:
    t, role, csm = catalyst_with_csm(api, {}, level="limited")
    assert_problem(t.api.patch(t.url(f"/roles/{role}/fields"), json={"fields": {"account": {"health_notes": "write"}}}), 409, "rule_violation", rule="K1")
    r = t.api.post(t.url("/fields/check-write"), json={"member": csm, "object": "account", "fields": ["name"]})
    assert r.json()["refused"][0]["rule"] == "K1"


def test_K11_check_write_names_every_field_it_may_not_touch(api: Api) -> None:
    t, _role, csm = catalyst_with_csm(api, {"account": {"health_notes": "write", "renewal_risk": "read"}})
    changes = {"health_notes": "x", "renewal_risk": "high", "arr": 3, "ghost": 1}
    r = t.api.post(t.url("/fields/check-write"), json={"member": csm, "object": "account", "changes": changes})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["allowed"] is False
    assert out["writable"] == ["health_notes"]
    assert [(x["field"], x["access"], x["rule"]) for x in out["refused"]] == [("renewal_risk", "read", "K11"), ("arr", "none", "K8"), ("ghost", "none", "K8")]
    ok = t.api.post(t.url("/fields/check-write"), json={"member": csm, "object": "account", "fields": ["health_notes"]}).json()
    assert ok["allowed"] is True
    assert ok["refused"] == []
    r = t.api.post(t.url("/fields/check-write"), json={"member": csm, "object": "account", "fields": ["a"], "changes": {}})
    assert_problem(r, 422, "request_invalid")


def test_K12_filter_a_page_and_see_which_segments_and_modules_stay(api: Api) -> None:
    t, _role, csm = catalyst_with_csm(api, {"account": {"renewal_risk": "read"}})
    page = [{"name": "A", "arr": 1, "renewal_risk": "low"}, {"name": "B", "health_notes": "x"}]
    r = t.api.post(t.url("/fields/filter"), json={"member": csm, "object": "account", "records": page})
    assert r.status_code == 200, r.text
    assert r.json()["records"] == [{"name": "A", "renewal_risk": "low"}, {"name": "B"}]
    assert r.json()["record"] is None
    assert_problem(t.api.post(t.url("/fields/filter"), json={"member": csm, "object": "account"}), 422, "request_invalid")
    uses = [
        {"kind": "segment", "id": "risky", "fields": ["renewal_risk"]},
        {"kind": "segment", "id": "big", "fields": ["arr"]},
        {"kind": "dashboard_module", "id": "arr-by-month", "fields": ["arr", "name"]},
        {"kind": "layout", "id": "summary", "fields": ["name", "arr"]},
    ]
    r = t.api.post(t.url("/fields/visible"), json={"member": csm, "object": "account", "uses": uses})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["readable"] == ["name", "owner", "renewal_risk"]
    assert out["writable"] == []
    assert out["read_only"] == ["name", "owner", "renewal_risk"]
    assert out["fields"]["arr"] == "none"
    verdicts = {u["id"]: u for u in out["uses"]}
    assert verdicts["risky"]["visible"] is True
    assert verdicts["risky"]["read_only_fields"] == ["renewal_risk"]
    assert verdicts["big"]["visible"] is False
    assert verdicts["arr-by-month"]["visible"] is False
    assert verdicts["summary"]["visible"] is True
    assert verdicts["summary"]["flagged"] is True
    assert verdicts["summary"]["hidden_fields"] == ["arr"]
    assert {u["rule"] for u in out["uses"]} == {"K12"}


def test_K13_a_standard_member_cannot_add_fields(api: Api) -> None:
    t, _role, csm = catalyst_with_csm(api)
    r = t.api.as_(actor=csm).post(t.url("/objects/account/fields"), json={"name": "nps", "label": "NPS"})
    assert_problem(r, 403, "permission_denied", rule="K13")
    assert all(f["name"] != "nps" for f in next(o for o in t.api.get(t.url("/fields")).json()["objects"] if o["key"] == "account")["fields"])
