"""Issue 8 in a real browser: a site administrator edits a role in workspace B from
workspace A's session after switching (E1); an account administrator with the Account
Administrators permission edits an administrator record and gets no role control
(E7); the audit log page shows both edits with their diffs (E8)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import Site, log_in, screenshot
from tests.web.site_demo import ACCT_EMAIL, ACCT_PASSWORD, SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD, SiteDemo, build_site

PREVIEW = re.compile(r"/preview\?part=(preview|grid)$")


@pytest.fixture
def acme(site: Site) -> SiteDemo:
    return build_site(site.demo.rolegate)


def edit_role_in_b_after_switching(page: Page, site: Site, acme: SiteDemo) -> None:
    log_in(page, site, SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD)
    page.goto(site.url(f"/w/{acme.a}/roles"))
    expect(page.locator(".role-name")).to_have_text("Site administrator")
    expect(page.locator("#switch-to option")).to_have_text(["Acme Newsletters", "Acme Promotions"])
    page.get_by_role("combobox", name="Workspace").select_option(label="Acme Promotions")  # submits itself (data-autosubmit)
    page.wait_for_url(re.compile(rf"/w/{acme.b}/roles$"))
    expect(page.locator("#switch-to")).to_have_value(acme.b)
    page.locator("tr[data-role-name='Campaign reviewer'] th a").click()
    with page.expect_response(PREVIEW):
        page.locator('input[name="grants"][value="campaigns.edit"]').check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".flash")).to_have_text("Role “Campaign reviewer” saved.")


def edit_record_without_role_control(page: Page, site: Site, acme: SiteDemo) -> None:
    log_in(page, site, ACCT_EMAIL, ACCT_PASSWORD)
    page.goto(site.url(f"/w/{acme.a}/home"))
    # No Roles & Permissions, no Team (E7: records, never roles)
    expect(page.locator("nav.mainnav a")).to_have_text(["Home", "Administrator records", "Audit log"])
    page.get_by_role("link", name="Administrator records").click()
    page.locator(f"tr[data-member-id='{acme.target_member}']").get_by_role("link", name="Edit record").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Administrator record")
    expect(page.locator("select[name=role]")).to_have_count(0)  # E7: no role assignment control
    expect(page.locator(".role-readonly")).to_contain_text("Only site administrators assign roles.")
    page.get_by_label("Name").fill("Tom Tested")
    expect(page.get_by_label("Email")).not_to_be_editable()  # the person's login: only they change it (issue 12)
    page.get_by_role("button", name="Save record").click()
    expect(page.locator(".flash")).to_have_text("Administrator record of tom@acme-site.test saved.")
    expect(page.get_by_label("Email")).to_have_value("tom@acme-site.test")


def test_E1_site_administrator_edits_a_role_in_b_after_switching_from_a(page: Page, site: Site, acme: SiteDemo) -> None:
    edit_role_in_b_after_switching(page, site, acme)
    expect(page).to_have_url(re.compile(rf"/w/{acme.b}/roles$"))
    page.goto(site.url(f"/w/{acme.b}/roles/{acme.role_b}"))
    expect(page.locator('input[name="grants"][value="campaigns.edit"]')).to_be_checked()


def test_E7_account_administrator_edits_a_record_without_role_control(page: Page, site: Site, acme: SiteDemo) -> None:
    edit_record_without_role_control(page, site, acme)
    page.goto(site.url(f"/w/{acme.a}/roles"))
    expect(page.locator("[data-problem]")).to_have_attribute("data-problem", "permission_denied")


def test_E8_the_audit_page_shows_both_edits_with_diffs(browser: Browser, site: Site, acme: SiteDemo, tmp_path: Path) -> None:
    ava = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    sam = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    try:
        edit_record_without_role_control(ava, site, acme)
        edit_role_in_b_after_switching(sam, site, acme)
        # Sam reads A's log: Ava's record edit, by name, with its diff
        sam.goto(site.url(f"/w/{acme.a}/audit"))
        expect(sam.locator(".chain")).to_contain_text("Hash chain intact up to event")
        record_edit = sam.locator("tr.audit-event[data-action='member.update_record']")
        expect(record_edit).to_have_count(1)
        expect(record_edit.locator(".who")).to_have_text(f"Ava Account <{ACCT_EMAIL}>")
        expect(record_edit.locator(".diff li")).to_have_text(["name Tom Target → Tom Tested"], use_inner_text=True)
        # then B's, after switching: his own role edit
        sam.get_by_role("combobox", name="Workspace").select_option(label="Acme Promotions")
        sam.wait_for_url(re.compile(rf"/w/{acme.b}/"))
        sam.get_by_role("link", name="Audit log").click()
        role_edit = sam.locator("tr.audit-event[data-action='role.update']")
        expect(role_edit).to_have_count(1)
        expect(role_edit.locator(".who")).to_have_text(f"Sam Site <{SITE_ADMIN_EMAIL}> (site administrator)")
        expect(role_edit.locator(".diff li")).to_have_text(["grants + campaigns.edit"], use_inner_text=True)
        sam.get_by_label("Who").select_option(label=f"Sam Site <{SITE_ADMIN_EMAIL}> (site administrator)")
        sam.get_by_role("button", name="Filter").click()
        expect(sam.locator("tr.audit-event")).to_have_count(1)
        screenshot(sam, "audit-log", tmp_path)
        # Ava, with the Web Access Log permission, sees her own edit in A (E8)
        ava.get_by_role("link", name="Audit log").click()
        expect(ava.locator("tr.audit-event[data-action='member.update_record'] .diff li")).to_have_count(1)
    finally:
        ava.context.close()
        sam.context.close()
