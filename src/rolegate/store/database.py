"""Engines for SQLite (embedded default: WAL, foreign keys, immediate write locks)
and PostgreSQL (psycopg 3), directly or through PgBouncer in transaction mode.

Behind a transaction-pooling PgBouncer each transaction (each statement, in autocommit)
may run on another server connection: nothing may outlive a transaction on the server.
So psycopg prepares nothing (`prepare_threshold=None`: a statement prepared on one
server connection is unknown, or already taken, on the next), and the store uses no
session state: no `SET` outside a transaction, advisory locks only `pg_advisory_xact_*`,
temporary tables emptied at commit, LISTEN on a direct connection of its own
(`notify.py`; tests/integration/test_pgbouncer.py checks the source for the rest)."""

from __future__ import annotations

from typing import Any
from weakref import WeakSet

from sqlalchemy import Engine, create_engine, event

__all__ = ["CONNECT_TIMEOUT", "is_postgres", "make_engine", "normalize_url", "transaction_pooled"]

CONNECT_TIMEOUT = 5
"""Seconds to wait for PostgreSQL to accept a connection."""


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
