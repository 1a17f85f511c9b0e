"""The Features page in Chromium (issue 15 item 6; E4, E5): a site administrator turns a
feature on and sees what it unlocks take effect in the matrix; turning it off asks in
the confirmation dialog, which names the roles it affects (Cancel and Escape change
nothing); a workspace administrator reads the page, told whom to ask. axe finds no
serious or critical violation on either view."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Site, log_in
from tests.browser.test_accessibility import AXE, TAGS
from tests.web.site_demo import SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD, build_site


@pytest.fixture
def axe_page(browser: Browser) -> Iterator[Page]:
    # axe is injected as a script: the pages' CSP (script-src 'self') would refuse it.
    context = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def _serious(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", TAGS
    )["violations"]
    return [f"{v['id']} {v['impact']}: {v['nodes'][0]['target']}" for v in found if v["impact"] in ("serious", "critical")]


def test_E5_a_site_administrator_turns_sms_on_and_its_permissions_take_effect(page: Page, site: Site) -> None:
    acme = build_site(site.demo.rolegate)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    log_in(page, site, SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD)
    base = f"{site.base}/w/{acme.a}"
    page.goto(f"{base}/matrix?area=analytics")
    expect(page.locator('tr[data-permission="analytics.sms_reports"] td[data-cell=inert]').first).to_contain_text("SMS off")

    page.get_by_role("navigation", name="Workspace").get_by_role("link", name="Features").click()
    sms = page.locator("#feature-sms")
    expect(sms.locator(".feature-state")).to_have_text("Off")
    expect(sms.locator("table.unlocks tr.area-row th")).to_have_text(["Contacts (SMS)", "Analytics", "Settings"])
    expect(sms.locator('tr[data-permission="analytics.sms_reports"] th')).to_have_text("SMS Reports")
    sms.get_by_role("button", name="Turn SMS on").click()  # turning on asks nothing
    expect(page.locator(".flash")).to_have_text("SMS is on.")
    expect(sms.locator(".feature-state")).to_have_text("On")
    expect(sms.locator('tr[data-permission="analytics.sms_reports"] td.held-by')).to_contain_text("Analyst")
    expect(sms.locator(".feature-effect")).to_have_text("3 roles use what SMS unlocks.")

    page.goto(f"{base}/matrix?area=analytics")
    expect(page.locator('tr[data-permission="analytics.sms_reports"] td[data-cell=inert]')).to_have_count(0)
    assert errors == []


def test_E5_turning_a_feature_off_asks_and_names_the_roles_it_affects(axe_page: Page, site: Site) -> None:
    page = axe_page
    acme = build_site(site.demo.rolegate)
    log_in(page, site, SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD)
    page.goto(f"{site.base}/w/{acme.a}/features")
    sms = page.locator("#feature-sms")
    sms.get_by_role("button", name="Turn SMS on").click()
    expect(sms.locator(".feature-state")).to_have_text("On")

    dialog = page.locator("#confirm-dialog")
    sms.get_by_role("button", name="Turn SMS off").click()
    expect(dialog).to_be_visible()
    expect(dialog.locator("#confirm-title")).to_have_text("Turn SMS off?")
    expect(dialog.locator("#confirm-text")).to_contain_text("and Analyst lose the permissions SMS unlocks")
    expect(dialog.locator("#confirm-cancel")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(sms.locator(".feature-state")).to_have_text("On")

    sms.get_by_role("button", name="Turn SMS off").click()
    dialog.get_by_role("button", name="Turn SMS off").click()
    expect(page.locator(".flash")).to_have_text("SMS is off.")
    expect(sms.locator(".feature-state")).to_have_text("Off")
    assert _serious(page) == []


def test_E4_a_workspace_administrator_reads_the_features_and_whom_to_ask(axe_page: Page, site: Site) -> None:
    admin = axe_page
    log_in(admin, site)
    admin.goto(site.ws("email_marketing", "/features"))
    expect(admin.locator("#features-readonly")).to_contain_text("ask one of them")
    expect(admin.locator("form.feature-switch")).to_have_count(0)
    expect(admin.locator("#feature-sms .feature-state")).to_have_text("On")
    assert _serious(admin) == []
    admin.emulate_media(color_scheme="dark")
    assert _serious(admin) == []
