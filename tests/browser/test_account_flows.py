"""Pages reached from emails, in a real browser (issue 15, item 5): the invitation
page starts with the invited name, accepting signs the new member in (T4), and a
used reset link is refused on a page with the way to a new link and no form (C8)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from rolegate.domain.workspace import Actor
from rolegate.services.invitations import invite
from rolegate.services.password_reset import request_password_reset
from tests.browser.conftest import Site
from tests.web.demo import ADMIN_EMAIL, CSM_EMAIL


def test_T4_the_invitation_page_is_prefilled_and_accepting_signs_in(page: Page, site: Site) -> None:
    demo = site.demo
    sent = invite(
        demo.rolegate.uow(),
        actor=Actor.member(demo.member("telephony", ADMIN_EMAIL)),
        workspace_id=demo.ws("telephony"),
        email="grace.hopper@example.com",
        role_id="analyst",
        name="Grace Hopper",
        policy=demo.rolegate.mail_policy,
    )
    page.goto(site.url(f"/invitations/{sent.token}"))
    name = page.get_by_label("Your name")
    expect(name).to_have_value("Grace Hopper")
    name.fill("Grace B. Hopper")  # the person may correct it
    page.get_by_label("Choose a password").fill("grace's password")
    page.get_by_label("Password again").fill("grace's password")
    page.get_by_role("button", name="Accept the invitation").click()
    expect(page).to_have_url(re.compile(re.escape(site.ws("telephony")) + r"/"))
    expect(page.locator(".flash")).to_have_text("Welcome to Telephony platform demo.")
    expect(page.locator(".account .who")).to_contain_text("Grace B. Hopper")
    expect(page.locator(".role-name")).to_have_text("Analyst")
    # The link worked once: opened again, it says so, without the form.
    page.goto(site.url(f"/invitations/{sent.token}"))
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    expect(page.locator("main form")).to_have_count(0)


def test_C8_a_used_reset_link_shows_the_refusal_page_without_a_form(page: Page, site: Site) -> None:
    token = request_password_reset(site.demo.rolegate.uow(), email=CSM_EMAIL, policy=site.demo.rolegate.mail_policy)
    assert token is not None
    page.goto(site.url(f"/password-reset/{token}"))
    page.get_by_label("New password", exact=True).fill("nina's fresh password")
    page.get_by_label("New password again").fill("nina's fresh password")
    page.get_by_role("button", name="Set the password").click()
    expect(page.locator(".flash")).to_contain_text("every session has ended")
    page.goto(site.url(f"/password-reset/{token}"))
    expect(page.get_by_role("heading", level=1)).to_have_text("This link no longer works")
    expect(page.locator("main")).to_contain_text("already used")
    expect(page.locator("main form")).to_have_count(0)
    expect(page.locator("main input")).to_have_count(0)
    page.get_by_role("link", name="Ask for a new link").click()
    expect(page.get_by_role("button", name="Email me a link")).to_be_visible()
