"""Single sign-on through the admin UI in process, against a real OpenID provider
(`oidc-provider-mock`) started by the test: the first sign-in makes the member with the
workspace's default role; the state, the nonce, the issuer and the audience are checked;
only a proved domain of the provider's own organization signs in; org A's provider
never makes members in org B's workspaces; "SSO required" refuses the password form,
with the break-glass path for site administrators."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from sqlalchemy import select, update

from rolegate.asgi import create_app
from rolegate.domain.errors import ConflictError, InvalidInputError, NotFoundError, RuleViolationError
from rolegate.domain.rules.team_rules import default_member_role
from rolegate.domain.sso import issuer_host
from rolegate.domain.workspace import Actor
from rolegate.services.context import load_state
from rolegate.services.sso import claim_domain, configure_sso, set_jit_workspace, sso_settings, verify_domain
from rolegate.services.workspaces import set_seat_capacities
from rolegate.store import tables as t
from rolegate.store.repositories import utcnow
from tests.web.conftest import Web, one, soup
from tests.web.sso_env import (
    ADMIN_A,
    CLIENT_SECRET,
    MOCK_WARNINGS,
    PLATFORM,
    SECRET_KEY,
    SsoEnv,
    idp_server,
    set_idp_user,
    sso_env,
)

pytestmark = pytest.mark.filterwarnings(MOCK_WARNINGS)


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with idp_server() as url:
        yield url


@pytest.fixture
def env(issuer: str, tmp_path: Path) -> Iterator[SsoEnv]:
    e = sso_env(tmp_path / "sso.db", issuer)
    yield e
    e.rolegate.close()


def _web(env: SsoEnv) -> Iterator[Web]:
    app = create_app(env.rolegate)
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rolegate.test")
        try:
            yield Web(portal, client)
        finally:
            portal.call(client.aclose)


@pytest.fixture
def web(env: SsoEnv) -> Iterator[Web]:
    yield from _web(env)


def start(web: Web, email: str) -> httpx.Response:
    web.get("/login")
    return web.post("/sso/start", {"email": email, "next": "/"})


def idp_url(r: httpx.Response) -> str:
    """Where the page after "Sign in with SSO" sends the browser (a link and a meta
    refresh: the CSP's form-action forbids a redirect of the form to another site)."""
    assert r.status_code == 200, r.text
    return str(one(soup(r), "#sso-continue")["href"])


def at_idp(authorize_url: str, sub: str) -> str:
    """The person picks `sub` at the provider; returns the callback's path and query."""
    r = httpx.post(authorize_url, data={"sub": sub}, timeout=10)
    assert r.status_code == 302, r.text
    parts = urlsplit(r.headers["location"])
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://rolegate.test/sso/callback"
    return f"{parts.path}?{parts.query}"


def sign_in(web: Web, issuer: str, email: str, *, sub: str | None = None, claims: dict[str, object] | None = None) -> httpx.Response:
    sub = sub or email.split("@")[0]
    set_idp_user(issuer, sub, **(claims if claims is not None else {"email": email, "email_verified": True, "name": sub.title()}))
    return web.get(at_idp(idp_url(start(web, email)), sub))


def members(env: SsoEnv, workspace_id: str) -> dict[str, str]:
    """email -> role id."""
    with env.rolegate.reader() as uow:
        return {m.email: m.member.role for m in uow.members.all(workspace_id)}


def user_exists(env: SsoEnv, email: str) -> bool:
    with env.rolegate.reader() as uow:
        return uow.users.by_email(email) is not None


def events(env: SsoEnv, workspace_id: str) -> list[tuple[str, str]]:
    with env.rolegate.engine.connect() as conn:
        a = t.audit_events
        return [(r.actor, r.action) for r in conn.execute(select(a.c.actor, a.c.action).where(a.c.workspace_id == workspace_id).order_by(a.c.seq))]


def security(env: SsoEnv) -> list[tuple[str, str]]:
    with env.rolegate.engine.connect() as conn:
        s = t.security_events
        return [(r.kind, r.detail) for r in conn.execute(select(s.c.kind, s.c.detail).order_by(s.c.at, s.c.id))]


def error_of(r: httpx.Response) -> str:
    return one(soup(r), "#login-error").get_text()


# -- the first sign-in -----------------------------------------------------------------------


def test_first_sign_in_makes_the_member_with_the_default_role(env: SsoEnv, web: Web, issuer: str) -> None:
    r = sign_in(web, issuer, "ann@acme.test")
    assert r.status_code == 303
    assert r.headers["location"] == "/"
    with env.rolegate.reader() as uow:
        state = load_state(uow, env.ws_a, lock=False)
        default = default_member_role(state.schema, state.roles.values(), state.workspace.features).id
    assert members(env, env.ws_a)["ann@acme.test"] == default
    assert "ann@acme.test" not in members(env, env.ws_b)
    # Logged in: the workspace list shows Acme's workspace, as an active member.
    page = web.get("/workspaces")
    assert page.status_code == 200
    assert "Acme CS" in page.text
    assert "Beta CS" not in page.text
    # Attributed to the identity provider, in the audit log and the security events.
    actor = f"platform:sso:{issuer_host(issuer)}"
    assert (actor, "member.add") in events(env, env.ws_a)
    assert ("login.sso", f"sso:{issuer_host(issuer)}") in security(env)


def test_a_second_sign_in_adds_no_second_membership(env: SsoEnv, web: Web, issuer: str) -> None:
    assert sign_in(web, issuer, "ann@acme.test").status_code == 303
    adds = events(env, env.ws_a).count((f"platform:sso:{issuer_host(issuer)}", "member.add"))
    web.get("/workspaces")  # the new session's CSRF token
    assert web.post("/logout", {}).status_code == 303
    assert sign_in(web, issuer, "ann@acme.test").status_code == 303
    assert events(env, env.ws_a).count((f"platform:sso:{issuer_host(issuer)}", "member.add")) == adds == 1


def test_jit_with_a_configured_role(env: SsoEnv, web: Web, issuer: str) -> None:
    set_jit_workspace(env.rolegate.uow(), actor=PLATFORM, workspace_id=env.ws_a, enabled=True, role_id="csm")
    assert sign_in(web, issuer, "carl@acme.test").status_code == 303
    assert members(env, env.ws_a)["carl@acme.test"] == "csm"


def test_a_full_workspace_refuses_the_first_sign_in_with_the_seat_rule(env: SsoEnv, web: Web, issuer: str) -> None:
    set_jit_workspace(env.rolegate.uow(), actor=PLATFORM, workspace_id=env.ws_a, enabled=True, role_id="csm")
    set_seat_capacities(env.rolegate.uow(), actor=PLATFORM, workspace_id=env.ws_a, seat_capacities={"csm": 1})  # the owner's
    r = sign_in(web, issuer, "dora@acme.test")
    assert r.status_code == 409
    assert "[N1]" in error_of(r)
    assert "dora@acme.test" not in members(env, env.ws_a)
    assert not user_exists(env, "dora@acme.test")  # nothing half-made
    assert any(kind == "login.sso_refused.jit" and "[N1]" in detail for kind, detail in security(env))
    assert web.get("/workspaces").status_code in (303, 401)  # no session


# -- the state, the nonce, the issuer, the audience ---------------------------------------------


def test_a_callback_with_another_state_is_refused(env: SsoEnv, web: Web, issuer: str) -> None:
    set_idp_user(issuer, "ann", email="ann@acme.test", email_verified=True)
    callback = at_idp(idp_url(start(web, "ann@acme.test")), "ann")
    query = parse_qs(urlsplit(callback).query)
    forged = f"/sso/callback?code={query['code'][0]}&state=forged-state"
    r = web.get(forged)
    assert r.status_code == 403
    assert "did not start in this browser" in error_of(r)
    assert "ann@acme.test" not in members(env, env.ws_a)


def test_a_callback_in_another_browser_is_refused(env: SsoEnv, web: Web, issuer: str) -> None:
    """Login CSRF: a victim's browser must not finish the attacker's sign-in."""
    set_idp_user(issuer, "ann", email="ann@acme.test", email_verified=True)
    callback = at_idp(idp_url(start(web, "ann@acme.test")), "ann")
    for other in _web(env):
        r = other.get(callback)
        assert r.status_code == 403
    assert "ann@acme.test" not in members(env, env.ws_a)


def test_a_replayed_callback_is_refused(env: SsoEnv, web: Web, issuer: str) -> None:
    """A callback is spent once: replayed with the very cookie it started with (a
    captured request), it makes no second session."""
    set_idp_user(issuer, "ann", email="ann@acme.test", email_verified=True)
    callback = at_idp(idp_url(start(web, "ann@acme.test")), "ann")
    captured = httpx.Cookies(web.client.cookies)
    assert web.get(callback).status_code == 303
    web.client.cookies = captured
    r = web.get(callback)
    assert r.status_code == 403
    assert "used already" in error_of(r)


def test_a_tampered_nonce_is_refused(env: SsoEnv, web: Web, issuer: str) -> None:
    """The ID token answers the nonce of its own sign-in: a token minted for another
    flow (here: the flow's nonce no longer matches) makes no session."""
    set_idp_user(issuer, "ann", email="ann@acme.test", email_verified=True)
    callback = at_idp(idp_url(start(web, "ann@acme.test")), "ann")
    with env.rolegate.engine.begin() as conn:
        conn.execute(update(t.sso_flows).values(nonce="another-sign-in"))
    r = web.get(callback)
    assert r.status_code == 403
    assert "nonce" in error_of(r)
    assert ("login.sso_refused.bad_nonce", f"sso:{issuer_host(issuer)}") in security(env)
    assert "ann@acme.test" not in members(env, env.ws_a)


def test_a_wrong_client_secret_gets_no_token(env: SsoEnv, web: Web, issuer: str) -> None:
    """The secret is sealed under ROLEGATE_SECRET_KEY: read under another key it is refused
    (503), never sent as garbage."""
    set_idp_user(issuer, "ann", email="ann@acme.test", email_verified=True)
    callback = at_idp(idp_url(start(web, "ann@acme.test")), "ann")
    env.rolegate.settings = replace(env.rolegate.settings, secret_key="another-key")
    r = web.get(callback)
    assert r.status_code == 503
    assert "cannot be read" in error_of(r)


# -- whose email: proved domains, verified addresses, tenants ---------------------------------


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"email": "ann@acme.test", "email_verified": False}, "has not verified this email"),
        ({"email": "ann@acme.test"}, "has not verified this email"),
        ({"email": "eve@elsewhere.test", "email_verified": True}, "does not belong to the organization"),
        ({"name": "No Mail"}, "sent no email"),
    ],
)
def test_the_provider_must_vouch_for_an_address_of_a_proved_domain(
    env: SsoEnv, web: Web, issuer: str, claims: dict[str, object], reason: str
) -> None:
    r = sign_in(web, issuer, "ann@acme.test", sub="mallory", claims=claims)
    assert r.status_code == 403
    assert reason in error_of(r)
    assert members(env, env.ws_a).keys() == {"owner@acme.test"}


