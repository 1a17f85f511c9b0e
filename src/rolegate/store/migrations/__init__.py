"""Alembic migrations of the store's tables, run in code: `upgrade(url)` is what
`rolegate db upgrade` calls. The configuration is built here, pointing at this
package, so it works from any directory and from an installed wheel; `alembic.ini`
beside this file is only for Alembic's own command line (writing new revisions).

SQLite: the whole upgrade is one transaction, with foreign keys off while tables are
rebuilt (batch mode, SQLite's way to alter a table) and checked before the commit.
PostgreSQL: one transaction too (its DDL is transactional).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, pool
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from rolegate.domain.errors import RolegateError
from rolegate.domain.words import count_of
from rolegate.store.availability import reachable
from rolegate.store.database import make_engine
from rolegate.store.tables import metadata

__all__ = [
    "MIGRATIONS_DIR",
    "DatabaseStatus",
    "UpgradeResult",
    "alembic_config",
    "downgrade",
    "head_revision",
    "readiness",
    "require_current",
    "schema_diffs",
    "safe_url",
    "status",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent
VERSION_TABLE = "alembic_version"


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown as given, minus anything after '@'
        return url.split("@")[-1]


def alembic_config(url: str | None = None, *, connection: Connection | None = None) -> Config:
    """Alembic's configuration for this package's migrations. `url` (else the
    environment's ROLEGATE_DATABASE_URL) or an open `connection` says where."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")  # a directory with spaces stays one path
    cfg.set_main_option("version_locations", str(MIGRATIONS_DIR / "versions"))
    if url is not None:
        cfg.attributes["url"] = url  # not a main option: '%' in a password would be read as interpolation
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None  # the package ships at least the initial revision
    return head


def migration_engine(url: str) -> Engine:
    """An engine for migrating: the store's (URL normalized, SQLite pragmas), unpooled."""
    return make_engine(url, poolclass=pool.NullPool)


def set_sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    """Foreign key enforcement can change only outside a transaction, so this goes to
    the driver's connection directly (SQLAlchemy would begin one first)."""
    raw: Any = connection.connection.driver_connection
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def check_sqlite_foreign_keys(connection: Connection) -> None:
    """After a migration ran with foreign keys off: no row may point nowhere."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        first = ", ".join(f"{row[0]} rowid {row[1]} -> {row[2]}" for row in broken[:5])
        raise RolegateError(
            f"the migration left {count_of(len(broken), 'row')} pointing at missing rows ({first}); nothing was changed",
            fix="Fix the migration (or the data it moves) and run `rolegate db upgrade` again.",
        )


@contextmanager
def _connect(url: str) -> Iterator[Connection]:
    """A connection for migrating; a database that cannot be reached (or a URL that
    is not one) is a RolegateError saying what to check. Errors after connecting are
    the migration's own and pass through."""
    try:
        engine = migration_engine(url)
    except ArgumentError as exc:
        raise RolegateError(
            f"{safe_url(url)!r} is not a database URL Rolegate can use ({exc})",
            fix="Use sqlite:///PATH/rolegate.db or postgresql://USER:PASSWORD@HOST:PORT/DB.",
        ) from exc
    try:
        try:
            conn = engine.connect()
        except OperationalError as exc:
            raise _unreachable(url, exc) from exc
        with conn:
            yield conn
    finally:
        engine.dispose()


def _unreachable(url: str, exc: Exception) -> RolegateError:
    orig = getattr(exc, "orig", None) or exc
    detail = str(orig).strip().splitlines()[0] if str(orig).strip() else orig.__class__.__name__
    fix = (
        "Check ROLEGATE_DATABASE_URL (or --url): for PostgreSQL, that the server runs and the database exists "
        "(postgresql://USER:PASSWORD@HOST:PORT/DB); for SQLite, that the file's directory exists and is writable."
    )
    return RolegateError(f"cannot use the database at {safe_url(url)}: {detail}", fix=fix)


def _current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def schema_diffs(conn: Connection) -> list[Any]:
    """Alembic's differences between the database and `tables.metadata` (empty when
    the database holds exactly the current schema; the version table is ignored)."""
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    diffs: list[Any] = compare_metadata(ctx, metadata)
    return diffs


@dataclass(frozen=True, slots=True)
class DatabaseStatus:
    url: str
    current: str | None
    head: str
    has_tables: bool

    @property
    def is_current(self) -> bool:
        return self.current == self.head


def status(url: str) -> DatabaseStatus:
    """Where the database stands (raises RolegateError when it cannot be reached)."""
    with _connect(url) as conn:
        current = _current(conn)
        tables = set(inspect(conn).get_table_names())
    return DatabaseStatus(safe_url(url), current, head_revision(), bool(tables & metadata.tables.keys()))


def require_current(url: str) -> DatabaseStatus:
    """For commands that read or write data: the database is reachable and migrated."""
    st = status(url)
    if not st.is_current:
        where = "has no Rolegate tables" if st.current is None else f"is at revision {st.current}, this version needs {st.head}"
        raise RolegateError(f"the database at {st.url} {where}", fix="Run `rolegate db upgrade` (same --url or ROLEGATE_DATABASE_URL) first.")
    return st


_head_of_this_version = cache(head_revision)
"""The head cannot change while a process runs (its migration files are its code)."""


def readiness(engine: Engine) -> DatabaseStatus:
    """Where the database of a running process stands, through its own pool (no new
    engine, no Alembic environment: `/readyz` asks every few seconds): one read of
    the version table; StoreUnavailableError when the database cannot be reached."""
    with reachable(), engine.connect() as conn:
        current = _current(conn)
        has_tables = current is not None or bool(set(inspect(conn).get_table_names()) & metadata.tables.keys())
        conn.rollback()
    return DatabaseStatus(engine.url.render_as_string(hide_password=True), current, _head_of_this_version(), has_tables)


@dataclass(frozen=True, slots=True)
class UpgradeResult:
    url: str
    before: str | None
    after: str
    stamped: bool = False
    """The tables existed without migration history (made by `create_tables()`) and
    matched this version exactly, so they were recorded as up to date, not rebuilt."""

    @property
    def changed(self) -> bool:
        return self.before != self.after


def upgrade(url: str, revision: str = "head") -> UpgradeResult:
    """`alembic upgrade <revision>` on the database at `url`, in one transaction."""
    with _connect(url) as conn:
        before = _current(conn)
        existing = set(inspect(conn).get_table_names()) & metadata.tables.keys()
        if before is None and existing:
            diffs = schema_diffs(conn)
            if diffs:
                shown = "; ".join(str(d) for d in diffs[:3])
                raise RolegateError(
                    f"the database at {safe_url(url)} has Rolegate tables ({', '.join(sorted(existing))}) but no migration "
                    f"history, and they differ from this version's schema ({count_of(len(diffs), 'difference')}: {shown})",
                    fix="Point --url / ROLEGATE_DATABASE_URL at an empty database, or drop those tables.",
                )
            command.stamp(alembic_config(connection=conn), "head")
            conn.commit()
            return UpgradeResult(safe_url(url), None, head_revision(), stamped=True)
        conn.rollback()  # end the reads' implicit transaction before the pragma
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            set_sqlite_foreign_keys(conn, on=False)
        try:
            command.upgrade(alembic_config(connection=conn), revision)
        finally:
            if sqlite:
                conn.rollback()
                set_sqlite_foreign_keys(conn, on=True)
        after = _current(conn)
    assert after is not None
    return UpgradeResult(safe_url(url), before, after)


def downgrade(url: str, revision: str = "base") -> None:
    """`alembic downgrade <revision>`; `base` drops every Rolegate table (and its data)."""
    with _connect(url) as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            set_sqlite_foreign_keys(conn, on=False)
        try:
            command.downgrade(alembic_config(connection=conn), revision)
        finally:
            if sqlite:
                conn.rollback()
                set_sqlite_foreign_keys(conn, on=True)
