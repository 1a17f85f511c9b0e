"""Smoke test of the webhook benchmark: `bench/webhooks.py --quick` (20 edits through a
real server to a loopback receiver; one simulated minute down). Checks that every
change arrived, verified and in order, and that the docs section is written; never
how fast."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bench.support import load_bench


def test_quick_run_delivers_every_change_in_order(tmp_path: Path) -> None:
    bench = load_bench("webhooks")
    out = tmp_path / "webhooks.json"
    docs = tmp_path / "benchmarks.md"
    assert bench.main(["--quick", "--json", str(out), "--docs", str(docs)]) == 0
    result = json.loads(out.read_text())
    lat, down = result["latency"], result["outage"]
    assert (lat["received"], lat["never_received"], lat["in_order"]) == (20, 0, True)
    assert lat["verified"] >= 20
    assert down["committed_while_down"] > 0
    assert down["attempts_refused_while_down"] > 0
    assert (down["all_received"], down["in_order"]) == (True, True)
    assert down["received_after"] >= down["committed_while_down"]
    assert "bench:webhooks:start" in docs.read_text()
