"""Engines for SQLite (embedded default: WAL, foreign keys, immediate write locks)
and PostgreSQL (psycopg 3), directly or through PgBouncer in transaction mode.

Behind a transaction-pooling PgBouncer each transaction (each statement, in autocommit)
may run on another server connection: nothing may outlive a transaction on the server.
So psycopg prepares nothing (`prepare_threshold=None`: a statement prepared on one
server connection is unknown, or already taken, on the next), and the store uses no
session state: no `SET` outside a transaction, advisory locks only `pg_advisory_xact_*`,
temporary tables emptied at commit, LISTEN on a direct connection of its own
(`notify.py`; tests/integration/test_pgbouncer.py checks the source for the rest).

On SQLite a transaction that may write begins with `BEGIN IMMEDIATE` (the write lock,
taken up front); one that only reads (a connection given `READ_ONLY`) begins with a
plain deferred `BEGIN`: in WAL mode a reader sees one consistent snapshot of the file
from its first read to its end and neither waits for a writer nor makes one wait."""

from __future__ import annotations

from typing import Any, Protocol
from weakref import WeakSet

from sqlalchemy import Connection, Engine, create_engine, event

__all__ = ["CONNECT_TIMEOUT", "BATCH", "READ_ONLY", "HoldsStatements", "driver_connection", "is_postgres", "make_engine", "normalize_url", "read_only", "transaction_pooled"]

CONNECT_TIMEOUT = 5
"""Seconds to wait for PostgreSQL to accept a connection."""


READ_ONLY = "rolegate_read_only"
"""Execution option: this connection's transactions only read (SQLite: deferred BEGIN)."""


BATCH = "rolegate.batch"
"""Key of a connection's `info` where the batch of writes running on it puts itself
(`store.write_batches.Batch`)."""


class HoldsStatements(Protocol):
    def send_held(self) -> None: ...


def driver_connection(conn: Connection) -> Any:
    """The driver's connection under `conn`, for what SQLAlchemy does not do (COPY),
    once the statements a batch of writes holds on it are sent: what is done there
    passes no SQLAlchemy event, so no batch's next statement would carry them
    (`store.write_batches.Batch.send_held`)."""
    batch: HoldsStatements | None = conn.info.get(BATCH)
    if batch is not None:
        batch.send_held()
    return conn.connection.driver_connection


def read_only(conn: Connection) -> Connection:
    """Mark `conn` (before its first statement) as one whose transactions only read."""
    return conn.execution_options(**{READ_ONLY: True})


def normalize_url(url: str) -> str:
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


_TRANSACTION_POOLED: WeakSet[Engine] = WeakSet()


def transaction_pooled(engine: Engine) -> bool:
    """Whether `engine` goes through a transaction-pooling PgBouncer: then the store's
    own psycopg connections (the record index's) prepare nothing either."""
    return engine in _TRANSACTION_POOLED


def make_engine(url: str, *, pgbouncer: bool = False, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy's `begin` event issue BEGIN itself (pysqlite's own is deferred).
            dbapi_connection.isolation_level = None
            cur = dbapi_connection.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            if conn.get_execution_options().get(READ_ONLY):
                # A reader: no lock until its first read, then a WAL snapshot that writers
                # do not wait for. Taking the write lock here made every decision that
                # reads (a snapshot load, a record) queue behind every write.
                conn.exec_driver_sql("BEGIN")
                return
            # IMMEDIATE takes the write lock up front: two writers never both read the
            # old seat count and both commit (the PostgreSQL path locks the workspace row).
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # An unreachable host must fail a request in seconds (503), not hang a worker thread
    # for libpq's default of forever.
    connect_args = kwargs.setdefault("connect_args", {})
    connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT)
    if pgbouncer:
        connect_args["prepare_threshold"] = None
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    if pgbouncer:
        _TRANSACTION_POOLED.add(engine)
    return engine
