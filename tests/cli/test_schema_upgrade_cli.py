"""`rolegate schema plan|apply|upgrades` (issue 19) on SQLite: the plan as text and
JSON writes nothing; apply migrates, exits 1 when a workspace is blocked and names
it; a broken new schema prints its problems (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from rolegate.bootstrap import bootstrap
from rolegate.cli.main import app as cli_app
from rolegate.cli.schema import _verb
from rolegate.config import Settings
from rolegate.domain.roles import Role, RoleKind
from rolegate.domain.workspace import Actor
from rolegate.services import workspaces
from rolegate.store.migrations import upgrade

runner = CliRunner()
V2 = Path(__file__).resolve().parents[1] / "fixtures" / "upgrades" / "catalyst_v2.yaml"
WIDE = {"COLUMNS": "200"}


def test_plan_then_apply_with_a_blocked_workspace(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rg.db'}"
    upgrade(url)
    rg = bootstrap(Settings(database_url=url, listen=False))
    ids = [
        workspaces.create_workspace(rg.uow(), actor=Actor.system("t"), preset="catalyst", name=f"c{i}", owner_email=f"c{i}@x.test").workspace.id
        for i in range(2)
    ]
    with rg.uow() as uow:
        uow.roles.add(ids[0], Role("c-x", "Editors", RoleKind.CUSTOM, "standard", frozenset({"objects.update", "objects.view"})))
        # More editor seats in use than the capacity: the upgrade would leave it overflowing.
        uow.workspaces.update_settings(ids[1], features=frozenset(), seat_capacities={"editor": 0, "viewer": None})
        uow.commit()
    rg.close()
    r = runner.invoke(cli_app, ["schema", "plan", str(V2), "--url", url], env=WIDE)
    assert r.exit_code == 0, r.output
    assert "catalyst -> version 2: 2 workspaces to upgrade (1 ready, 1 blocked)" in r.output
    assert "blocker: editor: 1 member over capacity" in r.output
    assert "role 'Editors': +objects.archive,objects.edit -objects.update" in r.output
    assert "~ permissions: notes.take -> notes.write" in r.output
    assert "~ fields: account.health_notes -> account.health_summary" in r.output
    assert "summary: 0 members gain, 0 lose, 3 roles change, 1 seat overflow, 0 refused roles, 0 K8 violations" in r.output
    r = runner.invoke(cli_app, ["schema", "plan", str(V2), "--json", "--url", url], env=WIDE)
    plan = json.loads(r.output)
    assert plan["summary"]["to_upgrade"] == 2
    assert plan["changes"]["split"] == {"objects.update": ["objects.archive", "objects.edit"]}
    r = runner.invoke(cli_app, ["schema", "apply", str(V2), "--url", url], env=WIDE)
    assert r.exit_code == 1, r.output
    assert "1 migrated, 1 blocked" in r.output
    assert f"blocked {ids[1]}: editor: 1 member over capacity" in r.output
    r = runner.invoke(cli_app, ["schema", "upgrades", "--url", url], env=WIDE)
    assert json.loads(r.output)[0]["blocked_workspaces"][0]["workspace_id"] == ids[1]


def test_a_broken_new_schema_prints_its_problems(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rg.db'}"
    upgrade(url)
    broken = tmp_path / "broken.yaml"
    broken.write_text(V2.read_text().replace("renamed_from: notes.take", "renamed_from: notes.view"))
    r = runner.invoke(cli_app, ["schema", "plan", str(broken), "--url", url], env=WIDE)
    assert r.exit_code == 2
    assert "'notes.view' is still a permission of this version" in r.output


def test_the_plan_summary_verbs_agree_with_their_counts() -> None:
    assert [_verb(n, "gain") for n in (0, 1, 2)] == ["gain", "gains", "gain"]
