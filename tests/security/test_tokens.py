"""Tokens never hand over an existing identity (issue 12, item 2), and every token is
single use under concurrency (item 4).

- An invitation for an email that already has a login links the membership only when
  that person is logged in as it; its link never sets or resets a password.
- A person without a password (an owner created over the API, a site administrator)
  gets a set-password link at their own address (API, CLI), never shown to anyone else.
- The development outbox page exists only when the operator turns it on, and shows the
  viewer's own mail only.
- N simultaneous uses of one reset, invitation or email change link: exactly one
  success, on SQLite and on PostgreSQL (a conditional UPDATE spends the token)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from typer.testing import CliRunner

from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.cli.main import app as cli
from rolegate.config import Settings
from rolegate.domain.errors import TokenInvalidError
from rolegate.domain.roles import MemberStatus
from rolegate.domain.workspace import Actor
from rolegate.services import email_change, invitations, password_reset
from rolegate.services.logins import authenticate_user
from rolegate.services.mail import MailPolicy
from rolegate.services.members import add_member
from rolegate.services.sites import add_site_administrator
from rolegate.services.workspaces import create_organization, create_workspace
from rolegate.store.migrations import upgrade
from rolegate.store.repositories import MemberInfo
from rolegate.store.repositories_team import OutboxRow
from tests.api.conftest import assert_problem, make_tenant
from tests.integration.support import PLATFORM, email, open_workspace
from tests.integration.test_concurrency import race
from tests.pg import postgres_url
from tests.security.conftest import TwoOrgApis
from tests.web.conftest import Web, one, soup
from tests.web.demo import ADMIN_EMAIL, ADMIN_PASSWORD, CSM_EMAIL, CSM_PASSWORD, SECRET_KEY, Demo

POLICY = MailPolicy(public_url="http://rolegate.test")
RACERS = 8


def mailbox(rg: Rolegate, address: str) -> list[OutboxRow]:
    with rg.uow() as uow:
        return [m for m in uow.outbox.all() if m.to_addr == address]


def token_in(rg: Rolegate, address: str, path: str) -> str:
    for mail in mailbox(rg, address):
        match = re.search(re.escape(path) + r"([A-Za-z0-9_\-]+)", mail.text_body)
        if match:
            return match.group(1)
    raise AssertionError(f"no link to {path} in the mail of {address}")


def password_of(rg: Rolegate, address: str) -> str | None:
    with rg.uow() as uow:
        row = uow.users.by_email(address)
    assert row is not None
    value: str | None = row.password_hash
    return value


def browser(rg: Rolegate) -> Iterator[Web]:
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(rg)), base_url="http://rolegate.test")
        try:
            yield Web(portal, client)
        finally:
            portal.call(client.aclose)


# -- an invitation never hands over an existing login ----------------------------------------


def test_an_invitation_link_never_sets_the_password_of_another_tenants_owner(two_org_apis: TwoOrgApis) -> None:
    """B's owner was created over the API: no password. A invites that address and uses
    the link (read from any mailbox, page or log it reached) with a password of its own."""
    b = make_tenant(two_org_apis.b, "natero")
    a = make_tenant(two_org_apis.a, "telephony")
    r = a.api.post(a.url("/invitations"), json={"email": "owner@natero.test", "role": "analyst"})
    assert r.status_code == 201, r.text
    member = r.json()["member"]["id"]
    token = token_in(two_org_apis.rolegate, "owner@natero.test", "/invitations/")
    r = two_org_apis.a.without_key().post(f"/v1/invitations/{token}/accept", json={"password": "chosen by org A", "name": "Pwned"})
    body = assert_problem(r, 403, "login_required")
    assert "log in as owner@natero.test" in body["detail"].lower()
    assert password_of(two_org_apis.rolegate, "owner@natero.test") is None
    assert a.api.get(a.url("/members"), params={"status": "invited"}).json()["members"][-1]["id"] == member
    # the administrator's own door: activating it for them is refused as well (T4)
    assert_problem(a.api.post(a.url(f"/members/{member}/activate")), 409, "rule_violation", rule="T4")
    assert b.api.get(b.url(f"/members/{b.owner}/record")).json()["name"] == ""


@pytest.fixture
def dev_outbox(demo_ui_template: Path, tmp_path: Path) -> Iterator[tuple[Demo, Web]]:
    """The demo as `make run` serves it: the outbox's developer page turned on."""
    target = tmp_path / "dev.db"
    shutil.copyfile(demo_ui_template, target)
    rg = bootstrap(Settings(database_url=f"sqlite:///{target}", listen=False, secret_key=SECRET_KEY, dev_outbox=True))
    with rg.uow() as uow:
        found = {ws.preset: ws.id for ws in uow.workspaces.all()}
    try:
        for web in browser(rg):
            yield Demo(rg, found), web
    finally:
        rg.close()


