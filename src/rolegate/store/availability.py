"""Is the database reachable? The driver errors that mean "not now" (refused,
dropped, restarting, timed out), named for the layers above, which never import
SQLAlchemy or psycopg: `reachable()` turns them into `StoreUnavailableError`, and
`UNAVAILABLE_ERRORS` lets the HTTP layer answer 503 to the ones raised deep inside a
use case. Also the one cheap read the snapshot cache revalidates with."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import Engine, exc, select

from rolegate.domain.errors import StoreUnavailableError
from rolegate.store import tables as t
from rolegate.store.database import read_only

__all__ = ["UNAVAILABLE_ERRORS", "failure_kind", "reachable", "read_revision"]

UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    exc.OperationalError,  # connection refused or dropped, server shutting down or starting, SQLite file unreadable
    exc.InterfaceError,  # a connection already closed under us
    exc.TimeoutError,  # no pooled connection became free in time
    psycopg.OperationalError,  # the same, from the record index's and the listener's own connections
    psycopg.InterfaceError,
)
"""The errors that say the database cannot be used right now, not that a request is wrong."""


def failure_kind(error: BaseException) -> str:
    """A short name for logs, one line per kind: the driver's class (e.g. `AdminShutdown`,
    `OperationalError`), not its message, which names hosts and varies per attempt."""
    if isinstance(error, StoreUnavailableError):
        return error.kind
    orig = getattr(error, "orig", None)
    return type(orig if isinstance(orig, BaseException) else error).__name__


@contextmanager
def reachable() -> Iterator[None]:
    """Run the block; a database that cannot be reached raises `StoreUnavailableError`."""
    try:
        yield
    except UNAVAILABLE_ERRORS as error:
        raise StoreUnavailableError(failure_kind(error)) from error


def read_revision(engine: Engine, workspace_id: str) -> int | None:
    """The workspace's revision (None: no such workspace): one primary-key read."""
    with reachable(), engine.connect() as conn:
        read_only(conn)
        revision = conn.execute(select(t.workspaces.c.revision).where(t.workspaces.c.id == workspace_id)).scalar()
        conn.rollback()
    return None if revision is None else int(revision)
