"""Smoke test of the schema upgrade benchmark: `bench/upgrade.py --quick` on a fresh
PostgreSQL database (skipped without a server, failed under CI=true: tests/pg.py).
Checks that every workspace was migrated once and that the checker process decided
before and during the migration without a wrong decision; never how fast."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from tests.bench.support import load_bench
from tests.pg import postgres_url


def test_quick_run_migrates_every_workspace_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_bench("upgrade")
    out = tmp_path / "upgrade.json"
    with postgres_url() as url:
        assert bench.main(["--quick", "--url", url, "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["migrated"] == result["config"]["workspaces"]
    assert result["verification"]["passed"] is True
    assert result["checker"]["wrong"] == 0
    assert result["checker"]["before"]["n"] > 0
    assert result["checker"]["during"]["n"] > 0
    assert math.isfinite(result["checker"]["during"]["p99_ms"])
    assert "<!-- bench:upgrade:start" in capsys.readouterr().out
