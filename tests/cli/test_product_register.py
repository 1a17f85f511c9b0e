"""A SaaS registers its own product (its schema file) and gets workspaces of it, as of a
preset: `rolegate schema register FILE`. Registering is idempotent; another text under
the same key, or a preset's key, is refused with what to do instead."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rolegate.bootstrap import bootstrap
from rolegate.cli.main import app as cli_app
from rolegate.config import Settings
from rolegate.domain.errors import RolegateError, SchemaError
from rolegate.domain.workspace import Actor
from rolegate.services.schema_upgrade import register_product
from rolegate.services.workspaces import create_workspace

TODO = Path(__file__).resolve().parents[2] / "examples" / "todo" / "schema.yaml"
PLATFORM = Actor.system("test")


def _cli(*args: str) -> str:
    result = CliRunner().invoke(cli_app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_registered_product_gets_workspaces_that_decide_by_its_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/r.db"
    _cli("db", "upgrade", "--url", url)
    assert "todo: registered: " in _cli("schema", "register", str(TODO), "--url", url)
    assert "todo: already registered" in _cli("schema", "register", str(TODO), "--url", url)
    rg = bootstrap(Settings(database_url=url, listen=False))
    try:
        made = create_workspace(rg.uow(), actor=PLATFORM, preset="todo", name="Todos", owner_email="owner@todo.test")
        snap = rg.snapshots.get(made.workspace.id)
        assert snap.schema.key == "todo"
        owner = made.owner.member.id
        assert {a for a in snap.schema.actions if snap.check(owner, a).allowed}  # the owner decides something
    finally:
        rg.close()


def test_registering_another_text_under_a_key_or_a_presets_key_is_refused(tmp_path: Path) -> None:
    rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/r.db", listen=False))
    rg.create_tables()
    try:
        source = TODO.read_text(encoding="utf-8")
        assert register_product(rg.uow(), actor=PLATFORM, source=source).created
        with pytest.raises(RolegateError, match="registered already") as changed:
            register_product(rg.uow(), actor=PLATFORM, source=source + "\n# a change of text\n")
        assert "schema apply" in changed.value.fix
        natero = (Path(__file__).resolve().parents[2] / "src" / "rolegate" / "presets" / "natero.yaml").read_text(encoding="utf-8")
        with pytest.raises(RolegateError, match="shipped preset"):
            register_product(rg.uow(), actor=PLATFORM, source=natero)
        with pytest.raises(RolegateError, match="only the platform"):
            register_product(rg.uow(), actor=Actor.member("m1"), source=source)
        with pytest.raises(SchemaError, match="unknown preset 'todoo'"):
            create_workspace(rg.uow(), actor=PLATFORM, preset="todoo", name="Typo", owner_email="o@todo.test")
    finally:
        rg.close()
