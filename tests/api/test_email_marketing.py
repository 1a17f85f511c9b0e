"""Email marketing presets follow their article (issue 14, item 10; seed 003): "Edit,
Delete, Unsubscribe" deletes contacts while the contact-delete feature is on (E4), with
no permission the article does not list; refusing the Web Access Log names E8."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import Api, Tenant, assert_problem, invite, make_tenant


def _member_with(t: Tenant, name: str, grants: list[str]) -> str:
    r = t.api.post(t.url("/roles"), json={"name": name, "level": "account_administrator", "grants": grants})
    assert r.status_code == 201, r.text
    return invite(t, f"{name.lower().replace(' ', '.')}@mail.test", r.json()["role"]["id"])


def _check(t: Tenant, member: str, action: str) -> dict[str, Any]:
    r = t.api.post(t.url("/check"), json={"member": member, "action": action})
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def test_E4_edit_delete_unsubscribe_deletes_contacts_when_contact_delete_is_on(api: Api) -> None:
    t = make_tenant(api, "email_marketing")
    catalog = t.api.get(t.url("/schema")).json()
    labels = {p["key"]: p["label"] for p in catalog["permissions"]}
    assert labels["contacts.edit"] == "Edit, Delete, Unsubscribe"
    assert "Delete Contacts" not in labels.values()  # no permission the article does not list
    edit = next(p for p in catalog["permissions"] if p["key"] == "contacts.edit")
    assert {"action": "contacts.delete", "scope": "all", "feature": "contact_delete"} in edit["grants"]
    editor = _member_with(t, "Contact editor", ["contacts.view", "contacts.edit"])
    assert _check(t, editor, "contacts.edit")["allowed"] is True
    assert _check(t, editor, "contacts.unsubscribe")["allowed"] is True
    off = _check(t, editor, "contacts.delete")
    assert off["allowed"] is False
    assert any(r["code"] == "feature_off" and r["rule"] == "E4" for r in off["reasons"]), off
    assert api.without_actor().put(t.url("/settings"), json={"features": ["contact_delete"]}).status_code == 200
    on = _check(t, editor, "contacts.delete")
    assert on["allowed"] is True, on
    assert on["reasons"][0]["permission"] == "contacts.edit"


def test_E8_refusing_the_web_access_log_names_E8(api: Api) -> None:
    t = make_tenant(api, "email_marketing")
    reader = _member_with(t, "Log reader", ["settings.web_access_log"])
    assert t.api.as_(actor=reader).get(t.url("/audit")).status_code == 200
    other = _member_with(t, "Contacts only", ["contacts.view"])
    assert_problem(t.api.as_(actor=other).get(t.url("/audit")), 403, "permission_denied", rule="E8")
    assert_problem(t.api.as_(actor=other).get(t.url("/audit/export")), 403, "permission_denied", rule="E8")