def test_the_dev_outbox_shows_no_one_the_link_that_would_set_another_tenants_owners_password(dev_outbox: tuple[Demo, Web]) -> None:
    demo, admin = dev_outbox
    org_b = create_organization(demo.rolegate.uow(), actor=PLATFORM, name="Other tenant")
    create_workspace(demo.rolegate.uow(), actor=PLATFORM, preset="natero", name="Theirs", owner_email="owner@other.test", organization_id=org_b)
    admin.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    natero = f"/w/{demo.ws('natero')}"
    assert admin.post(f"{natero}/team/invite", {"email": "owner@other.test", "role": "analyst"}).status_code == 303
    admin.post("/password-reset", {"email": ADMIN_EMAIL})  # mail of the viewer's own
    page = soup(admin.get(f"{natero}/outbox"))
    assert {str(a["data-to"]) for a in page.select("article.mail")} == {ADMIN_EMAIL}
    assert "/invitations/" not in page.get_text()
    # and the link itself, wherever it is read, sets no password
    token = token_in(demo.rolegate, "owner@other.test", "/invitations/")
    for stranger in browser(demo.rolegate):
        stranger.get(f"/invitations/{token}")
        r = stranger.post(f"/invitations/{token}", {"password": "chosen by a stranger", "confirm": "chosen by a stranger"})
        assert r.status_code == 403
    assert password_of(demo.rolegate, "owner@other.test") is None


