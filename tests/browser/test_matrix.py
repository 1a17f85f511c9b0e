"""The permission matrix in Chromium (T6, issue 15 item 4): the role header row and the
permission column stay in view while the table scrolls both ways inside its frame, at
1366 and at 390 px; the area filter swaps the table in place (htmx) and keeps the URL;
inert cells say which feature is off (E5)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from rolegate.domain.workspace import Actor
from rolegate.services.roles import create_role
from tests.browser.conftest import Site, log_in

PLATFORM = Actor.system("browser-test")


def _many_roles(site: Site) -> None:
    """Enough custom roles that the matrix is wider than a 1366 px screen."""
    ws = site.demo.ws("email_marketing")
    for n in range(10):
        create_role(site.demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, name=f"Regional desk {n + 1}", level="account_administrator", grants=["contacts.view"])


def _scrolled(page: Page) -> dict[str, Any]:
    """Scroll the matrix frame to its far corner; where its sticky cells then are."""
    return dict(
        page.locator("#matrix-scroll").evaluate(
            """frame => {
                frame.scrollIntoView({block: 'end'});
                frame.scrollTop = frame.scrollHeight;
                frame.scrollLeft = frame.scrollWidth;
                const box = frame.getBoundingClientRect();
                const corner = frame.querySelector('thead th.perm-col').getBoundingClientRect();
                const role = [...frame.querySelectorAll('thead th.role-col')].pop().getBoundingClientRect();
                const perm = [...frame.querySelectorAll('tbody tr[data-permission] th')].pop().getBoundingClientRect();
                const at = (x, y) => frame.ownerDocument.elementFromPoint(x, y) || frame;
                const on = (r) => at(r.left + 4, r.top + r.height / 2);
                return {
                    top: frame.scrollTop, left: frame.scrollLeft, frameTop: box.top, frameLeft: box.left,
                    cornerTop: corner.top, cornerLeft: corner.left, roleTop: role.top, permLeft: perm.left,
                    cornerOnTop: on(corner).closest('th') === frame.querySelector('thead th.perm-col'),
                    permOnTop: on(perm).closest('th') === [...frame.querySelectorAll('tbody tr[data-permission] th')].pop(),
                    roleOnTop: at(role.left + role.width / 2, role.top + 4).closest('th') === [...frame.querySelectorAll('thead th.role-col')].pop(),
                    frameBottom: box.bottom, innerHeight: window.innerHeight,
                    pageSideways: document.documentElement.scrollWidth > window.innerWidth + 1,
                };
            }"""
        )
    )


@pytest.mark.parametrize("width", [1366, 390])
def test_T6_the_role_header_and_the_permission_column_stay_in_view_scrolling_both_ways(browser: Browser, site: Site, width: int) -> None:
    _many_roles(site)
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    try:
        log_in(page, site)
        page.goto(site.ws("email_marketing", "/matrix"))
        at = _scrolled(page)
        assert at["top"] > 0, at  # it did scroll down
        assert at["left"] > 0, at  # and right
        assert abs(at["cornerTop"] - at["frameTop"]) <= 2
        assert abs(at["cornerLeft"] - at["frameLeft"]) <= 2
        assert abs(at["roleTop"] - at["frameTop"]) <= 2  # the role header row, at the frame's top
        assert abs(at["permLeft"] - at["frameLeft"]) <= 2  # the permission column, at its left
        # Not covered by the cells scrolled under them.
        assert at["cornerOnTop"], at
        assert at["roleOnTop"], at
        assert at["permOnTop"], at
        assert not at["pageSideways"]  # the frame scrolls, not the page
    finally:
        context.close()


def test_T6_the_area_filter_swaps_the_table_in_place(admin: Page, site: Site) -> None:
    admin.goto(site.ws("email_marketing", "/matrix"))
    expect(admin.locator("#matrix-filter button[type=submit]")).to_be_hidden()  # htmx applies the choice at once
    expect(admin.locator("tbody[data-area]")).to_have_count(11)
    with admin.expect_response(lambda r: "/matrix?area=sales" in r.url):
        admin.get_by_label("Area").select_option(label="Sales")
    expect(admin.locator("tbody[data-area]")).to_have_count(1)
    expect(admin.locator("tbody[data-area]")).to_have_attribute("data-area", "sales")
    expect(admin).to_have_url(site.ws("email_marketing", "/matrix?area=sales"))
    admin.reload()  # the URL alone shows the same filter
    expect(admin.locator("tbody[data-area]")).to_have_attribute("data-area", "sales")
    expect(admin.get_by_label("Area")).to_have_value("sales")


def test_T6_the_area_filter_works_without_javascript(browser: Browser, site: Site) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, site)
        page.goto(site.ws("email_marketing", "/matrix"))
        page.get_by_label("Area").select_option(label="Analytics")
        page.get_by_role("button", name="Show").click()
        expect(page).to_have_url(site.ws("email_marketing", "/matrix?area=analytics"))
        expect(page.locator("tbody[data-area]")).to_have_attribute("data-area", "analytics")
    finally:
        context.close()


def test_E5_an_inert_cell_says_which_feature_is_off(admin: Page, site: Site) -> None:
    admin.goto(site.ws("email_marketing", "/matrix?area=analytics"))
    row = admin.locator('tr[data-permission="analytics.purchase_reports"]')
    cell = row.locator("td[data-cell=inert]").first
    expect(cell).to_contain_text("Clickstream integration off")
    expect(cell).to_have_attribute("title", "Granted, but Clickstream integration is off for Email marketing platform demo")
