"""Safe by default in a browser (issue 15, item 1): the invite picker starts on the
least-privileged role; ownership transfer asks in a native dialog that names the new
owner and your new role; Escape and Cancel change nothing."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Site


def test_ownership_transfer_asks_and_names_who(admin: Page, site: Site) -> None:
    errors: list[str] = []
    admin.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    admin.goto(site.ws("telephony", "/team"))
    expect(admin.locator("#invite-role option:checked")).to_have_text("Analyst")
    expect(admin.locator("#owner-role option:checked")).to_have_text("Analyst")

    form = admin.locator("#ownership-form")
    form.get_by_label("New owner").select_option(label="Bob Baker")
    form.get_by_role("button", name="Transfer ownership").click()
    dialog = admin.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#confirm-title")).to_have_text("Transfer ownership?")
    expect(dialog.locator("#confirm-text")).to_contain_text("Bob Baker becomes the owner of this workspace and you take the Analyst")
    expect(dialog.locator("#confirm-cancel")).to_be_focused()
    admin.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(admin.locator(".topbar .role-name")).to_have_text("Owner")

    form.locator("#owner-role").select_option(label="Administrator")
    form.get_by_role("button", name="Transfer ownership").click()
    expect(dialog.locator("#confirm-text")).to_contain_text("you take the Administrator")
    assert errors == []
    dialog.get_by_role("button", name="Transfer ownership").click()
    expect(admin.locator(".flash")).to_have_text("Ownership transferred.")