def test_an_unverified_domain_cannot_sign_in(env: SsoEnv, web: Web, issuer: str) -> None:
    claim_domain(env.rolegate.uow(), actor=PLATFORM, organization_id=env.org_a, domain="pending.test")
    # Not proved: the login page finds no provider for it ...
    r = start(web, "pat@pending.test")
    assert r.status_code == 422
    assert "No single sign-on" in error_of(r)
    # ... and Acme's provider cannot vouch for it either.
    r = sign_in(web, issuer, "ann@acme.test", sub="pat", claims={"email": "pat@pending.test", "email_verified": True})
    assert r.status_code == 403
    assert "has not proved" in error_of(r)
    assert not user_exists(env, "pat@pending.test")


def test_a_foreign_domain_is_refused_at_the_login_page(env: SsoEnv, web: Web) -> None:
    r = start(web, "someone@gmail.test")
    assert r.status_code == 422
    assert "No single sign-on" in error_of(r)


def test_org_a_provider_cannot_make_members_in_org_b(env: SsoEnv, web: Web, issuer: str) -> None:
    """Beta proved beta.test: Acme's provider vouching for a beta.test address is refused,
    and nothing is created in Beta's workspace (nor a login for the person)."""
    r = sign_in(web, issuer, "ann@acme.test", sub="bea", claims={"email": "bea@beta.test", "email_verified": True})
    assert r.status_code == 403
    assert "does not belong to the organization" in error_of(r)
    assert "bea@beta.test" not in members(env, env.ws_b)
    assert not user_exists(env, "bea@beta.test")
    # Acme's site administrator cannot point just-in-time membership at Beta's workspace,
    # nor read or change Beta's settings: Beta is "not found" to them.
    acme_admin = Actor.site_admin(env.admin_a)
    with pytest.raises(NotFoundError):
        set_jit_workspace(env.rolegate.uow(), actor=acme_admin, workspace_id=env.ws_b, enabled=True)
    with pytest.raises(NotFoundError):
        sso_settings(env.rolegate.reader(), actor=acme_admin, organization_id=env.org_b)
    with pytest.raises(NotFoundError):
        configure_sso(env.rolegate.uow(), actor=acme_admin, organization_id=env.org_b, sso_required=True, secret_key=SECRET_KEY)


