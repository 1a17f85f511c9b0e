"""The embeddable portal in a real browser (issue 15, item 9): a host page served on
another loopback origin (127.0.0.2, a different site from 127.0.0.1) frames the
portal, the member invites someone inside the frame, and the host page receives the
page's message. The frame is refused to an origin the organization did not list."""

from __future__ import annotations

import http.server
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Page, expect

from rolegate.services.api_keys import create_api_key
from tests.browser.conftest import Site, _free_port
from tests.web.demo import ADMIN_EMAIL

HOST_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Acme settings</title></head>
<body>
<h1>Acme: your team</h1>
<iframe id="portal" title="Team administration" src="{src}" width="1200" height="800"></iframe>
<ol id="messages"></ol>
<script>
  window.addEventListener("message", function (ev) {{
    if (ev.origin !== "{rolegate}") return;
    var li = document.createElement("li");
    li.textContent = JSON.stringify(ev.data);
    document.getElementById("messages").appendChild(li);
  }});
</script>
</body></html>
"""


@dataclass
class Host:
    origin: str
    pages: dict[str, str]

    def url(self, path: str) -> str:
        return self.origin + path


@pytest.fixture
def host() -> Iterator[Host]:
    """The SaaS's own pages, on 127.0.0.2: another site than Rolegate's 127.0.0.1."""
    pages: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.2", _free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Host(f"http://127.0.0.2:{server.server_address[1]}", pages)
    finally:
        server.shutdown()
        server.server_close()


def _backend(site: Site, host: Host, *, allow: list[str], page: str = "team") -> str:
    """What the SaaS backend does: set its frame origins, ask for a link; returns the link."""
    demo = site.demo
    ws = demo.ws("telephony")
    with demo.rolegate.uow() as uow:
        found = uow.workspaces.get(ws)
        assert found is not None
        org = found.organization_id
    key = create_api_key(demo.rolegate.uow(), organization_id=org, rights=["admin"], name="acme backend")
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=site.base, headers=headers) as api:
        r = api.put(f"/v1/organizations/{org}/portal", json={"frame_origins": allow, "brand": {"color": "#0b7285"}})
        assert r.status_code == 200, r.text
        body = {"page": page, "parent_origin": host.origin} if host.origin in allow else {"page": page}
        r = api.post(
            f"/v1/workspaces/{ws}/portal-sessions", json=body, headers={"Rolegate-Actor": demo.member("telephony", ADMIN_EMAIL)}
        )
        assert r.status_code == 201, r.text
        return site.url(r.json()["path"])


def test_a_host_page_frames_the_portal_and_hears_of_an_invitation(page: Page, site: Site, host: Host) -> None:
    link = _backend(site, host, allow=[host.origin])
    host.pages["/settings/team"] = HOST_PAGE.format(src=link, rolegate=site.base)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(host.url("/settings/team"))

    frame = page.frame_locator("#portal")
    expect(frame.get_by_role("heading", name="Invite a member")).to_be_visible()
    # The brand themes the framed pages.
    topbar = frame.locator(".topbar")
    expect(topbar).to_have_css("background-color", "rgb(11, 114, 133)")
    frame.get_by_label("Email").fill("zoe@example.com")
    frame.get_by_label("Name", exact=True).fill("Zoe Zhang")
    frame.get_by_role("button", name="Send invitation", exact=True).click()
    expect(frame.locator(".flash")).to_contain_text("zoe@example.com")

    message = page.locator("#messages li")
    expect(message).to_have_count(1)
    event = json.loads(message.inner_text())
    assert event["type"] == "member.invited"
    assert event["email"] == "zoe@example.com"
    assert event["name"] == "Zoe Zhang"
    assert event["workspace_id"] == site.demo.ws("telephony")
    assert errors == []


def test_an_origin_the_organization_did_not_list_cannot_frame_the_portal(page: Page, site: Site, host: Host) -> None:
    link = _backend(site, host, allow=["https://app.example.com"])
    host.pages["/evil"] = HOST_PAGE.format(src=link, rolegate=site.base)
    blocked: list[str] = []
    page.on("console", lambda m: blocked.append(m.text))
    page.goto(host.url("/evil"))
    # Chromium refuses to render the frame (frame-ancestors): it stays without the page's content.
    page.wait_for_timeout(1000)
    frame = page.frame_locator("#portal")
    expect(frame.get_by_role("heading", name="Invite a member")).to_have_count(0)
    assert any("frame-ancestors" in text for text in blocked)


def _framed(page: Page, site: Site, host: Host, *, start: str = "team") -> list[str]:
    """The host page frames the telephony admin's portal; returns the errors the browser reports."""
    link = _backend(site, host, allow=[host.origin], page=start)
    host.pages["/settings"] = HOST_PAGE.format(src=link, rolegate=site.base)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(host.url("/settings"))
    return errors


def _message(page: Page) -> dict[str, str]:
    message = page.locator("#messages li")
    expect(message).to_have_count(1)
    event: dict[str, str] = json.loads(message.inner_text())
    return event


def test_a_page_outside_the_portal_shows_its_404_inside_the_frame(page: Page, site: Site, host: Host) -> None:
    """A link to another workspace, followed inside the frame: the host page shows the
    portal's "not found" page with the way back, not a frame the browser blocked."""
    errors = _framed(page, site, host)
    frame = page.frame_locator("#portal")
    expect(frame.get_by_role("heading", name="Invite a member")).to_be_visible()
    portal = next(f for f in page.frames if f.url.startswith(site.base))
    portal.goto(site.ws("natero", "/team"))
    expect(frame.locator(".error-page h1")).to_be_visible()
    expect(frame.locator(".error-page")).to_contain_text("There is no such page")
    frame.get_by_role("link", name="Back to Telephony platform demo").click()
    expect(frame.locator(".error-page")).to_have_count(0)
    expect(frame.locator("h1")).to_be_visible()
    assert not any("frame-ancestors" in e for e in errors), errors


def test_the_host_page_hears_of_a_disabled_member(page: Page, site: Site, host: Host) -> None:
    _framed(page, site, host)
    frame = page.frame_locator("#portal")
    bob = frame.locator('tr[data-email="bob@example.com"]')
    bob.locator("summary.menu-button").click()  # the row's actions menu
    bob.get_by_role("button", name="Disable").click()
    frame.get_by_role("dialog").get_by_role("button", name=re.compile(r"^Disable ")).click()
    expect(frame.locator(".flash")).to_be_visible()
    event = _message(page)
    assert event["type"] == "member.disabled"
    assert event["email"] == "bob@example.com"
    assert event["member_id"] == site.demo.member("telephony", "bob@example.com")


def test_the_host_page_hears_of_a_saved_role(page: Page, site: Site, host: Host) -> None:
    _framed(page, site, host, start="roles")
    frame = page.frame_locator("#portal")
    frame.get_by_role("link", name="Add new role").click()
    frame.get_by_role("textbox", name="Name").fill("Night shift")
    frame.get_by_label("Description").fill("Covers the phones at night.")
    frame.get_by_role("button", name="Create role").click()
    expect(frame.locator(".flash")).to_be_visible()
    event = _message(page)
    assert event["type"] == "role.saved"
    assert event["role_name"] == "Night shift"
