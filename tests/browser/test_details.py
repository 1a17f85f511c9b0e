"""Details that show care, in Chromium (issue 15, item 7): /docs and /redoc render
from the package's files with every request to another host refused (offline), no
console error; the dark theme follows the system's preference."""

from __future__ import annotations

from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import Site


def _offline(page: Page, site: Site) -> list[str]:
    """Refuse every request that leaves Rolegate's origin; returns what was refused."""
    refused: list[str] = []

    def handle(route: Route) -> None:
        if route.request.url.startswith(site.base):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", handle)
    return refused


def test_docs_and_redoc_work_offline(page: Page, site: Site) -> None:
    refused = _offline(page, site)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    # Both render the whole OpenAPI document (about 200 operations) in the page: seconds
    # of script on a loaded CI machine, more than `expect`'s default 5 s.
    page.goto(site.url("/docs"))
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Rolegate", timeout=30_000)
    expect(page.locator(".opblock").first).to_be_visible(timeout=30_000)
    page.goto(site.url("/redoc"))
    expect(page.locator("h1").first).to_contain_text("Rolegate", timeout=30_000)
    assert refused == []
    assert errors == []


def test_the_dark_theme_follows_the_system(admin: Page, site: Site) -> None:
    admin.goto(site.ws("telephony", "/team"))
    light = admin.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    admin.emulate_media(color_scheme="dark")
    dark = admin.evaluate("getComputedStyle(document.documentElement).backgroundColor")
    assert light != dark
    assert dark == "rgb(17, 21, 28)"


def test_a_missing_page_keeps_the_navigation(admin: Page, site: Site) -> None:
    admin.goto(site.ws("telephony", "/nowhere"))
    expect(admin.get_by_role("heading", name="Not found")).to_be_visible()
    admin.get_by_role("navigation", name="Workspace").get_by_role("link", name="Team").click()
    expect(admin.get_by_role("heading", name="Invite a member")).to_be_visible()
