"""The Team page in a real browser (Chromium), with email over real SMTP (aiosmtpd on
loopback): invite a member, open the invitation link from the captured email, set a
password and log in as them (T4); an administrator tries to disable themselves (C5)
and to demote themselves as the only administrator (C4) and reads why not; a CSM who
still has accounts cannot be disabled (C6) until their accounts are transferred (N9)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from rolegate.services.mail import SmtpTransport
from rolegate.services.outbox import OutboxSender, OutboxWorker
from tests.browser.conftest import Site, log_in, screenshot
from tests.mail.conftest import Servers, SmtpServer, text_of


@pytest.fixture
def mail(site: Site, tmp_path: Path) -> Iterator[SmtpServer]:
    """The site sends its emails to an SMTP server on loopback, with links to itself."""
    servers = Servers(tmp_path)
    server = servers.start()
    rg = site.demo.rolegate
    rg.settings = dataclasses.replace(rg.settings, public_url=site.base, smtp_url=server.url)
    rg.outbox = OutboxWorker(OutboxSender(rg.uow, SmtpTransport(server.url, "Rolegate <team@rolegate.test>")), poll=0.5)
    rg.outbox.start()
    yield server
    rg.outbox.stop()
    rg.outbox = None
    servers.stop_all()


def team_page(page: Page, site: Site, preset: str) -> None:
    page.goto(site.ws(preset, "/team"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Team")


def test_T4_invite_open_the_emailed_link_set_a_password_and_log_in(admin: Page, site: Site, mail: SmtpServer, tmp_path: Path) -> None:
    team_page(admin, site, "telephony")
    seats_before = admin.locator("table.team-table tbody tr").count()
    form = admin.locator("#invite-form")
    form.get_by_label("Email").fill("Grace.Hopper@example.com")
    form.get_by_label("Name").fill("Grace Hopper")
    form.get_by_label("Role").select_option(label="Analyst")
    form.get_by_role("button", name="Send invitation").click()
    expect(admin.locator(".flash")).to_have_text("Invitation sent to grace.hopper@example.com.")
    row = admin.locator('tr[data-email="grace.hopper@example.com"]')
    expect(row).to_have_attribute("data-status", "invited")
    expect(admin.locator("table.team-table tbody tr")).to_have_count(seats_before + 1)
    screenshot(admin, "team", tmp_path)

    [email] = mail.inbox.wait_for("grace.hopper@example.com")
    match = re.search(r"http://\S+/invitations/\S+", text_of(email))
    assert match, text_of(email)
    invitee = admin.context.browser.new_context() if admin.context.browser else None  # a browser of her own
    assert invitee is not None
    her = invitee.new_page()
    her.goto(match.group(0))
    expect(her.get_by_role("heading", level=1)).to_have_text("Join Telephony platform demo")
    expect(her.locator(".invited-role")).to_have_text("Analyst")
    her.get_by_label("Choose a password").fill("grace's password")
    her.get_by_label("Password again").fill("grace's password")
    her.get_by_role("button", name="Accept the invitation").click()
    expect(her.locator(".flash")).to_contain_text("Welcome to Telephony platform demo")
    expect(her.locator(".account .who")).to_contain_text("Grace Hopper")  # issue 15: signed in after accepting
    expect(her.locator(".role-name")).to_have_text("Analyst")
    # The link worked once.
    her.goto(match.group(0))
    expect(her.locator("[data-problem]")).to_have_attribute("data-problem", "token_invalid")
    invitee.close()

    admin.reload()
    expect(row).to_have_attribute("data-status", "active")


def open_menu(row: Locator) -> Locator:
    """Opens the member's actions menu (issue 15: one per row) and returns its panel."""
    row.locator("summary.menu-button").click()
    expect(row.locator("summary.menu-button")).to_have_attribute("aria-expanded", "true")
    return row.locator(".menu-panel")


