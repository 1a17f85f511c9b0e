"""What every command shares: consoles, the database option, opening Rolegate on a
migrated database, and turning a RolegateError into its message, its fix and an exit code.

Exit codes: 0 yes / done; 1 a negative answer (`check` denied, `audit verify` found a
broken chain); 2 an error (bad input, unreachable or unmigrated database, a refused
change), printed with what to do about it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.errors import RolegateError
from rolegate.services.database import require_current

__all__ = [
    "EXIT_ERROR",
    "EXIT_NO",
    "UrlOption",
    "database_url",
    "err",
    "fail",
    "open_rolegate",
    "out",
    "reporting_errors",
]

EXIT_NO = 1
EXIT_ERROR = 2

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="Database URL (sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DB). Default: $ROLEGATE_DATABASE_URL, else sqlite:///./rolegate.db.",
        show_default=False,
    ),
]


def database_url(url: str | None) -> str:
    return url if url else Settings.from_env().database_url


def fail(message: str, fix: str = "") -> NoReturn:
    err.print(f"error: {message}", style="bold red", markup=False)
    if fix:
        err.print(f"fix: {fix}", markup=False)
    raise typer.Exit(EXIT_ERROR)


@contextmanager
def reporting_errors() -> Iterator[None]:
    """Print a RolegateError's message and fix instead of a traceback, exit 2."""
    try:
        yield
    except RolegateError as exc:
        fail(exc.message, exc.fix)


@contextmanager
def open_rolegate(url: str | None) -> Iterator[Rolegate]:
    """Rolegate on the database at `url` (or the environment's), which must be
    reachable and migrated; closed afterwards. No LISTEN thread nor webhook sender: a
    command is short (`rolegate webhooks deliver` runs one pass itself)."""
    resolved = database_url(url)
    require_current(resolved)
    rg = bootstrap(Settings.from_env(database_url=resolved, listen=False, webhooks=False))
    try:
        yield rg
    finally:
        rg.close()
