"""`rolegate db upgrade`: Alembic's head on a fresh SQLite file and a fresh PostgreSQL
database gives exactly the schema of `store.tables.metadata`."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from typer.testing import CliRunner

from rolegate.cli.main import app
from rolegate.store import make_engine, metadata
from rolegate.store.migrations import downgrade, head_revision, status
from tests import pg

runner = CliRunner()


def assert_schema_matches_metadata(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, metadata) == []
            assert ctx.get_current_revision() == head_revision()
            assert set(inspect(conn).get_table_names()) == set(metadata.tables) | {"alembic_version"}
    finally:
        engine.dispose()


def upgrade_cli(url: str) -> str:
    result = runner.invoke(app, ["db", "upgrade", "--url", url])
    assert result.exit_code == 0, result.output
    return result.output


def test_upgrade_fresh_sqlite_from_any_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the migrations are found in the package, not the working directory
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert f"upgraded empty database -> {head_revision()}" in upgrade_cli(url)
    assert_schema_matches_metadata(url)
    assert f"already at revision {head_revision()}" in upgrade_cli(url)


def test_upgrade_reads_the_database_from_the_environment(sqlite_url: str) -> None:
    result = runner.invoke(app, ["db", "upgrade"], env={"ROLEGATE_DATABASE_URL": sqlite_url})
    assert result.exit_code == 0, result.output
    assert status(sqlite_url).is_current


def test_upgrade_fresh_postgresql() -> None:
    with pg.postgres_url() as url:
        assert f"upgraded empty database -> {head_revision()}" in upgrade_cli(url)
        assert_schema_matches_metadata(url)
        downgrade(url, "base")  # the downgrade drops everything it made
        assert not status(url).has_tables
        upgrade_cli(url)
        assert_schema_matches_metadata(url)


def test_downgrade_to_base_and_up_again_on_sqlite(sqlite_url: str) -> None:
    upgrade_cli(sqlite_url)
    downgrade(sqlite_url, "base")
    after = status(sqlite_url)
    assert after.current is None
    assert not after.has_tables
    upgrade_cli(sqlite_url)
    assert_schema_matches_metadata(sqlite_url)


def test_tables_made_by_create_all_are_recorded_not_rebuilt(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    metadata.create_all(engine)
    engine.dispose()
    assert "recorded it as the migration history" in upgrade_cli(sqlite_url)
    assert_schema_matches_metadata(sqlite_url)


def test_tables_that_differ_without_history_are_refused(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE organizations (id VARCHAR(36) PRIMARY KEY)")
    engine.dispose()
    result = runner.invoke(app, ["db", "upgrade", "--url", sqlite_url])
    assert result.exit_code == 2
    assert "no migration history" in result.output
    assert "fix:" in result.output


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:////nonexistent-dir/rolegate.db", "cannot use the database at sqlite:////nonexistent-dir/rolegate.db"),
        ("postgresql://postgres:secret@127.0.0.1:1/nope", "cannot use the database at postgresql://postgres:***@127.0.0.1:1/nope"),
        ("mysql+nodriver://x", "is not a database URL Rolegate can use"),
    ],
)
def test_unusable_database_says_what_to_check(url: str, message: str) -> None:
    result = runner.invoke(app, ["db", "upgrade", "--url", url])
    assert result.exit_code == 2
    assert message in result.output
    assert "fix:" in result.output
    assert "secret" not in result.output
    assert "Traceback" not in result.output


def test_pg_helper_skips_without_a_server_and_fails_on_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(pg.DATABASE_URL_ENV, "postgresql://postgres@127.0.0.1:1/postgres")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=pg.DATABASE_URL_ENV), pg.postgres_url():
        pass
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"), pg.postgres_url():
        pass