def test_beta_sign_in_joins_only_beta(env: SsoEnv, web: Web, issuer: str) -> None:
    r = sign_in(web, issuer, "bea@beta.test")
    assert r.status_code == 303
    assert "bea@beta.test" in members(env, env.ws_b)
    assert "bea@beta.test" not in members(env, env.ws_a)


def test_a_domain_proved_by_one_organization_cannot_be_claimed_by_another(env: SsoEnv) -> None:
    with pytest.raises(ConflictError):
        claim_domain(env.rolegate.uow(), actor=PLATFORM, organization_id=env.org_b, domain="ACME.test")


def test_a_claim_is_proved_only_by_its_own_txt_record(env: SsoEnv) -> None:
    claimed = claim_domain(env.rolegate.uow(), actor=PLATFORM, organization_id=env.org_b, domain="shared.test")
    assert claimed.record.startswith("rolegate-verification=")
    assert not claimed.verified
    with pytest.raises(ConflictError, match="no TXT record"):
        verify_domain(env.rolegate.uow(), actor=PLATFORM, organization_id=env.org_b, domain="shared.test", lookup=lambda d: ["rolegate-verification=guess"])
    done = verify_domain(env.rolegate.uow(), actor=PLATFORM, organization_id=env.org_b, domain="shared.test", lookup=lambda d: [claimed.record])
    assert done.verified
    # Acme's pending claim on the same domain can no longer be proved.
    other = claim_domain(env.rolegate.uow(), actor=PLATFORM, organization_id=env.org_a, domain="elsewhere.test")
    assert other.record != claimed.record


