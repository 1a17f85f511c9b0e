"""Issue 14, items 1 and 12: a refusal speaks the workspace's product, and ownership stays
single.

A refusal cites the product's own seed rule where its article has one (`rule`: `T9`);
where it has none, `rule` is null and each violation's `code` names the product-neutral
rule (`role_in_use`). Plain validation (an email, a permission key, a taken name) cites no
seed rule. A transfer of ownership never leaves more owners than before.
"""

from __future__ import annotations

import re
from typing import Any

from tests.api.conftest import Api, Tenant, assert_problem, invite, make_tenant

FOREIGN = {
    "natero": "CKTE",
    "customersuccessbox": "NKTE",
    "catalyst": "NCTE",
    "telephony": "NCKE",
    "email_marketing": "NCKT",
}


def seed_ids(body: Any) -> set[str]:
    """Every seed-rule-looking id anywhere in a problem body (rules, codes, texts)."""
    return set(re.findall(r"\b[NCKTE][0-9]{1,2}\b", str(body)))


def assert_own(preset: str, body: dict[str, Any]) -> None:
    foreign = {i for i in seed_ids(body) if i[0] in FOREIGN[preset]}
    assert foreign == set(), body


def custom_role(t: Tenant, level: str, grants: list[str] | None = None, name: str = "Night shift") -> str:
    r = t.api.post(t.url("/roles"), json={"name": name, "level": level, "grants": grants or []})
    assert r.status_code == 201, r.text
    role: str = r.json()["role"]["id"]
    return role


def test_T9_deleting_a_role_in_use_in_telephony_cites_T9(api: Api) -> None:
    t = make_tenant(api, "telephony")
    role = custom_role(t, "analyst")
    invite(t, "night@acme.test", role, activate=False)
    body = assert_problem(t.api.delete(t.url(f"/roles/{role}")), 409, "rule_violation", rule="T9")
    (v,) = body["violations"]
    assert (v["rule"], v["code"]) == ("T9", "T9")
    assert v["message"]
    assert v["fix"]
    assert_own("telephony", body)


def test_seed_ids_are_the_products_own_a_role_in_use_in_catalyst_cites_no_seed_rule(api: Api) -> None:
    t = make_tenant(api, "catalyst")
    role = custom_role(t, "limited")
    invite(t, "viewer@acme.test", role)
    body = assert_problem(t.api.delete(t.url(f"/roles/{role}")), 409, "rule_violation")
    assert body["rule"] is None
    (v,) = body["violations"]
    assert (v["rule"], v["code"]) == (None, "role_in_use")
    assert "assigned to 1 active" in v["message"]
    assert v["fix"]
    assert seed_ids(body) == set(), body


def test_seed_ids_are_the_products_own_a_role_in_use_in_email_marketing_cites_no_seed_rule(api: Api) -> None:
    t = make_tenant(api, "email_marketing")
    role = custom_role(t, "account_administrator")
    invite(t, "admin2@acme.test", role)
    body = assert_problem(t.api.delete(t.url(f"/roles/{role}")), 409, "rule_violation")
    assert body["rule"] is None
    assert [(v["rule"], v["code"]) for v in body["violations"]] == [(None, "role_in_use")]
    assert_own("email_marketing", body)


def test_seed_ids_are_the_products_own_K4_and_K13_in_catalyst(api: Api) -> None:
    t = make_tenant(api, "catalyst")
    body = assert_problem(t.api.delete(t.url("/roles/viewer")), 409, "rule_violation", rule="K4")
    assert_own("catalyst", body)
    body = assert_problem(t.api.post(t.url("/roles"), json={"name": "No level"}), 409, "rule_violation", rule="K6")
    assert_own("catalyst", body)


def test_plain_validation_cites_no_seed_rule(api: Api) -> None:
    for preset in FOREIGN:
        t = make_tenant(api, preset)
        r = t.api.post(t.url("/members"), json={"email": "not-an-email", "role": a_role(t)})
        body = assert_problem(r, r.status_code, r.json()["code"])
        assert r.status_code in (409, 422), r.text
        assert body["rule"] is None, body
        assert all(v["rule"] is None for v in body["violations"]), body


def a_role(t: Tenant) -> str:
    r = t.api.get(t.url("/roles"))
    assert r.status_code == 200, r.text
    data = r.json()
    roles = data.get("items") or data["roles"]
    role: str = roles[-1]["id"]
    return role


