"""Record checks on the fast path (issue 18): a check on a record whose facts are in the
workspace's record cache is answered on the event loop without reading the database,
and every answer equals the one a live read of the record index gives (the slow path:
a second process on the same database with no record cache), across every write that
changes a record's facts: assignment, reassignment, unassignment, a parent change, a
delete (its children with it), a transfer of a member's records, bulk writes. A write
is seen by the writer's next decision (`min_revision`) and by another process within
the staleness bound (PostgreSQL: at once, by NOTIFY)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from prometheus_client import REGISTRY
from starlette.concurrency import run_in_threadpool

from rolegate.api import fast
from rolegate.api.routes.decisions import render
from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.engine import RecordRef
from rolegate.services.api_keys import create_api_key
from rolegate.services.workspaces import create_organization
from rolegate.store import record_index
from tests.api.conftest import Api, Tenant, invite, make_tenant
from tests.pg import postgres_url
from tests.statements import statements

T = TypeVar("T")

ACTIONS = ("accounts.view", "accounts.update", "tasks.view", "tasks.update", "task_comments.view")
OBJECT_OF = {"accounts": "account", "tasks": "task", "task_comments": "task_comment"}
REFS = [(kind, f"{prefix}-{name}") for kind, prefix in (("account", "a"), ("task", "t"), ("task_comment", "c")) for name in ("own", "free", "other")]
WAIT = 10.0


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/t.db"
        return
    with postgres_url() as url:
        yield url


@pytest.fixture
def rolegate(database_url: str) -> Iterator[Rolegate]:
    """The API's process. A staleness bound longer than any test: what it sees of
    another process's writes comes from NOTIFY, or from `min_revision`."""
    rg = bootstrap(Settings(database_url=database_url, listen=False, max_staleness_ms=600_000))
    rg.create_tables()
    yield rg
    rg.close()


@pytest.fixture
def live(database_url: str, rolegate: Rolegate) -> Iterator[Rolegate]:
    """The slow path: another process on the same database, reading each record live."""
    rg = bootstrap(Settings(database_url=database_url, listen=False, record_cache_size=0))
    yield rg
    rg.close()


@pytest.fixture
def csb(api: Api) -> Tenant:
    return make_tenant(api, "customersuccessbox")


def _people(t: Tenant) -> tuple[str, str, str]:
    """Two CSMs (scope: assigned and unassigned accounts, C3) and a super manager (all)."""
    return invite(t, "csm@acme.test", "csm"), invite(t, "other@acme.test", "csm"), invite(t, "boss@acme.test", "super_manager")


def _world(t: Tenant, csm: str, other: str) -> int:
    records: list[dict[str, Any]] = []
    for name, assignee in (("own", csm), ("free", None), ("other", other)):
        records.append({"type": "account", "id": f"a-{name}", "assignee": assignee})
        records.append({"type": "task", "id": f"t-{name}", "parent": {"type": "account", "id": f"a-{name}"}})
        records.append({"type": "task_comment", "id": f"c-{name}", "parent": {"type": "task", "id": f"t-{name}"}})
    r = t.api.post(t.url("/records/bulk"), json={"records": records})
    assert r.status_code == 200, r.text
    revision: int = r.json()["revision"]
    return revision


def _checks(members: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {"member": m, "action": a, "record": {"type": kind, "id": rid}}
        for m in members
        for a in ACTIONS
        for kind, rid in REFS
        if OBJECT_OF[a.partition(".")[0]] == kind
    ]


def _slow(live: Rolegate, t: Tenant, revision: int, check: dict[str, Any]) -> dict[str, Any]:
    """The live read's answer, as `/check` renders it."""
    snap = live.snapshots.get(t.id, min_revision=revision)
    d = snap.check(check["member"], check["action"], RecordRef(check["record"]["type"], check["record"]["id"]))
    answer: dict[str, Any] = json.loads(render(d))
    return answer | {"revision": d.revision}


