"""Smoke test of the record-access benchmark: `bench/records.py --quick` on a fresh
PostgreSQL database (skipped without a server, failed under CI=true: tests/pg.py).
Checks that every measurement ran on verified-equal answers and that the report has
its targets; never how fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.bench.support import load_bench
from tests.pg import postgres_url


def test_quick_run_measures_every_approach_on_equal_answers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_bench("records")
    out = tmp_path / "records.json"
    with postgres_url() as url:
        assert bench.main(["--quick", "--url", url, "--json", str(out)]) == 0

    result = json.loads(out.read_text())
    config = result["config"]
    pages = result["pages"]
    assert pages["service"]["n"] == config["page_queries"]
    assert pages["naive"]["n"] == config["naive_queries"]
    assert pages["naive"]["checks_p50"] >= 100  # the naive list checked at least a page's worth
    assert "Append" in pages["plan"]  # the two ranges, merged
    assert "ix_records_scope" in pages["plan"]  # own: an equality range, in id order
    assert "ix_records_unassigned" in pages["plan"]  # unassigned: the partial index, in id order
    for label in ("task (depth 1)", "task comment (depth 2)"):
        checks = result["checks"][label]
        assert checks["lineage"]["n"] == checks["step_by_step"]["n"] == config["check_queries"]
        assert 0 < checks["allowed"] < config["check_queries"]
    bulk = result["bulk"]
    assert bulk["assignment_events"] >= config["single_upserts"]
    assert bulk["tasks_per_s"] > 0
    report = capsys.readouterr().out
    assert "| target | measured | status |" in report
    assert report.count("<!-- bench:records:") == 2


def test_a_disagreement_voids_the_run() -> None:
    bench = load_bench("records")
    assert issubclass(bench.VerificationError, AssertionError)
    rows = bench.targets(
        {
            "pages": {"service": {"p95_ms": 25.0}},
            "checks": {"x": {"lineage": {"p95_ms": 0.5}}},
            "bulk": {"accounts_with_assignees_per_s": 30_000.0, "tasks_per_s": 19_000.0},
        }
    )
    assert [ok for _, _, ok in rows] == [False, True, False, True]
