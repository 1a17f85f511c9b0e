"""Alembic's environment for Rolegate's store.

Where to migrate, first found: an open connection handed over in code
(`config.attributes["connection"]`, what `rolegate db upgrade` does), a URL in code
(`config.attributes["url"]`), `-x url=...` on Alembic's command line,
`sqlalchemy.url` in an ini file, else ROLEGATE_DATABASE_URL (default: the embedded
SQLite file). Autogenerate compares with `rolegate.store.tables.metadata`, whose
naming convention names every constraint and index.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from rolegate.config import Settings
from rolegate.store.database import normalize_url
from rolegate.store.migrations import (
    check_sqlite_foreign_keys,
    migration_engine,
    set_sqlite_foreign_keys,
)
from rolegate.store.tables import metadata

config = context.config


def _url() -> str:
    given = config.attributes.get("url") or context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    return str(given) if given else Settings.from_env().database_url


def _migrate(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        render_as_batch=sqlite,  # SQLite alters tables by rebuilding them
        transactional_ddl=True,  # one transaction for the whole upgrade, SQLite included
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            check_sqlite_foreign_keys(connection)


def run_offline() -> None:
    """`alembic upgrade head --sql`: print the SQL instead of running it."""
    context.configure(url=normalize_url(_url()), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    given: Connection | None = config.attributes.get("connection")
    if given is not None:
        _migrate(given)  # the caller owns the connection (and its SQLite pragmas)
        return
    engine = migration_engine(_url())
    try:
        with engine.connect() as connection:
            sqlite = connection.dialect.name == "sqlite"
            if sqlite:
                set_sqlite_foreign_keys(connection, on=False)
            _migrate(connection)
    finally:
        engine.dispose()


if config.config_file_name is not None and config.attributes.get("connection") is None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

if context.is_offline_mode():
    run_offline()
else:
    run_online()
