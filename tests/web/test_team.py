"""The Team page and the account pages, as HTML (with and without htmx): refusals shown
with their rule (C4, C5, C6), transfer then disable (N9, C6), invitations from the
email to a first login (T4), seat usage active/invited apart (T3),
password reset ending every session (C8), login and reset rate limits."""

from __future__ import annotations

import re

import httpx
import pytest
from anyio.from_thread import start_blocking_portal

from rolegate.asgi import create_app
from rolegate.domain.words import duration_of
from tests.web.conftest import Web, one, soup, violations
from tests.web.demo import ADMIN_EMAIL, ADMIN_PASSWORD, CSM_EMAIL, CSM_PASSWORD, Demo


def member_id(admin: Web, base: str, email: str) -> str:
    return str(one(soup(admin.get(f"{base}/team")), f'tr[data-email="{email}"]')["data-member-id"])


def link(demo: Demo, to: str, path: str) -> str:
    """The token of the newest email to `to` with a link to `path`, read from that
    person's mailbox (the outbox, as `rolegate outbox --to` shows it): nobody else's
    page shows it (issue 12)."""
    with demo.rolegate.uow() as uow:
        mails = [m for m in uow.outbox.all(to_addr=to) if path in m.text_body]
    assert mails, f"no email to {to}"
    match = re.search(re.escape(path) + r"([A-Za-z0-9_\-]+)", mails[0].text_body)
    assert match
    return match.group(1)


@pytest.mark.parametrize("htmx", [False, True])
def test_T3_the_team_page_lists_members_and_seats_active_and_invited_apart(admin: Web, demo: Demo, htmx: bool) -> None:
    base = f"/w/{demo.ws('natero')}"
    r = admin.get(f"{base}/team", htmx=htmx)
    assert r.status_code == 200
    doc = soup(r)
    assert bool(doc.select("header.topbar")) is not htmx
    statuses = {str(tr["data-email"]): str(tr["data-status"]) for tr in doc.select("tr[data-email]")}
    assert statuses["carol@example.com"] == "invited"
    assert statuses["dan@example.com"] == "disabled"
    analyst = one(doc, 'li.seat[data-seat="analyst"]')
    assert one(analyst, ".invited-count").get_text() == "1"
    assert one(analyst, ".used").get_text() == str(int(one(analyst, ".active-count").get_text()) + 1)


def test_the_team_page_filters(admin: Web, demo: Demo) -> None:
    base = f"/w/{demo.ws('natero')}"
    doc = soup(admin.get(f"{base}/team?status=invited"))
    assert [str(tr["data-email"]) for tr in doc.select("tr[data-email]")] == ["carol@example.com"]
    doc = soup(admin.get(f"{base}/team?seat=csm&status=active"))
    assert {str(tr["data-status"]) for tr in doc.select("tr[data-email]")} == {"active"}
    assert "nina@example.com" in {str(tr["data-email"]) for tr in doc.select("tr[data-email]")}


def test_C5_and_C4_refusals_are_shown_with_their_rule(admin: Web, demo: Demo) -> None:
    base = f"/w/{demo.ws('customersuccessbox')}"
    me = member_id(admin, base, ADMIN_EMAIL)
    r = admin.post(f"{base}/team/{me}/disable")
    assert r.status_code == 409
    doc = soup(r)
    assert violations(doc) == ["C5", "C4"]  # yourself, and the only Administrator
    assert "You cannot disable yourself." in one(doc, "#refusal").get_text()
    r = admin.post(f"{base}/team/{me}/role", {"role": "csm"})
    assert r.status_code == 409
    assert violations(soup(r)) == ["C4"]
    assert "Make another member Administrator first." in soup(r).get_text()


def test_C6_transfer_the_accounts_then_disable(admin: Web, demo: Demo) -> None:
    base = f"/w/{demo.ws('customersuccessbox')}"
    ann = member_id(admin, base, "ann@example.com")
    bob = member_id(admin, base, "bob@example.com")
    r = admin.post(f"{base}/team/{ann}/disable")
    assert r.status_code == 409
    assert violations(soup(r)) == ["C6"]
    r = admin.post(f"{base}/team/{ann}/transfer", {"to": bob})
    assert r.status_code == 303, r.text
    doc = soup(admin.get(f"{base}/team"))
    assert one(doc, ".flash").get_text() == "Transferred 1 account to Bob Baker."  # the product's word, singular
    assert one(doc, 'tr[data-email="bob@example.com"] .assigned-count').get_text() == "2"
    assert admin.post(f"{base}/team/{ann}/disable", htmx=True).headers["HX-Redirect"] == f"{base}/team"
    assert one(soup(admin.get(f"{base}/team")), 'tr[data-email="ann@example.com"]')["data-status"] == "disabled"


