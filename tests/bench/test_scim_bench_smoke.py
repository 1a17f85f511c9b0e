"""Smoke test of the SCIM benchmark: `bench/scim.py --quick` (50 Users). Checks that
every create, lookup and page was answered as expected and the figures were written;
never how fast."""

from __future__ import annotations

import json
import math
from pathlib import Path

from tests.bench.support import load_bench


def test_quick_run_provisions_looks_up_and_pages(tmp_path: Path) -> None:
    bench = load_bench("scim")
    out = tmp_path / "scim.json"
    assert bench.main(["--quick", "--json", str(out)]) == 0
    result = json.loads(out.read_text())["results"]
    assert result["users"] == 50
    assert result["create"]["n"] == 50
    assert result["lookup_userName_eq"]["n"] == result["lookup_full_scan_peer"]["n"] == 10
    assert result["page_of_100"]["n"] == 1
    assert math.isfinite(result["lookup_p50_ratio"])
