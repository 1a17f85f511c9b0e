"""`rolegate db ...`: the database's schema, by Alembic migrations."""

from __future__ import annotations

import typer

from rolegate.cli.common import UrlOption, database_url, out, reporting_errors
from rolegate.services.database import upgrade as run_upgrade

app = typer.Typer(no_args_is_help=True, help="The database: migrations.")


@app.command()
def upgrade(url: UrlOption = None) -> None:
    """Migrate the database to this version's schema (alembic upgrade head).

    Creates the SQLite file if there is none; safe to run again. Tables made without
    migrations (`create_tables()`) that match this version are recorded as up to date.
    """
    with reporting_errors():
        result = run_upgrade(database_url(url))
    if result.stamped:
        out.print(f"{result.url}: tables already match revision {result.after}; recorded it as the migration history")
    elif result.changed:
        out.print(f"{result.url}: upgraded {result.before or 'empty database'} -> {result.after}")
    else:
        out.print(f"{result.url}: already at revision {result.after}, nothing to do")
