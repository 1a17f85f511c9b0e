"""PostgreSQL as it is run in production (1/2): behind PgBouncer in transaction mode.

A private cluster (tests/security/pg_cluster.py) with a PgBouncer of its own in
front (a generated ini, transaction pooling, a pool of a few server connections):
the app's whole write path, its decisions (snapshot loads and the record index),
a bulk record sync (temporary table, COPY, pipeline) and the mail outbox go through
PgBouncer with `ROLEGATE_PGBOUNCER=1`, from several threads at once, so transactions
of different clients share server connections; LISTEN goes direct
(`ROLEGATE_LISTEN_URL`), and a second process (`rolegate serve`) sees the writes.

Without `prepare_threshold=None`, psycopg prepares a statement on one server
connection and runs it on another ("prepared statement ... does not exist" or
"already exists"): the concurrent test fails within its first iterations.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.engine import Record
from rolegate.services import members, record_bulk, records, roles
from rolegate.services.api_keys import create_api_key
from rolegate.services.invitations import invite
from rolegate.services.mail import RenderedEmail
from rolegate.services.outbox import OutboxSender
from rolegate.services.workspaces import create_organization, create_workspace
from rolegate.store.database import make_engine, transaction_pooled
from rolegate.store.migrations import upgrade
from tests.security import pg_cluster
from tests.security.pg_cluster import PgBouncer, PgCluster, find_bindir, find_pgbouncer

SRC = Path(__file__).resolve().parents[2] / "src" / "rolegate"
PLATFORM = Actor.system("pgbouncer test")


@dataclass
class Bounced:
    cluster: PgCluster
    bouncer: PgBouncer
    root: Path

    @property
    def direct(self) -> str:
        return self.cluster.url

    def settings(self, **overrides: object) -> Settings:
        values: dict[str, object] = {"database_url": self.bouncer.url, "pgbouncer": True, "listen_url": self.direct, "secret_key": "pgbouncer-test"}
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]  # keys are Settings' fields


@pytest.fixture(scope="module")
def bounced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bounced]:
    bindir, executable = find_bindir(), find_pgbouncer()
    cluster = PgCluster(bindir)
    bouncer = PgBouncer(cluster, executable, pool_size=3)
    try:
        cluster.init()
        bouncer.start()
        upgrade(bouncer.url)  # migrations too: one transaction, through the pool
        yield Bounced(cluster, bouncer, tmp_path_factory.mktemp("pgbouncer"))
    finally:
        bouncer.stop()
        cluster.destroy()


@pytest.fixture
def app(bounced: Bounced) -> Iterator[Rolegate]:
    rg = bootstrap(bounced.settings())
    try:
        yield rg
    finally:
        rg.close()


def test_pgbouncer_setting_turns_off_prepared_statements(bounced: Bounced, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ROLEGATE_PGBOUNCER", raising=False)
    assert Settings.from_env().pgbouncer is False
    monkeypatch.setenv("ROLEGATE_PGBOUNCER", "1")
    assert Settings.from_env().pgbouncer is True
    pooled, direct = make_engine(bounced.bouncer.url, pgbouncer=True), make_engine(bounced.direct)
    try:
        assert transaction_pooled(pooled)
        assert not transaction_pooled(direct)
        with pooled.connect() as conn:
            assert conn.connection.driver_connection.prepare_threshold is None  # type: ignore[union-attr]  # psycopg's connection
        with direct.connect() as conn:
            assert conn.connection.driver_connection.prepare_threshold == 5  # type: ignore[union-attr]  # direct: psycopg's default, kept
    finally:
        pooled.dispose()
        direct.dispose()


def test_without_pgbouncer_the_tests_skip_saying_how_to_get_it_and_fail_on_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("ROLEGATE_PGBOUNCER_BIN", raising=False)
    monkeypatch.setattr(pg_cluster, "PGBOUNCER_PATHS", [str(tmp_path / "pgbouncer")])
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install pgbouncer"):
        find_pgbouncer()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true: the PgBouncer tests may not be skipped"):
        find_pgbouncer()


def _role(app: Rolegate, workspace_id: str, name: str) -> str:
    with app.uow() as uow:
        return next(info.role.id for info in uow.roles.all(workspace_id) if info.role.name == name)


def _listen_backends(bounced: Bounced) -> list[tuple[int, str | None]]:
    with psycopg.connect(bounced.cluster.admin_url, autocommit=True) as conn:
        rows = conn.execute("SELECT pid, host(client_addr) FROM pg_stat_activity WHERE query ILIKE 'LISTEN %'").fetchall()
    return [(int(pid), addr) for pid, addr in rows]


def test_writes_decisions_and_bulk_sync_from_many_threads_through_transaction_pooling(app: Rolegate, bounced: Bounced) -> None:
    created = create_workspace(app.uow(), actor=PLATFORM, preset="natero", name="Bounced", owner_email="owner@bounced.test", seat_capacities={"csm": None})
    ws = created.workspace.id
    csm = _role(app, ws, "CSM")
    threads = 4
    people = [members.add_member(app.uow(), actor=PLATFORM, workspace_id=ws, email=f"csm{t}@bounced.test", role_id=csm).member.id for t in range(threads)]
    # The bulk path: a temporary table (emptied at commit), COPY and a pipeline, in one transaction.
    written = record_bulk.upsert_records(app.uow(), actor=PLATFORM, workspace_id=ws, records=[Record("account", f"bulk-{k}", None, people[k % threads]) for k in range(50)])
    assert written.created == 50
    again = record_bulk.upsert_records(app.uow(), actor=PLATFORM, workspace_id=ws, records=[Record("account", f"bulk-{k}", None, people[(k + 1) % threads]) for k in range(60)])
    assert (again.created, again.updated) == (10, 50)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(12):
                account = f"acc-{t}-{i}"
                records.upsert_record(app.uow(), actor=PLATFORM, workspace_id=ws, record=Record("account", account, None, people[t]))
                snap = app.snapshots.get(ws)
                # Record-level decisions read the record index: its own connections, each
                # read its own transaction through the pool.
                assert snap.check(people[t], "accounts.view", ("account", account)).allowed
                assert not snap.check(people[(t + 1) % threads], "accounts.view", ("account", account)).allowed
                assert snap.check(people[(t + 1) % threads], "accounts.view", ("account", f"bulk-{t}")).allowed
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert errors == [], errors[0]
    with psycopg.connect(bounced.cluster.admin_url, autocommit=True) as conn:
        backends = conn.execute("SELECT host(client_addr), query FROM pg_stat_activity WHERE datname = 'rolegate'").fetchall()
    pooled = [query for addr, query in backends if addr is None]
    direct = [query for addr, query in backends if addr is not None]
    # Every read and write went through PgBouncer's few server connections (its unix
    # socket); the one direct connection is the listener's (TCP).
    assert 0 < len(pooled) <= 3
    assert len(direct) == 1
    assert direct[0].startswith("LISTEN ")


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, to: str, email: RenderedEmail) -> None:
        self.sent.append((to, email.subject))


def test_the_outbox_queues_and_sends_through_transaction_pooling(app: Rolegate) -> None:
    created = create_workspace(app.uow(), actor=PLATFORM, preset="natero", name="Outbox", owner_email="owner@outbox-bounced.test")
    ws = created.workspace.id
    guest = _role(app, ws, "Guest")
    invited = invite(app.uow(), actor=PLATFORM, workspace_id=ws, email="guest@outbox-bounced.test", role_id=guest, policy=app.mail_policy)
    assert invited.token
    transport = _Recorder()
    sender = OutboxSender(app.uow, transport)
    assert sender.deliver_due() >= 1
    assert [to for to, _ in transport.sent].count("guest@outbox-bounced.test") == 1
    assert sender.deliver_due() == 0  # sent once: the claim and the sent mark were committed through the pool


def _serve(bounced: Bounced, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    log = bounced.root / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", "from rolegate.cli.main import main; main()", "serve", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env},
        )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"rolegate serve exited {proc.returncode}: {log.read_text()}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc, port
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("rolegate serve did not listen within 30 s")


def test_a_second_process_behind_pgbouncer_hears_writes_through_its_direct_listen(app: Rolegate, bounced: Bounced) -> None:
    org = create_organization(app.uow(), actor=PLATFORM, name="Bounced org")
    key = create_api_key(app.uow(), organization_id=org, rights={"admin", "decide"}, name="pgbouncer test")
    created = create_workspace(app.uow(), actor=PLATFORM, preset="natero", name="Two", owner_email="owner@two-bounced.test", organization_id=org)
    ws, admin_id = created.workspace.id, created.owner.member.id
    admin = Actor.member(admin_id)
    role = roles.create_role(app.uow(), actor=admin, workspace_id=ws, name="Toggle", level="analyst", grants=["accounts.view_all"], landing_page="dashboard")
    member = members.add_member(app.uow(), actor=admin, workspace_id=ws, email="toggle@two-bounced.test", role_id=role.id).member.id
    # B: the staleness bound is an hour, so only a NOTIFY heard on the direct LISTEN
    # connection can bring it the write within seconds.
    env = {
        "ROLEGATE_DATABASE_URL": bounced.bouncer.url,
        "ROLEGATE_PGBOUNCER": "1",
        "ROLEGATE_LISTEN_URL": bounced.direct,
        "ROLEGATE_MAX_STALENESS_MS": "3600000",
        "ROLEGATE_SECRET_KEY": "pgbouncer-test",
    }
    proc, port = _serve(bounced, env)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}, timeout=15) as b:
            check = {"member": member, "action": "accounts.bulk_edit"}
            first = b.post(f"/v1/workspaces/{ws}/check", json=check)
            assert first.status_code == 200, first.text
            assert first.json()["allowed"] is False
            updated = roles.update_role(app.uow(), actor=admin, workspace_id=ws, role_id=role.id, grants=["accounts.view_all", "accounts.update"])
            assert "accounts.update" in updated.grants
            deadline = time.monotonic() + 5
            while True:
                body = b.post(f"/v1/workspaces/{ws}/check", json=check).json()
                if body["allowed"]:
                    break
                assert time.monotonic() < deadline, f"B still decides at revision {body['revision']} 5 s after the write"
                time.sleep(0.02)
            # B writes through PgBouncer too; another process on the same settings (whose
            # listener is direct as well, and bound an hour) hears it.
            other = bootstrap(bounced.settings(max_staleness_ms=3_600_000))
            try:
                assert other.snapshots.get(ws).check(member, "accounts.bulk_edit").allowed is True
                revoked = b.patch(f"/v1/workspaces/{ws}/roles/{role.id}", json={"grants": ["accounts.view_all"]}, headers={"Rolegate-Actor": admin_id})
                assert revoked.status_code == 200, revoked.text
                deadline = time.monotonic() + 5
                while (snap := other.snapshots.get(ws)).revision < int(revoked.json()["revision"]):
                    assert time.monotonic() < deadline, "the other process did not hear B's write within 5 s"
                    time.sleep(0.02)
                assert snap.check(member, "accounts.bulk_edit").allowed is False
                addrs = [addr for _, addr in _listen_backends(bounced)]
                assert addrs.count("127.0.0.1") == len(addrs) == 3, addrs  # the app's, B's and the other's: all direct
            finally:
                other.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


SESSION_STATE = {
    "a session-level SET (only SET LOCAL, inside a transaction)": re.compile(r"""["'](?:SET|set)\s+(?!LOCAL\b|local\b|TRANSACTION\b)(?:SESSION\s+)?\w+\s*(?:=|TO\b)"""),
    "a session-level advisory lock (only pg_advisory_xact_lock)": re.compile(r"pg_(?:try_)?advisory_lock(?:_shared)?\b"),
    "LISTEN outside store/notify.py (its connection is direct)": re.compile(r"""["']LISTEN\s"""),
    "a PREPARE statement": re.compile(r"""["']PREPARE\s"""),
    "a temporary table kept past its transaction": re.compile(r"CREATE TEMPORARY TABLE(?![^\"']*ON COMMIT (?:DELETE ROWS|DROP))"),
}


