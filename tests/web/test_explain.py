"""The Explain page ("why can't Ann update Globex?") and the "who has access" view:
the engine's answer in plain words, rule codes only inside the "why" disclosure, and
both refused to a member without the view-roles right."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.web.conftest import Web, one, soup
from tests.web.demo import CSM_EMAIL, CSM_PASSWORD, Demo


def _explain(admin: Web, ws: str, **query: str) -> str:
    return f"/w/{ws}/explain?{urlencode(query)}"


def test_the_explain_page_offers_members_actions_and_records(admin: Web, demo: Demo) -> None:
    ws = demo.ws("natero")
    doc = soup(admin.get(f"/w/{ws}/explain"))
    assert one(doc, "nav.mainnav a[aria-current=page]").get_text() == "Explain"
    members = [o.get_text() for o in doc.select("#q-member option")]
    assert any(m.startswith("Ann Archer (ann@example.com)") for m in members)
    assert "accounts.update_attributes" in [o["value"] for o in doc.select("#q-action option")]
    assert "account" in [o["value"] for o in doc.select("#q-record-type option")]
    assert doc.select("#explain-answer") == []


def test_why_cant_ann_update_globex(admin: Web, demo: Demo) -> None:
    ws = demo.ws("natero")
    ann = demo.member("natero", "ann@example.com")
    doc = soup(
        admin.get(
            _explain(
                admin, ws, member=ann, action="accounts.update_attributes", record_type="account", record_id="globex"
            )
        )
    )
    answer = one(doc, "#explain-answer")
    assert answer["data-allowed"] == "false"
    assert "Ann Archer may not" in one(answer, "#verdict").get_text()
    assert "globex" in one(answer, "#verdict").get_text()
    assert "CSM" in answer.get_text()
    assert [li["data-reason"] for li in answer.select("ul.reasons li")][-1] == "record_out_of_scope"
    # Plain words outside; the rule codes only inside the "why" disclosure.
    outside = answer.get_text().replace(one(answer, "details.why").get_text(), "")
    assert "N11" not in outside
    assert "N11" in one(answer, "details.why").get_text()
    assert one(answer, "details.why")["class"] == ["why"]
    link = one(answer, "#who-has-access")["href"]
    assert link == f"/w/{ws}/explain/access?action=accounts.update_attributes&record_type=account&record_id=globex"


def test_ann_may_update_acme(admin: Web, demo: Demo) -> None:
    ws = demo.ws("natero")
    ann = demo.member("natero", "ann@example.com")
    doc = soup(
        admin.get(
            _explain(
                admin, ws, member=ann, action="accounts.update_attributes", record_type="account", record_id="acme"
            )
        )
    )
    assert one(doc, "#explain-answer")["data-allowed"] == "true"
    assert "Ann Archer may " in one(doc, "#verdict").get_text()


def test_who_has_access_lists_the_members_with_their_scope(admin: Web, demo: Demo) -> None:
    ws = demo.ws("natero")
    ann = demo.member("natero", "ann@example.com")
    bob = demo.member("natero", "bob@example.com")
    doc = soup(
        admin.get(f"/w/{ws}/explain/access?action=accounts.update_attributes&record_type=account&record_id=acme")
    )
    holders = {str(tr["data-member-id"]) for tr in doc.select("tr[data-member-id]")}
    assert ann in holders  # acme is hers
    assert bob not in holders  # a CSM, acme is not his
    everywhere = soup(admin.get(f"/w/{ws}/explain/access?action=accounts.update_attributes"))
    scopes = {
        str(tr["data-member-id"]): one(tr, "td[data-scope]")["data-scope"]
        for tr in everywhere.select("tr[data-member-id]")
    }
    assert scopes[ann] == "assigned"
    assert scopes[bob] == "assigned"
    assert "all" in scopes.values()  # the administrators


def test_explain_errors_are_error_pages(admin: Web, demo: Demo) -> None:
    ws = demo.ws("natero")
    r = admin.get(_explain(admin, ws, member="nobody", action="accounts.view"))
    assert r.status_code == 404
    assert one(soup(r), "[data-problem]")["data-problem"] == "not_found"
    r = admin.get(f"/w/{ws}/explain/access?action=accounts.veiw")
    assert r.status_code == 422
    assert one(soup(r), "[data-problem]")["data-problem"] == "unknown_action"


def test_a_member_without_the_view_roles_right_is_refused(web: Web, demo: Demo) -> None:
    web.login(CSM_EMAIL, CSM_PASSWORD)
    ws = demo.ws("natero")
    for url in (f"/w/{ws}/explain", f"/w/{ws}/explain/access?action=accounts.view"):
        r = web.get(url)
        assert r.status_code == 403, url
        doc = soup(r)
        assert one(doc, "[data-problem]")["data-problem"] == "permission_denied"
        assert one(doc, ".rule").get_text() == "N12"
    assert "Explain" not in [a.get_text() for a in soup(web.get(f"/w/{ws}/")).select("nav.mainnav a")]
