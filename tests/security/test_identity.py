"""An identity belongs to its person (issue 12, item 1): a login (email, password, name)
may reach workspaces of several organizations and administer a site, so no workspace
or organization administrator changes it. A member record edit changes the name that
workspace shows, never the login; the person changes their own email through a link
sent to the new address (and a notice to the old one). Inviting an existing person
shows the inviter nothing stored about them.

Each attack is written as the attacker would try it, over the HTTP API (two
organizations, two API keys) and the admin UI."""

from __future__ import annotations

import re

from rolegate.bootstrap import Rolegate
from rolegate.domain.workspace import Actor
from rolegate.services import members
from rolegate.services.logins import authenticate_user
from rolegate.store.repositories_team import OutboxRow
from tests.api.conftest import Api, Tenant, assert_problem, make_tenant
from tests.security.conftest import TwoOrgApis
from tests.web.conftest import Web, one, soup, violations
from tests.web.demo import CSM_EMAIL, CSM_PASSWORD, Demo
from tests.web.site_demo import ACCT_EMAIL, ACCT_PASSWORD, SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD, build_site

PLATFORM = Actor.system("test")


def mailbox(rg: Rolegate, address: str) -> list[OutboxRow]:
    """What `address` received (newest first): the outbox rows sent to it."""
    with rg.uow() as uow:
        return [m for m in uow.outbox.all() if m.to_addr == address]


def token_in(rg: Rolegate, address: str, path: str) -> str:
    """The token of the newest link to `path` in `address`'s mailbox."""
    for mail in mailbox(rg, address):
        match = re.search(re.escape(path) + r"([A-Za-z0-9_\-]+)", mail.text_body)
        if match:
            return match.group(1)
    raise AssertionError(f"no link to {path} in the mail of {address}")


def login_row(rg: Rolegate, user_id: str) -> tuple[str, str | None, str]:
    with rg.uow() as uow:
        row = uow.users.get(user_id)
    return (str(row.email), row.password_hash, str(row.name))


def site_administrator(api: Api, org: str, email: str, name: str) -> str:
    """A site administrator named over the API: a login without a password."""
    r = api.post(f"/v1/organizations/{org}/site-administrators", json={"email": email, "name": name})
    assert r.status_code == 201, r.text
    user_id: str = r.json()["user_id"]
    return user_id


# -- a record edit never reaches the login -----------------------------------------------------


def test_an_organization_cannot_take_over_another_organizations_site_administrator(two_org_apis: TwoOrgApis) -> None:
    """A invites B's site administrator's address, rewrites that member record's email to
    an address A controls, then tries to give the login a password: every step refused,
    and the login stays B's administrator's own."""
    victim = site_administrator(two_org_apis.b, two_org_apis.org_b, "root@b.test", "Bea Root")
    a = make_tenant(two_org_apis.a, "telephony")
    r = a.api.post(a.url("/invitations"), json={"email": "root@b.test", "role": "analyst"})
    assert r.status_code == 201, r.text
    member = r.json()["member"]["id"]

    r = a.api.patch(a.url(f"/members/{member}/record"), json={"name": "Mine now", "email": "attacker@a.test"})
    assert_problem(r, 409, "rule_violation")
    # Telephony's article has no rule for member records: a product-neutral code, no seed rule.
    assert (r.json()["rule"], r.json()["violations"][0]["code"]) == (None, "member_record")
    assert "only they can change it" in r.json()["detail"]
    # the attacker's address has no login to reset ...
    assert two_org_apis.a.without_key().post("/v1/password-resets", json={"email": "attacker@a.test"}).status_code == 202
    assert mailbox(two_org_apis.rolegate, "attacker@a.test") == []
    # ... and the invitation (its link read from wherever) sets no password on B's administrator
    token = token_in(two_org_apis.rolegate, "root@b.test", "/invitations/")
    r = two_org_apis.a.without_key().post(f"/v1/invitations/{token}/accept", json={"password": "the attacker's choice"})
    assert_problem(r, 403, "login_required")

    assert login_row(two_org_apis.rolegate, victim) == ("root@b.test", None, "Bea Root")
    assert authenticate_user(two_org_apis.rolegate.uow(), email="attacker@a.test", password="the attacker's choice") is None
    assert authenticate_user(two_org_apis.rolegate.uow(), email="root@b.test", password="the attacker's choice") is None
    admins = two_org_apis.b.get(f"/v1/organizations/{two_org_apis.org_b}/site-administrators").json()["administrators"]
    assert [(x["email"], x["name"]) for x in admins] == [("root@b.test", "Bea Root")]


