"""Issue 8 in the admin UI, without JavaScript: a site administrator switches between
the site's workspaces and edits roles there (E1); an account administrator edits an
administrator record without any role control (E7); the audit log page filters, shows
diffs, verifies the chain and exports (E8)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from sqlalchemy import update

from rolegate.store import tables
from tests.web.conftest import HTMX, Web, form_fields, one, soup, violations
from tests.web.demo import Demo
from tests.web.site_demo import ACCT_EMAIL, ACCT_PASSWORD, SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD, SiteDemo, build_site


@pytest.fixture
def acme(demo: Demo) -> SiteDemo:
    return build_site(demo.rolegate)


def test_E1_site_administrator_switches_workspaces_and_edits_a_role_in_b(web: Web, acme: SiteDemo) -> None:
    web.login(SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD)
    listed = soup(web.get("/workspaces"))
    assert [a.get_text() for a in listed.select(".workspace-list a")] == ["Acme Newsletters", "Acme Promotions"]
    doc = soup(web.get(f"/w/{acme.a}/roles"))
    switcher = one(doc, "form.switcher")
    assert [(o["value"], o.has_attr("selected")) for o in switcher.select("option")] == [(acme.a, True), (acme.b, False)]
    assert one(doc, ".role-name").get_text() == "Site administrator"
    assert web.get(f"/switch?to={acme.b}").headers["location"] == f"/w/{acme.b}/"
    assert web.get(f"/w/{acme.b}/").headers["location"] == f"/w/{acme.b}/roles"
    form = one(soup(web.get(f"/w/{acme.b}/roles/{acme.role_b}")), "form#role-form")
    r = web.post(f"/w/{acme.b}/roles/{acme.role_b}", [*form_fields(form), ("grants", "campaigns.edit")])
    assert r.status_code == 303, r.text
    events = soup(web.get(f"/w/{acme.b}/audit?action=role.update")).select("tr.audit-event")
    assert len(events) == 1
    assert events[0]["data-actor"] == f"site-admin:{acme.site_admin_user}"
    assert "Sam Site" in one(events[0], ".who").get_text()
    assert [li.get_text(" ", strip=True) for li in events[0].select(".diff li")] == ["grants + campaigns.edit"]


def test_E1_a_workspace_of_another_site_is_not_found_for_the_site_administrator(web: Web, acme: SiteDemo, demo: Demo) -> None:
    web.login(SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD)
    assert web.get(f"/w/{demo.ws('email_marketing')}/roles").status_code == 404
    assert web.get(f"/switch?to={demo.ws('email_marketing')}").headers["location"] == "/workspaces"


def test_E7_account_administrator_edits_a_record_without_role_control(web: Web, acme: SiteDemo) -> None:
    web.login(ACCT_EMAIL, ACCT_PASSWORD)
    home = soup(web.get(f"/w/{acme.a}/home"))
    # E7: records, never roles (no Roles & Permissions, no Team)
    assert [a.get_text() for a in home.select("nav.mainnav a")] == ["Home", "Administrator records", "Audit log"]
    listing = soup(web.get(f"/w/{acme.a}/records"))
    emails = [tr.select("td")[1].get_text() for tr in listing.select("tr[data-member-id]")]
    assert emails == ["owner-a@acme-site.test", ACCT_EMAIL, "tom@acme-site.test"]
    doc = soup(web.get(f"/w/{acme.a}/members/{acme.target_member}/record"))
    form = one(doc, "form.record-form")
    assert form.select("select[name=role]") == []
    assert "Only site administrators assign roles." in one(form, ".role-readonly").get_text()
    assert one(form, "details.why .rule").get_text() == "E7"
    # the email is the person's login (issue 12): shown, not a field of the form
    assert one(form, "#record-email").has_attr("readonly")
    assert [k for k, _ in form_fields(form)] == ["name"]
    r = web.post(f"/w/{acme.a}/members/{acme.target_member}/record", {"name": "Tom Tested"})
    assert r.status_code == 303, r.text
    doc = soup(web.get(r.headers["location"]))
    assert (one(doc, "#record-name")["value"], one(doc, "#record-email")["value"]) == ("Tom Tested", "tom@acme-site.test")
    assert "saved" in one(doc, ".flash").get_text()
    # a forged role field is refused by the service (E7) and nothing changes
    r = web.post(f"/w/{acme.a}/members/{acme.target_member}/record", {"name": "Tom X", "role": "site_administrator"})
    assert r.status_code == 403
    assert one(soup(r), ".rule").get_text() == "E7"
    assert one(soup(web.get(f"/w/{acme.a}/members/{acme.target_member}/record")), "#record-name")["value"] == "Tom Tested"
    # a forged email is refused, and the form comes back as typed, with the rule
    r = web.post(f"/w/{acme.a}/members/{acme.target_member}/record", {"name": "Tom", "email": "tom.x@acme-site.test"})
    assert r.status_code == 409
    assert violations(soup(r)) == ["E7"]
    assert one(soup(r), "#record-name")["value"] == "Tom"
    assert web.get(f"/w/{acme.a}/roles").status_code == 403


def test_E7_the_site_administrator_gets_the_role_control_and_assigns(web: Web, acme: SiteDemo) -> None:
    web.login(SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD)
    form = one(soup(web.get(f"/w/{acme.a}/members/{acme.target_member}/record")), "form.record-form")
    assert one(form, "select[name=role] option[selected]")["value"] == "analyst"
    fields = [(k, "content_editor" if k == "role" else v) for k, v in form_fields(form)]
    assert web.post(f"/w/{acme.a}/members/{acme.target_member}/record", fields).status_code == 303
    form = one(soup(web.get(f"/w/{acme.a}/members/{acme.target_member}/record")), "form.record-form")
    assert one(form, "select[name=role] option[selected]")["value"] == "content_editor"


def test_E8_audit_page_filters_shows_diffs_and_the_chain(web: Web, acme: SiteDemo, demo: Demo) -> None:
    web.login(ACCT_EMAIL, ACCT_PASSWORD)
    web.post(f"/w/{acme.a}/members/{acme.target_member}/record", {"name": "Tom Tested", "email": "tom@acme-site.test"})
    for htmx in (False, True):
        r = web.request("GET", f"/w/{acme.a}/audit", headers=HTMX if htmx else {})
        assert r.status_code == 200
        doc = soup(r)
        assert ("<html" in r.text) is not htmx
        chain = one(doc, ".chain")
        rows = doc.select("tr.audit-event")
        assert chain["data-intact"] == "true"
        assert chain["data-last-seq"] == rows[0]["data-seq"]  # newest first, all intact
        assert f"up to event {rows[0]['data-seq']}" in chain.get_text()
    newest = rows[0]
    assert newest["data-action"] == "member.update_record"
    assert [li.get_text(" ", strip=True) for li in newest.select(".diff li")] == ["name Tom Target → Tom Tested"]
    by_ava = soup(web.get(f"/w/{acme.a}/audit?actor=member:{acme.acct_member}")).select("tr.audit-event")
    assert [r["data-action"] for r in by_ava] == ["member.update_record"]
    assert soup(web.get(f"/w/{acme.a}/audit?since=2999-01-01")).select("tr.audit-event") == []
    assert violations(soup(web.get(f"/w/{acme.a}/audit?since=not-a-date"))) == ["E8"]
    # export, with the same filters
    r = web.get(f"/w/{acme.a}/audit/export.csv?actor=member:{acme.acct_member}")
    assert r.headers["content-type"].startswith("text/csv")
    (row,) = list(csv.DictReader(io.StringIO(r.text)))
    assert (row["action"], row["changes"]) == ("member.update_record", "name: 'Tom Target' -> 'Tom Tested'")
    lines = web.get(f"/w/{acme.a}/audit/export.jsonl").text.splitlines()
    assert json.loads(lines[-1])["action"] == "member.update_record"
    # only those who manage roles set the retention
    assert one(soup(web.get(f"/w/{acme.a}/audit")), ".retention").select("form") == []
    # tampering shows on the page
    events = tables.audit_events
    with demo.rolegate.engine.begin() as conn:
        conn.execute(update(events).where(events.c.workspace_id == acme.a, events.c.seq == 3).values(actor="member:nobody"))
    doc = soup(web.get(f"/w/{acme.a}/audit"))
    assert one(doc, ".chain")["data-broken-seq"] == "3"
    assert "broken at event 3" in one(doc, ".chain").get_text()
    assert len(doc.select("tr.audit-event.untrusted")) == len(doc.select("tr.audit-event")) - 2


def test_E8_retention_is_set_on_the_page_by_the_site_administrator(web: Web, acme: SiteDemo) -> None:
    web.login(SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD)
    assert web.post(f"/w/{acme.a}/audit/retention", {"days": "365"}).status_code == 303
    doc = soup(web.get(f"/w/{acme.a}/audit"))
    assert one(doc, "#retention-days")["value"] == "365"
    assert doc.select("tr.audit-event")[0]["data-action"] == "audit.retention"
    r = web.post(f"/w/{acme.a}/audit/retention", {"days": "0"})
    assert r.status_code == 409
    assert violations(soup(r)) == ["E8"]


def test_E8_without_the_web_access_log_the_page_is_closed(web: Web, acme: SiteDemo, demo: Demo) -> None:
    from rolegate.services.members import add_member
    from tests.web.site_demo import PLATFORM

    add_member(demo.rolegate.uow(), actor=PLATFORM, workspace_id=acme.a, email="ann@acme-site.test", role_id="analyst", password="ann-analyses")
    web.login("ann@acme-site.test", "ann-analyses")
    r = web.get(f"/w/{acme.a}/audit")
    assert r.status_code == 403
    assert one(soup(r), ".rule").get_text() == "E8"
    assert web.get(f"/w/{acme.a}/audit/export.csv").status_code == 403
    assert web.get(f"/w/{acme.a}/members/{acme.target_member}/record").status_code == 403


def test_E9_copy_a_role_to_another_workspace_of_the_site_with_a_preview(web: Web, acme: SiteDemo, demo: Demo) -> None:
    from rolegate.services.roles import create_role
    from tests.web.site_demo import PLATFORM

    role = create_role(demo.rolegate.uow(), actor=PLATFORM, workspace_id=acme.a, name="SMS reader", level="account_administrator", grants=["contacts.view", "contacts_sms.view"])
    web.login(SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD)
    row = one(soup(web.get(f"/w/{acme.a}/roles")), "tr[data-role-name='SMS reader']")
    assert one(row, "a.copy-link")["href"] == f"/w/{acme.a}/roles/{role.id}/copy"
    doc = soup(web.get(f"/w/{acme.a}/roles/{role.id}/copy"))
    assert [i["value"] for i in doc.select("input[name=targets]")] == [acme.b]
    assert doc.select("#confirm-copy") == []
    doc = soup(web.post(f"/w/{acme.a}/roles/{role.id}/copy", {"targets": acme.b, "confirm": "0"}))
    preview = one(doc, f"tr[data-workspace-id='{acme.b}']")
    assert preview["data-action"] == "create"
    assert one(preview, ".inert").get_text(strip=True) == "contacts_sms.view"  # E5: SMS is off in B
    assert len(doc.select("#confirm-copy")) == 1
    before = len(soup(web.get(f"/w/{acme.b}/roles")).select("tr[data-role-name='SMS reader']"))
    r = web.post(f"/w/{acme.a}/roles/{role.id}/copy", {"targets": acme.b, "confirm": "1"})
    assert r.status_code == 303, r.text
    assert "Role copied to Acme Promotions." in one(soup(web.get(r.headers["location"])), ".flash").get_text()
    assert (before, len(soup(web.get(f"/w/{acme.b}/roles")).select("tr[data-role-name='SMS reader']"))) == (0, 1)
    # a workspace of another site is refused, whatever the form says
    r = web.post(f"/w/{acme.a}/roles/{role.id}/copy", {"targets": demo.ws("email_marketing"), "confirm": "1"})
    assert r.status_code == 409
    assert "E9" in violations(soup(r))
