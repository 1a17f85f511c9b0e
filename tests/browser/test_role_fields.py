"""The Field permissions tab in a real browser (Chromium): a capped synced field cannot
get write (K9), a default field's read box is locked (K7), a new field shows up
unticked for a Standard custom role (K8), and write ticks read (K11)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from rolegate.domain.schema import FieldAccess
from rolegate.domain.workspace import Actor
from rolegate.services.fields import add_field
from rolegate.services.roles import create_role
from tests.browser.conftest import Site

PLATFORM = Actor.system("browser test")


def custom(site: Site, name: str, level: str, field_access: dict[str, dict[str, str]] | None = None) -> str:
    ws = site.demo.ws("catalyst")
    return create_role(site.demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, name=name, level=level, field_access=field_access).id


def box(page: Page, kind: str, key: str) -> str:
    return f'#fields-form input[name="{kind}:{key}"]'


def test_K9_a_capped_synced_field_cannot_get_write(admin: Page, site: Site) -> None:
    role = custom(site, "Deals", "high")
    admin.goto(site.ws("catalyst", f"/roles/{role}"))
    admin.get_by_role("link", name="Field permissions").click()
    write = admin.locator(box(admin, "write", "account.contract_value"))
    expect(write).to_be_disabled()
    expect(write).not_to_be_checked()
    expect(write).to_have_attribute("data-rule", "K9")
    expect(admin.locator('tr[data-field="account.contract_value"]')).to_contain_text("integration user can only read it")
    # A synced field the integration user writes stays grantable.
    expect(admin.locator(box(admin, "write", "account.arr"))).to_be_enabled()


def test_K7_a_default_fields_read_box_is_locked(admin: Page, site: Site) -> None:
    role = custom(site, "Analyst", "standard")
    admin.goto(site.ws("catalyst", f"/roles/{role}/fields"))
    read = admin.locator(box(admin, "read", "account.name"))
    expect(read).to_be_checked()
    expect(read).to_be_disabled()
    expect(read).to_have_attribute("data-rule", "K7")
    write = admin.locator(box(admin, "write", "account.name"))
    expect(write).to_be_enabled()
    write.check()
    admin.get_by_role("button", name="Save field permissions").click()
    expect(admin.locator(box(admin, "write", "account.name"))).to_be_checked()
    with site.demo.rolegate.uow() as uow:
        saved = uow.roles.get(site.demo.ws("catalyst"), role)
    assert saved is not None
    assert saved.field_access[("account", "name")] is FieldAccess.WRITE


def test_K8_a_new_field_shows_up_unticked_for_a_standard_custom_role(admin: Page, site: Site) -> None:
    ws = site.demo.ws("catalyst")
    role = custom(site, "CSM", "standard", {"account": {"health_notes": "write"}})
    add_field(site.demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, object_type="account", name="nps", label="NPS")
    admin.goto(site.ws("catalyst", f"/roles/{role}/fields"))
    notice = admin.locator("#new-fields-notice")
    expect(notice).to_contain_text("not configured for this role")
    expect(notice).not_to_contain_text("K8")  # issue 15: the rule behind "Why?"
    why = admin.locator("#new-fields-notice + details.why")
    why.get_by_text("Why?").click()
    expect(why.locator(".rule")).to_have_text("K8")
    row = admin.locator('tr[data-field="account.nps"]')
    expect(row).to_contain_text("new")
    expect(admin.locator(box(admin, "read", "account.nps"))).not_to_be_checked()
    expect(admin.locator(box(admin, "write", "account.nps"))).not_to_be_checked()
    expect(admin.locator(box(admin, "write", "account.health_notes"))).to_be_checked()


def test_K11_ticking_write_ticks_read_and_unticking_read_unticks_write(admin: Page, site: Site) -> None:
    role = custom(site, "CSM", "standard")
    admin.goto(site.ws("catalyst", f"/roles/{role}/fields"))
    read, write = admin.locator(box(admin, "read", "contact.notes")), admin.locator(box(admin, "write", "contact.notes"))
    write.check()
    expect(read).to_be_checked()
    read.uncheck()
    expect(write).not_to_be_checked()
    admin.locator("#bulk-read-contact").click()
    expect(admin.locator(box(admin, "read", "contact.title"))).to_be_checked()
    expect(admin.locator(box(admin, "read", "contact.notes"))).to_be_checked()
