"""The admin UI in a real browser: each test is named after the rule it proves."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Dialog, Page, expect

from rolegate.domain.workspace import Actor
from rolegate.services.members import add_member
from rolegate.services.roles import create_role
from rolegate.services.workspaces import set_features
from tests.browser.conftest import Site, log_in, screenshot
from tests.web.demo import CSM_EMAIL, CSM_PASSWORD

PLATFORM = Actor.system("browser-test")
PREVIEW = re.compile(r"/preview\?part=(preview|grid)$")
"""The editor's htmx requests: the server's answer to each change."""


def grant(page: Page, permission: str) -> str:
    return f'input[name="grants"][value="{permission}"]'


def after_preview(page: Page) -> None:
    """Wait until the editor's live region shows the server's answer to the last change."""
    page.wait_for_load_state("networkidle")


def test_N4_log_in_and_land_on_the_landing_page_of_the_role(page: Page, site: Site) -> None:
    log_in(page, site, CSM_EMAIL, CSM_PASSWORD)
    page.goto(site.url("/"))
    expect(page).to_have_url(re.compile(r"/pages/my_accounts$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My accounts")
    expect(page.locator("main tbody td").first).to_have_text("umbrella")
    expect(page.locator("nav.mainnav a")).to_have_text(["Home", "Accounts"])  # N12: no roles for a CSM; her accounts, yes


def test_T3_the_roles_list_with_seat_usage(admin: Page, site: Site, tmp_path: Path) -> None:
    admin.get_by_role("link", name="Natero demo").click()
    expect(admin).to_have_url(re.compile(r"/pages/all_accounts$"))  # N4: the CSM Manager's landing page
    admin.get_by_role("link", name="Roles & Permissions").click()
    expect(admin.locator("li.seat[data-seat=csm] .seat-usage")).to_have_text("4 / 5")
    expect(admin.locator("table.roles-table tbody tr")).to_have_count(5)
    row = admin.locator("tr[data-role-name=Guest]")
    expect(row.locator(".invited-count")).to_have_text("1")
    screenshot(admin, "roles-list", tmp_path)


def test_T7_a_custom_role_with_the_administrator_license_has_its_floor_locked(admin: Page, site: Site, tmp_path: Path) -> None:
    admin.goto(site.ws("telephony", "/roles"))
    admin.get_by_role("link", name="Add new role").click()
    admin.get_by_role("textbox", name="Name").fill("Night shift")
    admin.get_by_label("Description").fill("Covers the phones at night.")
    with admin.expect_response(PREVIEW):
        admin.get_by_label("License").select_option("administrator")
    locked = admin.locator(grant(admin, "numbers.manage"))
    expect(locked).to_be_checked()
    expect(locked).to_be_disabled()
    expect(admin.locator("span.perm-locked", has=locked)).to_have_attribute("title", re.compile(r"^Part of the Administrator license: "))
    expect(admin.locator("tr", has=locked).locator("details.why .rule")).to_have_text("T5")  # issue 15: behind "Why?"
    # try to untick the locked box, and fail
    locked.click(force=True)
    expect(locked).to_be_checked()
    with admin.expect_response(PREVIEW):
        admin.locator(grant(admin, "reports.manage")).check()
    expect(admin.locator("#impact-new")).to_contain_text("grants 10 effective permissions")
    screenshot(admin, "role-editor", tmp_path)
    admin.get_by_role("button", name="Create role").click()
    expect(admin.locator(".flash")).to_have_text("Role “Night shift” created.")
    row = admin.locator("tr[data-role-name='Night shift']")
    expect(row.locator("td").nth(1)).to_have_text("Administrator")
    row.get_by_role("link", name="Night shift").click()
    expect(admin.locator(grant(admin, "users.manage"))).to_be_disabled()
    expect(admin.locator(grant(admin, "reports.manage"))).to_be_checked()


def test_E6_ticking_a_permission_ticks_what_it_needs_and_unticking_asks_first(admin: Page, site: Site) -> None:
    admin.goto(site.ws("telephony", "/roles/new"))
    with admin.expect_response(PREVIEW):
        admin.locator(grant(admin, "numbers.manage")).check()
    expect(admin.locator(grant(admin, "numbers.view"))).to_be_checked()
    expect(admin.locator("#dep-numbers\\.manage")).to_have_text("Also ticked View numbers: Manage numbers needs it.")  # in its row
    asked: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    admin.once("dialog", dismiss)
    admin.locator(grant(admin, "numbers.view")).click()
    after_preview(admin)
    assert asked
    assert "also unticks what needs it:\n- Manage numbers" in asked[0]
    expect(admin.locator(grant(admin, "numbers.view"))).to_be_checked()  # cancelled: nothing changed
    admin.once("dialog", lambda d: d.accept())
    with admin.expect_response(PREVIEW):
        admin.locator(grant(admin, "numbers.view")).click()
    expect(admin.locator(grant(admin, "numbers.view"))).not_to_be_checked()
    expect(admin.locator(grant(admin, "numbers.manage"))).not_to_be_checked()
    expect(admin.locator("#dep-numbers\\.view")).to_have_text("Also unticked Manage numbers: it needs View numbers.")


def test_N2_a_role_with_the_csm_seat_changes_the_seat_usage(admin: Page, site: Site) -> None:
    ws = site.demo.ws("natero")
    admin.goto(site.ws("natero", "/roles/new"))
    admin.get_by_role("textbox", name="Name").fill("Field CSM")
    with admin.expect_response(PREVIEW):
        admin.locator(grant(admin, "accounts.csm_seat")).check()
    expect(admin.locator("#current-seat")).to_have_text("CSM seat")
    with admin.expect_response(PREVIEW):
        admin.get_by_label("Landing page").select_option("my_accounts")
    expect(admin.locator("#preview-ok")).to_be_visible()
    admin.get_by_role("button", name="Create role").click()
    expect(admin.locator("li.seat[data-seat=csm] .seat-usage")).to_have_text("4 / 5")
    role = admin.locator("tr[data-role-name='Field CSM']").get_attribute("data-role-id")
    assert role is not None
    add_member(site.demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, email="ivy@example.com", role_id=role)
    admin.reload()
    expect(admin.locator("li.seat[data-seat=csm] .seat-usage")).to_have_text("5 / 5")
    # and a role moving seats says so before saving: the invited Guest goes from an Analyst to a CSM seat
    admin.goto(site.ws("natero", "/roles/guest"))
    admin.once("dialog", lambda d: d.accept())
    with admin.expect_response(PREVIEW):
        admin.locator(grant(admin, "accounts.csm_seat")).check()
    expect(admin.locator("#seat-move")).to_contain_text("from the Analyst seat to the CSM seat: 1 member moves with it")
    expect(admin.locator("#preview-refusal")).to_contain_text("No free CSM seat")


def test_N6_the_csm_seat_cannot_be_turned_off_while_its_members_have_accounts(admin: Page, site: Site) -> None:
    admin.goto(site.ws("natero", "/roles/csm"))
    admin.get_by_label("Description").fill("An edit to keep")
    with admin.expect_response(PREVIEW):
        admin.get_by_label("Landing page").select_option("dashboard")
    with admin.expect_response(PREVIEW):
        admin.locator(grant(admin, "accounts.csm_seat")).uncheck()
    expect(admin.locator("#preview-refusal li[data-rule=N6]")).to_be_visible()
    admin.get_by_role("button", name="Save").click()
    refused = admin.locator("#refused")
    expect(refused.locator("li.violation")).to_have_attribute("data-rule", "N6")
    expect(refused).to_contain_text("Customer Success Manager Seat cannot be turned off: 3 members with this role have account records assigned.")
    expect(refused).to_contain_text("Unassign those account records or switch them to other members first.")
    expect(admin.locator(grant(admin, "accounts.csm_seat"))).not_to_be_checked()  # the form as it was left
    expect(admin.get_by_label("Description")).to_have_value("An edit to keep")


def test_T9_deleting_a_custom_role_with_members_is_refused(admin: Page, site: Site) -> None:
    ws = site.demo.ws("telephony")
    busy = create_role(site.demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, name="Busy", level="analyst")
    add_member(site.demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, email="jo@example.com", role_id=busy.id)
    create_role(site.demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, name="Spare", level="analyst")
    admin.goto(site.ws("telephony", "/roles"))
    admin.locator("tr[data-role-name=Busy]").get_by_role("link", name="Delete").click()
    dialog = admin.locator("dialog#dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#delete-refused li[data-rule=T9]")).to_contain_text("assigned to 1 active and 0 invited members")
    expect(dialog.locator("#confirm-delete")).to_have_count(0)
    dialog.get_by_role("link", name="Back to roles").click()
    expect(dialog).to_be_hidden()
    admin.locator("tr[data-role-name=Spare]").get_by_role("link", name="Delete").click()
    expect(dialog.locator("#irreversible")).to_contain_text("Deleting a role is irreversible.")
    dialog.get_by_role("button", name="Delete role Spare").click()
    expect(admin.locator(".flash")).to_have_text("Role “Spare” deleted.")
    expect(admin.locator("tr[data-role-name=Spare]")).to_have_count(0)
    expect(admin.locator("tr[data-role-name=Busy]")).to_have_count(1)


def test_K4_a_catalyst_system_role_opens_read_only(admin: Page, site: Site) -> None:
    admin.goto(site.ws("catalyst", "/roles"))
    admin.locator("tr[data-role-name=Admin]").get_by_role("link", name="View").click()
    expect(admin.locator("#read-only-notice")).to_contain_text("System role Admin cannot be edited.")
    expect(admin.locator("#read-only-notice details.why .rule")).to_have_text("K4")
    expect(admin.get_by_role("textbox", name="Name")).to_be_disabled()
    expect(admin.locator("form#role-form input[type=checkbox]:enabled")).to_have_count(0)
    expect(admin.get_by_role("button", name="Save")).to_have_count(0)


def test_E5_a_gated_permission_without_sms_is_inert(admin: Page, site: Site) -> None:
    ws = site.demo.ws("email_marketing")
    set_features(site.demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, features=["basic_crm"])
    admin.goto(site.ws("email_marketing", "/roles/new"))
    admin.get_by_role("textbox", name="Name").fill("Texter")
    texting = admin.locator(grant(admin, "settings.text_messaging"))
    with admin.expect_response(PREVIEW):
        texting.check()
    expect(admin.locator(grant(admin, "settings.view"))).to_be_checked()  # E6: its requirement came along
    cell = admin.locator("span.perm", has=admin.locator(grant(admin, "settings.text_messaging")))
    expect(cell.locator(".note")).to_have_text("needs SMS")
    expect(admin.locator("#impact-inert")).to_contain_text("Text Messaging (needs SMS)")
    admin.get_by_role("button", name="Create role").click()
    expect(admin.locator(".flash")).to_have_text("Role “Texter” created.")
    admin.get_by_role("link", name="Permission matrix").click()
    names = admin.locator("thead th.role-col").all_inner_texts()
    column = names.index("Texter")
    expect(admin.locator('tr[data-permission="settings.text_messaging"] td').nth(column)).to_have_attribute("data-cell", "inert")
    admin.locator("thead th.role-col").nth(column).get_by_role("link").click()
    expect(admin.locator("span.perm", has=admin.locator(grant(admin, "settings.text_messaging")))).to_have_class("perm perm-inert")


def test_T6_the_matrix_shows_every_role(admin: Page, site: Site, tmp_path: Path) -> None:
    admin.goto(site.ws("telephony", "/roles"))
    roles = admin.locator("table.roles-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.roleName)")
    admin.get_by_role("link", name="Permission matrix").click()
    expect(admin.locator("thead th.role-col")).to_have_text(roles)
    expect(admin.locator('tr[data-permission="numbers.view"] td.cell-locked')).to_have_count(2)
    with admin.expect_download() as download:
        admin.get_by_role("link", name="Export CSV").click()
    assert download.value.suggested_filename == "permission-matrix-telephony.csv"
    screenshot(admin, "permission-matrix", tmp_path)
