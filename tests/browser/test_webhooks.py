"""Webhooks in a real browser (issue 16): a site administrator opens the Webhooks page
from the navigation, registers an endpoint (its secret shown once), and reads the
recent deliveries of an endpoint a real receiver on loopback answered."""

from __future__ import annotations

import random
import re

from playwright.sync_api import Page, expect

from rolegate.domain.workspace import Actor
from rolegate.services import webhooks
from rolegate.services.webhook_delivery import DeliveryPolicy
from rolegate.services.workspaces import create_workspace
from tests.browser.conftest import Site, log_in
from tests.web.site_demo import SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD, build_site
from tests.webhooks_receiver import receiving


def test_a_site_administrator_registers_an_endpoint_and_reads_its_deliveries(page: Page, site: Site) -> None:
    rg = site.demo.rolegate
    acme = build_site(rg)
    with receiving() as receiver:
        made = webhooks.create_endpoint(rg.uow(), actor=Actor.system("test"), organization_id=acme.organization_id, url=receiver.url, allow_private=True)
        create_workspace(rg.uow(), actor=Actor.system("test"), preset="email_marketing", name="Acme Later", owner_email="later@acme-site.test", organization_id=acme.organization_id)
        with rg.webhook_sender(policy=DeliveryPolicy(allow_private=True), rng=random.Random(1)) as sender:
            sender.deliver_due()
        assert receiver.received
    log_in(page, site, SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD)
    page.goto(site.url(f"/w/{acme.a}/home"))
    page.get_by_role("link", name="Webhooks").click()
    page.wait_for_url(re.compile(rf"/w/{acme.a}/webhooks$"))
    delivered = page.locator(f"section[data-endpoint-id='{made.view.endpoint.id}'] table.deliveries tbody tr.ok")
    expect(delivered).to_have_count(len(receiver.received))  # newest first
    expect(delivered.last).to_contain_text("workspace.create")
    page.get_by_label("URL").fill("https://hooks.example.com/rolegate")
    page.get_by_label("Event types").fill("role.*")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.locator("#new-secret code.secret")).to_have_text(re.compile(r"^whsec_[A-Za-z0-9+/=]+$"))
    expect(page.locator("section.webhook")).to_have_count(2)
    expect(page.locator("section.webhook").last).to_contain_text("Event types: role.*")
