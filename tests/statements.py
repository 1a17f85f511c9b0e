"""Counting the SQL statements a block runs (a page, an API call), and the other tenants
to measure against: the tests that prove a door's reads do not grow with the data of
other tenants."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from rolegate.bootstrap import Rolegate
from rolegate.domain.workspace import Actor
from rolegate.services.workspaces import create_workspace

__all__ = ["other_tenants", "statements"]


@contextmanager
def statements(rolegate: Rolegate) -> Iterator[list[str]]:
    """The SQL statements run on the database while the block runs."""
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(rolegate.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(rolegate.engine, "before_cursor_execute", count)


def other_tenants(rolegate: Rolegate, n: int) -> None:
    """`n` workspaces, each of its own organization, that the measured caller has nothing to do with."""
    for _ in range(n):
        create_workspace(
            rolegate.uow(), actor=Actor.system("test"), preset="telephony", name="Other", owner_email="owner@other.test"
        )
