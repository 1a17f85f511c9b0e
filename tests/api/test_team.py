"""Team management over HTTP, on SQLite and on PostgreSQL: invitations (T3, T4, seat
reservation N1, C1, C2), password reset (C8), transfer (N9, C6), the last administrator
and self-disable (C4, C5), ownership (T11), the members list's filters, and the login
protection of the keyless endpoints (rate limits, same answer for unknown emails)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from tests import pg
from tests.api.conftest import Api, Tenant, assert_problem, make_tenant


@pytest.fixture(params=["sqlite", "postgresql"])
def rolegate(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rolegate]:
    """Overrides conftest's: the same HTTP tests on both stores."""
    if request.param == "sqlite":
        rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/t.db", listen=False, public_url="http://rolegate.test"))
        rg.create_tables()
        yield rg
        rg.close()
    else:
        with pg.postgres_url() as url:
            rg = bootstrap(Settings(database_url=url, listen=False, public_url="http://rolegate.test"))
            rg.create_tables()
            yield rg
            rg.close()


def last_link(rg: Rolegate, to: str, path: str) -> str:
    """The token of the newest email to `to` with a link to `path` (the outbox, as the
    developer page shows it; tests/mail sends them over real SMTP)."""
    with rg.uow() as uow:
        mails = [m for m in uow.outbox.all() if m.to_addr == to.lower() and path in m.text_body]
    assert mails, f"no email to {to} with {path}"
    match = re.search(re.escape(path) + r"([A-Za-z0-9_\-]+)", mails[0].text_body)
    assert match
    return match.group(1)


def invite(t: Tenant, email: str, role: str) -> dict[str, str]:
    r = t.api.post(t.url("/invitations"), json={"email": email, "role": role})
    assert r.status_code == 201, r.text
    return {"invitation": r.json()["invitation"]["id"], "member": r.json()["member"]["id"]}


def join(t: Tenant, rg: Rolegate, email: str, role: str, password: str = "a long enough password") -> str:
    member = invite(t, email, role)["member"]
    r = t.api.without_key().post(f"/v1/invitations/{last_link(rg, email, '/invitations/')}/accept", json={"password": password})
    assert r.status_code == 200, r.text
    return member


@pytest.fixture
def csb(api: Api) -> Tenant:
    return make_tenant(api, "customersuccessbox")


def test_T4_invite_by_email_and_accept_with_the_link_once(csb: Tenant, rolegate: Rolegate) -> None:
    sent = invite(csb, "Ines@Acme.test", "csm")
    listed = csb.api.get(csb.url("/invitations")).json()["invitations"]
    assert [(i["id"], i["email"], i["expired"], i["sent_count"]) for i in listed] == [(sent["invitation"], "ines@acme.test", False, 1)]
    assert "token" not in str(listed)
    token = last_link(rolegate, "ines@acme.test", "http://rolegate.test/invitations/")
    keyless = csb.api.without_key().without_actor()
    assert_problem(keyless.post(f"/v1/invitations/{token}/accept", json={}), 400, "bad_request")  # a new user needs a password
    r = keyless.post(f"/v1/invitations/{token}/accept", json={"password": "ines chooses this", "name": "Ines"})
    assert r.status_code == 200, r.text
    assert r.json() == {"workspace": csb.id, "member": sent["member"], "email": "ines@acme.test"}
    members = {m["id"]: m["status"] for m in csb.api.get(csb.url("/members")).json()["members"]}
    assert members[sent["member"]] == "active"
    assert_problem(keyless.post(f"/v1/invitations/{token}/accept", json={"password": "ines chooses this"}), 410, "token_invalid")
    assert_problem(keyless.post("/v1/invitations/not-a-real-token/accept", json={"password": "ines chooses this"}), 410, "token_invalid")
    assert csb.api.get(csb.url("/invitations")).json()["invitations"] == []


def test_N1_an_invitation_reserves_a_seat_and_T3_revoking_frees_it(api: Api, rolegate: Rolegate) -> None:
    t = make_tenant(api, "natero", seat_capacities={"csm": 2})  # the owner (CSM Manager) holds one
    sent = invite(t, "first@acme.test", "csm")
    # T3: the workspace counts the invited holder apart from the active one; both hold a seat.
    assert {k: v for k, v in t.api.get(t.url("")).json()["seats"]["csm"].items() if k in ("used", "active", "invited")} == {"used": 2, "active": 1, "invited": 1}
    body = assert_problem(t.api.post(t.url("/invitations"), json={"email": "second@acme.test", "role": "csm"}), 409, "rule_violation", rule="N1")
    assert "CSM seat: 2 of 2 in use" in body["detail"]
    r = t.api.post(t.url(f"/invitations/{sent['invitation']}/resend"))
    assert r.status_code == 200, r.text
    assert r.json()["invitation"]["sent_count"] == 2
    r = t.api.delete(t.url(f"/invitations/{sent['invitation']}"))
    assert r.status_code == 200, r.text
    assert sent["member"] not in {m["id"] for m in t.api.get(t.url("/members")).json()["members"]}
    assert t.api.get(t.url("")).json()["seats"]["csm"]["used"] == 1
    body = assert_problem(t.api.delete(t.url(f"/invitations/{sent['invitation']}")), 409, "rule_violation")
    assert (body["rule"], body["violations"][0]["code"]) == (None, "invitation")  # T4 is telephony's
    invite(t, "second@acme.test", "csm")


def test_C1_only_administrators_invite(csb: Tenant, rolegate: Rolegate) -> None:
    csm = join(csb, rolegate, "csm@acme.test", "csm")
    r = csb.api.as_(actor=csm).post(csb.url("/invitations"), json={"email": "x@acme.test", "role": "csm"})
    assert_problem(r, 403, "permission_denied", rule="C1")


