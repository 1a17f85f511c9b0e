"""`rolegate demo`, `check` and `audit verify` on temporary databases."""

from __future__ import annotations

import re
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rolegate.bootstrap import bootstrap
from rolegate.cli.demo import ADMIN_EMAIL, ADMIN_PASSWORD
from rolegate.cli.main import app
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.services.workspaces import create_workspace
from tests import pg

runner = CliRunner()
WIDE = {"COLUMNS": "200"}


@dataclass(frozen=True)
class Demo:
    path: Path
    output: str

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def workspace(self, preset: str) -> str:
        match = re.search(rf"^  {preset} +(\S+) ", self.output, re.MULTILINE)
        assert match, self.output
        return match.group(1)

    def copy(self, to: Path) -> str:
        """A copy to tamper with (the demo's file stays intact for the other tests)."""
        target = to / "copy.db"
        shutil.copy(self.path, target)
        return f"sqlite:///{target}"


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=WIDE)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    code, output = run("demo", "--url", f"sqlite:///{path}")
    assert code == 0, output
    return Demo(path, output)


def test_demo_prints_login_workspaces_key_and_curl_commands(demo_db: Demo) -> None:
    out = demo_db.output
    assert "Created the demo" in out
    assert f"{ADMIN_EMAIL} / {ADMIN_PASSWORD}" in out
    for preset in ("natero", "customersuccessbox", "catalyst", "email_marketing", "telephony"):
        assert re.search(rf"^  {preset} +[0-9a-f-]{{36}}  \d+ members \(1 invited, 1 disabled\)", out, re.MULTILINE), (
            preset
        )
    assert re.search(r"^  rg_[0-9a-f]{12}_\S+$", out, re.MULTILINE)
    curls = [line for line in out.splitlines() if line.startswith("curl ")]
    assert len(curls) == 4
    assert all("http://127.0.0.1:8000/v1/workspaces/" in c and "Authorization: Bearer rg_" in c for c in curls)
    assert [c.split("/v1/workspaces/")[1].split()[0].split("/", 1)[1].rstrip("'") for c in curls] == [
        "check",
        "check",
        "roles",
        "lookup",
    ]


def test_demo_twice_keeps_the_data_and_prints_it_again(demo_db: Demo, tmp_path: Path) -> None:
    url = demo_db.copy(tmp_path)
    code, again = run("demo", "--url", url)
    assert code == 0, again
    assert "already in" in again
    ids = re.findall(r"^  \w+ +([0-9a-f-]{36}) .*$", again, re.MULTILINE)
    assert ids == re.findall(r"^  \w+ +([0-9a-f-]{36}) .*$", demo_db.output, re.MULTILINE)
    lines = [line for line in again.splitlines() if " members (" in line]
    assert lines == [line for line in demo_db.output.splitlines() if " members (" in line]  # nothing added
    key = re.compile(r"^  (rg_\S+)$", re.MULTILINE)
    assert key.findall(again) != key.findall(demo_db.output)  # a fresh key: the first is stored hashed only


def test_demo_reset_starts_over(demo_db: Demo, tmp_path: Path) -> None:
    url = demo_db.copy(tmp_path)
    code, output = run("demo", "--url", url, "--reset")
    assert code == 0, output
    assert "dropped every Rolegate table" in output
    assert "Created the demo" in output
    assert demo_db.workspace("natero") not in output


def test_demo_reset_keeps_a_database_that_holds_other_workspaces(demo_db: Demo, tmp_path: Path) -> None:
    url = demo_db.copy(tmp_path)
    rg = bootstrap(Settings(database_url=url, listen=False))
    try:
        create_workspace(
            rg.uow(), actor=Actor.system("test"), preset="natero", name="Acme CRM", owner_email="owner@acme.test"
        )
    finally:
        rg.close()
    code, output = run("demo", "--url", url, "--reset")
    assert code == 2, output
    assert "--reset would delete 1 workspace that is not the demo's (e.g. 'Acme CRM')" in output
    assert "fix: Run the demo on a database of its own" in output
    code, output = run("audit", "verify", "--url", url)
    assert code == 0, output
    assert "(Acme CRM): chain intact" in output  # nothing was dropped


def test_audit_prune_and_verify_every_workspace_or_one(demo_db: Demo, tmp_path: Path) -> None:
    url = demo_db.copy(tmp_path)
    code, output = run("audit", "prune", "--url", url)
    assert code == 0, output
    assert "pruned 0 events in 5 workspaces" in output  # no retention set: every event stays
    ws = demo_db.workspace("natero")
    code, output = run("audit", "verify", "--url", url, "-w", ws)
    assert code == 0, output
    assert output.count("chain intact") == 1
    for command in ("verify", "prune"):
        code, output = run("audit", command, "--url", url, "-w", "nope")
        assert code == 2, output
        assert "no workspace 'nope'" in output


