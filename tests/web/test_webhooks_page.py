"""The admin UI's Webhooks page (issue 16), without JavaScript: a site administrator
lists the organization's endpoints and their recent deliveries, adds one (its secret
shown once, on the page), rotates its secret, disables and deletes it; anyone else is
told the page does not exist."""

from __future__ import annotations

import random

from rolegate.domain.workspace import Actor
from rolegate.services import webhooks
from rolegate.services.webhook_delivery import DeliveryPolicy
from rolegate.services.workspaces import create_workspace
from tests.web.conftest import Web, one, soup
from tests.web.demo import Demo
from tests.web.site_demo import ACCT_EMAIL, ACCT_PASSWORD, SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD, build_site
from tests.webhooks_receiver import receiving

PLATFORM = Actor.system("test")


def test_a_site_administrator_manages_endpoints_and_sees_deliveries(web: Web, demo: Demo) -> None:
    acme = build_site(demo.rolegate)
    web.login(SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD)
    page = soup(web.get(f"/w/{acme.a}/webhooks"))
    assert "Webhooks" in [a.get_text() for a in page.select("nav.mainnav a")]
    assert one(page, "#no-webhooks")
    r = web.post(f"/w/{acme.a}/webhooks", {"url": "https://hooks.example.com/rolegate", "event_types": "role.*, member.add", "description": "CRM sync"})
    assert r.status_code == 201, r.text
    made = soup(r)
    secret = one(made, "#new-secret code.secret").get_text()
    assert secret.startswith("whsec_")
    card = one(made, "section.webhook")
    assert "role.*, member.add" in card.get_text()
    endpoint = str(card["data-endpoint-id"])
    # The secret is on that page only: not on the next one, not in the cookie.
    again = web.get(f"/w/{acme.b}/webhooks")  # the organization's endpoints, from any of its workspaces
    assert secret not in again.text
    assert endpoint in again.text
    assert all(secret not in c for c in web.client.cookies.values())
    rotated = soup(web.post(f"/w/{acme.a}/webhooks/{endpoint}/rotate"))
    new = one(rotated, "#new-secret code.secret").get_text()
    assert new != secret
    assert "24 hours" in one(rotated, "#new-secret").get_text()
    assert web.post(f"/w/{acme.a}/webhooks/{endpoint}/disable").status_code == 303
    assert one(soup(web.get(f"/w/{acme.a}/webhooks")), "section.webhook .badge").get_text() == "disabled"
    assert web.post(f"/w/{acme.a}/webhooks/{endpoint}/delete").status_code == 303
    assert one(soup(web.get(f"/w/{acme.a}/webhooks")), "#no-webhooks")


def test_recent_deliveries_are_listed_with_their_result(web: Web, demo: Demo) -> None:
    acme = build_site(demo.rolegate)
    rg = demo.rolegate
    with receiving() as receiver:
        made = webhooks.create_endpoint(rg.uow(), actor=PLATFORM, organization_id=acme.organization_id, url=receiver.url, allow_private=True)
        create_workspace(rg.uow(), actor=PLATFORM, preset="email_marketing", name="Acme Later", owner_email="later@acme-site.test", organization_id=acme.organization_id)
        receiver.fail_next = 1
        with rg.webhook_sender(policy=DeliveryPolicy(allow_private=True), rng=random.Random(1)) as sender:
            sender.deliver_due()
    web.login(SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD)
    rows = soup(web.get(f"/w/{acme.a}/webhooks")).select(f"section[data-endpoint-id='{made.view.endpoint.id}'] table.deliveries tbody tr")
    assert [(r["class"], r.select("td")[1].get_text(), r.select("td")[5].get_text()) for r in rows] == [(["failed"], "workspace.create", "HTTP 500")]


def test_the_page_does_not_exist_for_anyone_but_site_administrators(web: Web, demo: Demo) -> None:
    acme = build_site(demo.rolegate)
    web.login(ACCT_EMAIL, ACCT_PASSWORD)  # an account administrator of A, not of the site
    assert "Webhooks" not in [a.get_text() for a in soup(web.get(f"/w/{acme.a}/home")).select("nav.mainnav a")]
    assert web.get(f"/w/{acme.a}/webhooks").status_code == 404
    assert web.post(f"/w/{acme.a}/webhooks", {"url": "https://hooks.example.com/x"}).status_code == 404
    assert webhooks.list_endpoints(demo.rolegate.reader(), actor=PLATFORM, organization_id=acme.organization_id) == []


def test_a_refused_url_shows_why_and_keeps_the_form(web: Web, demo: Demo) -> None:
    acme = build_site(demo.rolegate)
    web.login(SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD)
    r = web.post(f"/w/{acme.a}/webhooks", {"url": "http://10.0.0.5/internal", "description": "nope"})
    assert r.status_code == 422
    doc = soup(r)
    assert "public address" in one(doc, "#refusal").get_text()
    assert one(doc, "#hook-description")["value"] == "nope"