def test_one_membership_per_email_is_plain_validation(csb: Tenant) -> None:
    invite(csb, "twice@acme.test", "csm")
    r = csb.api.post(csb.url("/invitations"), json={"email": "TWICE@acme.test", "role": "developer"})
    body = assert_problem(r, 409, "rule_violation")
    assert (body["rule"], body["violations"][0]["code"]) == (None, "membership")


def test_C8_an_administrator_sends_a_reset_and_the_link_works_once(csb: Tenant, rolegate: Rolegate) -> None:
    member = join(csb, rolegate, "mo@acme.test", "csm")
    r = csb.api.post(csb.url(f"/members/{member}/password-reset"))
    assert r.status_code == 202, r.text
    token = last_link(rolegate, "mo@acme.test", "/password-reset/")
    keyless = csb.api.without_key().without_actor()
    assert_problem(keyless.post(f"/v1/password-resets/{token}", json={"password": "short"}), 400, "bad_request")
    r = keyless.post(f"/v1/password-resets/{token}", json={"password": "mo's new password"})
    assert r.status_code == 200, r.text
    assert_problem(keyless.post(f"/v1/password-resets/{token}", json={"password": "mo's other password"}), 410, "token_invalid")
    # C1: a Customer Success Manager cannot send one.
    r = csb.api.as_(actor=member).post(csb.url(f"/members/{csb.owner}/password-reset"))
    assert_problem(r, 403, "permission_denied", rule="C1")


def test_C8_asking_for_a_reset_never_tells_whether_the_email_exists_and_is_rate_limited(csb: Tenant, rolegate: Rolegate) -> None:
    join(csb, rolegate, "known@acme.test", "csm")
    keyless = csb.api.without_key().without_actor()
    known = keyless.post("/v1/password-resets", json={"email": "known@acme.test"})
    unknown = keyless.post("/v1/password-resets", json={"email": "unknown@acme.test"})
    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json()) == (202, known.json())
    last_link(rolegate, "known@acme.test", "/password-reset/")
    for _ in range(2):
        assert keyless.post("/v1/password-resets", json={"email": "known@acme.test"}).status_code == 202
    r = keyless.post("/v1/password-resets", json={"email": "known@acme.test"})
    assert_problem(r, 429, "rate_limited")
    assert int(r.headers["Retry-After"]) > 0


def test_C6_transfer_the_accounts_then_disable(csb: Tenant, rolegate: Rolegate) -> None:
    leaving = join(csb, rolegate, "leaving@acme.test", "csm")
    successor = join(csb, rolegate, "successor@acme.test", "csm")
    for account in ("a1", "a2"):
        r = csb.api.put(csb.url(f"/records/account/{account}"), json={"assignee": leaving})
        assert r.status_code == 200, r.text
    assert_problem(csb.api.post(csb.url(f"/members/{leaving}/disable")), 409, "rule_violation", rule="C6")
    developer = join(csb, rolegate, "dev@acme.test", "developer")
    assert_problem(csb.api.post(csb.url(f"/members/{leaving}/transfer"), json={"to": developer}), 409, "rule_violation", rule="C6")
    r = csb.api.post(csb.url(f"/members/{leaving}/transfer"), json={"to": successor})
    assert r.status_code == 200, r.text
    assert r.json()["records"] == {"account": 2}
    r = csb.api.post(csb.url(f"/members/{leaving}/disable"))
    assert r.status_code == 200, r.text
    assert r.json()["member"]["status"] == "disabled"


def test_C5_and_C4_the_administrator_reads_why_not(csb: Tenant) -> None:
    body = assert_problem(csb.api.post(csb.url(f"/members/{csb.owner}/disable")), 409, "rule_violation", rule="C5")
    assert "You cannot disable yourself" in body["detail"]
    body = assert_problem(csb.api.patch(csb.url(f"/members/{csb.owner}"), json={"role": "csm"}), 409, "rule_violation", rule="C4")
    assert body["violations"][0]["fix"] == "Make another member Administrator first."


def test_T11_ownership_transfer(api: Api, rolegate: Rolegate) -> None:
    t = make_tenant(api, "telephony")
    admin = join(t, rolegate, "admin@acme.test", "administrator")
    body = assert_problem(t.api.as_(actor=admin).post(t.url("/ownership"), json={"to": admin, "new_role": "analyst"}), 409, "rule_violation", rule="T11")
    assert "Only an owner" in body["detail"]
    r = t.api.post(t.url("/ownership"), json={"to": admin, "new_role": "administrator"})
    assert r.status_code == 200, r.text
    assert (r.json()["owner"]["role"], r.json()["former_owner"]["role"]) == ("owner", "administrator")
    # The new owner is now the last one (T11).
    assert_problem(t.api.as_(actor=admin).patch(t.url(f"/members/{admin}"), json={"role": "analyst"}), 409, "rule_violation", rule="T11")


def test_the_members_list_filters(api: Api, rolegate: Rolegate) -> None:
    t = make_tenant(api, "natero")
    csm = join(t, rolegate, "csm@acme.test", "csm")
    invited = invite(t, "later@acme.test", "guest")["member"]

    def ids(**params: str) -> set[str]:
        r = t.api.get(t.url("/members"), params=params)
        assert r.status_code == 200, r.text
        return {m["id"] for m in r.json()["members"]}

    assert ids(status="invited") == {invited}
    assert ids(role="csm") == {csm}
    assert ids(seat="csm") == {csm, t.owner}
    assert ids(seat="analyst") == {invited}
    assert ids(status="active", seat="analyst") == set()
