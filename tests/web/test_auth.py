"""Login, sessions, CSRF, the workspace switcher, landing pages (N4), navigation by
rights (N12, T10) and the error pages."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

import httpx
import pytest
from anyio.from_thread import start_blocking_portal

from rolegate.asgi import create_app
from rolegate.bootstrap import bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.services.workspaces import create_workspace
from tests.web.conftest import Web, one, soup
from tests.web.demo import CSM_EMAIL, CSM_PASSWORD, Demo


def test_login_page_has_a_csrf_protected_form(web: Web) -> None:
    r = web.get("/login")
    assert r.status_code == 200
    doc = soup(r)
    assert doc.html is not None
    assert doc.html["lang"] == "en"
    form = one(doc, "form[action='/login']")
    assert form["method"] == "post"
    assert one(form, "input[name=csrf_token]")["value"]
    assert one(form, "input#email")["type"] == "email"
    assert one(form, "input#password")["autocomplete"] == "current-password"
    assert one(doc, "label[for=email]").get_text() == "Email"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie


def test_login_page_as_htmx_fragment(web: Web) -> None:
    doc = soup(web.get("/login", htmx=True))
    assert doc.html is None
    assert doc.select("header, nav") == []
    assert one(doc, "form[action='/login']")
    assert one(doc, "h1").get_text() == "Log in"


def test_wrong_password_is_refused_and_keeps_the_email(web: Web) -> None:
    web.get("/login")
    r = web.post("/login", {"email": "admin@example.com", "password": "nope"})
    assert r.status_code == 401
    doc = soup(r)
    assert one(doc, "#login-error").get_text() == "Wrong email or password."
    assert one(doc, "input#email")["value"] == "admin@example.com"
    r = web.post("/login", {"email": "nobody@example.com", "password": "nope"})
    assert r.status_code == 401


def test_login_without_the_csrf_token_is_refused(web: Web) -> None:
    web.get("/login")
    r = web.post("/login", {"email": "admin@example.com", "password": "rolegate-demo"}, csrf=False)
    assert r.status_code == 403
    doc = soup(r)
    assert one(doc, "[data-problem]")["data-problem"] == "csrf_failed"
    r = web.post("/login", {"email": "admin@example.com", "password": "rolegate-demo", "csrf_token": "forged"}, csrf=False)
    assert r.status_code == 403


def test_login_replaces_the_csrf_token(web: Web) -> None:
    web.get("/login")
    before = web.csrf
    web.login()
    web.get("/workspaces")
    assert web.csrf
    assert web.csrf != before


def test_several_memberships_land_on_the_workspace_list(web: Web, demo: Demo) -> None:
    r = web.login()
    assert r.headers["location"] == "/"
    r = web.get("/")
    assert r.status_code == 303
    assert r.headers["location"] == "/workspaces"
    doc = soup(web.get("/workspaces"))
    links = [a["href"] for a in doc.select(".workspace-list a")]
    assert links == [f"/w/{demo.ws(p)}/" for p in ("natero", "customersuccessbox", "catalyst", "email_marketing", "telephony")]
    fragment = soup(web.get("/workspaces", htmx=True))
    assert fragment.html is None
    assert len(fragment.select(".workspace-list li")) == 5


def test_N4_a_member_lands_on_the_landing_page_of_their_role(web: Web, demo: Demo) -> None:
    web.login(CSM_EMAIL, CSM_PASSWORD)
    natero = demo.ws("natero")
    r = web.get("/")
    assert r.headers["location"] == f"/w/{natero}/"  # one workspace: straight into it
    r = web.get(f"/w/{natero}/")
    assert r.headers["location"] == f"/w/{natero}/pages/my_accounts"  # the CSM role's landing page
    doc = soup(web.get(f"/w/{natero}/pages/my_accounts"))
    assert one(doc, "main h1").get_text() == "My accounts"
    # lookup: a CSM sees the accounts assigned to her, not acme (Ann's) nor initech (no one's)
    assert [td.get_text() for td in doc.select("main table tbody tr td:first-child")] == ["umbrella"]


def test_N4_the_administrator_lands_on_all_accounts(admin: Web, demo: Demo) -> None:
    natero = demo.ws("natero")
    r = admin.get(f"/w/{natero}/")
    assert r.headers["location"] == f"/w/{natero}/pages/all_accounts"
    doc = soup(admin.get(r.headers["location"]))
    rows = {tr.select("td")[0].get_text(): tr.select("td")[1].get_text() for tr in doc.select("main tbody tr")}
    assert rows == {"acme": "Ann Archer", "globex": "Bob Baker", "initech": "no one", "umbrella": "Nina Novak"}


def test_without_a_landing_page_the_administrator_lands_on_the_roles(admin: Web, demo: Demo) -> None:
    telephony = demo.ws("telephony")
    assert admin.get(f"/w/{telephony}/").headers["location"] == f"/w/{telephony}/roles"


def test_N12_navigation_shows_only_what_the_member_may_use(web: Web, demo: Demo) -> None:
    web.login(CSM_EMAIL, CSM_PASSWORD)
    natero = demo.ws("natero")
    doc = soup(web.get(f"/w/{natero}/home"))
    assert [a.get_text() for a in doc.select("nav.mainnav a")] == ["Home", "Accounts"]  # her accounts (N11), no roles (N12)
    assert "Customer Success Manager Seat" in one(doc, ".perm-summary").get_text()
    r = web.get(f"/w/{natero}/roles")
    assert r.status_code == 403
    page = soup(r)
    assert one(page, "[data-problem]")["data-problem"] == "permission_denied"
    assert one(page, ".rule").get_text() == "N12"
    assert web.get(f"/w/{natero}/matrix").status_code == 403
    assert web.get(f"/w/{natero}/roles/csm").status_code == 403


def test_T10_the_administrator_sees_roles_and_matrix(admin: Web, demo: Demo) -> None:
    doc = soup(admin.get(f"/w/{demo.ws('telephony')}/roles"))
    nav = [(a.get_text(), a.get("aria-current")) for a in doc.select("nav.mainnav a")]
    # With no SMTP server configured, the outbox's developer page is in the navigation too.
    assert nav[:4] == [("Home", None), ("Roles & Permissions", "page"), ("Permission matrix", None), ("Team", None)]
    assert nav[4:] == [("Explain", None), ("Administrator records", None), ("Audit log", None)]  # issue 8 (E7, E8)


def test_the_workspace_switcher(admin: Web, demo: Demo) -> None:
    doc = soup(admin.get(f"/w/{demo.ws('telephony')}/roles"))
    switcher = one(doc, "form.switcher")
    assert switcher["action"] == "/switch"
    assert switcher["method"] == "get"
    options = switcher.select("option")
    assert len(options) == 5
    assert one(switcher, "option[selected]")["value"] == demo.ws("telephony")
    r = admin.get(f"/switch?to={demo.ws('catalyst')}")
    assert r.headers["location"] == f"/w/{demo.ws('catalyst')}/"
    assert admin.get("/switch?to=elsewhere").headers["location"] == "/workspaces"


def test_pages_need_a_login(web: Web, demo: Demo) -> None:
    url = f"/w/{demo.ws('telephony')}/roles"
    r = web.get(url)
    assert r.status_code == 303
    assert r.headers["location"] == f"/login?next={quote(url)}"
    r = web.get(url, htmx=True)
    assert r.headers["hx-redirect"] == f"/login?next={quote(url)}"
    assert web.get("/workspaces").status_code == 303
    assert web.get("/").headers["location"] == "/login"
    # after logging in, back where the visitor was going
    web.get(f"/login?next={quote(url)}")
    r = web.post("/login", {"email": "admin@example.com", "password": "rolegate-demo", "next": url})
    assert r.headers["location"] == url


def test_next_never_leaves_the_site(web: Web) -> None:
    web.get("/login")
    r = web.post("/login", {"email": "admin@example.com", "password": "rolegate-demo", "next": "//evil.example/x"})
    assert r.headers["location"] == "/"


def test_logout_ends_the_session(admin: Web, demo: Demo) -> None:
    r = admin.post("/logout")
    assert r.status_code == 303
    assert r.headers["location"] == "/login"
    doc = soup(admin.get("/login"))
    assert one(doc, ".flash").get_text() == "You are logged out."
    assert admin.get(f"/w/{demo.ws('telephony')}/roles").status_code == 303


def test_logout_with_htmx_redirects_with_a_header(admin: Web) -> None:
    r = admin.post("/logout", htmx=True)
    assert r.status_code == 200
    assert r.headers["hx-redirect"] == "/login"


def test_a_tampered_session_cookie_is_no_session(admin: Web, demo: Demo) -> None:
    cookie = admin.client.cookies["rolegate_session"]
    admin.client.cookies.set("rolegate_session", cookie[:-3] + "xyz", domain="rolegate.test")
    assert admin.get(f"/w/{demo.ws('telephony')}/roles").status_code == 303


def test_a_workspace_of_which_the_user_is_not_a_member_is_not_found(admin: Web, demo: Demo) -> None:
    other = create_workspace(demo.rolegate.uow(), actor=Actor.system("test"), preset="telephony", name="Elsewhere", owner_email="o@elsewhere.test")
    r = admin.get(f"/w/{other.workspace.id}/roles")
    assert r.status_code == 404
    assert one(soup(r), "[data-problem]")["data-problem"] == "not_found"
    assert admin.get(f"/w/{other.workspace.id}/roles", htmx=True).status_code == 404


def test_unknown_pages_are_html_and_the_api_stays_problem_json(admin: Web, demo: Demo) -> None:
    r = admin.get(f"/w/{demo.ws('telephony')}/nothing-here")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert one(soup(r), "h1").get_text() == "Not found"
    fragment = soup(admin.get(f"/w/{demo.ws('telephony')}/nothing-here", htmx=True))
    assert fragment.html is None
    assert one(fragment, "[data-problem]")["data-problem"] == "not_found"
    r = admin.get("/v2/nothing")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


def test_pages_carry_security_headers(admin: Web, demo: Demo) -> None:
    r = admin.get(f"/w/{demo.ws('telephony')}/roles")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    doc = soup(r)
    assert doc.select("script:not([src])") == []  # no inline script: the CSP would block it
    assert [str(s["src"]).split("?")[0] for s in doc.select("script[src]")] == ["/static/htmx.min.js", "/static/rolegate.js"]


def test_static_files_are_served(web: Web) -> None:
    r = web.get("/static/htmx.min.js")
    assert r.status_code == 200
    assert r.text.startswith("var htmx=")
    assert web.get("/static/rolegate.css").status_code == 200
    assert web.get("/static/rolegate.js").status_code == 200


def test_sessions_are_signed_with_the_configured_secret_key(admin: Web, demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    # Several processes (or a restart) keep their users logged in only if they sign with
    # one key: ROLEGATE_SECRET_KEY, read with the other settings.
    monkeypatch.setenv("ROLEGATE_SECRET_KEY", "from-the-environment")
    assert Settings.from_env().secret_key == "from-the-environment"
    assert "from-the-environment" not in repr(Settings.from_env())
    cookie = admin.client.cookies.get("rolegate_session")
    assert cookie
    for key, logged_in in ((demo.rolegate.settings.secret_key, True), ("another-key", False)):
        other = bootstrap(replace(demo.rolegate.settings, secret_key=key))
        try:
            with start_blocking_portal() as portal:
                client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(other)), base_url="http://rolegate.test", cookies={"rolegate_session": cookie})
                r = portal.call(client.get, "/workspaces")
                portal.call(client.aclose)
        finally:
            other.close()
        assert (r.status_code == 200) is logged_in, (key, r.status_code)


def test_a_link_that_is_not_valid_answers_as_the_api_does(web: Web) -> None:
    """One error model: an unknown email-change token is `token_invalid`, 410, on the
    page as over the API."""
    assert web.get("/email-change/no-such-token").status_code == 200
    r = web.post("/email-change/no-such-token", {})
    assert r.status_code == 410
    assert "not valid" in r.text.lower() or "expired" in r.text.lower()