def test_a_record_edit_renames_the_member_in_that_workspace_only(two_org_apis: TwoOrgApis) -> None:
    """The name an administrator gives a member is that workspace's: the person's login,
    and the name another organization shows for them, stay as they were."""
    victim = site_administrator(two_org_apis.b, two_org_apis.org_b, "root@b.test", "Bea Root")
    a = make_tenant(two_org_apis.a, "telephony")
    r = a.api.post(a.url("/invitations"), json={"email": "root@b.test", "role": "analyst", "name": "Bea"})
    assert r.status_code == 201, r.text
    member = r.json()["member"]["id"]
    r = a.api.patch(a.url(f"/members/{member}/record"), json={"name": "Renamed by A", "email": "root@b.test"})
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["email"]) == ("Renamed by A", "root@b.test")
    admins = two_org_apis.b.get(f"/v1/organizations/{two_org_apis.org_b}/site-administrators").json()["administrators"]
    assert [(x["email"], x["name"]) for x in admins] == [("root@b.test", "Bea Root")]
    assert login_row(two_org_apis.rolegate, victim) == ("root@b.test", None, "Bea Root")


def test_an_account_administrator_cannot_take_over_the_site_administrator_through_a_record(web_ui: Web, demo_ui: Demo) -> None:
    """E7 inside one site: the site administrator is also a plain member of workspace A;
    A's account administrator rewrites that record's email to their own other address,
    asks for a reset there and logs in as the site administrator. Refused at the first step."""
    acme = build_site(demo_ui.rolegate)
    sam_in_a = members.add_member(demo_ui.rolegate.uow(), actor=PLATFORM, workspace_id=acme.a, email=SITE_ADMIN_EMAIL, role_id="analyst").member.id
    web_ui.login(ACCT_EMAIL, ACCT_PASSWORD)
    r = web_ui.post(f"/w/{acme.a}/members/{sam_in_a}/record", {"name": "Sam", "email": "ava.other@acme-site.test"})
    assert r.status_code == 409
    assert violations(soup(r)) == ["E7"]
    assert "only they can change it" in one(soup(r), "li.violation").get_text()
    web_ui.post("/password-reset", {"email": "ava.other@acme-site.test"})
    assert mailbox(demo_ui.rolegate, "ava.other@acme-site.test") == []
    with demo_ui.rolegate.uow() as uow:
        sam = uow.users.by_email(SITE_ADMIN_EMAIL)
    assert sam is not None
    assert authenticate_user(demo_ui.rolegate.uow(), email=SITE_ADMIN_EMAIL, password=SITE_ADMIN_PASSWORD) is not None


# -- inviting an existing person reveals nothing ---------------------------------------------


def test_inviting_an_existing_person_shows_the_inviter_nothing_stored_about_them(two_org_apis: TwoOrgApis) -> None:
    b = make_tenant(two_org_apis.b, "natero", owner_name="Bea Secret")
    a = make_tenant(two_org_apis.a, "telephony")
    r = a.api.post(a.url("/invitations"), json={"email": "owner@natero.test", "role": "analyst"})
    assert r.status_code == 201, r.text
    assert r.json()["member"]["name"] == ""
    listed = a.api.get(a.url("/members")).json()
    assert "Bea Secret" not in str(listed)
    assert "Bea Secret" not in a.api.get(a.url(f"/members/{r.json()['member']['id']}/record")).text
    assert "Bea Secret" not in a.api.get(a.url("/invitations")).text
    assert b.owner  # B's owner keeps their name where they are a member
    assert two_org_apis.b.get(f"/v1/workspaces/{b.id}/members", headers={"Rolegate-Actor": b.owner}).json()["members"][0]["name"] == "Bea Secret"


def test_naming_an_existing_person_site_administrator_shows_the_namer_nothing_stored_about_them(two_org_apis: TwoOrgApis) -> None:
    make_tenant(two_org_apis.b, "natero", owner_name="Bea Secret")
    make_tenant(two_org_apis.a, "telephony")
    url = f"/v1/organizations/{two_org_apis.org_a}/site-administrators"
    r = two_org_apis.a.post(url, json={"email": "owner@natero.test", "name": "Our Sam"})
    assert r.status_code == 201, r.text
    listed = two_org_apis.a.get(url)
    assert listed.status_code == 200, listed.text
    assert [a["name"] for a in listed.json()["administrators"]] == ["Our Sam"]
    assert "Bea Secret" not in listed.text


# -- the person changes their own email --------------------------------------------------------


def _owner_with_password(two_org_apis: TwoOrgApis, password: str) -> Tenant:
    """A tenant whose owner chose a password through the set-password link."""
    a = make_tenant(two_org_apis.a, "telephony")
    assert two_org_apis.a.post("/v1/users/set-password-email", json={"email": "owner@telephony.test"}).status_code == 202
    token = token_in(two_org_apis.rolegate, "owner@telephony.test", "/password-reset/")
    assert two_org_apis.a.without_key().post(f"/v1/password-resets/{token}", json={"password": password}).status_code == 200
    return a


