"""Smoke test of the field-filtering benchmark: `bench/fields.py --quick`, in process.

Checks that every variant ran and gave the same filtered page (not how fast it was),
and that a variant giving a different answer fails loudly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.bench.support import load_bench


def test_quick_run_gives_identical_pages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_bench("fields")
    out = tmp_path / "fields.json"
    assert bench.main(["--quick", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["verified"] is True
    assert [row["variant"] for row in result["rows"]] == [
        "rolegate filter_records",
        "rolegate filter_fields per record",
        "naive per-field lookup",
        "naive per-field policy",
        "floor: dict copy (no filtering)",
    ]
    # About half the fields are hidden from the member, none of them all.
    assert 0 < result["kept_fields_per_record"] < result["config"]["fields"]
    assert "| target | measured | status |" in capsys.readouterr().out


def test_a_wrong_page_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    bench = load_bench("fields")
    real = bench._variants

    def with_a_leak(w: object) -> dict[str, object]:
        variants = dict(real(w))
        variants["leaky"] = lambda page: [dict(r) for r in page]  # filters nothing
        return variants

    monkeypatch.setattr(bench, "_variants", with_a_leak)
    with pytest.raises(bench.VerificationError, match="leaky"):
        bench.run(bench.QUICK)
