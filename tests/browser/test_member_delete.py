"""Deleting a member in a real browser (N12, C6): the host names a CSM in a playbook
task; the Team page lists it, the confirmation page says to transfer first; after the
transfer the member is deleted and their row is gone."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from rolegate.domain.workspace import Actor
from rolegate.services.references import ReferenceWrite, put_references
from tests.browser.conftest import Site
from tests.browser.test_team import open_menu


def test_C6_a_csm_named_in_a_playbook_is_deleted_after_the_transfer(admin: Page, site: Site) -> None:
    ws = site.demo.ws("customersuccessbox")
    ann = site.demo.member("customersuccessbox", "ann@example.com")
    ref = ReferenceWrite("playbook-7/task-2", "playbook_task", "Onboarding playbook: kickoff call", ann)
    put_references(site.demo.rolegate.uow(), actor=Actor.system("host"), workspace_id=ws, references=[ref])
    admin.goto(site.ws("customersuccessbox", "/team"))
    row = admin.locator('tr[data-email="ann@example.com"]')
    expect(row.locator("li.reference")).to_have_text("Onboarding playbook: kickoff call")
    open_menu(row).get_by_role("link", name="Delete").click()
    dialog = admin.locator("#dialog")  # the confirmation, loaded into the page's dialog
    expect(dialog.locator("#dialog-title")).to_have_text("Delete Ann Archer?")
    expect(dialog.locator("#delete-blockers .blocker-reference")).to_have_text("Onboarding playbook: kickoff call")
    dialog.get_by_role("button", name="Delete member").click()
    expect(admin.locator('#refusal li.violation[data-rule="C6"]').first).to_be_visible()
    admin.goto(site.ws("customersuccessbox", f"/team/{ann}/delete"))  # the same confirmation as a page
    admin.get_by_label("Transfer to").select_option(label="Bob Baker")
    admin.get_by_role("button", name="Transfer").click()
    expect(admin.locator(".flash")).to_have_text("Transferred 1 account and 1 reference to Bob Baker.")
    expect(admin.locator('tr[data-email="bob@example.com"] li.reference')).to_have_text(
        "Onboarding playbook: kickoff call"
    )
    open_menu(admin.locator('tr[data-email="ann@example.com"]')).get_by_role("link", name="Delete").click()
    dialog.get_by_role("button", name="Delete member").click()
    expect(admin.locator(".flash")).to_contain_text("is deleted from this workspace")
    expect(admin.locator('tr[data-email="ann@example.com"]')).to_have_count(0)