# -- SSO required, break-glass ----------------------------------------------------------------


def _require_sso(env: SsoEnv) -> None:
    configure_sso(env.rolegate.uow(), actor=PLATFORM, organization_id=env.org_a, sso_required=True, secret_key=SECRET_KEY)


def test_sso_required_refuses_the_password_form(env: SsoEnv, web: Web) -> None:
    _require_sso(env)
    web.get("/login")
    r = web.post("/login", {"email": ADMIN_A[0], "password": ADMIN_A[1], "next": "/"})
    assert r.status_code == 403
    assert "single sign-on" in error_of(r)
    # The SSO form is filled in for them.
    assert one(soup(r), "input#sso-email")["value"] == ADMIN_A[0]
    assert ("login.sso_required", "") in security(env)
    # Another organization's people keep their password.
    assert web.post("/login", {"email": "owner@beta.test", "password": "x" * 12}).status_code == 401


def test_break_glass_lets_the_site_administrator_in_and_no_one_else(issuer: str, tmp_path: Path) -> None:
    env = sso_env(tmp_path / "glass.db", issuer, break_glass=True)
    try:
        _require_sso(env)
        for web in _web(env):
            web.get("/login")
            r = web.post("/login", {"email": ADMIN_A[0], "password": ADMIN_A[1], "next": "/"})
            assert r.status_code == 303
            assert ("login.break_glass", "") in security(env)
        for web in _web(env):
            web.get("/login")
            r = web.post("/login", {"email": ADMIN_A[0], "password": "wrong-password", "next": "/"})
            assert r.status_code == 401  # break-glass still needs the password
        # A member of Acme with a password (set before SSO was required) is refused.
        from rolegate.services.members import add_member

        add_member(env.rolegate.uow(), actor=PLATFORM, workspace_id=env.ws_a, email="old@acme.test", role_id="csm", password="old-password-1")
        for web in _web(env):
            web.get("/login")
            r = web.post("/login", {"email": "old@acme.test", "password": "old-password-1", "next": "/"})
            assert r.status_code == 403
    finally:
        env.rolegate.close()


def test_sso_cannot_be_required_before_a_domain_is_proved(env: SsoEnv) -> None:
    from rolegate.services.workspaces import create_organization

    org = create_organization(env.rolegate.uow(), actor=PLATFORM, name="Gamma")
    with pytest.raises(ConflictError):
        configure_sso(
            env.rolegate.uow(), actor=PLATFORM, organization_id=org, issuer=env.issuer, client_id="c", client_secret="s", sso_required=True, secret_key=SECRET_KEY
        )


# -- configuration ----------------------------------------------------------------------------


