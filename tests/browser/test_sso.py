"""Single sign-on in Chromium against a real OpenID provider started by the test
(`oidc-provider-mock`): the first sign-in makes the member with the workspace's default
role; "SSO required" refuses the password form; a foreign domain is refused."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Page, expect

from rolegate.asgi import create_app
from rolegate.domain.rules.team_rules import default_member_role
from rolegate.services.context import load_state
from rolegate.services.sso import configure_sso
from tests.browser.conftest import _free_port
from tests.web.sso_env import ADMIN_A, MOCK_WARNINGS, PLATFORM, SECRET_KEY, SsoEnv, idp_server, set_idp_user, sso_env

pytestmark = pytest.mark.filterwarnings(MOCK_WARNINGS)


@dataclass
class SsoSite:
    env: SsoEnv
    base: str

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with idp_server() as url:
        yield url


@pytest.fixture
def sso_site(issuer: str, tmp_path: Path) -> Iterator[SsoSite]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = sso_env(tmp_path / "sso.db", issuer, public_url=base)
    server = uvicorn.Server(uvicorn.Config(create_app(env.rolegate), host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none", http="h11"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield SsoSite(env, base)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        env.rolegate.close()


def sso_sign_in(page: Page, site: SsoSite, email: str, sub: str) -> None:
    page.goto(site.url("/login"))
    page.get_by_label("Work address for single sign-on").fill(email)
    page.get_by_role("button", name="Sign in with SSO").click()
    # The provider's own page: pick the subject, authorize.
    page.wait_for_url(lambda url: "/oauth2/authorize" in url)
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()


def test_first_sso_sign_in_makes_the_member_with_the_default_role(page: Page, sso_site: SsoSite, issuer: str) -> None:
    set_idp_user(issuer, "ann", email="ann@acme.test", email_verified=True, name="Ann Acme")
    sso_sign_in(page, sso_site, "ann@acme.test", "ann")
    page.wait_for_url(lambda url: url.startswith(sso_site.base) and "/login" not in url and "/sso/" not in url)
    env = sso_site.env
    assert f"/w/{env.ws_a}/" in page.url  # her one workspace, entered at once
    expect(page.get_by_role("combobox", name="Workspace")).to_contain_text("Acme CS")
    with env.rolegate.reader() as uow:
        state = load_state(uow, env.ws_a, lock=False)
        default = default_member_role(state.schema, state.roles.values(), state.workspace.features).id
        roles = {m.email: m.member.role for m in uow.members.all(env.ws_a)}
        beta = {m.email for m in uow.members.all(env.ws_b)}
    assert roles["ann@acme.test"] == default
    assert "ann@acme.test" not in beta


def test_sso_required_refuses_the_password_form(page: Page, sso_site: SsoSite) -> None:
    configure_sso(sso_site.env.rolegate.uow(), actor=PLATFORM, organization_id=sso_site.env.org_a, sso_required=True, secret_key=SECRET_KEY)
    page.goto(sso_site.url("/login"))
    page.get_by_label("Email", exact=True).fill(ADMIN_A[0])
    page.get_by_label("Password").fill(ADMIN_A[1])
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#login-error")).to_contain_text("single sign-on")
    assert "/login" in page.url
    # The SSO form is ready with the address.
    expect(page.get_by_label("Work address for single sign-on")).to_have_value(ADMIN_A[0])


def test_a_foreign_domain_is_refused(page: Page, sso_site: SsoSite, issuer: str) -> None:
    # At the login page: no organization proved the domain.
    page.goto(sso_site.url("/login"))
    page.get_by_label("Work address for single sign-on").fill("eve@elsewhere.test")
    page.get_by_role("button", name="Sign in with SSO").click()
    expect(page.locator("#login-error")).to_contain_text("No single sign-on")
    # At the callback: Acme's provider vouches for an address of a domain Acme does not hold.
    set_idp_user(issuer, "eve", email="eve@elsewhere.test", email_verified=True)
    sso_sign_in(page, sso_site, "ann@acme.test", "eve")
    expect(page.locator("#login-error")).to_contain_text("does not belong to the organization")
    with sso_site.env.rolegate.reader() as uow:
        assert uow.users.by_email("eve@elsewhere.test") is None
