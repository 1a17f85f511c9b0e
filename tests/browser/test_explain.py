"""The Explain page in a real browser: "why can't Ann update Globex?", answered in
words, the rule behind it in the "why" disclosure, then who has access instead."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import Site


def test_why_cant_ann_update_globex_and_who_may(admin: Page, site: Site) -> None:
    admin.goto(site.ws("natero", "/"))
    admin.locator("nav.mainnav").get_by_role("link", name="Explain").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Explain a decision")
    admin.get_by_label("Member").select_option(label="Ann Archer (ann@example.com)")
    admin.get_by_label("Action").select_option("accounts.update_attributes")
    admin.get_by_label("Record type").select_option("account")
    admin.get_by_label("Record id").fill("globex")
    admin.get_by_role("button", name="Explain").click()

    answer = admin.locator("#explain-answer")
    expect(answer).to_have_attribute("data-allowed", "false")
    expect(answer.locator("#verdict")).to_contain_text("Ann Archer may not")
    expect(answer.locator("ul.reasons li").last).to_have_attribute("data-reason", "record_out_of_scope")
    rule = answer.locator("details.why .rule").last
    expect(rule).to_be_hidden()  # codes only once the reader asks why
    answer.get_by_text("Why (rules and codes)").click()
    expect(rule).to_have_text("N11")

    answer.get_by_role("link", name="Who has access to this?").click()
    expect(admin.get_by_role("heading", level=1)).to_contain_text("globex")
    holders = admin.locator("table.access-table tbody th")
    expect(holders.filter(has_text="Bob")).to_have_count(1)  # globex is his
    expect(holders.filter(has_text="Ann Archer")).to_have_count(0)
