"""The Features page (issue 15 item 6; E4, E5): each feature of the workspace, on or
off, what it unlocks by area and which roles it changes; a site administrator turns
one on or off (off asks first), audited; a workspace administrator reads them and is
told whom to ask; another organization's workspace is not found; a product without
features has no such page."""

from __future__ import annotations

import re

import pytest

from rolegate.domain.errors import PermissionDeniedError
from rolegate.domain.workspace import Actor
from rolegate.presets import load_preset
from rolegate.services.workspaces import set_features, workspace_view
from tests.web.conftest import Web, one, soup
from tests.web.demo import ADMIN_EMAIL, Demo
from tests.web.site_demo import ACCT_EMAIL, ACCT_PASSWORD, SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD, SiteDemo, build_site

EM = load_preset("email_marketing")
RULE_CODE = re.compile(r"\b[A-Z][0-9]+\b")


@pytest.fixture
def acme(demo: Demo) -> SiteDemo:
    """A second organization ("Acme site", email marketing A and B, site administrator
    Sam) beside the demo's, whose email marketing workspace admin@example.com owns."""
    return build_site(demo.rolegate)


def _features(demo: Demo, ws: str) -> frozenset[str]:
    return frozenset(workspace_view(demo.rolegate.reader(), workspace_id=ws).features)


def _allowed(demo: Demo, ws: str, member: str, action: str) -> bool:
    return demo.rolegate.snapshots.get(ws).check(member, action).allowed


def test_E4_the_page_lists_every_feature_with_what_it_unlocks(admin: Web, demo: Demo) -> None:
    ws = demo.ws("email_marketing")  # SMS and Basic CRM on; the analyst grants Purchase Reports
    doc = soup(admin.get(f"/w/{ws}/features"))
    items = doc.select("li.feature")
    assert [li["data-feature"] for li in items] == list(EM.features)
    state = {str(li["data-feature"]): li["data-state"] for li in items}
    assert state == {k: "on" if k in ("sms", "basic_crm") else "off" for k in EM.features}
    sms = one(doc, "#feature-sms")
    assert one(sms, "h2").get_text() == "SMS"
    assert [th.get_text() for th in sms.select("table.unlocks tr.area-row th")] == ["Contacts (SMS)", "Analytics", "Settings"]
    assert [tr["data-permission"] for tr in sms.select("table.unlocks tr[data-permission]")][:2] == ["contacts_sms.view", "contacts_sms.edit"]
    delete = one(doc, "#feature-contact_delete")
    assert one(delete, 'tr[data-permission="contacts.edit"] th').get_text() == "Edit, Delete, Unsubscribe (Delete contacts only)"
    click = one(doc, "#feature-clickstream")
    held = one(click, 'tr[data-permission="analytics.purchase_reports"] td.held-by')
    assert [a.get_text() for a in held.select("a")] == ["Site administrator", "Account administrator (full)", "Analyst"]
    assert one(click, ".feature-effect").get_text() == "3 roles grant what Clickstream integration unlocks, without effect until it is on."
    assert one(sms, ".feature-effect").get_text() == "3 roles use what SMS unlocks."
    assert one(doc, "nav.mainnav a[aria-current=page]").get_text() == "Features"


def test_E4_a_workspace_administrator_reads_the_features_and_is_told_whom_to_ask(admin: Web, demo: Demo) -> None:
    ws = demo.ws("email_marketing")
    doc = soup(admin.get(f"/w/{ws}/features"))
    assert doc.select("form.feature-switch") == []
    notice = one(doc, "#features-readonly").get_text()
    assert "Only a site administrator of your organization, who manages all of its workspaces, turns features on or off" in notice
    assert "ask one of them" in notice
    main = one(doc, "main")
    assert sorted(one(w, ".rule").get_text() for w in main.select("details.why")) == ["E1", "E5"]
    for w in main.select("details.why"):
        w.decompose()
    assert RULE_CODE.findall(main.get_text()) == []
    # A forged form is refused by the service, whatever the role (E4, cited as E1).
    r = admin.post(f"/w/{ws}/features/clickstream", {"on": "1"})
    assert r.status_code == 403
    assert one(soup(r), ".rule").get_text() == "E1"
    assert "only a site administrator" in one(soup(r), ".detail").get_text()
    assert _features(demo, ws) == {"sms", "basic_crm"}


def test_E5_the_site_administrator_turns_a_feature_on_and_the_inert_permission_takes_effect(web: Web, demo: Demo, acme: SiteDemo) -> None:
    web.login(SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD)
    tom = acme.target_member  # an analyst: SMS Reports granted, without effect (no SMS in A)
    assert not _allowed(demo, acme.a, tom, "reports.sms")
    before = soup(web.get(f"/w/{acme.a}/matrix?area=analytics"))
    assert [td["data-feature"] for td in before.select('tr[data-permission="analytics.sms_reports"] td[data-cell=inert]')] == ["sms"] * 3
    doc = soup(web.get(f"/w/{acme.a}/features"))
    assert one(doc, "#feature-sms")["data-state"] == "off"
    form = one(doc, "#feature-sms form.feature-switch")
    assert not form.has_attr("data-confirm")  # turning on asks nothing
    assert one(form, "button").get_text() == "Turn SMS on"
    r = web.post(str(form["action"]), {"on": "1"})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == f"/w/{acme.a}/features#feature-sms"
    doc = soup(web.get(f"/w/{acme.a}/features"))
    assert one(doc, ".flash").get_text() == "SMS is on."
    sms = one(doc, "#feature-sms")
    assert sms["data-state"] == "on"
    assert "Analyst" in [a.get_text() for a in sms.select('tr[data-permission="analytics.sms_reports"] td.held-by a')]
    assert one(sms, ".feature-effect").get_text() == "3 roles use what SMS unlocks."
    assert _features(demo, acme.a) == {"sms"}
    assert _allowed(demo, acme.a, tom, "reports.sms")
    analytics = soup(web.get(f"/w/{acme.a}/matrix?area=analytics"))
    assert analytics.select('tr[data-permission="analytics.sms_reports"] td[data-cell=inert]') == []
    events = soup(web.get(f"/w/{acme.a}/audit?action=workspace.features")).select("tr.audit-event")
    assert len(events) == 1
    assert events[0]["data-actor"] == f"site-admin:{acme.site_admin_user}"