def _same_as_live(t: Tenant, live: Rolegate, revision: int, members: tuple[str, ...]) -> list[bool]:
    """Every check, alone and in one batch, fast path against live reads: equal. Each
    is asked twice (a miss, then a hit). The allowed flags, for the test to read."""
    checks = _checks(members)
    api = t.api.without_actor()
    expected = [_slow(live, t, revision, c) for c in checks]
    for c, want in zip(checks, expected, strict=True):
        for _ in range(2):
            r = api.post(t.url("/check"), json=c | {"min_revision": revision})
            assert r.status_code == 200, r.text
            assert r.json() == want, c
    r = api.post(t.url("/check/batch"), json={"checks": checks, "min_revision": revision})
    assert r.status_code == 200, r.text
    assert r.json()["results"] == [{k: v for k, v in w.items() if k != "revision"} for w in expected]
    for c, want in zip(checks, expected, strict=True):
        subject = {"type": "user", "id": c["member"]}
        body = {"subject": subject, "action": {"name": c["action"]}, "resource": c["record"]}
        r = api.post("/access/v1/evaluation", json=body, headers={"Rolegate-Workspace": t.id})
        assert r.status_code == 200, r.text
        assert r.json() == {"decision": want["allowed"]}, c
    return [bool(w["allowed"]) for w in expected]


def _allowed(t: Tenant, member: str, action: str, kind: str, rid: str, revision: int | None = None) -> bool:
    body: dict[str, Any] = {"member": member, "action": action, "record": {"type": kind, "id": rid}}
    if revision is not None:
        body["min_revision"] = revision
    r = t.api.without_actor().post(t.url("/check"), json=body)
    assert r.status_code == 200, r.text
    allowed: bool = r.json()["allowed"]
    return allowed


def test_answers_equal_live_reads_across_every_change_of_a_record(csb: Tenant, live: Rolegate) -> None:
    csm, other, boss = _people(csb)
    members = (csm, other, boss)
    revision = _world(csb, csm, other)
    seen = [_same_as_live(csb, live, revision, members)]

    def write(method: Callable[..., httpx.Response], path: str, body: dict[str, Any] | None = None) -> None:
        nonlocal revision
        r = method(csb.url(path), json=body) if body is not None else method(csb.url(path))
        assert r.status_code == 200, r.text
        revision = r.json()["revision"]
        seen.append(_same_as_live(csb, live, revision, members))

    assert _allowed(csb, csm, "task_comments.view", "task_comment", "c-free", revision)  # unassigned: in the CSM's scope (C3)
    write(csb.api.put, "/records/account/a-free/assignee", {"assignee": other})  # assign
    assert not _allowed(csb, csm, "task_comments.view", "task_comment", "c-free", revision)  # its grandparent went to another CSM (C7)
    write(csb.api.put, "/records/account/a-other/assignee", {"assignee": csm})  # reassign
    assert _allowed(csb, csm, "tasks.view", "task", "t-other", revision)
    write(csb.api.put, "/records/account/a-own/assignee", {"assignee": None})  # unassign
    write(csb.api.put, "/records/task/t-free", {"parent": {"type": "account", "id": "a-other"}})  # parent change
    assert _allowed(csb, csm, "tasks.view", "task", "t-free", revision)
    write(csb.api.put, "/records/account/a-free", {"assignee": csm})  # an upsert that assigns
    write(csb.api.delete, "/records/account/a-other")  # its tasks (t-other, and t-free now) and their comments go too
    assert not _allowed(csb, csm, "tasks.view", "task", "t-free", revision)
    write(csb.api.post, "/records/bulk", {"records": [{"type": "task", "id": "t-free", "parent": {"type": "account", "id": "a-free"}}]})
    write(csb.api.post, f"/members/{csm}/transfer", {"to": other})  # every record of the CSM
    write(csb.api.post, "/records/delete", {"records": [{"type": "account", "id": "a-own"}]})
    assert len({tuple(s) for s in seen}) > 5  # the answers did change along the way


