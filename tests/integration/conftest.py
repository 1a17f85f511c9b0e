"""Integration fixtures: every test runs twice, on SQLite (a temporary file) and on
PostgreSQL (the real server, a database made for this test session).

PostgreSQL is found through ``ROLEGATE_TEST_DATABASE_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``, used only to create and drop the
test database). When it cannot be reached the PostgreSQL half is skipped with the way
to get it, except on CI (``CI=true``), where it fails: CI must never go green on
SQLite alone.

Stand-in for ``tests/pg.py`` (being written elsewhere) with the same contract; when it
lands, ``pg_server`` and ``fresh_pg_database`` give way to it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings

DATABASE_URL_ENV = "ROLEGATE_TEST_DATABASE_URL"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BACKENDS = ("sqlite", "postgresql")


def _admin_conninfo() -> str:
    """The server URL as psycopg takes it (SQLAlchemy's driver suffix dropped)."""
    url = make_url(os.environ.get(DATABASE_URL_ENV, DEFAULT_DATABASE_URL))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _unreachable(conninfo: str, error: Exception) -> None:
    where = make_url(conninfo).render_as_string(hide_password=True)
    message = (
        f"PostgreSQL is not reachable at {where} ({error.__class__.__name__}: {str(error).strip()}). "
        f"Start PostgreSQL there, or set {DATABASE_URL_ENV}=postgresql://USER@HOST:PORT/DB "
        "to a server where that user may create databases."
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true: the PostgreSQL tests may not be skipped. {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL server's admin URL, checked reachable (or skip / fail, see above)."""
    conninfo = _admin_conninfo()
    try:
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        _unreachable(conninfo, exc)
    return conninfo


@contextmanager
def fresh_pg_database(server: str) -> Iterator[str]:
    """A new, uniquely named, empty database on `server`, dropped afterwards."""
    name = f"rolegate_test_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def pg_database_url(pg_server: str) -> Iterator[str]:
    """One database for the session, tables created once. Tests stay apart by working
    in workspaces of their own (tenant data is keyed by workspace) and unique emails."""
    with fresh_pg_database(pg_server) as url:
        app = bootstrap(Settings(database_url=url, listen=False))
        try:
            app.create_tables()
        finally:
            app.close()
        yield url


@pytest.fixture(params=BACKENDS)
def rolegate_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rolegate]:
    """A Rolegate on SQLite (a fresh file) and on PostgreSQL (the session database)."""
    if request.param == "sqlite":
        app = bootstrap(Settings(database_url=f"sqlite:///{tmp_path / 'rolegate.db'}", listen=False))
        app.create_tables()
    else:
        url: str = request.getfixturevalue("pg_database_url")
        app = bootstrap(Settings(database_url=url, listen=False))
    try:
        yield app
    finally:
        app.close()