def test_the_client_secret_is_stored_encrypted_and_never_shown(env: SsoEnv) -> None:
    with env.rolegate.engine.connect() as conn:
        stored = conn.execute(select(t.sso_providers.c.client_secret).where(t.sso_providers.c.organization_id == env.org_a)).scalar_one()
    assert stored.startswith("fernet:")
    assert CLIENT_SECRET not in stored
    view = sso_settings(env.rolegate.reader(), actor=PLATFORM, organization_id=env.org_a)
    assert view.has_secret
    assert CLIENT_SECRET not in repr(view)


def test_configuration_changes_are_audited_in_every_workspace_of_the_organization(env: SsoEnv) -> None:
    acme = events(env, env.ws_a)
    assert ("platform:sso-test", "sso.configure") in acme
    assert ("platform:sso-test", "sso.verify_domain") in acme
    assert ("platform:sso-test", "sso.jit") in acme
    assert acme.count(("platform:sso-test", "sso.configure")) == 1
    assert events(env, env.ws_b).count(("platform:sso-test", "sso.configure")) == 1  # Beta's own, not Acme's


def test_configuration_refuses_bad_input(env: SsoEnv) -> None:
    with pytest.raises(InvalidInputError):
        configure_sso(env.rolegate.uow(), actor=PLATFORM, organization_id=env.org_a, issuer="http://idp.example.com", secret_key=None)
    with pytest.raises(InvalidInputError):
        claim_domain(env.rolegate.uow(), actor=PLATFORM, organization_id=env.org_a, domain="not a domain")
    with pytest.raises(NotFoundError):
        set_jit_workspace(env.rolegate.uow(), actor=PLATFORM, workspace_id=env.ws_a, enabled=True, role_id="no-such-role")


def test_the_settings_page_for_the_site_administrator(env: SsoEnv, web: Web) -> None:
    web.login(*ADMIN_A)
    link = one(soup(web.get("/workspaces")), "a.sso-settings")
    assert link["href"] == f"/sites/{env.org_a}/sso"
    page = web.get(f"/sites/{env.org_a}/sso")
    assert page.status_code == 200
    doc = soup(page)
    assert one(doc, "#sso-redirect-uri").get_text() == "http://rolegate.test/sso/callback"
    assert CLIENT_SECRET not in page.text
    assert "acme.test" in page.text
    r = web.post(f"/sites/{env.org_a}/sso", {"action": "claim", "domain": "new.test"})
    assert r.status_code == 303
    assert "rolegate-verification=" in web.get(f"/sites/{env.org_a}/sso").text
    # Beta's settings do not exist for Acme's administrator.
    assert web.get(f"/sites/{env.org_b}/sso").status_code == 404


def test_seat_refusal_is_a_rule_violation(env: SsoEnv) -> None:
    assert issubclass(RuleViolationError, ConflictError)


# -- races, on SQLite and PostgreSQL --------------------------------------------------------


def test_a_domain_is_proved_by_one_organization_only_even_in_a_race(env: SsoEnv) -> None:
    """Both claims pass the service's check before either commits: the partial unique
    index decides, and the loser's transaction stays usable."""
    for org in (env.org_a, env.org_b):
        claim_domain(env.rolegate.uow(), actor=PLATFORM, organization_id=org, domain="race.test")
    with env.rolegate.uow() as uow:
        assert uow.sso.mark_verified(env.org_a, "race.test", utcnow())
        assert not uow.sso.mark_verified(env.org_b, "race.test", utcnow())
        assert uow.sso.verified_owner("race.test") == env.org_a
        uow.commit()


@pytest.mark.usefixtures("pg_server")
def test_sign_in_and_domain_race_on_postgresql(pg_url: str, issuer: str) -> None:
    env = sso_env(pg_url, issuer)
    try:
        for web in _web(env):
            r = sign_in(web, issuer, "ann@acme.test")
            assert r.status_code == 303
        assert "ann@acme.test" in members(env, env.ws_a)
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def prove(org: str, record: str) -> None:
            def lookup(_domain: str) -> list[str]:
                barrier.wait(timeout=10)  # both past the DNS check, neither committed
                return [record]

            try:
                verify_domain(env.rolegate.uow(), actor=PLATFORM, organization_id=org, domain="race.test", lookup=lookup)
                outcomes.append("verified")
            except ConflictError:
                outcomes.append("refused")

        records = {org: claim_domain(env.rolegate.uow(), actor=PLATFORM, organization_id=org, domain="race.test").record for org in (env.org_a, env.org_b)}
        threads = [threading.Thread(target=prove, args=(org, records[org])) for org in (env.org_a, env.org_b)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=30)
        assert sorted(outcomes) == ["refused", "verified"]
    finally:
        env.rolegate.close()


