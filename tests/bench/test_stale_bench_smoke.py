"""Smoke test of the stale-decision benchmark: `bench/stale.py --quick` on a fresh
PostgreSQL database (skipped without a server, failed under CI=true: tests/pg.py).
Checks that B saw every edit through A, that B0 (no listener) read each edit with
`min_revision`, and that the servers were stopped; never how fast.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from tests.bench.support import load_bench
from tests.pg import postgres_url


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_quick_run_sees_every_edit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_bench("stale")
    out = tmp_path / "stale.json"
    with postgres_url() as url:
        assert bench.main(["--quick", "--url", url, "--json", str(out)]) == 0

    result = json.loads(out.read_text())
    config = result["config"]
    listening, contrast = result["listening"], result["contrast"]
    assert listening["edits"] == config["edits"]
    assert listening["seen"] == config["edits"]  # the listener told B of every edit (within the cap)
    assert math.isfinite(listening["p99_ms"])
    assert contrast["edits"] == config["contrast_edits"]
    # Every edit alternates the decision, and each was read right with min_revision on B and B0.
    assert result["verification"]["passed"] is True
    assert result["verification"]["ryow_reflected"] == result["verification"]["ryow_checks"] == config["ryow_edits"] + config["contrast_edits"]
    decisions = [e["allowed"] for e in result["edits"]["listening"]]
    assert decisions == [i % 2 == 0 for i in range(config["edits"])]
    revisions = [e["revision"] for e in result["edits"]["listening"]]
    assert revisions == sorted(set(revisions))
    for name, pid in result["servers"].items():
        assert not _alive(pid), f"server {name} (pid {pid}) still running"
    assert "| target | measured | status |" in capsys.readouterr().out