def test_the_dev_outbox_page_exists_only_when_the_operator_turns_it_on(web_ui: Web, demo_ui: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    web_ui.login()
    home = soup(web_ui.get(f"/w/{demo_ui.ws('natero')}/home"))
    assert "Outbox (dev)" not in [a.get_text() for a in home.select("nav.mainnav a")]
    assert web_ui.get(f"/w/{demo_ui.ws('natero')}/outbox").status_code == 404
    monkeypatch.delenv("ROLEGATE_DEV_OUTBOX", raising=False)
    assert Settings.from_env().dev_outbox is False
    monkeypatch.setenv("ROLEGATE_DEV_OUTBOX", "1")
    assert Settings.from_env().dev_outbox is True
    # `make run` (the demo) turns it on for the server it starts
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    run = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "ROLEGATE_DEV_OUTBOX=1 $(BIN)/rolegate serve" in run


def test_an_existing_login_accepts_its_invitation_only_logged_in_as_itself(web_ui: Web, demo_ui: Demo) -> None:
    """Nina (a CSM of the natero demo) is invited to telephony: the link shows a login
    button; accepting without her session, or in someone else's, is refused."""
    rg = demo_ui.rolegate
    telephony = demo_ui.ws("telephony")
    owner = next(m.member.id for m in _members(rg, telephony) if m.email == ADMIN_EMAIL)
    sent = invitations.invite(rg.uow(), actor=Actor.member(owner), workspace_id=telephony, email=CSM_EMAIL, role_id="analyst", policy=POLICY)
    url = f"/invitations/{sent.token}"
    web_ui.get(url)
    r = web_ui.post(url, {"password": "a password of my choosing", "confirm": "a password of my choosing"})
    assert r.status_code == 403
    assert authenticate_user(rg.uow(), email=CSM_EMAIL, password="a password of my choosing") is None
    page = soup(web_ui.get(url))
    assert one(page, "#login-to-accept")["href"] == f"/login?next={url}"
    assert not page.select("input[name=password]")
    web_ui.login(ADMIN_EMAIL, ADMIN_PASSWORD)  # someone else's session
    web_ui.get(url)
    assert web_ui.post(url).status_code == 403
    web_ui.post("/logout")
    web_ui.get("/login")
    r = web_ui.post("/login", {"email": CSM_EMAIL, "password": CSM_PASSWORD, "next": url})
    assert r.headers["location"] == url
    web_ui.get(url)
    r = web_ui.post(url)
    assert (r.status_code, r.headers["location"]) == (303, f"/w/{telephony}/")
    assert next(m for m in _members(rg, telephony) if m.email == CSM_EMAIL).member.status is MemberStatus.ACTIVE
    assert authenticate_user(rg.uow(), email=CSM_EMAIL, password=CSM_PASSWORD) is not None


def _members(rg: Rolegate, workspace_id: str) -> list[MemberInfo]:
    with rg.uow() as uow:
        return uow.members.all(workspace_id)


# -- a set-password link goes to the person's own address ------------------------------------


def test_the_platform_sends_a_password_less_owner_a_set_password_link_to_their_own_address(two_org_apis: TwoOrgApis) -> None:
    make_tenant(two_org_apis.a, "telephony")
    r = two_org_apis.a.post("/v1/users/set-password-email", json={"email": "Owner@Telephony.test"})
    assert r.status_code == 202, r.text
    mails = [m for m in _all_mail(two_org_apis.rolegate) if m.kind == "set_password"]
    assert [m.to_addr for m in mails] == ["owner@telephony.test"] * 2  # at creation (E1), then on request
    token = token_in(two_org_apis.rolegate, "owner@telephony.test", "/password-reset/")
    assert token not in r.text
    # another organization does not even find this person
    assert_problem(two_org_apis.b.post("/v1/users/set-password-email", json={"email": "owner@telephony.test"}), 404, "not_found")
    assert two_org_apis.a.without_key().post(f"/v1/password-resets/{token}", json={"password": "the owner's choice"}).status_code == 200
    assert authenticate_user(two_org_apis.rolegate.uow(), email="owner@telephony.test", password="the owner's choice") is not None
    # someone with a password resets it themselves
    assert_problem(two_org_apis.a.post("/v1/users/set-password-email", json={"email": "owner@telephony.test"}), 400, "bad_request")


def _all_mail(rg: Rolegate) -> list[OutboxRow]:
    with rg.uow() as uow:
        return uow.outbox.all()


def test_the_operator_sends_a_site_administrator_a_set_password_link_from_the_cli(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    rg = bootstrap(Settings(database_url=url, listen=False))
    try:
        org = create_organization(rg.uow(), actor=PLATFORM, name="Site")
        add_site_administrator(rg.uow(), actor=PLATFORM, organization_id=org, email="root@site.test")
    finally:
        rg.close()
    result = CliRunner().invoke(cli, ["users", "set-password", "root@site.test", "--url", url])
    assert result.exit_code == 0, result.output
    assert "/password-reset/" not in result.output
    rg = bootstrap(Settings(database_url=url, listen=False))
    try:
        assert [(m.kind, m.to_addr) for m in _all_mail(rg)] == [("set_password", "root@site.test")]
    finally:
        rg.close()
    missing = CliRunner().invoke(cli, ["users", "set-password", "nobody@site.test", "--url", url])
    assert missing.exit_code == 2
    assert "no person with the email nobody@site.test" in missing.output


# -- single use under concurrency -------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rolegate]:
    """A Rolegate on SQLite (a file) and on PostgreSQL (a fresh database on the real server)."""
    if request.param == "sqlite":
        rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path / 'race.db'}", listen=False))
        rg.create_tables()
        try:
            yield rg
        finally:
            rg.close()
        return
    with postgres_url() as url:
        rg = bootstrap(Settings(database_url=url, listen=False))
        rg.create_tables()
        try:
            yield rg
        finally:
            rg.close()


def _exactly_one(outcomes: list[Exception | None]) -> None:
    assert sum(o is None for o in outcomes) == 1, outcomes
    assert all(isinstance(o, TokenInvalidError) for o in outcomes if o is not None), outcomes


def test_a_reset_link_used_by_eight_at_once_works_once(backend: Rolegate) -> None:
    ws = open_workspace(backend, "telephony")
    address = email("reset")
    add_member(backend.uow(), actor=PLATFORM, workspace_id=ws.id, email=address, role_id="analyst", password="the first password")
    token = password_reset.request_password_reset(backend.uow(), email=address, policy=POLICY)
    assert token is not None
    passwords = [f"racer number {i} password" for i in range(RACERS)]

    def use(password: str) -> Callable[[], object]:
        return lambda: password_reset.reset_password(backend.uow(), token=token, password=password)

    outcomes = race(backend, [use(p) for p in passwords])
    _exactly_one(outcomes)
    [winner] = [p for p, o in zip(passwords, outcomes, strict=True) if o is None]
    assert [p for p in passwords if authenticate_user(backend.uow(), email=address, password=p) is not None] == [winner]
    with backend.uow() as uow:
        events = [e.kind for e in uow.security_events.all(email=None) if e.kind == "password_reset.done"]
    assert len(events) == 1


def test_an_invitation_link_used_by_eight_at_once_accepts_once(backend: Rolegate) -> None:
    ws = open_workspace(backend, "telephony")
    sent = invitations.invite(backend.uow(), actor=ws.owner, workspace_id=ws.id, email=email("invitee"), role_id="analyst", policy=POLICY)
    passwords = [f"racer number {i} password" for i in range(RACERS)]

    def use(password: str) -> Callable[[], object]:
        return lambda: invitations.accept_invitation(backend.uow(), token=sent.token, password=password)

    outcomes = race(backend, [use(p) for p in passwords])
    _exactly_one(outcomes)
    [winner] = [p for p, o in zip(passwords, outcomes, strict=True) if o is None]
    assert ws.status(sent.member.member.id) is MemberStatus.ACTIVE
    assert [p for p in passwords if authenticate_user(backend.uow(), email=sent.member.email, password=p) is not None] == [winner]
    assert [e.action for e in ws.events()].count("member.activate") == 1


def test_an_email_change_link_used_by_eight_at_once_works_once(backend: Rolegate) -> None:
    ws = open_workspace(backend, "telephony")
    address = email("mover")
    user_id = add_member(backend.uow(), actor=PLATFORM, workspace_id=ws.id, email=address, role_id="analyst", password="the mover's password").user_id
    new_address = email("moved")
    token = email_change.request_email_change(backend.uow(), user_id=user_id, new_email=new_address, policy=POLICY)
    assert token is not None

    outcomes = race(backend, [lambda: email_change.confirm_email_change(backend.uow(), token=token, policy=POLICY) for _ in range(RACERS)])
    _exactly_one(outcomes)
    assert authenticate_user(backend.uow(), email=new_address, password="the mover's password") is not None
    assert [m.kind for m in mailbox(backend, address)] == ["email_changed"]