def test_the_store_keeps_no_session_state_a_pooled_connection_would_lose() -> None:
    """Transaction pooling hands each transaction any server connection: nothing the
    code relies on may outlive one (pgbouncer.org/features.html)."""
    found: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for what, pattern in SESSION_STATE.items():
            for match in pattern.finditer(text):
                if what.startswith("LISTEN") and path == SRC / "store" / "notify.py":
                    continue
                found.append(f"{path.relative_to(SRC)}: {what}: {match.group(0)!r}")
    assert found == []


def test_the_session_state_patterns_catch_what_they_forbid() -> None:
    samples = {
        "a session-level SET (only SET LOCAL, inside a transaction)": ['"SET statement_timeout = 5"', "'SET search_path TO x'"],
        "a session-level advisory lock (only pg_advisory_xact_lock)": ["SELECT pg_advisory_lock(1)", "pg_try_advisory_lock(2)"],
        "LISTEN outside store/notify.py (its connection is direct)": ['"LISTEN rolegate"'],
        "a PREPARE statement": ['"PREPARE q AS SELECT 1"'],
        "a temporary table kept past its transaction": ['"CREATE TEMPORARY TABLE s (x int)"'],
    }
    for what, texts in samples.items():
        for text in texts:
            assert SESSION_STATE[what].search(text), (what, text)
    assert not SESSION_STATE["a session-level SET (only SET LOCAL, inside a transaction)"].search('"SET LOCAL statement_timeout = 5"')
    assert not SESSION_STATE["a session-level advisory lock (only pg_advisory_xact_lock)"].search("pg_advisory_xact_lock(1)")
    assert not SESSION_STATE["a temporary table kept past its transaction"].search('"CREATE TEMPORARY TABLE IF NOT EXISTS s (x int) ON COMMIT DELETE ROWS"')