def test_E5_turning_a_feature_off_asks_first_and_says_whom_it_affects(web: Web, demo: Demo, acme: SiteDemo) -> None:
    set_features(demo.rolegate.uow(), actor=Actor.system("test"), workspace_id=acme.a, features=["sms"])
    web.login(SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD)
    assert _allowed(demo, acme.a, acme.target_member, "reports.sms")
    form = one(soup(web.get(f"/w/{acme.a}/features")), "#feature-sms form.feature-switch")
    assert form["data-confirm-title"] == "Turn SMS off?"
    assert str(form["data-confirm"]).startswith("Site administrator, Account administrator (full) and Analyst lose the permissions SMS unlocks.")
    assert form["data-confirm-action"] == "Turn SMS off"
    r = web.post(str(form["action"]), {"on": "0"})
    assert r.status_code == 303, r.text
    assert _features(demo, acme.a) == frozenset()
    assert not _allowed(demo, acme.a, acme.target_member, "reports.sms")
    # Asking again for what already is writes nothing.
    revision = workspace_view(demo.rolegate.reader(), workspace_id=acme.a).revision
    assert web.post(str(form["action"]), {"on": "0"}).status_code == 303
    assert workspace_view(demo.rolegate.reader(), workspace_id=acme.a).revision == revision


def test_E4_the_switch_refuses_an_unknown_feature_and_a_malformed_form(web: Web, acme: SiteDemo) -> None:
    web.login(SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD)
    web.get(f"/w/{acme.a}/features")
    r = web.post(f"/w/{acme.a}/features/fax", {"on": "1"})
    assert r.status_code == 409
    assert one(soup(r), "li.violation")["data-rule"] == "E4"
    assert web.post(f"/w/{acme.a}/features/sms", {"on": "yes"}).status_code == 422


def test_E4_another_organization_s_features_are_not_found(web: Web, demo: Demo, acme: SiteDemo) -> None:
    # The demo's workspace administrator (organization "Rolegate demo") and Acme's workspaces.
    web.login(ADMIN_EMAIL, "rolegate-demo")
    assert web.get(f"/w/{acme.a}/features").status_code == 404
    assert web.post(f"/w/{acme.a}/features/sms", {"on": "1"}).status_code == 404
    assert _features(demo, acme.a) == frozenset()
    # Acme's site administrator and the demo's workspace.
    assert web.post("/logout").status_code == 303
    web.login(SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD)
    ws = demo.ws("email_marketing")
    assert web.get(f"/w/{ws}/features").status_code == 404
    assert web.post(f"/w/{ws}/features/clickstream", {"on": "1"}).status_code == 404
    assert _features(demo, ws) == {"sms", "basic_crm"}


def test_E4_a_member_without_the_roles_right_gets_no_features_page(web: Web, acme: SiteDemo) -> None:
    web.login(ACCT_EMAIL, ACCT_PASSWORD)  # E7: administrator records only
    assert "Features" not in [a.get_text() for a in soup(web.get(f"/w/{acme.a}/home")).select("nav.mainnav a")]
    assert web.get(f"/w/{acme.a}/features").status_code == 403


def test_E4_a_product_without_features_has_no_features_page(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    nav = [a.get_text() for a in soup(admin.get(f"/w/{ws}/roles")).select("nav.mainnav a")]
    assert "Features" not in nav
    assert "Features" in [a.get_text() for a in soup(admin.get(f"/w/{demo.ws('email_marketing')}/roles")).select("nav.mainnav a")]
    r = admin.get(f"/w/{ws}/features")
    assert r.status_code == 404
    doc = soup(r)
    assert one(doc, ".detail").get_text() == "Telephony platform has no features to turn on or off."
    assert doc.select("nav.mainnav")  # still in the workspace
    assert admin.post(f"/w/{ws}/features/sms", {"on": "1"}).status_code == 404


def test_E4_the_service_refuses_a_member_whatever_their_role(demo: Demo) -> None:
    ws = demo.ws("email_marketing")
    owner = demo.member("email_marketing", ADMIN_EMAIL)
    with pytest.raises(PermissionDeniedError) as info:
        set_features(demo.rolegate.uow(), actor=Actor.member(owner), workspace_id=ws, features=["sms"])
    assert info.value.rule_id == "E1"
    assert _features(demo, ws) == {"sms", "basic_crm"}
