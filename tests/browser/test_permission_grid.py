"""The permission grid in Chromium (issue 15, item 3): the E6 notice beside the box that
caused it, a bulk toggle per area, the sticky header, a custom role with field
permissions created by keyboard alone, and axe-core on the editor."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from rolegate.services.workspaces import set_features
from tests.browser.conftest import Site, log_in
from tests.browser.test_accessibility import _run_axe
from tests.browser.test_admin_ui import PLATFORM, grant

LIVE = re.compile(r"/preview\?part=(preview|grid|bulk)$")
"""The editor's htmx requests: the server's answer to each change."""


def tab_to(page: Page, element_id: str, limit: int = 400) -> None:
    """Press Tab until `element_id` has the focus: the keyboard only, never the mouse."""
    for _ in range(limit):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def test_E6_the_notice_shows_next_to_the_box_that_needs_another(admin: Page, site: Site) -> None:
    admin.goto(site.ws("email_marketing", "/roles/new"))
    manage = admin.locator(grant(admin, "assets.manage_media"))
    with admin.expect_response(LIVE):
        manage.check()
    expect(admin.locator(grant(admin, "assets.view_media"))).to_be_checked()
    row = admin.locator("#perm-grid tr", has=manage)
    notice = row.locator("[id='dep-assets.manage_media']")
    expect(notice).to_have_text("Also ticked View Media: Manage Media needs it.")
    expect(notice).to_have_attribute("role", "status")
    expect(manage).to_have_attribute("aria-describedby", re.compile(r"\bdep-assets\.manage_media\b"))
    # next to it: the notice starts within a box's height of the checkbox, not across the page
    box, said = manage.bounding_box(), notice.bounding_box()
    assert box is not None
    assert said is not None
    assert abs(said["y"] - box["y"]) < 60
    assert abs(said["x"] - box["x"]) < 200


def test_E5_a_preview_updates_the_note_beside_the_box_without_replacing_it(admin: Page, site: Site) -> None:
    ws = site.demo.ws("email_marketing")
    set_features(site.demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, features=["basic_crm"])  # SMS off
    admin.goto(site.ws("email_marketing", "/roles/new"))
    reports = admin.locator(grant(admin, "analytics.sms_reports"))
    note = admin.locator("[id='note-analytics.sms_reports']")
    expect(note).to_have_attribute("data-state", "gated")
    handle = reports.element_handle()
    with admin.expect_response(LIVE):
        reports.check()
    expect(note).to_have_attribute("data-state", "inert")  # the server's answer, beside the box
    expect(admin.locator("span.perm", has=reports)).to_have_class("perm perm-inert")
    expect(note.locator(".note")).to_have_text("needs SMS")
    assert handle is not None
    assert handle.evaluate("b => b.isConnected && b.checked")  # the same box: a quick click is never lost


def test_a_bulk_toggle_ticks_an_area_and_keeps_the_focus(admin: Page, site: Site) -> None:
    admin.goto(site.ws("email_marketing", "/roles/new"))
    toggle = admin.locator("#bulk-segments")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.focus()
    with admin.expect_response(LIVE):
        admin.keyboard.press("Space")
    area = admin.locator("tbody.area[data-area=segments] input[name=grants]")
    expect(area).to_have_count(3)
    for i in range(3):
        expect(area.nth(i)).to_be_checked()
    expect(admin.locator("#bulk-segments")).to_have_attribute("aria-pressed", "true")
    expect(admin.locator("#bulk-segments")).to_be_focused()
    expect(admin.locator("#impact-new")).to_contain_text("grants 3 effective permissions")
    with admin.expect_response(LIVE):
        admin.keyboard.press("Enter")
    for i in range(3):
        expect(area.nth(i)).not_to_be_checked()
    expect(admin.locator("#bulk-segments")).to_have_attribute("aria-pressed", "false")


def test_the_header_row_stays_visible_while_the_areas_scroll(admin: Page, site: Site) -> None:
    admin.goto(site.ws("email_marketing", "/roles/new"))
    header = admin.locator("#perm-grid thead th").first
    admin.locator(grant(admin, "settings.forms")).scroll_into_view_if_needed()
    admin.mouse.wheel(0, 400)
    admin.wait_for_function("() => window.scrollY > 1500")
    top = header.evaluate("th => th.getBoundingClientRect().top")
    assert 0 <= top < 2  # stuck to the top of the window
    expect(header).to_be_in_viewport()
    expect(admin.locator("#perm-grid thead th")).to_have_text(["Permission", "Granted"])


def test_K6_a_custom_role_with_field_permissions_by_keyboard_alone(admin: Page, site: Site) -> None:
    ws = site.demo.ws("catalyst")
    admin.goto(site.ws("catalyst", "/roles/new"))
    tab_to(admin, "role-name")
    outline = admin.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # a visible focus
    admin.keyboard.type("Renewals desk")
    tab_to(admin, "role-level")
    with admin.expect_response(LIVE):
        admin.keyboard.press("ArrowDown")  # Limited -> Standard
    expect(admin.locator("#role-level")).to_have_value("standard")
    expect(admin.locator("#current-level")).to_have_text("Standard")
    tab_to(admin, "write-custom_object.name")
    focused = admin.locator("[id='write-custom_object.name']")
    assert admin.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    admin.keyboard.press("Space")  # a field box is read by the save (no preview of fields)
    expect(focused).to_be_checked()
    expect(admin.locator("[id='read-custom_object.name']")).to_be_checked()  # write includes read (K11)
    tab_to(admin, "save-role")
    admin.keyboard.press("Enter")
    expect(admin.locator(".flash")).to_have_text("Role “Renewals desk” created.")
    with site.demo.rolegate.uow() as uow:
        role = next(i.role for i in uow.roles.all(ws) if i.role.name == "Renewals desk")
    assert role.level == "standard"
    assert role.field_access[("custom_object", "name")].label == "write"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_editor_passes_axe_with_no_serious_or_critical_violation(browser: Browser, site: Site, scheme: str) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True, color_scheme=scheme)  # type: ignore[arg-type]
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        log_in(page, site)
        failures: list[str] = []
        for preset, path in (
            ("email_marketing", "/roles/new"),
            ("telephony", "/roles/administrator"),
            ("catalyst", "/roles/new"),
            ("natero", "/roles/guest"),
        ):
            page.goto(site.ws(preset, path))
            if path == "/roles/new" and preset == "email_marketing":
                with page.expect_response(LIVE):
                    page.locator("#bulk-contacts").click()  # a bulk toggle's answer and its notes
            found = _run_axe(page)
            failures += [f"{preset}{path}: {v['id']} {v['impact']}: {v['nodes'][0]['target']}" for v in found if v["impact"] in ("serious", "critical")]
        assert failures == [], "\n".join(failures)
    finally:
        context.close()