def test_C5_C4_an_administrator_cannot_disable_or_demote_themselves_and_reads_why(admin: Page, site: Site) -> None:
    team_page(admin, site, "customersuccessbox")
    mine = admin.locator('tr[data-email="admin@example.com"]')
    menu = open_menu(mine)
    # Safe by default (issue 15): what the rules refuse is not offered (the server still
    # refuses it: C5, C4, tests/web/test_team.py), and the menu says why.
    expect(menu.get_by_role("button", name="Disable")).to_have_count(0)
    expect(menu.get_by_role("link", name="Delete")).to_have_count(0)
    expect(menu.get_by_role("link", name="Change profile")).to_have_count(0)
    expect(menu.locator(".sole-guardian")).to_have_text(
        "You are this workspace's only active Administrator, so disabling or demoting you is not offered: give another member the same access first."
    )
    menu.get_by_text("Why?").click()
    expect(menu.locator("details.why .rule")).to_have_text("C4")
    admin.keyboard.press("Escape")  # closes the menu, its button focused again
    expect(mine.locator("summary.menu-button")).to_have_attribute("aria-expanded", "false")
    expect(mine.locator("summary.menu-button")).to_be_focused()
    # Another member's menu offers the profile change.
    ann = admin.locator('tr[data-email="ann@example.com"]')
    expect(open_menu(ann).get_by_role("link", name="Change profile")).to_be_visible()
    expect(mine.locator(".member-role")).to_have_text("Administrator")


def test_C6_a_csm_with_accounts_is_disabled_after_their_accounts_are_transferred(admin: Page, site: Site, tmp_path: Path) -> None:
    team_page(admin, site, "customersuccessbox")
    ann = admin.locator('tr[data-email="ann@example.com"]')
    expect(ann.locator(".assigned-count")).to_have_text("1")
    open_menu(ann).get_by_role("button", name="Disable").click()
    dialog = admin.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#confirm-text")).to_contain_text("Ann Archer can no longer sign in")
    dialog.get_by_role("button", name="Disable Ann Archer").click()
    c6 = admin.locator('#refusal li.violation[data-rule="C6"]')
    expect(c6.locator(".message")).to_contain_text("is assigned 1 account.")
    expect(c6.locator(".fix")).to_contain_text("Transfer their accounts to another member first.")
    screenshot(admin, "team-refusal", tmp_path)

    ann = admin.locator('tr[data-email="ann@example.com"]')
    open_menu(ann).get_by_role("link", name="Transfer accounts").click()
    box = admin.locator("#dialog")
    expect(box).to_be_visible()
    expect(box.locator("#transfer-what")).to_have_text("1 account of Ann Archer goes to the member you choose.")
    box.get_by_label("Transfer to").select_option(label="Bob Baker")
    box.get_by_role("button", name="Transfer").click()
    expect(admin.locator(".flash")).to_have_text("Transferred 1 account to Bob Baker.")
    expect(admin.locator('tr[data-email="bob@example.com"] .assigned-count')).to_have_text("2")

    open_menu(admin.locator('tr[data-email="ann@example.com"]')).get_by_role("button", name="Disable").click()
    # Cancel first: nothing happens.
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(admin.locator('tr[data-email="ann@example.com"]')).to_have_attribute("data-status", "active")
    open_menu(admin.locator('tr[data-email="ann@example.com"]')).get_by_role("button", name="Disable").click()
    dialog.get_by_role("button", name="Disable Ann Archer").click()
    expect(admin.locator(".flash")).to_have_text("Ann Archer is disabled; their seat is free.")
    expect(admin.locator('tr[data-email="ann@example.com"]')).to_have_attribute("data-status", "disabled")


def test_C8_forgotten_password_from_the_login_page(page: Page, site: Site, mail: SmtpServer) -> None:
    page.goto(site.url("/login"))
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("nina@example.com")
    page.get_by_role("button", name="Email me a link").click()
    expect(page.locator("#reset-sent")).to_contain_text("If an account exists for this email")
    [email] = mail.inbox.wait_for("nina@example.com")
    match = re.search(r"http://\S+/password-reset/\S+", text_of(email))
    assert match
    page.goto(match.group(0))
    page.get_by_label("New password", exact=True).fill("nina's fresh password")
    page.get_by_label("New password again").fill("nina's fresh password")
    page.get_by_role("button", name="Set the password").click()
    expect(page.locator(".flash")).to_contain_text("every session has ended")
    log_in(page, site, "nina@example.com", "nina's fresh password")
    expect(page.locator(".role-name")).to_have_text("CSM")
