"""Administrator records in the admin UI (E7, seed 003): an account administrator
creates one (no role control: the account's default role), deletes one after a
confirmation page, and the list the page shows is the list the API answers."""

from __future__ import annotations

import pytest

from rolegate.services.api_keys import create_api_key
from tests.web.conftest import Web, one, soup, violations
from tests.web.demo import Demo
from tests.web.site_demo import ACCT_EMAIL, ACCT_PASSWORD, SiteDemo, build_site


@pytest.fixture
def acme(demo: Demo) -> SiteDemo:
    return build_site(demo.rolegate)


def ui_rows(web: Web, ws: str) -> list[tuple[str, str, str]]:
    doc = soup(web.get(f"/w/{ws}/records"))
    return [
        (str(tr["data-member-id"]), tr.select("td")[1].get_text(), tr.select("td")[2].get_text())
        for tr in doc.select("tr[data-member-id]")
    ]


def api_rows(web: Web, demo: Demo, acme: SiteDemo) -> list[tuple[str, str, str]]:
    key = create_api_key(demo.rolegate.uow(), organization_id=acme.organization_id, rights={"admin"}, name="host")
    headers = {"Authorization": f"Bearer {key}", "Rolegate-Actor": acme.acct_member}
    r = web.portal.call(lambda: web.client.get(f"/v1/workspaces/{acme.a}/administrator-records", headers=headers))
    assert r.status_code == 200, r.text
    return [(x["member_id"], x["email"], x["role_name"]) for x in r.json()["items"]]


def test_E7_account_administrator_creates_and_deletes_records_and_the_ui_and_api_agree(
    web: Web, demo: Demo, acme: SiteDemo
) -> None:
    web.login(ACCT_EMAIL, ACCT_PASSWORD)
    form = one(soup(web.get(f"/w/{acme.a}/records")), "form#create-record-form")
    assert form.select("select[name=role]") == []  # never assigning a role
    r = web.post(f"/w/{acme.a}/records", {"email": "nina@acme-site.test", "name": "Nina New"})
    assert r.status_code == 303, r.text
    doc = soup(web.get(f"/w/{acme.a}/records"))
    assert "created with the role Analyst" in one(doc, ".flash").get_text()
    rows = ui_rows(web, acme.a)
    assert ("nina@acme-site.test", "Analyst") in [(e, role) for _, e, role in rows]
    assert rows == api_rows(web, demo, acme)
    # a forged role is not a field of the form: the record still gets the default role
    r = web.post(f"/w/{acme.a}/records", {"email": "x@acme-site.test", "role": "site_administrator"})
    assert r.status_code == 422
    # delete, after the confirmation page
    page = soup(web.get(f"/w/{acme.a}/members/{acme.target_member}/record/delete"))
    assert "tom@acme-site.test" in one(page, "#delete-record").get_text()
    r = web.post(f"/w/{acme.a}/members/{acme.target_member}/record/delete")
    assert r.status_code == 303, r.text
    assert "deleted" in one(soup(web.get(f"/w/{acme.a}/records")), ".flash").get_text()
    rows = ui_rows(web, acme.a)
    assert "tom@acme-site.test" not in [e for _, e, _ in rows]
    assert rows == api_rows(web, demo, acme)


def test_E7_a_record_holding_more_than_the_account_administrator_is_not_deleted(web: Web, acme: SiteDemo) -> None:
    web.login(ACCT_EMAIL, ACCT_PASSWORD)
    rows = {e: mid for mid, e, _ in ui_rows(web, acme.a)}
    doc = soup(web.get(f"/w/{acme.a}/records"))
    assert not one(doc, f'tr[data-member-id="{acme.acct_member}"]').select("a.delete-link")  # not one's own
    r = web.post(f"/w/{acme.a}/members/{rows['owner-a@acme-site.test']}/record/delete")
    assert r.status_code == 409
    assert "E7" in violations(soup(r))
    assert "owner-a@acme-site.test" in [e for _, e, _ in ui_rows(web, acme.a)]
