"""Writes never block decisions: another process's commit (heard as the listener hears
a NOTIFY) is compiled in a worker thread while checks keep being answered from the
snapshot held, within the staleness bound; a `min_revision` of the new revision waits
for it. The compile is slowed (held on an event) to make the window visible."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import start_blocking_portal

from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.engine import Snapshot, compile_snapshot
from rolegate.services import snapshots as snapshots_module
from rolegate.services.snapshots import SnapshotCache
from rolegate.services.workspaces import create_organization, create_workspace
from tests.api.conftest import Api, Tenant, invite, make_tenant

WAIT = 10.0
"""Seconds a step may take before the test gives up (a deadlock, not a slow machine)."""


class SlowCompile:
    """`compile_snapshot` that holds each compile until `release` is set."""

    def __init__(self, real: Callable[..., Snapshot]) -> None:
        self.real = real
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> Snapshot:
        self.started.set()
        assert self.release.wait(WAIT), "the compile was never released"
        return self.real(*args, **kwargs)


def _portal_api(rg: Rolegate, key: str) -> Iterator[Api]:
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(rg)), base_url="http://rolegate.test")
        try:
            yield Api(portal, client, key)
        finally:
            portal.call(client.aclose)


@pytest.fixture(params=[True, False], ids=["behind", "inline"])
def behind(request: pytest.FixtureRequest) -> bool:
    flag: bool = request.param
    return flag


@pytest.fixture
def rolegate(tmp_path: Path, behind: bool) -> Iterator[Rolegate]:
    # A bound far longer than the test: the held snapshot is never past it here (the
    # bound itself is the last test's, on a fake clock).
    rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/t.db", listen=False, compile_behind=behind, max_staleness_ms=600_000))
    rg.create_tables()
    yield rg
    rg.close()


@pytest.fixture
def other(tmp_path: Path, rolegate: Rolegate) -> Iterator[Rolegate]:
    """Another process on the same database: its commits are not heard here."""
    rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/t.db", listen=False))
    yield rg
    rg.close()


@pytest.fixture
def other_api(other: Rolegate, admin_key: str) -> Iterator[Api]:
    yield from _portal_api(other, admin_key)


def _check(t: Tenant, **extra: Any) -> dict[str, Any]:
    r = t.api.without_actor().post(t.url("/check"), json={"member": t.owner, "action": "accounts.view", **extra})
    assert r.status_code == 200, r.text
    answer: dict[str, Any] = r.json()
    return answer


def test_a_check_is_answered_while_a_newer_revision_compiles(
    rolegate: Rolegate, api: Api, other_api: Api, behind: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    natero = make_tenant(api, "natero")
    held = _check(natero)["revision"]
    there = Tenant(natero.id, natero.owner, other_api.as_(actor=natero.owner), natero.revision)
    invite(there, "new@natero.test", "csm")  # committed by the other process
    newer = there.api.get(there.url()).json()["revision"]
    assert newer > held
    slow = SlowCompile(compile_snapshot)
    monkeypatch.setattr(snapshots_module, "compile_snapshot", slow)
    rolegate.snapshots.mark(natero.id, newer)  # what the listener does on the NOTIFY

    with ThreadPoolExecutor(max_workers=2) as pool:
        if behind:
            assert _check(natero)["revision"] == held  # answered at once, from the snapshot held
            assert slow.started.wait(WAIT)  # while the newer revision compiles in a worker thread
            assert _check(natero)["revision"] == held
            batch = natero.api.without_actor().post(natero.url("/check/batch"), json={"checks": [{"member": natero.owner, "action": "accounts.view"}]})
            assert batch.json()["revision"] == held
            waiting: Future[dict[str, Any]] = pool.submit(_check, natero, min_revision=newer)
            assert not _done_within(waiting, 0.3)  # reading one's own write waits for it
            slow.release.set()
            assert waiting.result(WAIT)["revision"] == newer
            assert _check(natero)["revision"] == newer
        else:
            # The old behaviour (ROLEGATE_COMPILE_BEHIND=0): the check itself waits.
            plain = pool.submit(_check, natero)
            assert slow.started.wait(WAIT)
            assert not _done_within(plain, 0.3)
            slow.release.set()
            assert plain.result(WAIT)["revision"] == newer


def _done_within(future: Future[Any], seconds: float) -> bool:
    try:
        future.result(seconds)
    except TimeoutError:
        return False
    return True


def test_past_the_staleness_bound_a_check_waits_for_the_newer_revision(tmp_path: Path) -> None:
    """The snapshot held decides behind a newer revision only until `max_staleness`
    after the database last confirmed it; then `current` gives it up (the check loads)."""
    now = [100.0]
    ran: list[Callable[[], None]] = []
    rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/t.db", listen=False))
    try:
        rg.create_tables()
        org = create_organization(rg.uow(), actor=Actor.system("test"), name="Acme")
        ws = create_workspace(rg.uow(), actor=Actor.system("test"), organization_id=org, preset="natero", name="N", owner_email="o@n.test")
        cache = SnapshotCache(rg.engine, max_staleness=1.0, clock=lambda: now[0], run_behind=ran.append)
        snap = cache.get(ws.workspace.id)
        cache.mark(ws.workspace.id, snap.revision + 1)
        assert cache.fresh(ws.workspace.id) is None  # `fresh` keeps its meaning: not the newest
        assert cache.current(ws.workspace.id) is snap  # within the bound: decides, and ...
        assert len(ran) == 1  # ... one compile is sent behind
        assert cache.current(ws.workspace.id) is snap
        assert len(ran) == 1  # not one per request
        assert cache.current(ws.workspace.id, min_revision=snap.revision + 1) is None
        now[0] += 1.0
        assert cache.current(ws.workspace.id) is None  # past the bound: wait for it
        ran[0]()  # the worker's job: loads what the database has
        assert cache.current(ws.workspace.id) is not None
    finally:
        rg.close()


def test_a_field_decision_that_waits_for_a_compile_waits_off_the_event_loop(
    rolegate: Rolegate, api: Api, other_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fields/check-write` with the new revision's `min_revision` waits for its compile
    in the thread pool: meanwhile the loop answers other checks (a compile on the loop
    would hold them all until it ends)."""
    natero = make_tenant(api, "natero")
    held = _check(natero)["revision"]
    there = Tenant(natero.id, natero.owner, other_api.as_(actor=natero.owner), natero.revision)
    invite(there, "new@natero.test", "csm")
    newer = there.api.get(there.url()).json()["revision"]
    slow = SlowCompile(compile_snapshot)
    monkeypatch.setattr(snapshots_module, "compile_snapshot", slow)

    def write_check() -> httpx.Response:
        body = {"member": natero.owner, "object": "account", "fields": ["name"], "min_revision": newer}
        return natero.api.without_actor().post(natero.url("/fields/check-write"), json=body)

    with ThreadPoolExecutor(max_workers=1) as pool:
        waiting = pool.submit(write_check)
        assert slow.started.wait(WAIT)
        assert _check(natero)["revision"] == held  # the loop is free
        assert not waiting.done()
        slow.release.set()
        assert waiting.result(WAIT).status_code == 200, waiting.result().text


