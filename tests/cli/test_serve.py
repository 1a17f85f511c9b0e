"""`rolegate serve`: the API of `create_app(bootstrap())` under uvicorn, named by its
import string (the CLI imports nothing of the API), and the demo's curl commands
answered by a real server, as a newcomer pastes them."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner
from uvicorn.importer import import_from_string

from rolegate.bootstrap import Rolegate
from rolegate.cli.main import app

runner = CliRunner()


def test_serve_runs_the_api_on_the_database(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    assert runner.invoke(app, ["db", "upgrade", "--url", sqlite_url]).exit_code == 0
    calls: list[tuple[Any, str, int, bool]] = []

    def fake_run(
        target: Any, *, factory: bool, host: str, port: int, workers: int, access_log: bool, log_config: Any, **_: Any
    ) -> None:
        assert log_config is None  # uvicorn's lines go through Rolegate's handler (rolegate.logs), in its format
        assert (factory, workers) == (True, 1)  # one process: the factory is built here, by uvicorn
        # What uvicorn does with the import string, in the environment `serve` set for it.
        calls.append((import_from_string(target)(), host, port, access_log))

    monkeypatch.setattr(
        uvicorn, "run", fake_run
    )  # `rolegate serve` calls uvicorn.run(APP_FACTORY, factory=True, host=, port=)
    monkeypatch.setattr(
        gc, "freeze", lambda: None
    )  # not in the test process: the suite's objects are not start-up objects
    monkeypatch.delenv("ROLEGATE_DATABASE_URL", raising=False)
    result = runner.invoke(app, ["serve"], env={"ROLEGATE_DATABASE_URL": sqlite_url})
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["serve", "--url", sqlite_url, "--host", "0.0.0.0", "--port", "9001", "--access-log"])
    assert result.exit_code == 0, result.output
    assert "Rolegate on http://0.0.0.0:9001: admin UI at /" in result.output
    assert "ROLEGATE_DATABASE_URL" not in os.environ  # set for the server only, the caller's environment afterwards
    # The access log is off unless asked for: it costs a third of a single check's time.
    assert [(host, port, log) for _, host, port, log in calls] == [("127.0.0.1", 8000, False), ("0.0.0.0", 9001, True)]
    for api, _, _, _ in calls:
        rolegate: Rolegate = api.state.rolegate
        try:
            assert rolegate.settings.database_url == sqlite_url
            assert api.title == "Rolegate"  # create_app(rolegate): the API itself
        finally:
            rolegate.close()


def test_serve_refuses_an_unmigrated_database(sqlite_url: str) -> None:
    result = runner.invoke(app, ["serve", "--url", sqlite_url])
    assert result.exit_code == 2
    assert "rolegate db upgrade" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for(port: int, proc: subprocess.Popen[str], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"rolegate serve exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"rolegate serve did not listen on {port} within {timeout}s")


def test_the_demo_curl_commands_work_against_rolegate_serve(tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed; the demo prints curl commands (apt-get install curl)")
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    demo = runner.invoke(app, ["demo", "--url", url], env={"COLUMNS": "200"})
    assert demo.exit_code == 0, demo.output
    curls = [line for line in demo.output.splitlines() if line.startswith("curl ")]
    assert len(curls) == 4
    port = _free_port()
    cli = "from rolegate.cli.main import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", cli, "serve", "--url", url, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for(port, proc)
        answers = []
        for command in curls:
            done = subprocess.run(
                ["bash", "-c", command.replace("127.0.0.1:8000", f"127.0.0.1:{port}")],
                capture_output=True,
                text=True,
                timeout=20,
                check=True,
            )
            answers.append(json.loads(done.stdout))
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=20)
    check, record_check, roles, lookup = answers
    assert (check["allowed"], check["scope"]) == (True, "assigned"), check
    assert record_check["allowed"] is False, record_check
    assert any(r["rule"] == "N11" for r in record_check["reasons"]), record_check
    assert {r["id"] for r in roles["roles"]} >= {"csm", "csm_manager", "guest"}, roles
    assert lookup["filter"]["op"] == "assignee", lookup
    assert re.search(r"Uvicorn running on http://127\.0\.0\.1:\d+", output), output
