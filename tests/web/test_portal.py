"""The embeddable portal (issue 15, item 9): a SaaS backend gets a single-use link
that opens the admin pages as one member of one workspace; the organization's frame
origins become `frame-ancestors`; its brand themes the pages; the pages tell the
host what happened. Tenant boundaries: two organizations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal

from rolegate.asgi import create_app
from rolegate.domain.workspace import Actor
from rolegate.services.api_keys import create_api_key
from rolegate.services.portal import create_portal_link, open_portal_link
from rolegate.services.workspaces import create_workspace
from rolegate.store.repositories import utcnow
from tests.web.conftest import Web, one, soup
from tests.web.demo import ADMIN_EMAIL, Demo

HOST = "https://app.example.com"
BASE = "https://rolegate.test"


@pytest.fixture
def web(demo: Demo) -> Iterator[Web]:
    """Over https: a portal cookie is Secure (SameSite=None), and httpx, unlike a
    browser on localhost, sends a Secure cookie over https only."""
    app = create_app(demo.rolegate)
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
        try:
            yield Web(portal, client)
        finally:
            portal.call(client.aclose)


class Backend:
    """The SaaS backend: the API with its organization's admin key."""

    def __init__(self, web: Web, key: str) -> None:
        self.web = web
        self.key = key

    def call(self, method: str, url: str, body: Any = None, actor: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        if actor is not None:
            headers["Rolegate-Actor"] = actor
        content = json.dumps(body).encode() if body is not None else None
        return self.web.portal.call(lambda: self.web.client.request(method, url, content=content, headers=headers))

    def settings(self, org: str, origins: list[str], **brand: str) -> httpx.Response:
        return self.call("PUT", f"/v1/organizations/{org}/portal", {"frame_origins": origins, "brand": brand})

    def link(self, ws: str, actor: str, **body: str) -> httpx.Response:
        return self.call("POST", f"/v1/workspaces/{ws}/portal-sessions", body, actor=actor)


def _org(demo: Demo, preset: str = "telephony") -> str:
    with demo.rolegate.uow() as uow:
        ws = uow.workspaces.get(demo.ws(preset))
        assert ws is not None
        return ws.organization_id


@pytest.fixture
def backend(web: Web, demo: Demo) -> Backend:
    key = create_api_key(demo.rolegate.uow(), organization_id=_org(demo), rights=["admin"], name="saas")
    b = Backend(web, key)
    assert b.settings(_org(demo), [HOST], color="#0B7285", font="Inter, sans-serif").status_code == 200
    return b


def _open(web: Web, demo: Demo, backend: Backend, **body: str) -> str:
    """Open a portal link of the telephony workspace's admin in `web`; returns the workspace id."""
    preset = "telephony"
    ws = demo.ws(preset)
    r = backend.link(ws, demo.member(preset, ADMIN_EMAIL), **body)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["url"].endswith(out["path"])
    assert out["path"].startswith("/portal/")
    entered = web.get(out["path"])
    assert entered.status_code == 303
    assert entered.headers["location"] == f"/w/{ws}/"
    return ws


def test_a_link_opens_the_pages_as_the_member_without_a_login(web: Web, demo: Demo, backend: Backend) -> None:
    ws = demo.ws("telephony")
    r = backend.link(ws, demo.member("telephony", ADMIN_EMAIL), page="team", parent_origin=HOST)
    assert r.status_code == 201, r.text
    entered = web.get(r.json()["path"])
    assert entered.status_code == 303
    assert entered.headers["location"] == f"/w/{ws}/team"
    cookie = entered.headers["set-cookie"].lower()
    # Framed cross-site, only a SameSite=None (so Secure) cookie is sent; Partitioned keeps it in the host's jar.
    assert "samesite=none" in cookie
    assert "secure" in cookie
    assert "partitioned" in cookie
    assert "httponly" in cookie
    page = web.get(f"/w/{ws}/team")
    assert page.status_code == 200
    doc = soup(page)
    assert one(doc, "h1").get_text(strip=True)
    # The host's origin may frame the page; nobody else may.
    csp = page.headers["content-security-policy"]
    assert f"frame-ancestors {HOST};" in csp
    assert "x-frame-options" not in page.headers
    # No way out of the workspace from the page: no switcher, no account, no logout.
    assert doc.select("#switch-to") == []
    assert doc.select('form[action="/logout"]') == []
    assert one(doc, "body")["data-portal-origin"] == HOST


def test_a_link_works_once(web: Web, demo: Demo, backend: Backend) -> None:
    r = backend.link(demo.ws("telephony"), demo.member("telephony", ADMIN_EMAIL))
    path = r.json()["path"]
    assert web.get(path).status_code == 303
    again = web.get(path)
    assert again.status_code == 410
    assert "not valid" in again.text
    assert web.get("/portal/not-a-token").status_code == 410


def test_a_link_expires_after_five_minutes(demo: Demo) -> None:
    rg = demo.rolegate
    ws = demo.ws("telephony")
    made = utcnow() - timedelta(minutes=5, seconds=1)
    link = create_portal_link(rg.uow(), actor=Actor.member(demo.member("telephony", ADMIN_EMAIL)), workspace_id=ws, now=made)
    from rolegate.domain.errors import TokenInvalidError

    with pytest.raises(TokenInvalidError):
        open_portal_link(rg.uow(), token=link.token, policy=rg.session_policy)
    fresh = create_portal_link(rg.uow(), actor=Actor.member(demo.member("telephony", ADMIN_EMAIL)), workspace_id=ws)
    assert open_portal_link(rg.uow(), token=fresh.token, policy=rg.session_policy).workspace_id == ws


def test_a_portal_session_reaches_its_workspace_only(web: Web, demo: Demo, backend: Backend) -> None:
    """The admin is a member of all five demo workspaces: a portal session of one
    reaches none of the others, nor the account pages, nor the workspace list."""
    ws = _open(web, demo, backend)
    assert web.get(f"/w/{ws}/team").status_code == 200
    for preset in ("natero", "customersuccessbox", "catalyst", "email_marketing"):
        assert web.get(f"/w/{demo.ws(preset)}/team").status_code == 404
        assert web.get(f"/w/{demo.ws(preset)}/").status_code == 404
    for path in ("/workspaces", "/account/email", "/switch?to=" + demo.ws("natero"), "/login"):
        assert web.get(path).status_code == 404, path
    # A plain Rolegate login in another browser is not bound.
    other = Web(web.portal, httpx.AsyncClient(transport=web.client._transport, base_url=BASE))
    other.login()
    assert other.get(f"/w/{demo.ws('natero')}/team").status_code == 200
    assert other.get(f"/w/{ws}/team").headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in other.get(f"/w/{ws}/team").headers["content-security-policy"]
    web.portal.call(other.client.aclose)


def test_a_portal_session_of_a_site_administrator_acts_as_the_member(web: Web, demo: Demo, backend: Backend) -> None:
    """A site administrator holds every admin right (E1); through the portal the user
    is only the member the link named."""
    ws = _open(web, demo, backend)
    doc = soup(web.get(f"/w/{ws}/team"))
    assert "Site administrator" not in one(doc, ".role-name").get_text()


def test_the_brand_themes_portal_pages_only(web: Web, demo: Demo, backend: Backend) -> None:
    ws = _open(web, demo, backend)
    doc = soup(web.get(f"/w/{ws}/team"))
    assert one(doc, f'link[href^="/w/{ws}/brand.css"]')
    css = web.get(f"/w/{ws}/brand.css")
    assert css.headers["content-type"].startswith("text/css")
    assert "--accent: #0b7285;" in css.text
    assert "--font: Inter, sans-serif;" in css.text


def test_a_plain_login_gets_no_brand(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    assert soup(admin.get(f"/w/{ws}/team")).select('link[href*="brand.css"]') == []
    assert admin.get(f"/w/{ws}/brand.css").text == ""


def test_the_logo_is_allowed_by_the_page_policy(web: Web, demo: Demo, backend: Backend) -> None:
    assert backend.settings(_org(demo), [HOST], logo_url="https://cdn.example.com/logo.svg").status_code == 200
    ws = _open(web, demo, backend)
    page = web.get(f"/w/{ws}/team")
    assert one(soup(page), "img.brand-logo")["src"] == "https://cdn.example.com/logo.svg"
    assert "img-src 'self' data: https://cdn.example.com;" in page.headers["content-security-policy"]


def test_the_host_page_hears_of_an_invitation(web: Web, demo: Demo, backend: Backend) -> None:
    ws = _open(web, demo, backend, parent_origin=HOST)
    doc = soup(web.get(f"/w/{ws}/team"))
    role = str(doc.select("#invite-role option")[-1]["value"])
    r = web.post(f"/w/{ws}/team/invite", {"email": "zoe@example.com", "name": "Zoe Zhang", "role": role})
    assert r.status_code == 303
    body = one(soup(web.get(f"/w/{ws}/team")), "body")
    assert body["data-portal-origin"] == HOST
    event = json.loads(str(body["data-portal-event"]))
    assert event["source"] == "rolegate"
    assert event["type"] == "member.invited"
    assert event["email"] == "zoe@example.com"
    assert event["name"] == "Zoe Zhang"
    assert event["workspace_id"] == ws
    # Once: the next page has no event.
    assert not one(soup(web.get(f"/w/{ws}/team")), "body").has_attr("data-portal-event")


def test_no_message_without_a_named_host(web: Web, demo: Demo, backend: Backend) -> None:
    ws = _open(web, demo, backend)
    doc = soup(web.get(f"/w/{ws}/team"))
    role = str(doc.select("#invite-role option")[-1]["value"])
    web.post(f"/w/{ws}/team/invite", {"email": "yan@example.com", "role": role})
    body = one(soup(web.get(f"/w/{ws}/team")), "body")
    assert not body.has_attr("data-portal-event")
    assert not body.has_attr("data-portal-origin")


def test_the_host_origin_must_be_allowed(web: Web, demo: Demo, backend: Backend) -> None:
    ws = demo.ws("telephony")
    me = demo.member("telephony", ADMIN_EMAIL)
    r = backend.link(ws, me, parent_origin="https://evil.example.net")
    assert r.status_code == 422
    assert "may not frame" in r.json()["detail"]
    assert backend.link(ws, me, page="nowhere").status_code == 422
    for bad in ("*", "https://app.example.com/path", "javascript:alert(1)", "https://*.example.com"):
        assert backend.settings(_org(demo), [bad]).status_code == 422, bad
    assert backend.settings(_org(demo), [HOST], color="red").status_code == 422
    assert backend.settings(_org(demo), [HOST], font="x; } body { display:none").status_code == 422
    assert backend.settings(_org(demo), [HOST], logo_url="http://insecure.example.com/l.png").status_code == 422
    got = backend.call("GET", f"/v1/organizations/{_org(demo)}/portal")
    assert got.json() == {
        "organization_id": _org(demo),
        "frame_origins": [HOST],
        "brand": {"color": "#0b7285", "logo_url": None, "font": "Inter, sans-serif"},
    }


def test_only_an_active_member_of_the_workspace_gets_a_link(web: Web, demo: Demo, backend: Backend) -> None:
    ws = demo.ws("telephony")
    # A member of another workspace of the same organization is no member here.
    assert backend.link(ws, demo.member("natero", ADMIN_EMAIL)).status_code == 403
    # An invited member has not joined yet.
    admin = Web(web.portal, web.client)
    admin.login()
    doc = soup(admin.get(f"/w/{ws}/team"))
    role = str(doc.select("#invite-role option")[-1]["value"])
    admin.post(f"/w/{ws}/team/invite", {"email": "ivy@example.com", "role": role})
    invited = demo.member("telephony", "ivy@example.com")
    r = backend.link(ws, invited)
    assert r.status_code == 403
    assert "has not joined" in r.json()["detail"]
    # Without an acting member, or with a decide key only: refused.
    assert backend.call("POST", f"/v1/workspaces/{ws}/portal-sessions", {}).status_code == 422
    decide = create_api_key(demo.rolegate.uow(), organization_id=_org(demo), rights=["decide"], name="d")
    assert Backend(web, decide).link(ws, demo.member("telephony", ADMIN_EMAIL)).status_code == 403


def test_another_organization_reaches_nothing(web: Web, demo: Demo, backend: Backend) -> None:
    rg = demo.rolegate
    other = create_workspace(
        rg.uow(), actor=Actor.system("test"), preset="telephony", name="Rival", owner_email="rita@rival.example", owner_password="rita-rival-pw"
    )
    rival_org = other.workspace.organization_id
    rival = Backend(web, create_api_key(rg.uow(), organization_id=rival_org, rights=["admin"], name="rival"))
    ws = demo.ws("telephony")
    me = demo.member("telephony", ADMIN_EMAIL)
    # The rival's key: our workspace and our organization do not exist for it.
    assert rival.link(ws, me).status_code == 404
    assert rival.settings(_org(demo), ["https://rival.example"]).status_code == 404
    assert rival.call("GET", f"/v1/organizations/{_org(demo)}/portal").status_code == 404
    # Our key: the rival's workspace does not exist for it either.
    rita = other.owner.member.id
    assert backend.link(other.workspace.id, rita).status_code == 404
    # The rival's own portal session reaches its workspace only, and it is framed by its own origins.
    assert rival.settings(rival_org, ["https://rival.example"]).status_code == 200
    r = rival.link(other.workspace.id, rita)
    assert web.get(r.json()["path"]).status_code == 303
    page = web.get(f"/w/{other.workspace.id}/team")
    assert page.status_code == 200
    assert "frame-ancestors https://rival.example;" in page.headers["content-security-policy"]
    assert web.get(f"/w/{ws}/").status_code == 404
    assert web.get(f"/w/{ws}/brand.css").status_code == 404


def test_a_member_without_an_admin_right_gets_no_link(web: Web, demo: Demo, backend: Backend) -> None:
    """The portal is the admin pages: Natero's CSM holds no admin right (N12)."""
    from tests.web.demo import CSM_EMAIL

    r = backend.link(demo.ws("natero"), demo.member("natero", CSM_EMAIL))
    assert r.status_code == 403
    assert r.json()["code"] == "permission_denied"


def _event(web: Web, url: str) -> dict[str, str]:
    body = one(soup(web.get(url)), "body")
    assert body["data-portal-origin"] == HOST
    event: dict[str, str] = json.loads(str(body["data-portal-event"]))
    return event


def test_the_host_page_hears_of_a_disabled_member_and_a_saved_role(web: Web, demo: Demo, backend: Backend) -> None:
    ws = _open(web, demo, backend, parent_origin=HOST)
    bob = demo.member("telephony", "bob@example.com")
    web.get(f"/w/{ws}/team")  # the page's CSRF token
    assert web.post(f"/w/{ws}/team/{bob}/disable").status_code == 303
    event = _event(web, f"/w/{ws}/team")
    assert event["type"] == "member.disabled"
    assert event["member_id"] == bob
    assert event["email"] == "bob@example.com"
    r = web.post(f"/w/{ws}/roles", {"name": "Night shift", "description": "Covers nights", "level": "administrator", "grants": "reports.manage"})
    assert r.status_code == 303, r.text
    event = _event(web, f"/w/{ws}/roles")
    assert event["type"] == "role.saved"
    assert event["role_name"] == "Night shift"


def test_a_portal_error_page_may_be_framed_by_the_host(web: Web, demo: Demo, backend: Backend) -> None:
    """A 404 for a path outside the portal's workspace (another workspace, an account
    page) is the portal's own page: the host may frame it, so the member reads it in
    the frame instead of a blocked frame, with a way back to the workspace."""
    ws = _open(web, demo, backend)
    for path in (f"/w/{demo.ws('natero')}/team", "/account/email", "/workspaces", f"/w/{ws}/no-such-page"):
        r = web.get(path)
        assert r.status_code == 404, path
        assert f"frame-ancestors {HOST};" in r.headers["content-security-policy"], path
        assert "x-frame-options" not in r.headers, path
        doc = soup(r)
        assert one(doc, ".error-page a[href='/w/" + ws + "/']").get_text(strip=True).startswith("Back to"), path
        assert doc.select('a[href="/"]') == [], path  # the workspace list is not the portal's


def test_an_error_page_outside_a_portal_session_may_not_be_framed(web: Web, demo: Demo) -> None:
    r = web.get("/w/not-a-workspace/team")
    assert r.status_code in (303, 404)
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"


def test_a_portal_refusal_page_may_be_framed_by_the_host(web: Web, demo: Demo, backend: Backend) -> None:
    """A form the page did not send (no CSRF token) is refused inside the frame, where the member reads why."""
    ws = _open(web, demo, backend)
    bob = demo.member("telephony", "bob@example.com")
    r = web.portal.call(lambda: web.client.post(f"/w/{ws}/team/{bob}/disable", data={}))
    assert r.status_code == 403
    assert f"frame-ancestors {HOST};" in r.headers["content-security-policy"]
    assert "x-frame-options" not in r.headers