def test_a_deleted_jit_role_falls_back_to_the_default_role(env: SsoEnv, web: Web, issuer: str) -> None:
    """Deleting the role JIT names is not blocked by the setting; a sign-in then gets
    the workspace's default (narrowest) role."""
    from rolegate.services.roles import create_role, delete_role

    role = create_role(env.rolegate.uow(), actor=PLATFORM, workspace_id=env.ws_a, name="SSO people", grants=["accounts.csm_seat"], landing_page="my_accounts").id
    set_jit_workspace(env.rolegate.uow(), actor=PLATFORM, workspace_id=env.ws_a, enabled=True, role_id=role)
    delete_role(env.rolegate.uow(), actor=PLATFORM, workspace_id=env.ws_a, role_id=role)
    assert sign_in(web, issuer, "erin@acme.test").status_code == 303
    with env.rolegate.reader() as uow:
        state = load_state(uow, env.ws_a, lock=False)
        default = default_member_role(state.schema, state.roles.values(), state.workspace.features).id
    assert members(env, env.ws_a)["erin@acme.test"] == default


def test_dns_txt_records_reads_the_domain_txt_records(monkeypatch: pytest.MonkeyPatch) -> None:
    """Production's lookup (dnspython): the texts of the TXT records, none when the name
    does not exist."""
    import dns.resolver

    from rolegate.services.sso import dns_txt_records

    class Record:
        strings = (b"rolegate-verification=", b"abc")

    def resolve(name: str, kind: str, lifetime: float) -> list[Record]:
        assert kind == "TXT"
        if name == "missing.test":
            raise dns.resolver.NXDOMAIN
        return [Record()]

    monkeypatch.setattr(dns.resolver, "resolve", resolve)
    assert dns_txt_records("acme.test") == ["rolegate-verification=abc"]
    assert dns_txt_records("missing.test") == []


def test_the_settings_page_saves_the_provider_and_jit(env: SsoEnv, web: Web) -> None:
    web.login(*ADMIN_A)
    web.get(f"/sites/{env.org_a}/sso")
    form = {"action": "configure", "issuer": env.issuer, "client_id": "rolegate-acme-2", "client_secret": "", "sso_required": "1"}
    assert web.post(f"/sites/{env.org_a}/sso", form).status_code == 303
    view = sso_settings(env.rolegate.reader(), actor=PLATFORM, organization_id=env.org_a)
    assert view.client_id == "rolegate-acme-2"
    assert view.sso_required
    assert view.has_secret  # an empty secret field keeps the stored one
    page = web.get(f"/sites/{env.org_a}/sso")
    assert one(soup(page), "#sso-message").get_text() == "SSO settings saved."
    assert web.post(f"/sites/{env.org_a}/sso", {"action": "jit", "workspace_id": env.ws_a, "role_id": "csm", "enabled": "1"}).status_code == 303
    assert sso_settings(env.rolegate.reader(), actor=PLATFORM, organization_id=env.org_a).jit[0].role_id == "csm"
    # A refusal comes back as the page's message, the settings unchanged.
    web.get(f"/sites/{env.org_a}/sso")
    web.post(f"/sites/{env.org_a}/sso", {"action": "configure", "issuer": "http://not-loopback.example.com"})
    assert "no issuer URL" in one(soup(web.get(f"/sites/{env.org_a}/sso")), "#sso-message").get_text()
    assert sso_settings(env.rolegate.reader(), actor=PLATFORM, organization_id=env.org_a).issuer == env.issuer
    # Beta's workspace is not Acme's to configure, from the page either.
    web.get(f"/sites/{env.org_a}/sso")
    web.post(f"/sites/{env.org_a}/sso", {"action": "jit", "workspace_id": env.ws_b, "enabled": "1"})
    message = one(soup(web.get(f"/sites/{env.org_a}/sso")), "#sso-message").get_text()
    assert "no workspace" in message
    assert env.org_b not in message  # nothing of the other tenant, not even its id
    assert len(sso_settings(env.rolegate.reader(), actor=PLATFORM, organization_id=env.org_b).jit) == 1  # Beta's own
