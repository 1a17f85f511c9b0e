"""Details that show care (issue 15, item 7): a favicon, error pages with the
workspace's navigation, /docs and /redoc from the package's own files, one stylesheet
with a light and a dark theme, and readable audit values."""

from __future__ import annotations

import re

from rolegate.web.render import field_label, human
from tests.web.conftest import Web, one, soup
from tests.web.demo import Demo


def test_every_page_names_its_favicon(admin: Web, demo: Demo) -> None:
    doc = soup(admin.get(f"/w/{demo.ws('telephony')}/team"))
    href = str(one(doc, 'link[rel="icon"]')["href"])
    icon = admin.get(href)
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")


def test_a_404_in_a_workspace_keeps_its_navigation(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    r = admin.get(f"/w/{ws}/no-such-page")
    assert r.status_code == 404
    doc = soup(r)
    assert one(doc, "[data-problem]")["data-problem"] == "not_found"
    assert [a.get_text() for a in doc.select("nav.mainnav a")][:2] == ["Home", "Roles & Permissions"]
    assert one(doc, f'main a[href="/w/{ws}/"]').get_text() == "Back to Telephony platform demo"


def test_a_403_keeps_the_navigation_and_a_404_of_another_workspace_shows_none(web: Web, demo: Demo) -> None:
    from tests.web.demo import CSM_EMAIL, CSM_PASSWORD

    web.login(CSM_EMAIL, CSM_PASSWORD)
    natero = demo.ws("natero")
    r = web.get(f"/w/{natero}/roles")
    assert r.status_code == 403
    assert soup(r).select("nav.mainnav a")  # still in her workspace
    assert "N12" not in one(soup(r), ".error-page p.detail").get_text()  # the rule is in "Details" only
    other = web.get(f"/w/{demo.ws('telephony')}/team")
    assert other.status_code == 404
    assert soup(other).select("nav.mainnav") == []  # not hers: nothing about it


def test_docs_and_redoc_are_served_from_the_package(web: Web) -> None:
    for path, bundle in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        r = web.get(path)
        assert r.status_code == 200
        assert "<script>" not in r.text  # no inline script: CSP script-src 'self'
        assert "cdn" not in r.text.lower()
        assert "script-src 'self';" in r.headers["content-security-policy"]
        src = re.search(rf'src="(/docs-assets/{re.escape(bundle)})"', r.text)
        assert src is not None
        asset = web.get(src.group(1))
        assert asset.status_code == 200
        assert len(asset.content) > 100_000


def test_one_stylesheet_has_a_light_and_a_dark_theme(web: Web) -> None:
    css = web.get("/static/rolegate.css").text
    assert "@media (prefers-color-scheme: dark)" in css
    dark = css.split("@media (prefers-color-scheme: dark)", 1)[1]
    for name in ("--fg", "--bg", "--card", "--accent", "--input", "--danger-bg"):
        assert f"{name}:" in dark, name


def test_audit_values_read_as_words() -> None:
    assert human(["accounts.view", "accounts.update"]) == "accounts.view, accounts.update"
    assert human({"landing_page": "my_accounts", "active": True}) == "landing page: my_accounts; active: yes"
    assert human(None) == "(none)"
    assert human([]) == "(none)"
    assert human({}) == "(none)"
    assert human(False) == "no"
    assert human(3) == "3"
    assert field_label("fields.account.arr") == "fields \u203a account \u203a arr"


def test_the_audit_log_names_the_member_a_change_is_about(admin: Web, demo: Demo) -> None:
    ws = demo.ws("customersuccessbox")
    ann = demo.member("customersuccessbox", "ann@example.com")
    bob = demo.member("customersuccessbox", "bob@example.com")
    admin.post(f"/w/{ws}/team/{ann}/transfer", {"to": bob})
    admin.post(f"/w/{ws}/team/{ann}/disable")
    doc = soup(admin.get(f"/w/{ws}/audit"))
    targets = [td.get_text(" ", strip=True) for td in doc.select("tr.audit-event td:nth-of-type(5)")]
    assert any("Ann Archer" in t for t in targets)
    assert "[" not in " ".join(li.get_text() for li in doc.select("ul.diff li"))  # no Python list reprs


def test_a_time_is_iso_text_never_a_bare_number() -> None:
    """`since=0.51` was read as 1970-01-01T00:00:00.51Z; the documented format is ISO 8601."""
    import pytest
    from pydantic import TypeAdapter, ValidationError

    from rolegate.services.commands import Instant

    instant = TypeAdapter(Instant)
    assert instant.validate_python("2026-01-31T12:00:00+01:00").isoformat() == "2026-01-31T11:00:00+00:00"
    for number in ("0.51", "12", " 1e3 ", 5, 0.5):
        with pytest.raises(ValidationError):
            instant.validate_python(number)
