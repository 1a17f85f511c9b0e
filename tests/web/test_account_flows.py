"""Pages reached from emails (issue 15, item 5): the invitation page starts with the
name the inviter typed, accepting it signs the new member in (T4), and a link that
was used or has expired is refused on a page of its own, with the way to a new link
and no form (T4 invitations, C8 password resets and first passwords)."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from rolegate.services.context import new_id
from rolegate.services.password_reset import request_password_reset, send_set_password
from rolegate.services.web_sessions import resume_session
from rolegate.store.repositories import utcnow
from rolegate.web.session import COOKIE
from tests.web.conftest import Web, one, soup
from tests.web.demo import CSM_EMAIL, CSM_PASSWORD, Demo

NEW_PASSWORD = "new hire's password"


def _token(demo: Demo, to: str, path: str) -> str:
    """The token of the newest email to `to` linking to `path`, read from the outbox."""
    with demo.rolegate.uow() as uow:
        mails = [m for m in uow.outbox.all(to_addr=to) if path in m.text_body]
    assert mails, f"no email to {to}"
    match = re.search(re.escape(path) + r"([A-Za-z0-9_\-]+)", mails[0].text_body)
    assert match
    return match.group(1)


def _invite(admin: Web, demo: Demo, email: str = "new.hire@example.com", name: str = "New Hire") -> str:
    r = admin.post(f"/w/{demo.ws('telephony')}/team/invite", {"email": email, "name": name, "role": "analyst"})
    assert r.status_code == 303, r.text
    return _token(demo, email, "/invitations/")


def _session_id(web: Web) -> str | None:
    """The server-side session id in the browser's cookie (the cookie is signed, not secret)."""
    raw = web.client.cookies.get(COOKIE)
    if raw is None:
        return None
    ui = web.client._transport.app.state.web  # type: ignore[attr-defined]
    data = ui.sessions._signer.loads(raw)
    value = data.get("s")
    return str(value) if value is not None else None


def _refused(r: httpx.Response) -> None:
    """The page of a link that no longer works: 410, no form in the page's content,
    and a link to get a new one."""
    assert r.status_code == 410, r.text
    doc = soup(r)
    main = one(doc, "main")
    assert one(main, "h1").get_text(strip=True) == "This link no longer works"
    assert main.select("form") == []
    assert main.select("input") == []
    assert one(main, "[data-problem]")["data-problem"] == "token_invalid"


def test_T4_the_invitation_form_starts_with_the_invited_name_which_stays_editable(admin: Web, other: Web, demo: Demo) -> None:
    token = _invite(admin, demo)
    field = one(soup(other.get(f"/invitations/{token}")), "input#name")
    assert field["value"] == "New Hire"
    assert not field.has_attr("readonly")
    assert not field.has_attr("disabled")
    r = other.post(f"/invitations/{token}", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "name": "Nell Hire"})
    assert r.status_code == 303, r.text
    assert one(soup(other.get(f"/w/{demo.ws('telephony')}/home")), ".account .who").get_text(strip=True).startswith("Nell Hire")


def test_T4_accepting_an_invitation_signs_the_new_member_in(admin: Web, other: Web, demo: Demo) -> None:
    token = _invite(admin, demo)
    other.get(f"/invitations/{token}")
    before = _session_id(other)
    r = other.post(f"/invitations/{token}", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "name": "New Hire"})
    ws = demo.ws("telephony")
    assert (r.status_code, r.headers["location"]) == (303, f"/w/{ws}/")
    home = other.get(f"/w/{ws}/home")
    assert home.status_code == 200, home.headers.get("location")
    doc = soup(home)
    assert "Welcome to Telephony platform demo" in one(doc, ".flash").get_text()
    assert one(doc, ".account .who").get_text(strip=True).startswith("New Hire")
    # A session as a login makes: a new server-side session of the new user.
    after = _session_id(other)
    assert after is not None
    assert after != before
    user = resume_session(demo.rolegate.uow(), token=after, policy=demo.rolegate.session_policy)
    assert user is not None
    assert user.email == "new.hire@example.com"


