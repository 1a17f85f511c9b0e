"""Every person can log in (issue 14, item 8; seed 003, E1): a site administrator or a
workspace owner created over the API without a password receives a set-password email
at their own address, queued in the outbox of the transaction that created them; the
link is never in the API's answer."""

from __future__ import annotations

import re

from rolegate.bootstrap import Rolegate
from rolegate.services.logins import authenticate_user
from rolegate.store.repositories_team import OutboxRow
from tests.api.conftest import Api


def _mail(rg: Rolegate, kind: str) -> list[OutboxRow]:
    with rg.uow() as uow:
        return [m for m in uow.outbox.all() if m.kind == kind]


def _token(mail: OutboxRow) -> str:
    match = re.search(r"/password-reset/([A-Za-z0-9_\-]+)", mail.text_body)
    assert match, mail.text_body
    return match.group(1)


def test_E1_a_new_site_administrator_is_emailed_a_set_password_link_at_their_own_address(
    api: Api, rolegate: Rolegate, org: str
) -> None:
    r = api.post(
        f"/v1/organizations/{org}/site-administrators", json={"email": "Site.Admin@Example.test", "name": "Sam"}
    )
    assert r.status_code == 201, r.text
    [mail] = _mail(rolegate, "set_password")
    assert mail.to_addr == "site.admin@example.test"
    token = _token(mail)
    assert token not in r.text
    assert (
        api.without_key()
        .post(f"/v1/password-resets/{token}", json={"password": "a site admin's own choice"})
        .status_code
        == 200
    )
    assert (
        authenticate_user(rolegate.uow(), email="site.admin@example.test", password="a site admin's own choice")
        is not None
    )
    # naming the same person again sends nothing more
    assert (
        api.post(f"/v1/organizations/{org}/site-administrators", json={"email": "site.admin@example.test"}).status_code
        == 201
    )
    assert len(_mail(rolegate, "set_password")) == 1


def test_E1_a_new_workspace_owner_is_emailed_a_set_password_link_at_their_own_address(
    api: Api, rolegate: Rolegate
) -> None:
    r = api.post("/v1/workspaces", json={"preset": "email_marketing", "name": "Mail", "owner_email": "Owner@Mail.test"})
    assert r.status_code == 201, r.text
    [mail] = _mail(rolegate, "set_password")
    assert mail.to_addr == "owner@mail.test"
    token = _token(mail)
    assert token not in r.text
    assert (
        api.without_key().post(f"/v1/password-resets/{token}", json={"password": "the owner's own choice"}).status_code
        == 200
    )
    assert authenticate_user(rolegate.uow(), email="owner@mail.test", password="the owner's own choice") is not None


def test_E1_an_owner_who_already_has_a_password_gets_no_set_password_email(api: Api, rolegate: Rolegate) -> None:
    assert (
        api.post(
            "/v1/workspaces", json={"preset": "telephony", "name": "One", "owner_email": "boss@tel.test"}
        ).status_code
        == 201
    )
    [mail] = _mail(rolegate, "set_password")
    assert (
        api.without_key()
        .post(f"/v1/password-resets/{_token(mail)}", json={"password": "a password of her own"})
        .status_code
        == 200
    )
    assert (
        api.post(
            "/v1/workspaces", json={"preset": "telephony", "name": "Two", "owner_email": "boss@tel.test"}
        ).status_code
        == 201
    )
    assert len(_mail(rolegate, "set_password")) == 1