def test_a_load_is_confirmed_from_when_its_read_began(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A commit may land while a snapshot compiles: the snapshot's staleness window starts
    when its read began, not when the compile ended, so serving it behind a newer
    revision (`current`) never outlasts the bound after that commit."""
    now = [100.0]

    def slow_compile(*args: Any, **kwargs: Any) -> Snapshot:
        now[0] += 0.5  # the compile takes half the bound
        return compile_snapshot(*args, **kwargs)

    rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/t.db", listen=False))
    try:
        rg.create_tables()
        org = create_organization(rg.uow(), actor=Actor.system("test"), name="Acme")
        ws = create_workspace(rg.uow(), actor=Actor.system("test"), organization_id=org, preset="natero", name="N", owner_email="o@n.test")
        monkeypatch.setattr(snapshots_module, "compile_snapshot", slow_compile)
        cache = SnapshotCache(rg.engine, max_staleness=1.0, clock=lambda: now[0], run_behind=lambda job: None)
        snap = cache.get(ws.workspace.id)  # read at 100.0, compiled by 100.5
        cache.mark(ws.workspace.id, snap.revision + 1)
        now[0] = 100.99
        assert cache.current(ws.workspace.id) is snap
        now[0] = 101.0
        assert cache.current(ws.workspace.id) is None
    finally:
        rg.close()
