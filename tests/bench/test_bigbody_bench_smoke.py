"""Smoke test of the big-body benchmark: `bench/bigbody.py --quick` (1 s phases, 2 MiB
uploads). Checks that both servers answered every check, that the body limit refused
every upload while the server without it read them, and that the servers were stopped;
never how fast."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from tests.bench.support import load_bench


def test_quick_run_refuses_every_upload_with_the_limit(tmp_path: Path) -> None:
    bench = load_bench("bigbody")
    out = tmp_path / "bigbody.json"
    docs = tmp_path / "benchmarks.md"
    assert bench.main(["--quick", "--json", str(out), "--docs", str(docs)]) == 0

    result = json.loads(out.read_text())
    limited, unlimited = result["results"]["limit"], result["results"]["no_limit"]
    for r in (limited, unlimited):
        assert r["quiet"]["checks"] > 0
        assert r["attacked"]["checks"] > 0
        assert math.isfinite(r["attacked"]["p99_ms"])
        assert r["attacked"]["attack"]["sent"] > 0
    assert limited["attacked"]["attack"]["read"] == 0  # every upload refused (413, connection closed)
    assert limited["attacked"]["attack"]["refused"] > 0
    assert unlimited["attacked"]["attack"]["read"] > 0  # the peer really is the code without the limit
    assert "bench:bigbody:start" in docs.read_text()
    for r in (limited, unlimited):
        assert not _alive(r["pid"]), f"server pid {r['pid']} still running"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
