"""The permission matrix page (T6, issue 15 item 4): an area filter that works as a
plain GET form and as an htmx swap, and inert cells that say in words which feature is
off (E5) or which permission is missing (E6), the rule only behind "Why?"."""

from __future__ import annotations

import re

from bs4 import BeautifulSoup

from rolegate.domain.workspace import Actor
from rolegate.presets import load_preset
from rolegate.services.roles import create_role
from tests.web.conftest import Web, one, soup
from tests.web.demo import Demo

EM = load_preset("email_marketing")
RULE_CODE = re.compile(r"\b[A-Z][0-9]+\b")


def _column(doc: BeautifulSoup, name: str) -> int:
    names = [th.get_text() for th in doc.select("thead th.role-col")]
    return names.index(name)


def test_T6_the_area_filter_shows_one_area_without_javascript(admin: Web, demo: Demo) -> None:
    ws = demo.ws("email_marketing")
    doc = soup(admin.get(f"/w/{ws}/matrix"))
    form = one(doc, "form#matrix-filter")
    assert (form["method"], form["action"]) == ("get", f"/w/{ws}/matrix")
    options = [(o["value"], o.get_text()) for o in one(form, "select[name=area]").select("option")]
    assert options == [("", "All areas"), *((k, a.label) for k, a in EM.areas.items())]
    assert [tb["data-area"] for tb in doc.select("tbody[data-area]")] == list(EM.areas)
    doc = soup(admin.get(f"/w/{ws}/matrix?area=sales"))
    assert [tb["data-area"] for tb in doc.select("tbody[data-area]")] == ["sales"]
    rows = [str(tr["data-permission"]) for tr in doc.select("tbody tr[data-permission]")]
    assert rows == [k for k, p in EM.permissions.items() if p.area == "sales"]
    assert one(doc, "select[name=area] option[selected]")["value"] == "sales"
    assert "Sales only" in one(doc, "caption").get_text()


def test_T6_the_area_filter_swaps_the_table_with_htmx(admin: Web, demo: Demo) -> None:
    ws = demo.ws("email_marketing")
    form = one(soup(admin.get(f"/w/{ws}/matrix")), "form#matrix-filter")
    assert (form["hx-get"], form["hx-target"], form["hx-select"]) == (f"/w/{ws}/matrix", "#matrix-view", "#matrix-view")
    fragment = soup(admin.get(f"/w/{ws}/matrix?area=analytics", htmx=True))
    assert fragment.html is None
    view = one(fragment, "#matrix-view")
    assert view["data-area"] == "analytics"
    assert [tb["data-area"] for tb in view.select("tbody[data-area]")] == ["analytics"]


def test_T6_an_unknown_area_shows_every_area(admin: Web, demo: Demo) -> None:
    doc = soup(admin.get(f"/w/{demo.ws('email_marketing')}/matrix?area=nope"))
    assert len(doc.select("tbody[data-area]")) == len(EM.areas)
    assert doc.select("select[name=area] option[selected]") == []  # "All areas", the first


def test_E5_an_inert_cell_says_which_feature_is_off(admin: Web, demo: Demo) -> None:
    ws = demo.ws("email_marketing")  # the demo has SMS and Basic CRM, no clickstream integration
    doc = soup(admin.get(f"/w/{ws}/matrix?area=analytics"))
    analyst = _column(doc, "Analyst")
    cell = one(doc, 'tr[data-permission="analytics.purchase_reports"]').select("td")[analyst]
    assert (cell["data-cell"], cell["data-feature"]) == ("inert", "clickstream")
    assert one(cell, ".visually-hidden").get_text() == "Granted, but Clickstream integration is off for Email marketing platform demo"
    assert one(cell, ".inert-note").get_text() == "Clickstream integration off"
    sms = one(doc, 'tr[data-permission="analytics.sms_reports"]').select("td")[analyst]
    assert sms["data-cell"] == "on"  # SMS is on in the demo


def test_E6_an_inert_cell_says_which_permission_is_missing(admin: Web, demo: Demo) -> None:
    ws = demo.ws("email_marketing")
    # Edit contacts needs View contacts (E6): granted without it, it has no effect.
    create_role(demo.rolegate.uow(), actor=Actor.system("test"), workspace_id=ws, name="Half", level="account_administrator", grants=["contacts.edit"])
    doc = soup(admin.get(f"/w/{ws}/matrix?area=contacts"))
    cell = one(doc, 'tr[data-permission="contacts.edit"]').select("td")[_column(doc, "Half")]
    assert cell["data-cell"] == "inert"
    assert not cell.has_attr("data-feature")
    view = EM.permissions["contacts.view"].label
    assert one(cell, ".visually-hidden").get_text() == f"Granted, but needs {view}"
    assert one(cell, ".inert-note").get_text() == f"needs {view}"


def test_E5_no_rule_code_in_the_matrix_text_only_behind_why(admin: Web, demo: Demo) -> None:
    doc = soup(admin.get(f"/w/{demo.ws('email_marketing')}/matrix"))
    main = one(doc, "main")
    whys = main.select("details.why")
    assert [one(w, ".rule").get_text() for w in whys] == ["E5", "E6"]
    for w in whys:
        w.decompose()
    assert RULE_CODE.findall(main.get_text()) == []
    assert one(main, ".matrix-legend a")["href"] == f"/w/{demo.ws('email_marketing')}/features"


def test_T6_a_product_without_features_has_no_feature_legend(admin: Web, demo: Demo) -> None:
    doc = soup(admin.get(f"/w/{demo.ws('telephony')}/matrix"))
    assert "feature" not in one(doc, ".matrix-legend").get_text()


def test_T6_the_matrix_scrolls_in_a_focusable_region(admin: Web, demo: Demo) -> None:
    doc = soup(admin.get(f"/w/{demo.ws('natero')}/matrix"))
    region = one(doc, "#matrix-scroll")
    assert (region["tabindex"], region["role"], region["aria-labelledby"]) == ("0", "region", "matrix-caption")
