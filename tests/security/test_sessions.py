"""Sessions end when asked (issue 12, item 5): the admin UI's session is a server-side
row, so logging out, a password reset (C8), idleness and age end it for every copy of
the cookie. Attacks tried: replaying a cookie captured before logout, before a password
reset, before logging in again; keeping a stolen session alive past the idle period or
the maximum age; reading a usable session out of the database."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Row, select, update

from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.services.password_reset import request_password_reset, reset_password
from rolegate.store import tables
from tests.security.conftest import PASSWORD, SECRET_KEY, TwoOrgs
from tests.web.conftest import Web

COOKIE = "rolegate_session"
BASE = "http://rolegate.test"


@contextmanager
def browser(rg: Rolegate, cookie: str | None = None) -> Iterator[Web]:
    """A browser of its own (its own cookie jar), optionally holding a captured cookie."""
    app = create_app(rg)
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, cookies={COOKIE: cookie} if cookie else None)
        try:
            yield Web(portal, client)
        finally:
            portal.call(client.aclose)


def cookie_of(web: Web) -> str:
    value = web.client.cookies.get(COOKIE)
    assert value
    return value


def logged_in(web: Web) -> bool:
    r = web.get("/workspaces")
    assert r.status_code in (200, 303), r.text
    if r.status_code == 303:
        assert r.headers["location"].startswith("/login")
    return r.status_code == 200


def sessions_of(rg: Rolegate, user_id: str) -> list[Row[Any]]:
    """The user's rows of `web_sessions`, as stored (what someone reading the database sees)."""
    s = tables.web_sessions
    with rg.engine.connect() as conn:
        return list(conn.execute(select(s).where(s.c.user_id == user_id).order_by(s.c.created_at)))


def backdate(rg: Rolegate, user_id: str, *, last_seen: timedelta | None = None, created: timedelta | None = None) -> None:
    """Move the user's sessions into the past, as if that much time had gone by."""
    now = datetime.now(UTC)
    values = {}
    if last_seen is not None:
        values["last_seen_at"] = now - last_seen
    if created is not None:
        values["created_at"] = now - created
    s = tables.web_sessions
    with rg.engine.begin() as conn:
        done = conn.execute(update(s).where(s.c.user_id == user_id).values(**values))
    assert done.rowcount >= 1, "no session row to move back: is the session held server-side?"


def test_a_cookie_replayed_after_logout_is_no_session(two_orgs: TwoOrgs) -> None:
    rg, owner = two_orgs.rolegate, two_orgs.a1
    with browser(rg) as victim:
        victim.login(owner.owner_email, PASSWORD)
        captured = cookie_of(victim)
        with browser(rg, captured) as attacker:
            assert logged_in(attacker)  # the captured cookie works while the session lives
        assert victim.post("/logout").status_code == 303
    with browser(rg, captured) as attacker:
        assert not logged_in(attacker)
        r = attacker.get(f"/w/{owner.id}/roles")
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=")
        login = attacker.get("/login")
        assert login.status_code == 200  # the login form, not a redirect loop
        assert 'action="/login"' in login.text
    [row] = sessions_of(rg, owner.owner_user)
    assert row.revoked_at is not None


def test_the_database_keeps_only_the_hash_of_the_session_id(two_orgs: TwoOrgs) -> None:
    rg, owner = two_orgs.rolegate, two_orgs.a1
    with browser(rg) as web:
        web.login(owner.owner_email, PASSWORD)
        data = URLSafeTimedSerializer(SECRET_KEY, salt="rolegate.web.session").loads(cookie_of(web))
    session_id = data["s"]
    assert len(session_id) >= 43  # 256 random bits
    assert "u" not in data  # who is logged in comes from the row, not from the cookie
    [row] = sessions_of(rg, owner.owner_user)
    assert row.id_hash == hashlib.sha256(session_id.encode()).hexdigest()
    assert row.id_hash != session_id


def test_an_idle_session_ends(two_orgs: TwoOrgs) -> None:
    rg, owner = two_orgs.rolegate, two_orgs.a1
    assert rg.settings.session_idle_minutes == 30
    with browser(rg) as web:
        web.login(owner.owner_email, PASSWORD)
        backdate(rg, owner.owner_user, last_seen=timedelta(minutes=29))
        assert logged_in(web)  # used within the idle period: still alive, and seen again now
        backdate(rg, owner.owner_user, last_seen=timedelta(minutes=31))
        captured = cookie_of(web)
        assert not logged_in(web)
    with browser(rg, captured) as attacker:  # a copy of the cookie is just as dead
        assert not logged_in(attacker)


