"""PostgreSQL for tests: a fresh, uniquely named database on the real server, dropped
afterwards.

The server is ``ROLEGATE_TEST_DATABASE_URL`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``); that URL is used only to create and
drop test databases, so its user needs CREATEDB. When the server cannot be reached
the test is skipped, saying how to get one, except when ``CI=true``: there it fails,
because CI must never go green on SQLite alone.

Use::

    from tests.pg import postgres_url

    def test_something() -> None:
        with postgres_url() as url:              # empty database
            ...
        with postgres_url(migrate=True) as url:  # at `rolegate db upgrade` head
            ...

or the fixtures, everywhere in the suite (tests/conftest.py registers this module as a
pytest plugin):

- ``pg_server`` (session): the server's admin URL, checked reachable;
- ``pg_url`` (function): a fresh empty database;
- ``pg_tables_url`` (session): one database with the tables created (``create_tables``);
- ``pg_migrated_url`` (session): one database built by the migrations.

The session databases are shared by the tests of a process: tests stay apart by working
in workspaces (and organizations) of their own with unique emails. URLs are
``postgresql://...`` strings, which both ``rolegate`` (``Settings(database_url=...)``,
``--url``) and psycopg accept. This module is the one place the suite makes PostgreSQL
databases: a test needing one takes a fixture or ``postgres_url()`` from here.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from rolegate.bootstrap import bootstrap
from rolegate.config import Settings

__all__ = [
    "DATABASE_URL_ENV",
    "DEFAULT_SERVER_URL",
    "pg_migrated_url",
    "pg_server",
    "pg_tables_url",
    "pg_url",
    "postgres_url",
    "require_server",
    "server_url",
]

DATABASE_URL_ENV = "ROLEGATE_TEST_DATABASE_URL"
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE_PREFIX = "rolegate_test"

_reachable: dict[str, bool] = {}


def server_url() -> str:
    """The admin URL from the environment, as psycopg takes it (a SQLAlchemy driver
    suffix such as ``+psycopg`` is dropped)."""
    url = make_url(os.environ.get(DATABASE_URL_ENV, DEFAULT_SERVER_URL))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _unreachable(url: str, error: Exception) -> None:
    where = make_url(url).render_as_string(hide_password=True)
    reason = str(error).strip().splitlines()[0] if str(error).strip() else error.__class__.__name__
    message = (
        f"PostgreSQL is not reachable at {where} ({reason}). Start a PostgreSQL server there "
        f"(e.g. `apt-get install postgresql && service postgresql start`), or set "
        f"{DATABASE_URL_ENV}=postgresql://USER:PASSWORD@HOST:PORT/DB to a server where that user may create databases."
    )
    if _on_ci():
        pytest.fail(f"CI=true: the PostgreSQL tests may not be skipped. {message}", pytrace=False)
    pytest.skip(message)


def require_server() -> str:
    """The server's admin URL, checked reachable once per process; otherwise skip the
    calling test (fail it when CI=true)."""
    url = server_url()
    if not _reachable.get(url):
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            _unreachable(url, exc)
        _reachable[url] = True
    return url


@contextmanager
def postgres_url(*, migrate: bool = False) -> Iterator[str]:
    """A new empty database (``rolegate_test_<pid>_<random>``) on the server, yielded
    as its URL and dropped afterwards, even with connections still open to it. With
    ``migrate=True`` it is first upgraded to the head migration (`rolegate db upgrade`)."""
    server = require_server()
    name = f"{DATABASE_PREFIX}_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
        if migrate:
            from rolegate.store.migrations import upgrade  # imported late: most users want an empty database

            upgrade(url)
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL server's admin URL, checked reachable (or skip / fail, see above)."""
    return require_server()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test, dropped after it."""
    with postgres_url() as url:
        yield url


@pytest.fixture(scope="session")
def pg_tables_url() -> Iterator[str]:
    """One PostgreSQL database for the session, tables created from the metadata."""
    with postgres_url() as url:
        app = bootstrap(Settings(database_url=url, listen=False))
        try:
            app.create_tables()
        finally:
            app.close()
        yield url


@pytest.fixture(scope="session")
def pg_migrated_url() -> Iterator[str]:
    """One PostgreSQL database for the session, built by the migrations (head)."""
    with postgres_url(migrate=True) as url:
        yield url
