"""Smoke test of `bench/asgi.py --quick`: the three apps answered every timed request
(200) and every figure was produced; never how fast."""

from __future__ import annotations

import json
import math
from pathlib import Path

from tests.bench.support import load_bench


def test_quick_run_times_the_three_apps(tmp_path: Path) -> None:
    bench = load_bench("asgi")
    out = tmp_path / "asgi.json"
    docs = tmp_path / "benchmarks.md"
    assert bench.main(["--quick", "--json", str(out), "--docs", str(docs)]) == 0
    result = json.loads(out.read_text())
    for case in ("check", "check/batch"):
        per = result["median_us"][case]
        assert set(per) == {"Rolegate, fast path", "Rolegate, FastAPI route", "bare FastAPI (floor)"}
        assert all(math.isfinite(v) and v > 0 for v in per.values())
    assert "<!-- bench:asgi:end -->" in docs.read_text()
