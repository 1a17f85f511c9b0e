"""Outages degrade, never crash (issue 12, item 9; docs/reliability.md).

The API in process on PostgreSQL, reached through a TCP proxy that the test cuts: every
open connection dropped and new ones refused, as a partition or a database restart
looks from Rolegate. While it is cut: decisions are answered from the cached snapshot
and the cached API key, saying how stale (`Rolegate-Stale`, `Rolegate-Revision`,
`Rolegate-Stale-Age-Ms`); changes answer 503 `store_unavailable` with `Retry-After`;
nothing answers 500; the log gets one line per kind of failure, not one per request.
Restored: the same process writes and decides fresh again, without a restart.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from sqlalchemy.engine import make_url

from rolegate.api.deps import Auth
from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.services.api_keys import create_api_key
from rolegate.services.members import add_member
from rolegate.services.workspaces import create_organization, create_workspace
from rolegate.throttled_log import ThrottledLog
from tests.pg import postgres_url
from tests.security.faults import TcpProxy

ACTION = "accounts.view"


@dataclass
class Outage:
    rolegate: Rolegate
    proxy: TcpProxy
    portal: BlockingPortal
    client: httpx.AsyncClient
    key: str
    workspace_id: str
    owner: str
    csm: str
    """A member whose `accounts.view` is scoped to their assigned accounts."""

    def request(self, method: str, path: str, *, key: str | None = None, json: Any = None, actor: bool = False) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key or self.key}"}
        if actor:
            headers["Rolegate-Actor"] = self.owner
        url = f"/v1/workspaces/{self.workspace_id}{path}"
        return self.portal.call(lambda: self.client.request(method, url, headers=headers, json=json))

    def check(self, **extra: Any) -> httpx.Response:
        return self.request("POST", "/check", json={"member": self.owner, "action": ACTION, **extra})

    def add_role(self, name: str) -> httpx.Response:
        return self.request("POST", "/roles", json={"name": name, "grants": ["accounts.view_all"], "landing_page": "all_accounts"}, actor=True)


OutageFactory = Callable[..., Outage]


@pytest.fixture
def outage() -> Iterator[OutageFactory]:
    stack: list[tuple[Rolegate, TcpProxy, Any]] = []

    def make(*, max_staleness_ms: int = 200, max_outage_ms: int = 60_000) -> Outage:
        db = postgres_url()
        url = db.__enter__()
        target = make_url(url)
        proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
        proxy.start()
        proxied = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        rg = bootstrap(Settings(database_url=proxied, max_staleness_ms=max_staleness_ms, max_outage_ms=max_outage_ms))
        stack.append((rg, proxy, db))
        rg.create_tables()
        org = create_organization(rg.uow(), actor=Actor.system("test"), name="Outage Inc")
        key = create_api_key(rg.uow(), organization_id=org, rights={"admin", "decide"}, name="outage test")
        created = create_workspace(rg.uow(), actor=Actor.system("test"), preset="natero", name="Outage", owner_email="owner@outage.test", organization_id=org)
        csm = add_member(rg.uow(), actor=Actor.system("test"), workspace_id=created.workspace.id, email="csm@outage.test", role_id="csm")
        app = create_app(rg)
        app.state.auth = Auth(rg, key_ttl=0.2)  # keys expire within the test, so the outage path is taken
        portal_cm = start_blocking_portal()
        portal = portal_cm.__enter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rolegate.test")
        stack.append((rg, proxy, _Closer(portal_cm, portal, client)))
        return Outage(rg, proxy, portal, client, key, created.workspace.id, created.owner.member.id, csm.member.id)

    yield make
    for rg, proxy, closer in reversed(stack):
        if isinstance(closer, _Closer):
            closer.close()
            continue
        proxy.cut()
        rg.close()
        closer.__exit__(None, None, None)


class _Closer:
    def __init__(self, portal_cm: Any, portal: BlockingPortal, client: httpx.AsyncClient) -> None:
        self.portal_cm, self.portal, self.client = portal_cm, portal, client

    def close(self) -> None:
        self.portal.call(self.client.aclose)
        self.portal_cm.__exit__(None, None, None)


def incidents(caplog: pytest.LogCaptureFixture) -> Counter[str]:
    """Lines of the incident log, by kind (the `[kind]` each line ends its message with)."""
    kinds: Counter[str] = Counter()
    for rec in caplog.records:
        if rec.name == "rolegate.incidents" and rec.levelno == logging.WARNING:
            kinds[rec.args[1] if isinstance(rec.args, tuple) else "?"] += 1  # type: ignore[index]  # ("%s [%s]%s", message, kind, more)
    return kinds


def wait_until(probe: Callable[[], bool], timeout: float = 15.0) -> float:
    t0 = time.monotonic()
    while not probe():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(0.05)
    return time.monotonic() - t0


def test_an_outage_degrades_decisions_to_the_cache_refuses_changes_and_recovers(outage: OutageFactory, caplog: pytest.LogCaptureFixture) -> None:
    env = outage()
    before = env.check()
    assert before.status_code == 200, before.text
    assert "Rolegate-Stale" not in before.headers  # fresh answers carry no staleness headers
    revision = before.json()["revision"]
    never_seen_key = env.key[:-4] + "abcd"  # well-formed, never verified by this process

    caplog.clear()
    caplog.set_level(logging.WARNING)
    env.proxy.cut()
    time.sleep(0.3)  # past the staleness bound and the key's TTL: both must ask the database, which is gone
    answers: Counter[int] = Counter()
    for _ in range(40):
        r = env.check()
        answers[r.status_code] += 1
        assert r.status_code == 200, r.text
        assert r.json()["revision"] == revision
        assert r.headers["Rolegate-Stale"] == "true"
        assert r.headers["Rolegate-Revision"] == str(revision)
        assert int(r.headers["Rolegate-Stale-Age-Ms"]) >= 200
    member = {"member": env.owner}
    for path, body in (
        ("/check/batch", {"checks": [{"member": env.owner, "action": ACTION}]}),
        ("/lookup", {**member, "action": ACTION, "object": "account"}),
        ("/fields/filter", {**member, "object": "account", "record": {"name": "Acme"}}),
    ):
        r = env.request("POST", path, json=body)
        answers[r.status_code] += 1
        assert r.status_code == 200, (path, r.text)
        assert r.headers["Rolegate-Stale"] == "true", path
    for i in range(10):
        r = env.add_role(f"During the outage {i}")
        answers[r.status_code] += 1
        assert r.status_code == 503, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["code"] == "store_unavailable"
        assert int(r.headers["Retry-After"]) >= 1
    # What the cache cannot answer is refused the same way, never guessed nor 401/500:
    for r in (
        env.check(member=env.csm, record={"type": "account", "id": "acc-1"}),  # this record check reads the record index
        env.check(min_revision=revision + 1),  # a revision this process has not seen
        env.request("POST", "/check", key=never_seen_key, json={"member": env.owner, "action": ACTION}),  # a key never verified here
    ):
        answers[r.status_code] += 1
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "store_unavailable"
    assert set(answers) == {200, 503}

    kinds = incidents(caplog)
    assert kinds["snapshots_unconfirmed"] == 1
    assert sum(n for kind, n in kinds.items() if kind.startswith("store_unavailable:")) >= 1
    assert all(n == 1 for n in kinds.values()), kinds  # one line per kind, not one per request
    assert not [rec for rec in caplog.records if rec.exc_info or rec.levelno >= logging.ERROR]  # no traceback

    env.proxy.restore()  # the database is back: the same process recovers
    recovery = wait_until(lambda: env.add_role("After the outage").status_code == 201)
    assert recovery < 15
    fresh = env.check()
    assert fresh.status_code == 200
    assert fresh.json()["revision"] == revision + 1  # its own write, and no longer stale
    assert "Rolegate-Stale" not in fresh.headers
    assert env.rolegate.snapshots.degraded is False
    listener = env.rolegate.listener
    assert listener is not None
    wait_until(lambda: listener.connects >= 2)  # the listener reconnected by itself
    unknown = env.request("POST", "/check", key=never_seen_key, json={"member": env.owner, "action": ACTION})
    assert unknown.status_code == 401  # with the database back, an unknown key is refused as such


def test_past_the_outage_bound_decisions_are_refused_not_guessed(outage: OutageFactory) -> None:
    env = outage(max_staleness_ms=100, max_outage_ms=600)
    assert env.check().status_code == 200
    confirmed = time.monotonic()
    env.proxy.cut()
    time.sleep(0.2)
    r = env.check()
    assert (r.status_code, r.headers.get("Rolegate-Stale")) == (200, "true")
    time.sleep(max(0.0, confirmed + 0.7 - time.monotonic()))
    r = env.check()
    assert r.status_code == 503, r.text  # never a stale allow without bound
    assert r.json()["code"] == "store_unavailable"
    assert "Retry-After" in r.headers
    env.proxy.restore()
    wait_until(lambda: env.check().status_code == 200)
    assert "Rolegate-Stale" not in env.check().headers


def test_a_revoked_key_stops_within_its_ttl_while_the_database_is_up(outage: OutageFactory) -> None:
    env = outage()
    assert env.check().status_code == 200
    from rolegate.services.api_keys import parse_key, revoke_api_key

    parsed = parse_key(env.key)
    assert parsed is not None
    with env.rolegate.uow() as uow:
        row = uow.api_keys.by_prefix(parsed[0])
    assert row is not None
    revoke_api_key(env.rolegate.uow(), organization_id=row.organization_id, prefix=parsed[0])
    time.sleep(0.25)  # the key TTL of this app (KEY_TTL, 10 s, by default)
    assert env.check().status_code == 401


def test_the_incident_log_says_each_kind_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    log = ThrottledLog(logging.getLogger("rolegate.incidents"), interval=60.0, clock=lambda: now[0])
    caplog.set_level(logging.WARNING)
    assert [log.warning("a", "down") for _ in range(5)] == [True, False, False, False, False]
    assert log.warning("b", "other kind")
    now[0] = 60.0
    assert log.warning("a", "still down")
    assert "(4 more since the last report)" in caplog.records[-1].getMessage()
    log.recovered("a", "back")
    assert log.warning("a", "down again")  # a new outage is reported at once
    assert len(caplog.records) == 5