def test_T4_accepting_in_a_browser_logged_in_as_someone_else_ends_that_session(admin: Web, other: Web, demo: Demo) -> None:
    token = _invite(admin, demo)
    other.login(CSM_EMAIL, CSM_PASSWORD)
    csm_session = _session_id(other)
    assert csm_session is not None
    csrf_before = other.csrf
    other.get(f"/invitations/{token}")
    r = other.post(f"/invitations/{token}", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "name": "New Hire"})
    assert r.status_code == 303, r.text
    assert resume_session(demo.rolegate.uow(), token=csm_session, policy=demo.rolegate.session_policy) is None
    page = other.get(f"/w/{demo.ws('telephony')}/home")
    assert one(soup(page), ".account .who").get_text(strip=True).startswith("New Hire")
    assert other.csrf != csrf_before  # a new CSRF token with the new session


def test_T4_a_used_invitation_link_is_refused_without_a_form(admin: Web, other: Web, demo: Demo) -> None:
    token = _invite(admin, demo)
    other.get(f"/invitations/{token}")
    assert other.post(f"/invitations/{token}", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}).status_code == 303
    used = other.get(f"/invitations/{token}")
    _refused(used)
    main = one(soup(used), "main")
    assert "already accepted" in main.get_text()
    assert one(main, 'a[href="/login"]').get_text(strip=True) == "Log in"
    other.get(f"/w/{demo.ws('telephony')}/home")  # the new session's CSRF token
    _refused(other.post(f"/invitations/{token}", {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}))
    _refused(other.get("/invitations/not-a-token"))


def test_C8_a_used_reset_link_is_refused_before_the_form_with_a_way_to_a_new_one(other: Web, demo: Demo) -> None:
    token = request_password_reset(demo.rolegate.uow(), email=CSM_EMAIL, policy=demo.rolegate.mail_policy)
    assert token is not None
    form = soup(other.get(f"/password-reset/{token}"))
    assert one(form, "main form")["action"] == f"/password-reset/{token}"
    assert other.post(f"/password-reset/{token}", {"password": "nina's new password", "confirm": "nina's new password"}).status_code == 303
    used = other.get(f"/password-reset/{token}")
    _refused(used)
    main = one(soup(used), "main")
    assert "already used" in main.get_text()
    assert one(main, "a.button")["href"] == "/password-reset"
    other.get("/login")  # a page with the session's CSRF token
    _refused(other.post(f"/password-reset/{token}", {"password": "once more please", "confirm": "once more please"}))


def test_C8_an_expired_reset_link_is_refused_before_the_form(other: Web, demo: Demo) -> None:
    policy = demo.rolegate.mail_policy
    token = request_password_reset(demo.rolegate.uow(), email=CSM_EMAIL, policy=policy, now=utcnow() - policy.reset_ttl - timedelta(seconds=1))
    assert token is not None
    expired = other.get(f"/password-reset/{token}")
    _refused(expired)
    assert "expired" in one(soup(expired), "main").get_text()


def test_C8_a_used_first_password_link_is_refused_before_the_form(other: Web, demo: Demo) -> None:
    """The link that sets a first password (`rolegate users set-password`) is a reset link too."""
    email = "new.owner@example.com"
    with demo.rolegate.uow() as uow:
        uow.users.add(new_id(), email, name="New Owner")
        uow.commit()
    token = send_set_password(demo.rolegate.uow(), organization_id=None, email=email, policy=demo.rolegate.mail_policy)
    other.get(f"/password-reset/{token}")
    assert other.post(f"/password-reset/{token}", {"password": "the owner's choice", "confirm": "the owner's choice"}).status_code == 303
    _refused(other.get(f"/password-reset/{token}"))


def test_T4_the_name_typed_stays_in_the_form_after_a_refusal(admin: Web, other: Web, demo: Demo) -> None:
    token = _invite(admin, demo)
    other.get(f"/invitations/{token}")
    r = other.post(f"/invitations/{token}", {"password": "short", "confirm": "short", "name": "Nell Hire"})
    assert r.status_code == 400
    assert one(soup(r), "input#name")["value"] == "Nell Hire"