def test_a_hit_is_answered_on_the_loop_without_reading_the_database(csb: Tenant, rolegate: Rolegate, monkeypatch: pytest.MonkeyPatch) -> None:
    csm, other, _ = _people(csb)
    revision = _world(csb, csm, other)
    offloaded: list[object] = []

    async def counted(func: Callable[..., T], *args: Any) -> T:
        offloaded.append(func)
        return await run_in_threadpool(func, *args)

    fetched: list[str] = []
    real_fetch = record_index._Readers.fetch

    def fetch(self: record_index._Readers, query: str, params: dict[str, str]) -> Any:
        fetched.append(query)  # PostgreSQL's record reads bypass SQLAlchemy (own connections)
        return real_fetch(self, query, params)

    monkeypatch.setattr(fast, "run_in_threadpool", counted)  # the fast path's hop to a worker thread
    monkeypatch.setattr(record_index._Readers, "fetch", fetch)
    api = csb.api.without_actor()
    api.post(csb.url("/check"), json={"member": csm, "action": "accounts.view"})  # the key verified and cached
    with statements(rolegate) as seen:
        assert _allowed(csb, csm, "task_comments.view", "task_comment", "c-own", revision)  # a miss: c-own, t-own, a-own read, then held
    assert len(offloaded) == 1
    assert seen or fetched  # the miss did read the database
    offloaded.clear()
    fetched.clear()
    before = _hits()
    with statements(rolegate) as seen:
        assert _allowed(csb, csm, "task_comments.view", "task_comment", "c-own", revision)
        assert not _allowed(csb, other, "task_comments.view", "task_comment", "c-own", revision)
        assert _allowed(csb, csm, "tasks.view", "task", "t-own")
        assert not _allowed(csb, other, "accounts.view", "account", "a-own")
        held = [{"member": m, "action": "accounts.view", "record": {"type": "account", "id": "a-own"}} for m in (csm, other)]
        r = api.post(csb.url("/check/batch"), json={"checks": held})
        assert r.status_code == 200
        assert [x["allowed"] for x in r.json()["results"]] == [True, False]
        body = {"subject": {"type": "user", "id": csm}, "action": {"name": "tasks.view"}, "resource": {"type": "task", "id": "t-own"}}
        r = api.post("/access/v1/evaluation", json=body, headers={"Rolegate-Workspace": csb.id})
        assert r.json() == {"decision": True}
    assert (seen, fetched, offloaded) == ([], [], [])  # no SQL, no record read, no worker thread
    assert _hits() >= before + 6


def _hits() -> float:
    return REGISTRY.get_sample_value("rolegate_record_cache_lookups_total", {"result": "hit"}) or 0.0


def test_the_record_cache_is_bounded_per_workspace(database_url: str, tmp_path: Path) -> None:
    rg = bootstrap(Settings(database_url=database_url, listen=False, record_cache_size=4))
    rg.create_tables()
    try:
        app = create_app(rg)
        org = create_organization(rg.uow(), actor=Actor.system("test"), name="Acme")
        key = create_api_key(rg.uow(), organization_id=org, rights={"admin", "decide"}, name="test admin")
        with start_blocking_portal() as portal:
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rolegate.test")
            try:
                t = make_tenant(Api(portal, client, key), "customersuccessbox")
                csm, other, _ = _people(t)
                revision = _world(t, csm, other)
                for kind, rid in REFS:
                    action = next(a for a in ACTIONS if OBJECT_OF[a.partition(".")[0]] == kind)
                    _allowed(t, csm, action, kind, rid, revision)
                    assert rg.snapshots.records_held(t.id) <= 4
                assert rg.snapshots.records_held(t.id) == 4
            finally:
                portal.call(client.aclose)
    finally:
        rg.close()


@contextmanager
def _portal_api(rg: Rolegate, key: str) -> Iterator[Api]:
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(rg)), base_url="http://rolegate.test")
        try:
            yield Api(portal, client, key)
        finally:
            portal.call(client.aclose)


def _until(predicate: Callable[[], bool], within: float) -> float:
    """Seconds until `predicate` held; fails past `within`."""
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < within, "not seen in time"
        time.sleep(0.01)
    return time.monotonic() - started