def test_T4_invite_read_the_email_accept_and_log_in(admin: Web, other: Web, demo: Demo) -> None:
    base = f"/w/{demo.ws('telephony')}"
    r = admin.post(f"{base}/team/invite", {"email": "new.hire@example.com", "name": "New Hire", "role": "analyst"})
    assert r.status_code == 303, r.text
    token = link(demo, "new.hire@example.com", "/invitations/")
    page = soup(other.get(f"/invitations/{token}"))
    assert one(page, ".invited-role").get_text() == "Analyst"
    assert one(page, "input#name")["value"] == "New Hire"  # issue 15: prefilled with the invited name
    r = other.post(f"/invitations/{token}", {"password": "new hire's password", "confirm": "new hire's password", "name": "New Hire"})
    assert (r.status_code, r.headers["location"]) == (303, f"{base}/")  # issue 15: signed in after accepting
    assert other.get(f"{base}/home").status_code == 200
    other.post("/logout")
    other.login("new.hire@example.com", "new hire's password")
    assert other.get(f"{base}/home").status_code == 200
    again = other.get(f"/invitations/{token}")
    assert again.status_code == 410
    assert one(soup(again), "[data-problem]")["data-problem"] == "token_invalid"


def test_C8_a_password_reset_ends_every_session_of_the_user(admin: Web, other: Web, demo: Demo) -> None:
    other.login(CSM_EMAIL, CSM_PASSWORD)
    natero = f"/w/{demo.ws('natero')}"
    assert other.get(f"{natero}/home").status_code == 200
    nina = member_id(admin, natero, CSM_EMAIL)
    assert admin.post(f"{natero}/team/{nina}/reset").status_code == 303
    # The developer page never shows someone else's reset link (a live credential) ...
    assert not soup(admin.get(f"{natero}/outbox")).select(f'article.mail[data-to="{CSM_EMAIL}"]')
    with demo.rolegate.uow() as uow:  # ... so read it where the operator would (`rolegate outbox`)
        [mail] = [m for m in uow.outbox.all() if m.to_addr == CSM_EMAIL and m.kind == "password_reset"]
    match = re.search(r"/password-reset/([A-Za-z0-9_\-]+)", mail.text_body)
    assert match
    token = match.group(1)
    # Still logged in until the reset is used ...
    assert other.get(f"{natero}/home").status_code == 200
    # ... which Nina does from a third browser (a page of its own, not logged in).
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(demo.rolegate)), base_url="http://rolegate.test")
        third = Web(portal, client)
        form = soup(third.get(f"/password-reset/{token}"))
        assert one(form, "form")["action"] == f"/password-reset/{token}"
        r = third.post(f"/password-reset/{token}", {"password": "nina's new password", "confirm": "nina's new password"})
        assert (r.status_code, r.headers["location"]) == (303, "/login")
        # Issue 15: a used link is refused before its form (410), and posting to it too.
        used = third.get(f"/password-reset/{token}")
        assert used.status_code == 410
        assert soup(used).select('input[name="password"]') == []
        third.get("/login")  # a page with the new session's CSRF token
        assert third.post(f"/password-reset/{token}", {"password": "once more please", "confirm": "once more please"}).status_code == 410
        portal.call(client.aclose)
    # Every session of hers has ended; the administrator's (another user) stays.
    assert other.get(f"{natero}/home").headers["location"].startswith("/login")
    assert admin.get(f"{natero}/team").status_code == 200
    other.login(CSM_EMAIL, "nina's new password")