def test_check_allowed_denied_and_explained(demo_db: Demo) -> None:
    ws = demo_db.workspace("natero")
    code, out = run("check", "--url", demo_db.url, "-w", ws, "ann@example.com", "accounts.update_attributes")
    assert code == 0, out
    assert "ALLOWED:" in out
    assert "scope: assigned" in out
    assert "holds role 'CSM'" in out
    code, out = run(
        "check",
        "--url",
        demo_db.url,
        "-w",
        ws,
        "ann@example.com",
        "accounts.update_attributes",
        "--record",
        "account:globex",
    )
    assert code == 1, out
    assert "DENIED:" in out
    assert "on account 'globex'" in out
    assert "[N11]" in out
    code, out = run(
        "check",
        "--url",
        demo_db.url,
        "-w",
        ws,
        "ann@example.com",
        "accounts.update_attributes",
        "--record",
        "account:acme",
    )
    assert code == 0, out


def test_check_by_member_id_and_a_disabled_member(demo_db: Demo) -> None:
    ws = demo_db.workspace("telephony")
    code, out = run("check", "--url", demo_db.url, "-w", ws, "dan@example.com", "reports.view")
    assert code == 1, out
    member_id = re.search(r"is member (\S+)", out)
    assert member_id
    assert "(disabled) holds role 'Analyst'" in out
    assert "- the member is disabled" in out
    code, out = run("check", "--url", demo_db.url, "-w", ws, member_id.group(1), "reports.view")
    assert code == 1
    assert "DENIED" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ann@example.com", "accounts.updat_attributes"], "unknown action 'accounts.updat_attributes'"),
        (["ann@example.com", "accounts.view", "--record", "account"], "is not TYPE:ID"),
        (["nobody@example.com", "accounts.view"], "no member with email"),
    ],
)
def test_check_errors_print_the_fix(demo_db: Demo, args: list[str], message: str) -> None:
    code, out = run("check", "--url", demo_db.url, "-w", demo_db.workspace("natero"), *args)
    assert code == 2, out
    assert message in out
    assert "fix:" in out


def test_check_unknown_workspace(demo_db: Demo) -> None:
    code, out = run("check", "--url", demo_db.url, "-w", "nope", "m1", "accounts.view")
    assert code == 2
    assert "no workspace 'nope'" in out


def test_commands_on_an_unmigrated_database_say_to_upgrade(sqlite_url: str) -> None:
    for args in (["check", "-w", "ws", "m", "a"], ["audit", "verify"]):
        code, out = run(*args, "--url", sqlite_url)
        assert code == 2, out
        assert "has no Rolegate tables" in out
        assert "rolegate db upgrade" in out


def test_audit_verify_intact(demo_db: Demo) -> None:
    code, out = run("audit", "verify", "--url", demo_db.url)
    assert code == 0, out
    assert out.count("chain intact") == 5
    assert re.search(r"\(Natero demo\): chain intact, 13 events", out), out
    code, out = run("audit", "verify", "--url", demo_db.url, "--workspace", demo_db.workspace("catalyst"))
    assert code == 0
    assert out.count("chain intact") == 1


def _tamper(url: str, sql: str, *params: object) -> None:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.execute(sql, params)
    conn.close()


def test_audit_verify_names_the_first_altered_event(demo_db: Demo, tmp_path: Path) -> None:
    url = demo_db.copy(tmp_path)
    ws = demo_db.workspace("natero")
    _tamper(url, "UPDATE audit_events SET actor = 'member:someone-else' WHERE workspace_id = ? AND seq = 4", ws)
    code, out = run("audit", "verify", "--url", url, "--all")
    assert code == 1, out
    assert re.search(
        rf"^{ws} \(Natero demo\): chain broken at event 4 \(id \S+, member.add on member \S+, at \S+\): content does not match its hash \(altered\)$",
        out,
        re.MULTILINE,
    ), out
    assert out.count("chain intact") == 4
    assert "1 of 5 workspaces has a broken audit chain" in out


def test_audit_verify_names_a_removed_event(demo_db: Demo, tmp_path: Path) -> None:
    url = demo_db.copy(tmp_path)
    ws = demo_db.workspace("telephony")
    _tamper(url, "DELETE FROM audit_events WHERE workspace_id = ? AND seq = 2", ws)
    code, out = run("audit", "verify", "--url", url, "--workspace", ws)
    assert code == 1, out
    assert "chain broken at event 3" in out
    assert "an event was removed" in out


def test_audit_verify_options_exclude_each_other(demo_db: Demo) -> None:
    code, out = run("audit", "verify", "--url", demo_db.url, "--all", "--workspace", "x")
    assert code == 2
    assert "exclude each other" in out


def test_demo_check_and_audit_on_postgresql() -> None:
    with pg.postgres_url() as url:
        code, out = run("demo", "--url", url)
        assert code == 0, out
        ws = re.search(r"^  natero +(\S+) ", out, re.MULTILINE)
        assert ws
        code, again = run("demo", "--url", url)
        assert code == 0
        assert "already in" in again
        code, checked = run(
            "check", "--url", url, "-w", ws.group(1), "ann@example.com", "accounts.view", "--record", "account:acme"
        )
        assert code == 0, checked
        code, verified = run("audit", "verify", "--url", url)
        assert code == 0, verified
        assert verified.count("chain intact") == 5


def test_presets_explain_prints_every_preset_without_a_database() -> None:
    code, out = run("presets", "--explain")
    assert code == 0, out
    assert out.count("ALLOWED:") >= 5
    assert out.count("DENIED:") >= 5
    code, out = run("presets")
    assert code == 0
    assert "natero" in out