def test_T7_a_taken_name_and_unknown_permissions_are_plain_validation_each_listed(api: Api) -> None:
    t = make_tenant(api, "telephony")
    custom_role(t, "analyst", name="Night shift")
    r = t.api.post(t.url("/roles"), json={"name": "Night shift", "level": "analyst", "grants": ["numbers.fly"]})
    body = assert_problem(r, 409, "rule_violation")
    assert body["rule"] is None
    codes = sorted(v["code"] for v in body["violations"])
    assert "unknown_key" in codes or "name_taken" in codes, body
    assert all(v["rule"] is None and v["message"] and v["fix"] for v in body["violations"]), body


def test_a_refusal_lists_each_violation_with_its_rule_message_and_fix(api: Api) -> None:
    t = make_tenant(api, "telephony")
    r = t.api.post(t.url("/roles"), json={"name": " ", "level": "analyst", "grants": ["numbers.fly"]})
    body = assert_problem(r, 409, "rule_violation")
    got = [(v["rule"], v["code"]) for v in body["violations"]]
    assert got == [("T7", "T7"), (None, "unknown_key")], body
    assert all(v["message"] and v["fix"] for v in body["violations"])


# -- item 12: ownership stays single ---------------------------------------------------------


def test_T11_a_transfer_that_would_leave_two_owners_is_refused(api: Api) -> None:
    t = make_tenant(api, "telephony")
    admin = invite(t, "admin@acme.test", "administrator")
    r = t.api.post(t.url("/ownership"), json={"to": admin, "new_role": "owner"})
    body = assert_problem(r, 409, "rule_violation", rule="T11")
    assert "2 owners" in body["detail"]
    r = t.api.post(t.url("/ownership"), json={"to": admin, "new_role": "administrator"})
    assert r.status_code == 200, r.text


def test_C4_a_transfer_that_would_leave_two_administrators_is_refused(api: Api) -> None:
    t = make_tenant(api, "customersuccessbox")
    csm = invite(t, "csm@acme.test", "csm")
    r = t.api.post(t.url("/ownership"), json={"to": csm, "new_role": "administrator"})
    body = assert_problem(r, 409, "rule_violation", rule="C4")
    assert "2 owners" in body["violations"][0]["message"]
    assert_own("customersuccessbox", body)
    r = t.api.post(t.url("/ownership"), json={"to": csm, "new_role": "csm"})
    assert r.status_code == 200, r.text


# -- item 9: roles where the article has no levels (E2) ---------------------------------------


def test_E2_a_custom_role_is_created_from_a_name_and_permissions(api: Api) -> None:
    t = make_tenant(api, "email_marketing")
    r = t.api.post(t.url("/roles"), json={"name": "Contact editors", "grants": ["contacts.view"]})
    assert r.status_code == 201, r.text
    role = r.json()["role"]
    assert (role["name"], role["level"]) == ("Contact editors", "account_administrator")
    assert "contacts.view" in role["grants"]


def test_E2_a_level_is_still_chosen_where_several_are_offered(api: Api) -> None:
    t = make_tenant(api, "telephony")
    body = assert_problem(t.api.post(t.url("/roles"), json={"name": "No license"}), 409, "rule_violation", rule="T7")
    assert body["violations"][0]["message"] == "A level must be chosen for this role."


# -- rules that lived as literal ids in the domain and the engine (issue 14, item 1) ---------


def _disable_self(api: Api, preset: str) -> dict[str, Any]:
    """The rule was written "C5" in the domain, so every product cited it; now each
    product cites its own id for the neutral rule `self_change`, or none."""
    t = make_tenant(api, preset)
    body = assert_problem(t.api.post(t.url(f"/members/{t.owner}/disable")), 409, "rule_violation")
    assert_own(preset, body)
    return body


def test_C5_a_member_cannot_disable_themselves_in_customersuccessbox(api: Api) -> None:
    body = _disable_self(api, "customersuccessbox")
    assert "C5" in {v["rule"] for v in body["violations"]}


def test_seed_ids_are_the_products_own_disabling_yourself_elsewhere_cites_self_change(api: Api) -> None:
    for preset in ("natero", "catalyst", "telephony", "email_marketing"):
        body = _disable_self(api, preset)
        codes = {v["code"]: v["rule"] for v in body["violations"]}
        assert codes.get("self_change", "missing") is None, (preset, body)


def test_C4_the_only_administrator_reads_the_products_words(api: Api) -> None:
    """C4's own text, from the product's role name and word ("profile"), not a literal."""
    t = make_tenant(api, "customersuccessbox")
    roles = {r["name"]: r["id"] for r in t.api.get(t.url("/roles")).json()["roles"]}
    body = assert_problem(t.api.patch(t.url(f"/members/{t.owner}"), json={"role": roles["Super Manager"]}), 409, "rule_violation", rule="C4")
    assert "You are the only Administrator: you cannot downgrade your own profile." in body["detail"]
