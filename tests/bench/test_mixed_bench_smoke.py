"""Smoke test of the mixed-load benchmark: `bench/mixed.py --quick --db sqlite` (a tiny
workspace, seconds per phase; the servers are subprocesses). Checks that every kind of
request was sent and answered 2xx, that the peer sent no write, that the decisions over
HTTP equal the engine's, that the chart was drawn and the servers stopped; never how
fast. The 30-minute soak is `test_soak`, run only with RUN_SLOW=1 (on PostgreSQL)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
import types
from collections import Counter
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


def test_quick_run_sends_every_kind_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bench = load_bench("mixed")
    out = tmp_path / "mixed.json"

    assert bench.main(["--quick", "--db", "sqlite", "--phases", "mixed,peer,workers,paced,paced-write-process,record-sqlite", "--json", str(out)]) == 0

    result = json.loads(out.read_text())
    phases = result["phases"]
    assert set(phases) == {"mixed", "peer", "workers", "paced", "paced-write-process", "record-sqlite"}
    for name, p in phases.items():
        assert p["errors"] == 0, (name, p["error_examples"])
        assert p["verified"] > 0
        assert p["rss"]["start_mb"] > 0
        for pid in p["server_pids"]:
            assert not _alive(pid), f"{name}: server pid {pid} still running"
    assert set(phases["mixed"]["kinds"]) == {*bench.KINDS, "writes"}
    for kind, stats in phases["mixed"]["kinds"].items():
        assert stats["requests"] > 0, kind
        assert math.isfinite(stats["p99_ms"]), kind
    assert not set(phases["peer"]["kinds"]) & {*bench.WRITE_KINDS, "writes"}  # the peer: decisions alone
    if sys.platform == "linux":  # each worker listens on a socket of its own before the phase starts
        assert phases["workers"]["listening_processes"] == 2
        assert sum(phases["workers"]["connections_by_process"]) == phases["workers"]["connections"]
        half = phases["workers"]["connections"] // 2
        assert phases["workers"]["connections_by_process"] == [half, half]  # spread evenly, as a balancer would
    assert set(phases["record-sqlite"]["kinds"]) == {"record"}
    # paced: the peer's decisions in a closed loop and, besides, writes arriving at a rate
    paced = phases["paced"]["kinds"]
    assert {"check", "writes", *bench.WRITE_KINDS} <= set(paced)
    assert paced["writes"]["requests"] > 0
    assert any(t["target"].startswith("paced") for t in result["targets"])
    # the same on `serve --write-process`: its writes answered, and compared with one process
    assert phases["paced-write-process"]["kinds"]["writes"]["requests"] > 0
    assert "--write-process" in phases["paced-write-process"]["servers"]
    assert any(t["target"].startswith("paced-write-process") for t in result["targets"])
    assert Path(result["charts"]["latency over time per request kind"]).stat().st_size > 0
    assert {t["status"] for t in result["targets"]} <= {"PASS", "SHORT"}  # which one is not asserted in a smoke run
    printed = capsys.readouterr().out
    assert "| target | measured | status |" in printed
    assert "| `paced` -> `paced-write-process` |" in printed


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("RUN_SLOW") != "1", reason="the 30-minute soak runs only with RUN_SLOW=1")
def test_soak(tmp_path: Path) -> None:
    """`bench/mixed.py --soak --duration 1800` on PostgreSQL: RSS and p99 per minute."""
    bench = load_bench("mixed")
    out = tmp_path / "soak.json"
    with postgres_url() as url:
        server = url.rsplit("/", 1)[0] + "/postgres"
        assert bench.main(["--soak", "--duration", "1800", "--server", server, "--json", str(out)]) == 0
    p = json.loads(out.read_text())["phases"]["mixed"]
    assert p["errors"] == 0, p["error_examples"]
    assert p["rss"]["growth"] < 0.10


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("RUN_SLOW") != "1", reason="three servers on PostgreSQL: about a minute, only with RUN_SLOW=1")
def test_behind_compares_the_compile_behind_with_inline(tmp_path: Path) -> None:
    """`bench/mixed.py --behind --quick`: both deciding servers measured with and without
    writes, every check answered 2xx, the writes done, decisions verified; never how fast."""
    bench = load_bench("mixed")
    out = tmp_path / "behind.json"
    with postgres_url() as url:
        server = url.rsplit("/", 1)[0] + "/postgres"
        assert bench.main(["--behind", "--quick", "--server", server, "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert {(r["mode"], r["writes"]) for r in result["runs"]} == {(m, w) for m in ("behind", "inline") for w in (False, True)}
    for run in result["runs"]:
        assert run["check"]["errors"] == 0, run
        assert run["check"]["requests"] > 0
        assert (run["writes_done"] > 0) == run["writes"]
        assert run["write_errors"] == 0
    assert result["verified"] > 0


def test_worker_ports_runs_the_workers_phase_on_as_many_ports(tmp_path: Path) -> None:
    """`--worker-ports`: N `rolegate serve` processes, connections spread evenly over
    them by the client, as a load balancer does (not `--workers N`)."""
    bench = load_bench("mixed")
    out = tmp_path / "ports.json"
    assert bench.main(["--quick", "--db", "sqlite", "--phases", "workers", "--worker-ports", "--json", str(out)]) == 0
    workers = json.loads(out.read_text())["phases"]["workers"]
    assert "2 `rolegate serve` processes on 2 ports" in workers["servers"]
    assert len(workers["server_pids"]) == 2
    assert workers["errors"] == 0, workers["error_examples"]
    assert workers["kinds"]["writes"]["requests"] > 0
    half = workers["connections"] // 2
    assert workers["connections_by_process"] == [half, workers["connections"] - half]  # round-robin over the ports
    assert f"connections held {half} / {workers['connections'] - half}" in bench.markdown(json.loads(out.read_text()))


def test_the_connections_each_process_holds_are_counted() -> None:
    """The accepted side of each connection to the port, by the process that holds it:
    here this one (the client's sockets have the port as their remote end, not counted)."""
    bench = load_bench("mixed")
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        accepted = [listener.accept()[0] for _ in clients]
        try:
            assert bench.connections_by_process([os.getpid()], {port}) == [3]
            assert bench.connections_by_process([os.getpid()], {port + 1 if port < 65535 else port - 1}) == []
        finally:
            for s in clients + accepted:
                s.close()


def test_a_process_tree_is_summed_while_it_runs() -> None:
    """`rolegate serve --workers 2` is a supervisor whose workers do the work: the
    servers' CPU counts the whole process tree (the earlier run read 0.00 cores)."""
    server = load_bench("_server")
    spin = "import time\nend = time.process_time() + 30\nwhile time.process_time() < end: pass\n"
    parent = subprocess.Popen([sys.executable, "-c", f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {spin!r}])"])
    try:
        deadline = time.monotonic() + 20
        while server._tree_cpu(parent.pid) - server._process_cpu(parent.pid) < 0.3:
            assert time.monotonic() < deadline, "the child's CPU was never counted"
            time.sleep(0.05)
    finally:
        for child in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                if int(child.read_text().rsplit(")", 1)[1].split()[1]) == parent.pid:
                    os.kill(int(child.parent.name), signal.SIGKILL)
        parent.kill()
        parent.wait()


_LATE_LISTENER = """
import socket, sys, time
time.sleep(1.0)
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
time.sleep(60)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="a socket per worker (SO_REUSEPORT) and /proc are Linux's")
def test_the_wait_for_workers_lasts_until_the_late_one_listens() -> None:
    """A second listener of the port that comes a second late (as a worker still
    starting does) is waited for: the phase's connections then reach both."""
    bench = load_bench("mixed")
    first = socket.socket()
    first.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    first.bind(("127.0.0.1", 0))
    first.listen()
    port = first.getsockname()[1]
    late = subprocess.Popen([sys.executable, "-c", _LATE_LISTENER, str(port)])
    try:
        started = time.monotonic()
        bench._wait_listening(types.SimpleNamespace(name="late", pid=os.getpid(), port=port), 2)
        assert time.monotonic() - started > 0.5
        assert len(bench.connections_by_process([os.getpid()], {port}, state=bench._LISTEN)) == 2
    finally:
        late.kill()
        late.wait()
        first.close()



_ACCEPTING = """
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
held = []
while True:
    held.append(s.accept()[0])
"""


@pytest.mark.skipif(sys.platform != "linux", reason="a socket per worker (SO_REUSEPORT) and /proc are Linux's")
def test_the_connections_are_spread_evenly_over_the_workers_of_one_port() -> None:
    """The kernel hashes each connection to one of the sockets of the port (16 split
    13 / 3 in a run): the client puts aside those that land on a worker that has its
    share already, as a least-connections balancer would."""
    bench = load_bench("mixed")
    probe = socket.socket()
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    workers = [subprocess.Popen([sys.executable, "-c", _ACCEPTING, str(port)]) for _ in range(2)]
    probe.close()
    try:
        bench._wait_listening(types.SimpleNamespace(name="two", pid=os.getpid(), port=port), 2)

        async def spread() -> list[int]:
            opened = await bench.balanced(port, 12, [os.getpid()], 2)
            try:
                # the listeners here keep what they accepted, closed or not: ask per connection
                held = Counter(bench.server_of([os.getpid()], port, writer.get_extra_info("sockname")[1]) for _, writer in opened)
                return sorted(held.values())
            finally:
                for _, writer in opened:
                    writer.close()

        assert asyncio.run(spread()) == [6, 6]
    finally:
        for w in workers:
            w.kill()
            w.wait()
