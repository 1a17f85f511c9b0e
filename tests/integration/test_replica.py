"""PostgreSQL as it is run in production (2/2): reads from a streaming replica.

A private primary and a hot-standby replica made from it with `pg_basebackup -R`
(tests/security/pg_cluster.py). With `ROLEGATE_DATABASE_REPLICA_URL` set, snapshot
loads and revision reads go to the replica; a replica that lacks the revision a read
needs (its replay paused with `pg_wal_replay_pause()`) or lags past the staleness
bound sends the read to the primary, and decisions stay at the right revision; an
unreachable replica sends reads to the primary.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.engine import Record
from rolegate.services import members, records, roles
from rolegate.services.snapshots import SnapshotCache
from rolegate.services.workspaces import create_workspace
from rolegate.store.availability import read_revision
from rolegate.store.database import make_engine
from rolegate.store.migrations import upgrade
from rolegate.store.replica import Replica, ReplicaRead
from tests.integration.test_snapshots import FakeClock
from tests.security.pg_cluster import PgCluster, find_bindir

PLATFORM = Actor.system("replica test")
GRANTS = ["accounts.view_all"]
TOGGLED = "accounts.update"
ACTION = "accounts.bulk_edit"
"""Granted by `accounts.update` only."""


@dataclass
class Pair:
    primary: PgCluster
    replica: PgCluster
    workspace_id: str
    admin: Actor
    role_id: str
    member_id: str
    csm_id: str

    def settings(self, **overrides: object) -> Settings:
        values: dict[str, object] = {"database_url": self.primary.url, "database_replica_url": self.replica.url, "listen": False}
        values.update(overrides)
        return Settings(**values)  # type: ignore[arg-type]  # keys are Settings' fields

    def replica_sql(self, query: str) -> object:
        with psycopg.connect(self.replica.url, autocommit=True) as conn:
            row = conn.execute(query).fetchone()
        return None if row is None else row[0]

    def caught_up(self) -> None:
        """Wait until the replica has replayed everything the primary wrote so far."""
        with psycopg.connect(self.primary.admin_url, autocommit=True) as conn:
            row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
        assert row is not None
        deadline = time.monotonic() + 20
        while not self.replica_sql(f"SELECT pg_last_wal_replay_lsn() >= '{row[0]}'::pg_lsn"):
            assert time.monotonic() < deadline, "the replica did not catch up within 20 s"
            time.sleep(0.02)

    def pause(self) -> None:
        self.replica_sql("SELECT pg_wal_replay_pause()")
        deadline = time.monotonic() + 10
        while self.replica_sql("SELECT pg_get_wal_replay_pause_state()") != "paused":
            assert time.monotonic() < deadline
            time.sleep(0.01)

    def resume(self) -> None:
        self.replica_sql("SELECT pg_wal_replay_resume()")

    def toggle(self, app: Rolegate, granted: bool) -> int:
        """Grant (or take back) ACTION; the revision of the write."""
        role = roles.update_role(app.uow(), actor=self.admin, workspace_id=self.workspace_id, role_id=self.role_id, grants=[*GRANTS, TOGGLED] if granted else GRANTS)
        assert (TOGGLED in role.grants) is granted
        with app.uow() as uow:
            revision = uow.workspaces.revision(self.workspace_id)
        assert revision is not None
        return revision


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    primary = PgCluster(find_bindir())
    replica: PgCluster | None = None
    try:
        primary.init()
        upgrade(primary.url)
        rg = bootstrap(Settings(database_url=primary.url, listen=False))
        try:
            created = create_workspace(rg.uow(), actor=PLATFORM, preset="natero", name="Replica", owner_email="owner@replica.test", seat_capacities={"csm": None})
            ws, admin = created.workspace.id, Actor.member(created.owner.member.id)
            role = roles.create_role(rg.uow(), actor=admin, workspace_id=ws, name="Toggle", level="analyst", grants=GRANTS, landing_page="dashboard")
            member = members.add_member(rg.uow(), actor=admin, workspace_id=ws, email="toggle@replica.test", role_id=role.id).member.id
            with rg.uow() as uow:
                csm_role = next(info.role.id for info in uow.roles.all(ws) if info.role.name == "CSM")
            csm = members.add_member(rg.uow(), actor=admin, workspace_id=ws, email="csm@replica.test", role_id=csm_role).member.id
            records.upsert_record(rg.uow(), actor=PLATFORM, workspace_id=ws, record=Record("account", "acc-0", None, csm))
        finally:
            rg.close()
        replica = PgCluster.replica_of(primary)
        pair = Pair(primary, replica, ws, admin, role.id, member, csm)
        pair.caught_up()
        yield pair
    finally:
        if replica is not None:
            replica.destroy()
        primary.destroy()


def test_replica_and_listen_urls_are_settings() -> None:
    settings = Settings.from_env(database_url="postgresql://p/db")
    assert (settings.database_replica_url, settings.listen_url) == (None, None)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROLEGATE_DATABASE_REPLICA_URL", "postgresql://replica/db")
        mp.setenv("ROLEGATE_LISTEN_URL", "postgresql://direct/db")
        settings = Settings.from_env()
    assert (settings.database_replica_url, settings.listen_url) == ("postgresql://replica/db", "postgresql://direct/db")


def test_a_replica_of_sqlite_is_refused() -> None:
    with pytest.raises(ValueError, match="PostgreSQL streaming replica"):
        bootstrap(Settings(database_url="sqlite://", database_replica_url="sqlite://", listen=False))


def test_snapshots_load_and_revalidate_on_the_replica(pair: Pair) -> None:
    rg = bootstrap(pair.settings())
    try:
        snap = rg.snapshots.get(pair.workspace_id)
        assert (rg.snapshots.loads, rg.snapshots.replica_loads) == (1, 1)
        assert snap.check(pair.csm_id, "accounts.view", ("account", "acc-0")).allowed  # the record index reads the replica
        rg.snapshots.on_reconnect()  # revalidate now
        assert rg.snapshots.get(pair.workspace_id) is snap
        assert (rg.snapshots.reads, rg.snapshots.replica_reads, rg.snapshots.loads) == (1, 1, 1)
    finally:
        rg.close()
    # Proof that the replica alone answers: a primary that cannot be reached at all.
    alone = bootstrap(pair.settings(database_url="postgresql://postgres@127.0.0.1:9/rolegate"))
    try:
        snap = alone.snapshots.get(pair.workspace_id)
        assert snap.revision == pair.replica_sql(f"SELECT revision FROM workspaces WHERE id = '{pair.workspace_id}'")
        assert snap.check(pair.csm_id, "accounts.view", ("account", "acc-0")).allowed
    finally:
        alone.close()


def test_a_lagging_replica_sends_the_reads_that_need_newer_revisions_to_the_primary(pair: Pair) -> None:
    # An hour's bound, and a commit replayed just now: the replica's lag stays small, so
    # only the revision each read needs can send it to the primary.
    writer = bootstrap(pair.settings(max_staleness_ms=3_600_000))
    listening = bootstrap(pair.settings(listen=True, max_staleness_ms=3_600_000))
    try:
        records.upsert_record(writer.uow(), actor=PLATFORM, workspace_id=pair.workspace_id, record=Record("account", "acc-warm", None, None))
        pair.caught_up()
        before = listening.snapshots.get(pair.workspace_id)
        assert listening.snapshots.replica_loads == 1
        assert before.check(pair.member_id, ACTION).allowed is False
        writer.snapshots.get(pair.workspace_id)
        pair.pause()
        try:
            revision = pair.toggle(writer, granted=True)
            records.upsert_record(writer.uow(), actor=PLATFORM, workspace_id=pair.workspace_id, record=Record("account", "acc-new", None, pair.csm_id))
            revision += 1
            assert pair.replica_sql(f"SELECT revision FROM workspaces WHERE id = '{pair.workspace_id}'") == before.revision  # the replica is behind

            # Its own commits: the writer knows the new revision, and the replica lacks it.
            snap = writer.snapshots.get(pair.workspace_id)
            assert snap.revision == revision
            assert snap.check(pair.member_id, ACTION).allowed is True
            assert snap.check(pair.csm_id, "accounts.view", ("account", "acc-new")).allowed  # records from the primary too
            assert writer.snapshots.replica_loads == 1  # the first load only

            # NOTIFY: the listening process hears the revision and reads it from the primary.
            deadline = time.monotonic() + 5
            while listening.snapshots.fresh(pair.workspace_id) is not None:
                assert time.monotonic() < deadline, "no NOTIFY within 5 s"
                time.sleep(0.01)
            snap = listening.snapshots.get(pair.workspace_id)
            assert (snap.revision, snap.check(pair.member_id, ACTION).allowed) == (revision, True)
            assert listening.snapshots.replica_loads == 1

            # min_revision: a process that heard nothing, asked to read that write.
            other = bootstrap(pair.settings(max_staleness_ms=3_600_000))
            try:
                snap = other.snapshots.get(pair.workspace_id, min_revision=revision)
                assert (snap.revision, snap.check(pair.member_id, ACTION).allowed) == (revision, True)
                assert other.snapshots.replica_loads == 0
            finally:
                other.close()

            # Neither: the replica's lag past the staleness bound sends the read to the
            # primary, so the bound holds with a replica too.
            time.sleep(0.4)
            bounded = bootstrap(pair.settings(max_staleness_ms=300))
            try:
                snap = bounded.snapshots.get(pair.workspace_id)
                assert (snap.revision, snap.check(pair.member_id, ACTION).allowed) == (revision, True)
                assert bounded.snapshots.replica_loads == 0
            finally:
                bounded.close()
        finally:
            pair.resume()
        pair.caught_up()
        writer.snapshots.on_reconnect()
        assert writer.snapshots.get(pair.workspace_id).revision == revision
        assert writer.snapshots.replica_reads == 1  # caught up: the replica confirms again
        pair.toggle(writer, granted=False)
    finally:
        listening.close()
        writer.close()


def test_an_unreachable_replica_sends_reads_to_the_primary(pair: Pair, caplog: pytest.LogCaptureFixture) -> None:
    nowhere = bootstrap(pair.settings(database_replica_url="postgresql://postgres@127.0.0.1:9/rolegate"))
    try:
        with caplog.at_level(logging.WARNING, logger="rolegate.incidents"):
            snap = nowhere.snapshots.get(pair.workspace_id)
            nowhere.snapshots.on_reconnect()
            assert nowhere.snapshots.get(pair.workspace_id) is snap
        assert snap.check(pair.csm_id, "accounts.view", ("account", "acc-0")).allowed
        assert (nowhere.snapshots.replica_loads, nowhere.snapshots.replica_reads) == (0, 0)
        assert nowhere.replica is not None
        assert nowhere.replica.failures == 1  # the revalidation did not ask again within the retry interval
        assert [r.getMessage() for r in caplog.records if "[replica]" in r.getMessage()] != []
    finally:
        nowhere.close()
    # A replica that goes away under a snapshot loaded from it: record reads and the
    # next revalidation go to the primary.
    rg = bootstrap(pair.settings())
    try:
        snap = rg.snapshots.get(pair.workspace_id)
        assert rg.snapshots.replica_loads == 1
        pair.replica.stop("immediate")
        try:
            assert snap.check(pair.csm_id, "accounts.view", ("account", "acc-0")).allowed
            rg.snapshots.on_reconnect()
            assert rg.snapshots.get(pair.workspace_id) is snap
            assert rg.snapshots.replica_reads == 0
            assert not rg.snapshots.degraded
        finally:
            pair.replica.start()
    finally:
        rg.close()


class LaggingReplica(Replica):
    """The same database under a second engine, answering with a lag set by the test."""

    lag = 0.0

    def read(self, workspace_id: str) -> ReplicaRead | None:
        return ReplicaRead(read_revision(self.engine, workspace_id), self.lag)


def test_a_replica_confirms_the_state_of_lag_seconds_ago(tmp_path: Path) -> None:
    """The staleness bound counts from when the primary had what the replica shows:
    a snapshot the replica confirms with 0.6 s of lag decides for 0.4 s more (bound 1 s),
    and a replica lagging past the bound is not asked to confirm at all."""
    url = f"sqlite:///{tmp_path / 'replica.db'}"
    app = bootstrap(Settings(database_url=url, listen=False))
    replica = LaggingReplica(make_engine(url))
    try:
        app.create_tables()
        ws = create_workspace(app.uow(), actor=PLATFORM, preset="natero", name="Lag", owner_email="owner@lag.test").workspace.id
        clock = FakeClock()
        cache = SnapshotCache(app.engine, clock=clock, max_staleness=1.0, replica=replica)
        replica.lag = 0.6
        snap = cache.get(ws)
        assert (cache.loads, cache.replica_loads) == (1, 1)
        clock.advance(0.3)
        assert cache.get(ws) is snap
        assert cache.reads == 0  # within 1 s of the state it shows: 0.6 + 0.3
        clock.advance(0.2)
        assert cache.get(ws) is snap
        assert (cache.reads, cache.replica_reads) == (1, 1)  # 1.1 s: asked again, the replica confirmed
        replica.lag = 1.5
        clock.advance(1.0)
        assert cache.get(ws) is snap
        assert (cache.reads, cache.replica_reads) == (2, 1)  # past the bound: the primary confirmed
        clock.advance(0.9)
        assert cache.get(ws) is snap
        assert cache.reads == 2  # confirmed by the primary: a full second from then
    finally:
        replica.engine.dispose()
        app.close()