def test_the_idle_period_is_a_setting(two_orgs: TwoOrgs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROLEGATE_SESSION_IDLE_MINUTES", "5")
    monkeypatch.setenv("ROLEGATE_SESSION_MAX_HOURS", "2")
    from_env = Settings.from_env()
    assert (from_env.session_idle_minutes, from_env.session_max_hours) == (5, 2)
    owner = two_orgs.a1
    rg = bootstrap(replace(two_orgs.rolegate.settings, session_idle_minutes=5))
    try:
        with browser(rg) as web:
            web.login(owner.owner_email, PASSWORD)
            backdate(rg, owner.owner_user, last_seen=timedelta(minutes=4))
            assert logged_in(web)
            backdate(rg, owner.owner_user, last_seen=timedelta(minutes=6))
            assert not logged_in(web)
    finally:
        rg.close()


def test_a_session_ends_at_its_maximum_age_however_busy(two_orgs: TwoOrgs) -> None:
    rg, owner = two_orgs.rolegate, two_orgs.a1
    with browser(rg) as web:
        web.login(owner.owner_email, PASSWORD)
        backdate(rg, owner.owner_user, created=timedelta(hours=11, minutes=59), last_seen=timedelta(seconds=0))
        assert logged_in(web)
        backdate(rg, owner.owner_user, created=timedelta(hours=12, minutes=1), last_seen=timedelta(seconds=0))
        assert not logged_in(web)


def test_a_busy_session_is_written_at_most_once_a_minute(two_orgs: TwoOrgs) -> None:
    rg, owner = two_orgs.rolegate, two_orgs.a1
    with browser(rg) as web:
        web.login(owner.owner_email, PASSWORD)
        [first] = sessions_of(rg, owner.owner_user)
        for _ in range(3):
            assert logged_in(web)
        [after] = sessions_of(rg, owner.owner_user)
        assert after.last_seen_at == first.last_seen_at  # no write per request
        backdate(rg, owner.owner_user, last_seen=timedelta(minutes=2))
        [old] = sessions_of(rg, owner.owner_user)
        assert logged_in(web)
        [seen] = sessions_of(rg, owner.owner_user)
        assert seen.last_seen_at > old.last_seen_at + timedelta(minutes=1)  # recorded again: the idle clock restarts


def test_C8_a_password_reset_revokes_every_session_of_the_user(two_orgs: TwoOrgs) -> None:
    rg, owner, other = two_orgs.rolegate, two_orgs.a1, two_orgs.site_admin_a
    with browser(rg) as laptop, browser(rg) as phone, browser(rg) as someone_else:
        laptop.login(owner.owner_email, PASSWORD)
        phone.login(owner.owner_email, PASSWORD)
        someone_else.login(other.email, PASSWORD)
        captured = cookie_of(laptop)
        token = request_password_reset(rg.uow(), email=owner.owner_email, policy=rg.mail_policy)
        assert token is not None
        reset_password(rg.uow(), token=token, password="a brand new passphrase")
        rows = sessions_of(rg, owner.owner_user)
        assert len(rows) == 2
        assert all(r.revoked_at is not None for r in rows)  # ended server-side, not only in the cookie
        assert not logged_in(laptop)
        assert not logged_in(phone)
        assert logged_in(someone_else)  # only that user's sessions end
    with browser(rg, captured) as attacker:
        assert not logged_in(attacker)


def test_logging_in_again_revokes_the_browsers_previous_session(two_orgs: TwoOrgs) -> None:
    rg, owner = two_orgs.rolegate, two_orgs.a1
    with browser(rg) as web:
        web.login(owner.owner_email, PASSWORD)
        captured = cookie_of(web)
        web.login(owner.owner_email, PASSWORD)
        assert cookie_of(web) != captured
        assert logged_in(web)
    with browser(rg, captured) as attacker:
        assert not logged_in(attacker)
    # The previous session was revoked, then purged with the user's dead sessions: one row left.
    assert [r.revoked_at for r in sessions_of(rg, owner.owner_user)] == [None]


def test_the_session_rules_with_an_injected_clock(two_orgs: TwoOrgs) -> None:
    # Imported here: the module's other tests also run against code without this service.
    from rolegate.services.web_sessions import SessionPolicy, end_session, resume_session, start_session

    rg, owner = two_orgs.rolegate, two_orgs.a1
    policy = SessionPolicy(idle=timedelta(minutes=30), max_age=timedelta(hours=2), touch_every=timedelta(minutes=1))
    t0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
    sid = start_session(rg.uow(), user_id=owner.owner_user, policy=policy, now=t0)

    def alive(at: datetime) -> bool:
        user = resume_session(rg.uow(), token=sid, policy=policy, now=at)
        assert user is None or user.id == owner.owner_user
        return user is not None

    def last_seen() -> datetime:
        [row] = sessions_of(rg, owner.owner_user)
        seen: datetime = row.last_seen_at
        return seen.replace(tzinfo=UTC) if seen.tzinfo is None else seen

    assert alive(t0 + timedelta(seconds=59))
    assert last_seen() == t0  # under a minute: not written
    assert alive(t0 + timedelta(minutes=30))  # exactly the idle period: still alive
    assert last_seen() == t0 + timedelta(minutes=30)
    for step in range(1, 4):  # kept busy, every 29 minutes
        assert alive(t0 + timedelta(minutes=30 + 29 * step))
    assert not alive(t0 + timedelta(minutes=30 + 29 * 3 + 31))  # then idle for 31 minutes
    sid2 = start_session(rg.uow(), user_id=owner.owner_user, policy=policy, now=t0 + timedelta(hours=3))
    assert [r.revoked_at for r in sessions_of(rg, owner.owner_user)] == [None]  # the dead session was purged
    sid = sid2
    for minutes in (29, 58, 87, 116):  # busy, up to 4 minutes before its two hours
        assert alive(t0 + timedelta(hours=3, minutes=minutes))
    assert not alive(t0 + timedelta(hours=5, seconds=1))  # two hours after login, however busy
    sid = start_session(rg.uow(), user_id=owner.owner_user, policy=policy, now=t0 + timedelta(hours=6))
    end_session(rg.uow(), token=sid, now=t0 + timedelta(hours=6, minutes=1))
    assert not alive(t0 + timedelta(hours=6, minutes=2))
    assert not alive(t0 + timedelta(hours=6, minutes=1))