def test_C8_the_reset_request_page_says_the_same_for_any_email_and_is_rate_limited(web: Web) -> None:
    texts = []
    for address in (CSM_EMAIL, "nobody@example.com"):
        r = web.post("/password-reset", {"email": address})
        assert r.status_code == 200
        texts.append(one(soup(r), "#reset-sent").get_text())
    assert texts[0] == texts[1]
    for _ in range(2):
        web.post("/password-reset", {"email": CSM_EMAIL})
    r = web.post("/password-reset", {"email": CSM_EMAIL})
    assert r.status_code == 429
    said = one(soup(r), "#reset-error").get_text()
    assert "Too many password reset requests" in said
    # One sentence of what happened, one of what to do, each said once.
    assert re.fullmatch(r"Too many password reset requests\. Wait (1 second|\d+ seconds|\d+ minutes|1 hour), then try again\.", said), said


def test_failed_logins_are_rate_limited_per_account_and_audited(web: Web, demo: Demo) -> None:
    for _ in range(5):
        assert web.post("/login", {"email": ADMIN_EMAIL, "password": "wrong", "next": "/"}).status_code == 401
    r = web.post("/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "next": "/"})
    assert r.status_code == 429  # even the right password waits: the account is locked for a while
    wait = int(r.headers["Retry-After"])
    assert wait > 0
    said = one(soup(r), "#login-error").get_text()
    assert said == f"Too many failed logins. Wait {duration_of(wait)}, then try again.", said
    # Another account from the same address is not locked by these five.
    assert web.post("/login", {"email": CSM_EMAIL, "password": CSM_PASSWORD, "next": "/"}).status_code == 303
    with demo.rolegate.uow() as uow:
        kinds = [e.kind for e in uow.security_events.all(email=ADMIN_EMAIL)]
    assert kinds == ["login.failed"] * 5 + ["login.rate_limited"]


def test_the_outbox_page_does_not_exist_unless_the_operator_turns_it_on(admin: Web, demo: Demo) -> None:
    assert admin.get(f"/w/{demo.ws('natero')}/outbox").status_code == 404


def test_T3_resend_then_revoke_an_invitation_frees_its_seat(admin: Web, demo: Demo) -> None:
    base = f"/w/{demo.ws('natero')}"
    doc = soup(admin.get(f"{base}/team"))
    carol = one(doc, 'tr[data-email="carol@example.com"]')
    assert "link sent 1 time," in one(carol, ".invitation-expiry").get_text()
    used = int(one(doc, 'li.seat[data-seat="analyst"] .used').get_text())
    resend = one(carol, "form:has(.resend-button)")
    assert admin.post(str(resend["action"])).status_code == 303
    doc = soup(admin.get(f"{base}/team"))
    assert "Invitation sent again to carol@example.com" in one(doc, ".flash").get_text()
    carol = one(doc, 'tr[data-email="carol@example.com"]')
    assert "link sent 2 times," in one(carol, ".invitation-expiry").get_text()
    assert admin.post(str(one(carol, "form:has(.revoke-button)")["action"])).status_code == 303
    doc = soup(admin.get(f"{base}/team"))
    assert not doc.select('tr[data-email="carol@example.com"]')
    assert int(one(doc, 'li.seat[data-seat="analyst"] .used').get_text()) == used - 1


def test_E7_the_record_form_saves_the_role_and_the_name_together_or_not_at_all(web: Web, demo: Demo) -> None:
    """A site administrator sends a new role with an email that is not the person's: the
    refusal (E7: the email is their login) leaves the role as it was too, where the page
    used to commit the role before the name and email were refused."""
    from tests.web.site_demo import SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD, build_site

    acme = build_site(demo.rolegate)
    web.login(SITE_ADMIN_EMAIL, SITE_ADMIN_PASSWORD)
    url = f"/w/{acme.a}/members/{acme.target_member}/record"
    r = web.post(url, {"name": "Tom", "role": "campaign_manager", "email": "tom.x@acme-site.test"})
    assert r.status_code == 409
    assert violations(soup(r)) == ["E7"]
    page = soup(web.get(url))
    assert one(page, "#record-role option[selected]")["value"] == "analyst"
    assert one(page, "#record-name")["value"] == "Tom Target"
    r = web.post(url, {"name": "Tom", "role": "campaign_manager"})
    assert r.status_code == 303, r.text
    page = soup(web.get(url))
    assert (one(page, "#record-role option[selected]")["value"], one(page, "#record-name")["value"]) == ("campaign_manager", "Tom")
