"""Integration fixtures: every test runs twice, on SQLite (a temporary file) and on
PostgreSQL (the session database of tests/pg.py, tables created). When PostgreSQL
cannot be reached the PostgreSQL half is skipped with the way to get it, except on CI
(``CI=true``), where it fails: CI must never go green on SQLite alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def rolegate_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rolegate]:
    """A Rolegate on SQLite (a fresh file) and on PostgreSQL (the session database)."""
    if request.param == "sqlite":
        app = bootstrap(Settings(database_url=f"sqlite:///{tmp_path / 'rolegate.db'}", listen=False))
        app.create_tables()
    else:
        url: str = request.getfixturevalue("pg_tables_url")
        app = bootstrap(Settings(database_url=url, listen=False))
    try:
        yield app
    finally:
        app.close()
