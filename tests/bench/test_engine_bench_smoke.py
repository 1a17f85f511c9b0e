"""Smoke test of the decision-engine benchmark: `bench/engine.py --quick`, in-process.

Checks that every engine ran and gave the same answers (not how fast it was).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.bench.support import load_bench


def test_quick_run_gives_identical_answers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("casbin")
    pytest.importorskip("cedarpy")
    bench = load_bench("engine")
    out = tmp_path / "engine.json"

    assert bench.main(["--quick", "--json", str(out)]) == 0

    result = json.loads(out.read_text())
    verification = result["verification"]
    assert verification["passed"] is True
    assert verification["rolegate_included"] is True
    required = verification["pairs_required"]
    for engine in ("bare dict", "rolegate", "casbin", "cedarpy", "rolegate record"):
        assert verification["pairs_per_engine"][engine] >= required, engine
    assert {row["engine"] for row in result["rows"]} == {"bare dict", "Rolegate", "pycasbin", "cedarpy"}
    assert "| target | measured | status |" in capsys.readouterr().out


def test_a_wrong_answer_fails_loudly() -> None:
    bench = load_bench("engine")
    pairs = [("m1", "a"), ("m2", "b")]
    with pytest.raises(bench.VerificationError, match="1 of 2 answers differ"):
        bench.verify("broken engine", [True, True], [True, False], pairs)