def test_a_person_changes_their_email_through_a_link_to_the_new_address_over_the_api(two_org_apis: TwoOrgApis) -> None:
    _owner_with_password(two_org_apis, "owner's own password")
    anon = two_org_apis.a.without_key()
    body = {"email": "owner@telephony.test", "password": "owner's own password", "new_email": "Owner.New@Telephony.test"}
    assert_problem(anon.post("/v1/email-changes", json={**body, "password": "a wrong guess"}), 400, "bad_request")
    assert mailbox(two_org_apis.rolegate, "owner.new@telephony.test") == []
    r = anon.post("/v1/email-changes", json=body)
    assert r.status_code == 202, r.text
    # nothing changes before the new address proves it is the person's
    assert authenticate_user(two_org_apis.rolegate.uow(), email="owner@telephony.test", password="owner's own password") is not None
    token = token_in(two_org_apis.rolegate, "owner.new@telephony.test", "/email-change/")
    assert token not in r.text
    r = anon.post(f"/v1/email-changes/{token}")
    assert (r.status_code, r.json()) == (200, {"email": "owner.new@telephony.test"})
    assert authenticate_user(two_org_apis.rolegate.uow(), email="owner.new@telephony.test", password="owner's own password") is not None
    assert authenticate_user(two_org_apis.rolegate.uow(), email="owner@telephony.test", password="owner's own password") is None
    [notice] = [m for m in mailbox(two_org_apis.rolegate, "owner@telephony.test") if m.kind == "email_changed"]
    assert "owner.new@telephony.test" in notice.text_body
    assert_problem(anon.post(f"/v1/email-changes/{token}"), 410, "token_invalid")


def test_asking_for_an_address_that_is_someone_elses_login_tells_nothing_and_changes_nothing(two_org_apis: TwoOrgApis) -> None:
    _owner_with_password(two_org_apis, "owner's own password")
    site_administrator(two_org_apis.b, two_org_apis.org_b, "root@b.test", "Bea Root")
    anon = two_org_apis.a.without_key()
    free = anon.post("/v1/email-changes", json={"email": "owner@telephony.test", "password": "owner's own password", "new_email": "free@a.test"})
    taken = anon.post("/v1/email-changes", json={"email": "owner@telephony.test", "password": "owner's own password", "new_email": "root@b.test"})
    assert (free.status_code, taken.status_code) == (202, 202)
    assert free.json()["detail"].replace("free@a.test", "X") == taken.json()["detail"].replace("root@b.test", "X")
    # Her own mail: the set-password link of her creation (E1), and the notice; never the link.
    assert sorted(m.kind for m in mailbox(two_org_apis.rolegate, "root@b.test")) == ["email_in_use", "set_password"]
    # the link to free@a.test was spent by the newer request: one email change at a time
    token = token_in(two_org_apis.rolegate, "free@a.test", "/email-change/")
    assert_problem(anon.post(f"/v1/email-changes/{token}"), 410, "token_invalid")


def test_a_member_changes_their_own_email_from_the_account_page(web_ui: Web, demo_ui: Demo) -> None:
    web_ui.login(CSM_EMAIL, CSM_PASSWORD)
    page = soup(web_ui.get("/account/email"))
    assert one(page, "#current-email").get_text() == CSM_EMAIL
    r = web_ui.post("/account/email", {"new_email": "nina.new@example.com", "password": "not her password"})
    assert r.status_code == 401
    assert mailbox(demo_ui.rolegate, "nina.new@example.com") == []
    r = web_ui.post("/account/email", {"new_email": "nina.new@example.com", "password": CSM_PASSWORD})
    assert r.status_code == 200
    assert "nina.new@example.com" in one(soup(r), "#email-sent").get_text()
    token = token_in(demo_ui.rolegate, "nina.new@example.com", "/email-change/")
    # opening the link changes nothing (mail scanners open links); the button does
    assert one(soup(web_ui.get(f"/email-change/{token}")), "form")["action"] == f"/email-change/{token}"
    assert authenticate_user(demo_ui.rolegate.uow(), email=CSM_EMAIL, password=CSM_PASSWORD) is not None
    assert web_ui.post(f"/email-change/{token}").status_code == 303
    assert authenticate_user(demo_ui.rolegate.uow(), email="nina.new@example.com", password=CSM_PASSWORD) is not None
    assert [m.kind for m in mailbox(demo_ui.rolegate, CSM_EMAIL) if m.kind == "email_changed"] == ["email_changed"]
    web_ui.get(f"/email-change/{token}")
    assert web_ui.post(f"/email-change/{token}").status_code == 410
