"""The Team page in Chromium (issue 15, items 1 and 5): a role changed from the row's
actions menu, in the dialog, after reading what the member gains and loses and the seat
they take; the same by keyboard alone; no horizontal scroll at 1366x768 nor at 390x844 on
the Team page of every demo workspace, every member's actions reachable; axe-core finds no
serious or critical violation with the menu and the dialog open."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from rolegate.presets import PRESET_KEYS
from tests.browser.conftest import Site, log_in
from tests.browser.test_accessibility import AXE, TAGS
from tests.browser.test_team import open_menu


def _errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


def test_K2_change_a_role_in_the_dialog_after_reading_the_preview(admin: Page, site: Site) -> None:
    errors = _errors(admin)
    admin.goto(site.ws("catalyst", "/team"))
    viewer_seats = admin.locator('li.seat[data-seat="viewer"] .used')
    used = int(viewer_seats.inner_text())
    capacity = admin.locator('li.seat[data-seat="viewer"] .capacity').inner_text()
    ann = admin.locator('tr[data-email="ann@example.com"]')
    open_menu(ann).get_by_role("link", name="Change role").click()
    dialog = admin.locator("#dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", level=1)).to_have_text("Change the role of Ann Archer")
    picker = dialog.get_by_label("New role")
    expect(picker).to_be_focused()
    expect(dialog.locator("#preview-none")).to_contain_text("Choose another role")
    picker.select_option(label="Viewer")
    expect(dialog.locator("#preview-seat")).to_have_text(
        f"Ann Archer uses a Viewer license instead of an Editor license: {used + 1} of {capacity} in use."
    )
    expect(dialog.locator("#preview-lost-title")).to_have_text("Ann Archer loses")
    expect(dialog.locator("#preview-lost .impact-area").first).to_be_visible()
    expect(dialog.locator("#preview-refusal")).to_have_count(0)
    dialog.get_by_role("button", name="Change role").click()
    expect(admin.locator(".flash")).to_have_text("Ann Archer has a new role.")
    expect(ann.locator(".member-role")).to_have_text("Viewer")
    expect(viewer_seats).to_have_text(str(used + 1))
    assert errors == []


def test_a_role_change_by_keyboard_alone(admin: Page, site: Site) -> None:
    errors = _errors(admin)
    admin.goto(site.ws("telephony", "/team"))
    bob = admin.locator('tr[data-email="bob@example.com"]')
    button = bob.locator("summary.menu-button")
    for _ in range(80):  # Tab from the page's start to Bob's actions button
        admin.keyboard.press("Tab")
        if button.evaluate("el => el === document.activeElement"):
            break
    expect(button).to_be_focused()
    assert admin.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"  # a visible focus
    admin.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    admin.keyboard.press("ArrowDown")
    expect(bob.get_by_role("link", name="Change role")).to_be_focused()
    admin.keyboard.press("Escape")  # Escape closes the menu and goes back to its button
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_be_focused()
    admin.keyboard.press("Enter")
    admin.keyboard.press("ArrowDown")
    admin.keyboard.press("Enter")
    dialog = admin.locator("#dialog")
    picker = dialog.get_by_label("New role")
    expect(picker).to_be_focused()
    admin.keyboard.press("Escape")  # the dialog closes, and the focus is back on the menu's button
    expect(dialog).to_be_hidden()
    expect(button).to_be_focused()
    admin.keyboard.press("Enter")
    admin.keyboard.press("ArrowDown")
    admin.keyboard.press("Enter")
    expect(picker).to_be_focused()
    for _ in range(5):  # the arrow keys pick the next role; each choice fetches its preview
        if picker.evaluate("el => el.selectedOptions[0].textContent") == "Administrator":
            break
        admin.keyboard.press("ArrowUp")
    expect(picker.locator("option:checked")).to_have_text("Administrator")
    expect(dialog.locator("#preview-gained-title")).to_have_text("As Administrator, Bob Baker gains")
    admin.keyboard.press("Tab")
    expect(dialog.get_by_role("button", name="Change role")).to_be_focused()
    admin.keyboard.press("Enter")
    expect(admin.locator(".flash")).to_have_text("Bob Baker has a new role.")
    expect(bob.locator(".member-role")).to_have_text("Administrator")
    assert errors == []


@pytest.fixture
def sized(browser: Browser, site: Site) -> Iterator[Any]:
    contexts = []

    def open_at(width: int, height: int) -> Page:
        context = browser.new_context(viewport={"width": width, "height": height})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        log_in(page, site)
        return page

    yield open_at
    for c in contexts:
        c.close()


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)])
def test_no_horizontal_scroll_and_every_action_reachable(sized: Any, site: Site, width: int, height: int) -> None:
    page: Page = sized(width, height)
    for preset in PRESET_KEYS:
        page.goto(site.ws(preset, "/team"))
        assert page.evaluate("document.documentElement.scrollWidth") <= width, preset
        rows = page.locator("table.team-table tbody tr")
        for i in range(rows.count()):
            row = rows.nth(i)
            panel = open_menu(row)
            box = panel.bounding_box()
            assert box is not None
            assert box["x"] >= 0, (preset, i)
            assert box["x"] + box["width"] <= width, (preset, i)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (preset, i)
            expect(panel.locator(".menu-item").first).to_be_visible()
            page.keyboard.press("Escape")
            expect(row.locator("summary.menu-button")).to_have_attribute("aria-expanded", "false")


@pytest.fixture
def axe_page(browser: Browser, site: Site) -> Iterator[Page]:
    # axe is injected as a script: the pages' CSP (script-src 'self') would refuse it.
    context = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    log_in(page, site)
    yield page
    context.close()


def _serious(page: Page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", TAGS
    )
    return [f"{v['id']} {v['impact']}: {v['nodes'][0]['target']}" for v in result["violations"] if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_with_the_menu_and_the_dialog_open(axe_page: Page, site: Site, scheme: str) -> None:
    axe_page.emulate_media(color_scheme=scheme)  # type: ignore[arg-type]
    axe_page.goto(site.ws("natero", "/team"))
    ann = axe_page.locator('tr[data-email="ann@example.com"]')
    open_menu(ann)
    assert _serious(axe_page) == []
    admin_row = axe_page.locator('tr[data-email="admin@example.com"]')
    axe_page.keyboard.press("Escape")
    open_menu(admin_row)  # the only administrator's menu: its note and "Why?"
    assert _serious(axe_page) == []
    axe_page.keyboard.press("Escape")
    open_menu(ann).get_by_role("link", name="Change role").click()
    dialog = axe_page.locator("#dialog")
    dialog.get_by_label("New role").select_option(label="Analyst")
    expect(dialog.locator("#preview-refusal")).to_be_visible()  # N9: she still holds an account
    expect(dialog.locator("#preview-seat")).to_be_visible()
    assert _serious(axe_page) == []
