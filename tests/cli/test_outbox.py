"""`rolegate outbox`: what an offline server (no ROLEGATE_SMTP_URL) would have sent, e.g.
a password reset asked for from the login page."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from rolegate.bootstrap import bootstrap
from rolegate.cli.main import app
from rolegate.config import Settings
from rolegate.services.password_reset import request_password_reset
from rolegate.store.migrations import upgrade


def test_C8_outbox_lists_unsent_email_with_its_link(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    upgrade(url)
    rg = bootstrap(Settings(database_url=url, listen=False))
    try:
        with rg.uow() as uow:
            uow.users.add("u1", "kim@example.com", name="Kim", password_hash="not a real hash")
            uow.commit()
        token = request_password_reset(rg.uow(), email="kim@example.com", policy=rg.mail_policy)
    finally:
        rg.close()
    assert token is not None
    runner = CliRunner()
    result = runner.invoke(app, ["outbox", "--url", url])
    assert result.exit_code == 0, result.output
    assert "to kim@example.com: Reset your Rolegate password (unsent, 0 attempts)" in result.output
    assert f"/password-reset/{token}" in result.output
    assert "no unsent email" in runner.invoke(app, ["outbox", "--url", url, "--to", "other@example.com"]).output


def test_C8_outbox_links_prints_only_the_links_newest_first(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'outbox.db'}"
    upgrade(url)
    rg = bootstrap(Settings(database_url=url, listen=False))
    try:
        with rg.uow() as uow:
            uow.users.add("u1", "kim@example.com", name="Kim", password_hash="not a real hash")
            uow.commit()
        first = request_password_reset(rg.uow(), email="kim@example.com", policy=rg.mail_policy)
        second = request_password_reset(rg.uow(), email="kim@example.com", policy=rg.mail_policy)
    finally:
        rg.close()
    result = CliRunner().invoke(app, ["outbox", "--url", url, "--to", "kim@example.com", "--links"], env={"COLUMNS": "40"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # whole links, one a line, however narrow the terminal; the newest first
    assert [line.rsplit("/", 1)[1] for line in lines] == [second, first], result.output
    assert all(line.startswith("http") for line in lines)
