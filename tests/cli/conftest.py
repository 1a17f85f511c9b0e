"""CLI test fixtures: temporary SQLite databases (PostgreSQL comes from tests/pg.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file that does not exist yet."""
    return f"sqlite:///{tmp_path / 'rolegate.db'}"
