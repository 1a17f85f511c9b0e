"""Smoke test of the SDK benchmark: `bench/sdk.py --quick` (fewer checks, 10 edits).
Checks that the SDK answered every check locally, that every edit reached the other
process, that min_revision read every write, and that the docs block is written;
never how fast."""

from __future__ import annotations

import json
import math
from pathlib import Path

from tests.bench.support import load_bench


def test_quick_run_measures_throughput_propagation_and_min_revision(tmp_path: Path) -> None:
    bench = load_bench("sdk")
    out = tmp_path / "sdk.json"
    docs = tmp_path / "benchmarks.md"
    assert bench.main(["--quick", "--json", str(out), "--docs", str(docs)]) == 0
    result = json.loads(out.read_text())
    throughput, edits = result["throughput"], result["edits"]
    assert throughput["sdk_checks_per_s"] > 0
    assert throughput["engine_checks_per_s"] > 0
    assert throughput["remote_answers"] == 0  # every check was answered in process
    assert edits["timeouts"] == 0  # every edit reached the SDK in the other process
    assert math.isfinite(edits["p99_ms"])
    assert edits["min_revision_wrong"] == 0
    assert edits["min_revision_right"] == edits["edits"]
    assert "bench:sdk:start" in docs.read_text()
