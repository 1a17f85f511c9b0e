"""Nothing leaks by timing or lockout (issue 12, item 11).

- A login costs one argon2 verification whether the email is unknown, belongs to a
  user without a password (invited, not accepted yet) or to a user with one: counted
  through the hasher (`services.passwords.hasher`), not timed, so the test cannot flake.
- A reset request answers the same, after the same time, whether the email exists:
  the pacing is checked against a stopwatch that records the wait instead of sleeping.
- Failed logins are throttled per (account, client): an attacker failing 100 times for
  the victim from one address does not stop the victim from another; the wait doubles
  at each further failure; an address failing across many accounts is stopped too.
Over the admin UI's login form and over the services."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.errors import RateLimitedError
from rolegate.domain.workspace import Actor
from rolegate.services import members, password_reset
from rolegate.services.login_protection import Limit, LoginGuard, RateLimiter, log_in
from rolegate.services.logins import authenticate_user
from rolegate.services.workspaces import create_workspace
from tests.web.conftest import Web, one, soup

PLATFORM = Actor.system("test")
VICTIM, VICTIM_PASSWORD = "victim@timing.test", "the victim's password"
INVITED = "invited@timing.test"
"""A user with no password yet."""
UNKNOWN = "nobody@timing.test"
T0 = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass
class Argon2Counter:
    """Counts the argon2 verifications performed anywhere in the process (every
    `PasswordHasher`). A hash argon2 cannot read is refused before any hashing work,
    so that call is not counted."""

    verifications: int = 0


@pytest.fixture
def hasher(monkeypatch: pytest.MonkeyPatch) -> Argon2Counter:
    counter = Argon2Counter()
    real = PasswordHasher.verify

    def verify(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> Literal[True]:
        try:
            ok = real(self, hash, password)
        except InvalidHashError:
            raise
        except VerificationError:
            counter.verifications += 1
            raise
        counter.verifications += 1
        return ok

    monkeypatch.setattr(PasswordHasher, "verify", verify)
    return counter


@pytest.fixture
def rg(tmp_path: Path) -> Iterator[Rolegate]:
    app = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/timing.db", listen=False, secret_key="timing"))
    app.create_tables()
    ws = create_workspace(app.uow(), actor=PLATFORM, preset="natero", name="Natero", owner_email=VICTIM, owner_password=VICTIM_PASSWORD).workspace.id
    members.invite_member(app.uow(), actor=PLATFORM, workspace_id=ws, email=INVITED, role_id="csm")
    with app.uow() as uow:
        invited = uow.users.by_email(INVITED)
    assert invited is not None
    assert not invited.password_hash  # the premise: no password
    yield app
    app.close()


@dataclass
class Clients:
    """Browsers without JavaScript, each from its own address."""

    portal: BlockingPortal
    rolegate: Rolegate
    open: list[httpx.AsyncClient] = field(default_factory=list)

    def from_address(self, ip: str) -> Web:
        transport = httpx.ASGITransport(app=create_app(self.rolegate), client=(ip, 50_000))
        client = httpx.AsyncClient(transport=transport, base_url="http://rolegate.test")
        self.open.append(client)
        return Web(self.portal, client)


@pytest.fixture
def clients(rg: Rolegate) -> Iterator[Clients]:
    with start_blocking_portal() as portal:
        c = Clients(portal, rg)
        try:
            yield c
        finally:
            for client in c.open:
                portal.call(client.aclose)


def _login(web: Web, email: str, password: str) -> httpx.Response:
    return web.post("/login", {"email": email, "password": password, "next": "/"})


# -- one argon2 verification per login, whoever the email belongs to -------------------


def test_every_login_costs_one_argon2_verification_over_the_service(rg: Rolegate, hasher: Argon2Counter) -> None:
    cases = [(UNKNOWN, "a guess"), (INVITED, "a guess"), (VICTIM, "a wrong guess"), (VICTIM, VICTIM_PASSWORD)]
    for address, password in cases:
        before = hasher.verifications
        user = authenticate_user(rg.uow(), email=address, password=password)
        assert hasher.verifications - before == 1, f"{address}: {hasher.verifications - before} argon2 verifications"
        assert (user is not None) == (password == VICTIM_PASSWORD)


def test_a_user_with_an_unreadable_hash_costs_the_same_verification(rg: Rolegate, hasher: Argon2Counter) -> None:
    with rg.uow() as uow:
        row = uow.users.by_email(VICTIM)
        assert row is not None
        uow.team.set_password(str(row.id), "not-an-argon2-hash", end_sessions=False)
        uow.commit()
    before = hasher.verifications
    assert authenticate_user(rg.uow(), email=VICTIM, password=VICTIM_PASSWORD) is None
    assert hasher.verifications - before == 1


def test_the_login_form_answers_unknown_password_less_and_wrong_alike_after_one_verification(clients: Clients, hasher: Argon2Counter) -> None:
    web = clients.from_address("198.51.100.7")
    answers = []
    for address in (UNKNOWN, INVITED, VICTIM):
        before = hasher.verifications
        r = _login(web, address, "a wrong guess")
        assert hasher.verifications - before == 1, address
        answers.append((r.status_code, one(soup(r), "#login-error").get_text(strip=True)))
    assert answers == [answers[0]] * 3
    assert answers[0][0] == 401


# -- a reset request: the same answer, after the same time --------------------------------


@dataclass
class Stopwatch:
    """The real clock, plus the waits the pacing asked for (recorded, not slept)."""

    waited: float = 0.0
    waits: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return time.monotonic() + self.waited

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.waited += seconds


def test_a_reset_request_ends_at_the_same_time_whether_the_email_exists(rg: Rolegate) -> None:
    took = {}
    for address in (VICTIM, INVITED, UNKNOWN):
        watch = Stopwatch()
        pace = password_reset.Pace(seconds=5.0, clock=watch.clock, sleep=watch.sleep)
        start = watch.clock()
        token = password_reset.request_password_reset(rg.uow(), email=address, policy=rg.mail_policy, pace=pace)
        assert (token is not None) == (address == VICTIM)  # the work differs ...
        took[address] = watch.clock() - start
        assert len(watch.waits) == 1
    # ... the answer's time does not: each ends 5 s after it began (to the clock's grain).
    assert all(abs(t - 5.0) < 0.01 for t in took.values()), took


def test_the_reset_page_says_the_same_for_known_password_less_and_unknown_emails(clients: Clients) -> None:
    web = clients.from_address("198.51.100.8")
    web.get("/password-reset")
    pages = []
    for address in (VICTIM, INVITED, UNKNOWN):
        r = web.post("/password-reset", {"email": address})
        pages.append((r.status_code, one(soup(r), "#reset-sent").get_text(" ", strip=True), soup(r).select("#reset-error")))
    assert pages == [pages[0]] * 3


# -- throttling per (account, client), progressive --------------------------------------


def test_an_attacker_failing_100_times_from_one_address_does_not_lock_the_victim_out_elsewhere(clients: Clients) -> None:
    attacker, victim = clients.from_address("203.0.113.66"), clients.from_address("192.0.2.10")
    statuses = [_login(attacker, VICTIM, f"guess {i}").status_code for i in range(100)]
    assert statuses[:5] == [401] * 5
    assert set(statuses[5:]) == {429}  # the attacker is slowed down ...
    assert _login(victim, VICTIM, VICTIM_PASSWORD).status_code == 303  # ... the victim is not
    r = _login(attacker, VICTIM, VICTIM_PASSWORD)
    assert r.status_code == 429  # from there, even the password waits
    assert int(r.headers["Retry-After"]) > 0


def test_over_the_service_failures_from_one_address_do_not_lock_the_account_elsewhere(rg: Rolegate) -> None:
    guard, refused = LoginGuard(), 0
    for i in range(100):
        try:
            log_in(rg.uow, guard, email=VICTIM, password=f"guess {i}", ip="203.0.113.66", now=T0 + timedelta(seconds=i))
        except RateLimitedError:
            refused += 1
    # 5 free guesses (seconds 0-4), then one at 4 + 15 s and one at 19 + 30 s; the next
    # would be at 49 + 60 s: 7 guesses in 100 seconds, the other 93 refused unchecked.
    assert refused == 93
    assert log_in(rg.uow, guard, email=VICTIM, password=VICTIM_PASSWORD, ip="192.0.2.10", now=T0 + timedelta(seconds=100)) is not None
    with pytest.raises(RateLimitedError):
        log_in(rg.uow, guard, email=VICTIM, password=VICTIM_PASSWORD, ip="203.0.113.66", now=T0 + timedelta(seconds=100))


def test_the_wait_doubles_with_each_further_failure_up_to_a_cap(rg: Rolegate) -> None:
    guard, ip, at = LoginGuard(), "203.0.113.66", T0
    for _ in range(5):
        assert log_in(rg.uow, guard, email=VICTIM, password="wrong", ip=ip, now=at) is None
    waits = []
    for _ in range(9):
        with pytest.raises(RateLimitedError) as info:
            log_in(rg.uow, guard, email=VICTIM, password=VICTIM_PASSWORD, ip=ip, now=at)
        waits.append(info.value.retry_after)
        at += timedelta(seconds=info.value.retry_after)  # wait as told, then fail once more
        assert log_in(rg.uow, guard, email=VICTIM, password="wrong", ip=ip, now=at) is None
    assert waits == [15, 30, 60, 120, 240, 480, 900, 900, 900]
    # Waiting it out and getting it right starts over.
    with pytest.raises(RateLimitedError) as info:
        log_in(rg.uow, guard, email=VICTIM, password=VICTIM_PASSWORD, ip=ip, now=at)
    assert log_in(rg.uow, guard, email=VICTIM, password=VICTIM_PASSWORD, ip=ip, now=at + timedelta(seconds=info.value.retry_after)) is not None
    assert log_in(rg.uow, guard, email=VICTIM, password="typo", ip=ip, now=at + timedelta(hours=1)) is None


def test_one_address_failing_across_many_accounts_is_stopped_without_stopping_others(rg: Rolegate) -> None:
    # The per-address limit made small (3, not 30): each failure costs an argon2 verification.
    guard, sprayer = LoginGuard(login_ip=RateLimiter(Limit(3, 15 * 60))), "203.0.113.99"
    for i in range(3):
        assert log_in(rg.uow, guard, email=f"user{i}@timing.test", password="Spring2030!", ip=sprayer, now=T0) is None
    with pytest.raises(RateLimitedError):
        log_in(rg.uow, guard, email="user3@timing.test", password="Spring2030!", ip=sprayer, now=T0)
    assert log_in(rg.uow, guard, email=VICTIM, password=VICTIM_PASSWORD, ip="192.0.2.10", now=T0) is not None