def test_a_write_of_another_process_is_seen_within_the_staleness_bound(database_url: str, csb: Tenant, admin_key: str) -> None:
    """The other process hears nothing (no LISTEN): it sees the write once its snapshot
    is past the bound and revalidated, though the record was held in its memory."""
    csm, other, _ = _people(csb)
    _world(csb, csm, other)
    reader = bootstrap(Settings(database_url=database_url, listen=False, max_staleness_ms=300))
    try:
        with _portal_api(reader, admin_key) as api:
            t = Tenant(csb.id, csb.owner, api, csb.revision)
            assert _allowed(t, csm, "tasks.view", "task", "t-own")  # held in the reader's record cache now
            r = csb.api.put(csb.url("/records/account/a-own/assignee"), json={"assignee": other})
            assert r.status_code == 200, r.text
            _until(lambda: not _allowed(t, csm, "tasks.view", "task", "t-own"), WAIT)
    finally:
        reader.close()


def test_postgresql_another_process_sees_the_write_by_notify(csb: Tenant, admin_key: str, database_url: str) -> None:
    """A reader that LISTENs, with a staleness bound of an hour: only the NOTIFY of the
    writer's commit can make it see the write, and it does, promptly."""
    if not database_url.startswith("postgresql"):
        pytest.skip("NOTIFY is PostgreSQL's")
    csm, other, _ = _people(csb)
    _world(csb, csm, other)
    reader = bootstrap(Settings(database_url=database_url, listen=True, max_staleness_ms=3_600_000))
    try:
        assert reader.listener is not None
        _until(lambda: reader.listener is not None and reader.listener.connects >= 1, WAIT)  # LISTEN in place before the write
        with _portal_api(reader, admin_key) as api:
            t = Tenant(csb.id, csb.owner, api, csb.revision)
            assert not _allowed(t, other, "task_comments.view", "task_comment", "c-own")
            r = csb.api.put(csb.url("/records/account/a-own/assignee"), json={"assignee": other})
            assert r.status_code == 200, r.text
            _until(lambda: _allowed(t, other, "task_comments.view", "task_comment", "c-own"), WAIT)
            r = csb.api.delete(csb.url("/records/task/t-own"))
            assert r.status_code == 200, r.text
            _until(lambda: not _allowed(t, other, "task_comments.view", "task_comment", "c-own"), WAIT)
    finally:
        reader.close()


def test_the_writers_min_revision_sees_its_write_at_once(csb: Tenant) -> None:
    """C3: a CSM views their accounts and the unassigned ones, not another CSM's."""
    csm, other, _ = _people(csb)
    revision = _world(csb, csm, other)
    assert _allowed(csb, csm, "accounts.view", "account", "a-own", revision)
    for assignee, expected in ((other, False), (csm, True), (None, True), (other, False)):
        r = csb.api.put(csb.url("/records/account/a-own/assignee"), json={"assignee": assignee})
        assert r.status_code == 200, r.text
        assert _allowed(csb, csm, "accounts.view", "account", "a-own", r.json()["revision"]) is expected


def test_a_write_of_this_process_keeps_the_record_cache_and_moves_what_it_wrote(
    csb: Tenant, rolegate: Rolegate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """C3 after this process's own assignment: the snapshot its write compiled (no
    reload) answers from the record cache caught up to the write, the moved record
    as written, the others still held (no read)."""
    csm, other, _ = _people(csb)
    revision = _world(csb, csm, other)
    assert _allowed(csb, csm, "accounts.view", "account", "a-free", revision)  # a miss: now held
    assert _allowed(csb, csm, "accounts.view", "account", "a-own", revision)
    r = csb.api.put(csb.url("/records/account/a-own/assignee"), json={"assignee": other})
    assert r.status_code == 200, r.text
    written = r.json()["revision"]
    assert not _allowed(csb, csm, "accounts.view", "account", "a-own", written)
    fetched: list[str] = []
    real_fetch = record_index._Readers.fetch

    def fetch(self: record_index._Readers, query: str, params: dict[str, str]) -> Any:
        fetched.append(query)
        return real_fetch(self, query, params)

    monkeypatch.setattr(record_index._Readers, "fetch", fetch)
    with statements(rolegate) as seen:
        assert _allowed(csb, csm, "accounts.view", "account", "a-free", written)
    assert (seen, fetched) == ([], [])
