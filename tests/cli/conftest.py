"""CLI test fixtures: temporary SQLite databases, and PostgreSQL through tests/pg.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pg import pg_server, pg_url

__all__ = ["pg_server", "pg_url", "sqlite_url"]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file that does not exist yet."""
    return f"sqlite:///{tmp_path / 'rolegate.db'}"
