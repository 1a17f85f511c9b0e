"""HTTP decision benchmark: `rolegate serve` under `wrk`, beside a bare FastAPI app.

One run, one fixed seed:

* a fresh SQLite database in a temporary directory, prepared as a newcomer does:
  `rolegate db upgrade --url ...` and `rolegate demo --url ...` (the natero demo
  workspace, its 6 members: administrator, 3 active, 1 invited, 1 disabled; the API
  key the demo prints);
* `rolegate serve` (uvicorn, one worker, as shipped) and, as the peer, the floor of
  the same stack: `bench/_baseline_app.py`, a bare FastAPI app on uvicorn run the same
  way, whose routes parse the same bodies into Rolegate's own models and answer a
  constant decision (no key, no snapshot, no engine);
* `wrk` (one thread; a Lua script cycles through pre-built POST requests) against
  `POST /v1/workspaces/{ws}/check` with 64 random (member, action) bodies, at several
  concurrencies; the best throughput whose p99 stays under 10 ms is then run 3 more
  times on both servers (medians reported); the same for `POST .../check/batch` with
  batches of 1,000 random checks (decisions/s = requests/s x 1,000); and one run of
  single checks on a record (`{"record": {"type": "account", "id": ...}}`), for
  information; and the AuthZEN evaluation (`POST /access/v1/evaluation`, the same
  random members and actions with a resource, on a key of the workspace) run in turn
  with the single check at its chosen concurrency (target: within 10% of it).

Before and after the load every body is sent once and its answer compared with the
engine's answer in process (`SnapshotCache` on the same database): allowed, scope,
reasons and revision; any difference, or any non-2xx response under load, raises
`VerificationError`. Every server started is stopped (by its pid) on the way out.

    .venv/bin/python bench/http.py                  # full run (about 7 minutes)
    .venv/bin/python bench/http.py --quick          # smoke: same code paths, 1 s runs
    .venv/bin/python bench/http.py --json out.json --docs docs/benchmarks.md
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's `http` package: keep its directory
# off the front of sys.path (where `python bench/http.py` puts it), or every later
# `import http.client` would load this script instead. `_server` is found at the end.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != _HERE] + [_HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import asdict, dataclass, replace  # noqa: E402
from typing import Any  # noqa: E402

from _server import (  # noqa: E402
    CpuWatch,
    DemoWorkspace,
    JsonClient,
    Server,
    ServerError,
    command_line,
    free_port,
    load_average,
    log,
    machine,
    now_utc,
    percentile,
    read_response,
    rolegate_server,
    setup_demo,
    speed_probe,
    stop_all,
    stop_servers_on_sigterm,
    update_docs,
    versions,
)

__all__ = ["QUICK", "Config", "VerificationError", "WrkMissingError", "main", "run"]


@dataclass(frozen=True)
class Config:
    duration: int = 10
    """Seconds per wrk run."""
    warmup: int = 3
    """Seconds of unrecorded load on each server before its first recorded run."""
    concurrencies: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
    batch_size: int = 1_000
    batch_concurrencies: tuple[int, ...] = (1, 2, 4, 8)
    repeats: int = 5
    """Runs at the chosen concurrency (medians reported)."""
    n_bodies: int = 64
    n_batch_bodies: int = 4
    wrk_threads: int = 1
    p99_limit_ms: float = 10.0
    target_rps: float = 3_000
    target_batch_decisions: float = 300_000
    seed: int = 20240917
    client: str = "wrk"
    """`wrk`, or `python` (the asyncio fallback when wrk cannot be installed)."""
    quick: bool = False


QUICK = Config(duration=1, warmup=1, concurrencies=(1, 4), batch_concurrencies=(1,), repeats=1, n_bodies=16, n_batch_bodies=2, quick=True)


class VerificationError(AssertionError):
    """A server answered wrongly (a decision differs from the engine's, or a non-2xx)."""


class WrkMissingError(RuntimeError):
    """`wrk` is not installed (Debian: `apt-get install -y wrk`)."""


# -- workload ---------------------------------------------------------------------------------


@dataclass
class Workload:
    check_bodies: list[dict[str, Any]]
    record_bodies: list[dict[str, Any]]
    batch_bodies: list[dict[str, Any]]
    expected: dict[str, dict[str, Any]]
    """JSON of a check body (sorted keys) -> the decision the engine gives in process."""
    revision: int
    allowed_share: float
    authzen_bodies: list[dict[str, Any]]
    """AuthZEN evaluations: random (member, action) pairs decided without the record
    index (an action on no object, a denial, or a grant on every record), as the single
    checks they are compared with; the resource is one of the action's object type."""
    authzen_expected: list[bool]
    authzen_key: str
    """A decide key of the demo workspace alone: a PEP needs no `Rolegate-Workspace`."""


def _key(body: dict[str, Any]) -> str:
    return json.dumps({k: body[k] for k in ("member", "action", "record") if body.get(k) is not None}, sort_keys=True)


def _decision_json(d: Any) -> dict[str, Any]:
    return {
        "action": d.action,
        "allowed": d.allowed,
        "scope": d.scope.label,
        "reasons": [{"code": r.code.value, "message": r.message, "permission": r.permission, "rule": r.rule_id} for r in d.reasons],
    }


def build_workload(demo: DemoWorkspace, config: Config) -> Workload:
    """Random (member, action) pairs over every demo member and every action of the
    preset; the expected answers from the engine in process, on the same database."""
    from rolegate.bootstrap import bootstrap
    from rolegate.config import Settings
    from rolegate.engine import RecordRef
    from rolegate.services.api_keys import create_api_key
    from rolegate.services.authzen import evaluate, needs_records

    rng = random.Random(config.seed)
    rg = bootstrap(Settings(database_url=demo.url, listen=False))
    try:
        snap = rg.snapshots.get(demo.workspace_id)
        members = sorted(demo.members.values())
        actions = sorted(snap.schema.actions)
        account_actions = sorted(k for k, a in snap.schema.actions.items() if a.object_type == "account")
        accounts = ["acme", "globex", "initech"]

        def pair() -> dict[str, Any]:
            return {"member": rng.choice(members), "action": rng.choice(actions)}

        check_bodies = [pair() for _ in range(config.n_bodies)]
        record_bodies = [
            {"member": rng.choice(members), "action": rng.choice(account_actions), "record": {"type": "account", "id": rng.choice(accounts)}}
            for _ in range(config.n_bodies)
        ]
        batch_bodies = [{"checks": [pair() for _ in range(config.batch_size)]} for _ in range(config.n_batch_bodies)]
        expected: dict[str, dict[str, Any]] = {}
        every = [*check_bodies, *record_bodies, *(c for b in batch_bodies for c in b["checks"])]
        for body in every:
            rec = body.get("record")
            ref = RecordRef(rec["type"], rec["id"]) if rec else None
            expected[_key(body)] = _decision_json(snap.check(body["member"], body["action"], ref))
        allowed = [expected[_key(b)]["allowed"] for b in every]
        zen = random.Random(config.seed + 1)  # its own stream: the other bodies stay those of earlier runs
        authzen_bodies: list[dict[str, Any]] = []
        authzen_expected: list[bool] = []
        while len(authzen_bodies) < config.n_bodies:
            member, action = zen.choice(members), zen.choice(actions)
            if needs_records(snap, member, action):
                continue
            otype = snap.schema.actions[action].object_type
            resource = {"type": otype or "workspace", "id": zen.choice(accounts)}
            authzen_bodies.append({"subject": {"type": "user", "id": member}, "action": {"name": action}, "resource": resource})
            authzen_expected.append(evaluate(snap, member, action, resource["type"], resource["id"]))
        key = create_api_key(rg.uow(), organization_id=demo.organization_id, workspace_id=demo.workspace_id, rights={"decide"}, name="bench authzen")
        return Workload(
            check_bodies, record_bodies, batch_bodies, expected, snap.revision, sum(allowed) / len(allowed), authzen_bodies, authzen_expected, key
        )
    finally:
        rg.close()


# -- verification -----------------------------------------------------------------------------


def verify_rolegate(client: JsonClient, demo: DemoWorkspace, w: Workload) -> int:
    """Send every body once; each decision must equal the engine's. Returns the number
    of decisions compared."""
    base = f"/v1/workspaces/{demo.workspace_id}"
    n = 0

    def compare(body: dict[str, Any], got: dict[str, Any], where: str) -> None:
        want = w.expected[_key(body)]
        got_core = {k: got.get(k) for k in want}
        if got_core != want:
            raise VerificationError(f"{where}: {body} -> {got_core}, the engine says {want}")

    for body in [*w.check_bodies, *w.record_bodies]:
        status, got = client.post(f"{base}/check", body)
        if status != 200:
            raise VerificationError(f"check {body} -> HTTP {status}: {got}")
        compare(body, got, "check")
        if got.get("revision") != w.revision:
            raise VerificationError(f"check {body}: revision {got.get('revision')}, expected {w.revision}")
        n += 1
    for batch in w.batch_bodies:
        status, got = client.post(f"{base}/check/batch", batch)
        if status != 200:
            raise VerificationError(f"check/batch -> HTTP {status}: {str(got)[:500]}")
        results = got["results"]
        if len(results) != len(batch["checks"]) or got.get("revision") != w.revision:
            raise VerificationError(f"check/batch: {len(results)} results at revision {got.get('revision')} for {len(batch['checks'])} checks")
        for i, (body, res) in enumerate(zip(batch["checks"], results, strict=True)):
            compare(body, res, f"check/batch checks[{i}]")
            n += 1
    zen = {"Authorization": f"Bearer {w.authzen_key}"}
    for body, want in zip(w.authzen_bodies, w.authzen_expected, strict=True):
        status, got = client.post("/access/v1/evaluation", body, headers=zen)
        if status != 200 or got != {"decision": want}:
            raise VerificationError(f"AuthZEN evaluation {body} -> HTTP {status}: {got}, the engine says {want}")
        n += 1
    # The key is checked: no key, or a wrong one, is a 401.
    status, _ = client.post(f"{base}/check", w.check_bodies[0], headers={"Authorization": "Bearer rg_000000000000_wrong"})
    if status != 401:
        raise VerificationError(f"a wrong API key got HTTP {status}, not 401")
    return n


def verify_baseline(client: JsonClient, w: Workload) -> None:
    """The floor answers every body, and really validates it (a bad body is a 422)."""
    base = "/v1/workspaces/ws"
    for body in w.check_bodies[:4]:
        status, got = client.post(f"{base}/check", body)
        if status != 200 or "allowed" not in got:
            raise VerificationError(f"baseline check -> HTTP {status}: {got}")
    status, got = client.post(f"{base}/check/batch", w.batch_bodies[0])
    if status != 200 or len(got["results"]) != len(w.batch_bodies[0]["checks"]):
        raise VerificationError(f"baseline check/batch -> HTTP {status}")
    status, _ = client.post(f"{base}/check", {"member": "", "action": "x"})
    if status != 422:
        raise VerificationError(f"the baseline accepted an empty member (HTTP {status}): it does not validate like Rolegate")


# -- wrk --------------------------------------------------------------------------------------


LUA = """-- generated by bench/http.py: cycle through pre-built POST requests
local path = [==[{path}]==]
local headers = {{["Content-Type"] = "application/json", ["Authorization"] = [==[{auth}]==]}}
local bodies = {{
{bodies}
}}
local reqs = {{}}
local i = 0

function init(args)
  for k, b in ipairs(bodies) do reqs[k] = wrk.format("POST", path, headers, b) end
  i = math.random(#reqs) - 1
end

function request()
  i = i % #reqs + 1
  return reqs[i]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {{"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f}}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
"""


@dataclass(frozen=True)
class LoadSpec:
    """The requests one load run cycles through: a wrk Lua script, and the same
    requests as raw HTTP/1.1 bytes for the Python client."""

    script: Path
    raw: list[bytes]


def load_spec(path: Path, port: int, url_path: str, api_key: str | None, bodies: Sequence[dict[str, Any]]) -> LoadSpec:
    texts = [json.dumps(b, separators=(",", ":")) for b in bodies]
    if any("]==]" in t for t in texts):
        raise ValueError("a body contains the Lua long-string terminator")
    auth = f"Bearer {api_key}" if api_key else "none"
    path.write_text(LUA.format(path=url_path, auth=auth, bodies=",\n".join(f"[==[{t}]==]" for t in texts)))
    raw = [
        (
            f"POST {url_path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Authorization: {auth}\r\nContent-Length: {len(t.encode())}\r\n\r\n{t}"
        ).encode()
        for t in texts
    ]
    return LoadSpec(path, raw)


@dataclass
class Run:
    server: str
    """`Rolegate` or `baseline`."""
    kind: str
    """`check`, `batch`, `record` or `authzen`."""
    phase: str
    """`warmup`, `sweep` or `confirm`."""
    connections: int
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float
    socket_errors: int
    non_2xx: int
    decisions_per_request: int = 1
    load_1min: float = 0.0
    server_cores: float = 0.0
    """CPU the server used during the run, in cores (1.0 = one core busy all along)."""
    others_cores: float = 0.0
    """CPU that processes other than the benchmark's used during the run."""
    steal_cores: float = 0.0
    """CPU time the hypervisor gave to other machines while this one wanted it (/proc/stat steal)."""
    probe_mops: float = 0.0
    """`speed_probe()` just before the run: the machine's Python speed then."""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def decisions_per_s(self) -> float:
        return self.rps * self.decisions_per_request


def wrk_path() -> str | None:
    return shutil.which("wrk")


def run_load(
    server: str, kind: str, phase: str, srv: Server, url_path: str, load: LoadSpec, connections: int, config: Config, per_request: int
) -> Run:
    """One timed run of `wrk` (or of the Python client, when wrk is missing)."""
    seconds = config.duration if phase != "warmup" else config.warmup
    probe = speed_probe()
    watch = CpuWatch([srv.pid] if srv.pid else [])
    port = srv.port
    r = _wrk(port, url_path, load.script, connections, seconds, config) if config.client == "wrk" else _py_client(port, load.raw, connections, seconds)
    cpu = watch.stop()
    run = Run(
        server,
        kind,
        phase,
        connections,
        r["requests"],
        r["duration_us"] / 1e6,
        r["p50_us"] / 1e3,
        r["p90_us"] / 1e3,
        r["p99_us"] / 1e3,
        r["p999_us"] / 1e3,
        r["max_us"] / 1e3,
        r["connect"] + r["read"] + r["write"] + r["timeout"],
        r["status"],
        per_request,
        load_average()[0],
        cpu["servers"],
        cpu["others"],
        cpu["steal"],
        probe,
    )
    if run.non_2xx:
        raise VerificationError(f"{server} {kind}: {run.non_2xx} non-2xx responses under load at {connections} connections")
    if run.requests == 0:
        raise VerificationError(f"{server} {kind}: no request completed at {connections} connections")
    log(
        f"  {server:8} {kind:6} {phase:7} c={connections:<3} {run.rps:9,.0f} req/s  p50 {run.p50_ms:6.2f} ms  p99 {run.p99_ms:6.2f} ms"
        f"  server {run.server_cores:.2f} cores, others {run.others_cores:.2f}, steal {run.steal_cores:.2f}, probe {run.probe_mops:.1f}"
    )
    return run


def _wrk(port: int, url_path: str, script: Path, connections: int, seconds: int, config: Config) -> dict[str, Any]:
    wrk = wrk_path()
    if wrk is None:
        raise WrkMissingError("wrk is not installed: `apt-get install -y wrk` (Debian), or run with --client python")
    threads = max(1, min(config.wrk_threads, connections))
    cmd = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{port}{url_path}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, check=False)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if proc.returncode != 0 or line is None:
        raise ServerError(f"wrk failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    result: dict[str, Any] = json.loads(line.removeprefix("WRKJSON "))
    return result


def _py_client(port: int, raw: Sequence[bytes], connections: int, seconds: int) -> dict[str, Any]:
    """The fallback load generator: `connections` keep-alive connections on one asyncio
    loop, each sending the next pre-built request as soon as the previous answer is
    read (closed loop, like wrk). Being Python, it needs more CPU per request than wrk,
    which it takes from the server on a small machine: its numbers are lower bounds."""
    return asyncio.run(_py_load(port, raw, connections, seconds))


async def _py_load(port: int, raw: Sequence[bytes], connections: int, seconds: int) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    errors = {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0}
    received = 0
    n = len(raw)

    async def worker(offset: int, deadline: float) -> None:
        nonlocal received
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            errors["connect"] += 1
            return
        i = offset
        try:
            while loop.time() < deadline:
                req = raw[i % n]
                i += 1
                t0 = time.perf_counter()
                writer.write(req)
                answer = await read_response(reader)
                if answer is None:
                    errors["read"] += 1
                    return
                status_line, body = answer
                latencies.append(time.perf_counter() - t0)
                received += len(status_line) + len(body)
                if not 200 <= int(status_line.split()[1]) < 400:
                    errors["status"] += 1
        except (OSError, asyncio.IncompleteReadError):
            errors["read"] += 1
        finally:
            writer.close()

    t0 = time.perf_counter()
    deadline = loop.time() + seconds
    await asyncio.gather(*(worker(k * 7, deadline) for k in range(connections)))
    elapsed = time.perf_counter() - t0
    us = sorted(x * 1e6 for x in latencies)

    def pct(p: float) -> float:
        return percentile(us, p) if us else 0.0

    return {
        "requests": len(us),
        "duration_us": elapsed * 1e6,
        "bytes": received,
        **errors,
        "p50_us": pct(50),
        "p90_us": pct(90),
        "p99_us": pct(99),
        "p999_us": pct(99.9),
        "max_us": us[-1] if us else 0.0,
        "mean_us": statistics.fmean(us) if us else 0.0,
    }


def _median_run(runs: Sequence[Run]) -> dict[str, Any]:
    return {
        "rps": statistics.median(r.rps for r in runs),
        "decisions_per_s": statistics.median(r.decisions_per_s for r in runs),
        "p50_ms": statistics.median(r.p50_ms for r in runs),
        "p99_ms": statistics.median(r.p99_ms for r in runs),
        "best_rps": max(r.rps for r in runs),
        "best_decisions_per_s": max(r.decisions_per_s for r in runs),
        "server_cores": statistics.median(r.server_cores for r in runs),
        "others_cores_max": max(r.others_cores for r in runs),
        "steal_cores_max": max(r.steal_cores for r in runs),
        "runs": len(runs),
        "connections": runs[0].connections,
    }


HEADROOM = 0.5
"""A sweep run's p99 must be under this share of the limit for its concurrency to be
chosen: one 10 s run's p99 moves by tens of percent between runs, so a concurrency picked
at the limit's edge (9.7 ms of 10) fails its own confirmation by chance (11.3 ms)."""


def choose(runs: Sequence[Run], limit_ms: float | None) -> tuple[Run, bool]:
    """The run with the best throughput whose p99 is under HEADROOM x the limit, else
    under the limit (True); else the one with the lowest p99 (False)."""
    if limit_ms is None:
        return max(runs, key=lambda r: r.rps), True
    for bound in (limit_ms * HEADROOM, limit_ms):
        ok = [r for r in runs if r.p99_ms < bound]
        if ok:
            return max(ok, key=lambda r: r.rps), True
    return min(runs, key=lambda r: r.p99_ms), False


# -- the run ----------------------------------------------------------------------------------


def run(config: Config) -> dict[str, Any]:
    if config.client == "wrk" and wrk_path() is None:
        raise WrkMissingError("wrk is not installed: `apt-get install -y wrk` (Debian), or run with --client python")
    t_start = time.perf_counter()
    load_start = load_average()
    tmp = Path(tempfile.mkdtemp(prefix="rolegate-bench-http-"))
    try:
        return _run(config, tmp, t_start, load_start)
    finally:
        stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


def _run(config: Config, tmp: Path, t_start: float, load_start: tuple[float, float, float]) -> dict[str, Any]:
    url = f"sqlite:///{tmp / 'http.db'}"
    log(f"database {url}: rolegate db upgrade, rolegate demo ...")
    demo = setup_demo(url)
    w = build_workload(demo, config)
    log(f"workload: seed {config.seed}, {len(w.check_bodies)} check bodies, {len(w.batch_bodies)} batches of {config.batch_size}")

    rg = rolegate_server("rolegate", url, free_port(), tmp)
    base = Server("baseline", [sys.executable, str(Path(_HERE) / "_baseline_app.py"), "--port", "0"], 0, tmp / "baseline.log")
    base.port = free_port()
    base.argv[-1] = str(base.port)
    rg.start()
    base.start()
    log(f"servers: rolegate pid {rg.pid} on :{rg.port}, baseline pid {base.pid} on :{base.port}")
    servers = {"Rolegate": rg, "baseline": base}
    ws_path = f"/v1/workspaces/{demo.workspace_id}"
    paths = {
        ("Rolegate", "check"): f"{ws_path}/check",
        ("Rolegate", "batch"): f"{ws_path}/check/batch",
        ("Rolegate", "record"): f"{ws_path}/check",
        ("Rolegate", "authzen"): "/access/v1/evaluation",
        ("baseline", "check"): "/v1/workspaces/ws/check",
        ("baseline", "batch"): "/v1/workspaces/ws/check/batch",
    }
    bodies = {"check": w.check_bodies, "batch": w.batch_bodies, "record": w.record_bodies, "authzen": w.authzen_bodies}
    per_request = {"check": 1, "batch": config.batch_size, "record": 1, "authzen": 1}
    keys = {"Rolegate": demo.api_key, "baseline": None}
    specs = {
        (name, kind): load_spec(tmp / f"{name}-{kind}.lua", servers[name].port, path, w.authzen_key if kind == "authzen" else keys[name], bodies[kind])
        for (name, kind), path in paths.items()
    }

    client = JsonClient(rg.port, {"Authorization": f"Bearer {demo.api_key}"})
    verified = verify_rolegate(client, demo, w)
    log(f"verified: {verified} decisions over HTTP equal the engine's in process")
    base_client = JsonClient(base.port)
    verify_baseline(base_client, w)
    base_client.close()

    runs: list[Run] = []

    def load(name: str, kind: str, phase: str, c: int) -> Run:
        srv = servers[name]
        r = run_load(name, kind, phase, srv, paths[(name, kind)], specs[(name, kind)], c, config, per_request[kind])
        runs.append(r)
        return r

    for name in servers:
        load(name, "check", "warmup", 4)
        load(name, "batch", "warmup", 1)

    # Single checks: the sweep, both servers at each concurrency in turn.
    log("single check: sweep ...")
    sweep: dict[str, list[Run]] = {"Rolegate": [], "baseline": []}
    for c in config.concurrencies:
        for name in servers:
            sweep[name].append(load(name, "check", "sweep", c))
    best, under_limit = choose(sweep["Rolegate"], config.p99_limit_ms)
    c_check = best.connections
    confirm: dict[str, list[Run]] = {"Rolegate": [], "baseline": []}
    authzen: list[Run] = []
    load("Rolegate", "authzen", "warmup", c_check)
    if config.repeats > 1:
        log(f"single check and AuthZEN evaluation: {config.repeats} runs at {c_check} connections ...")
        for _ in range(config.repeats):
            for name in servers:
                confirm[name].append(load(name, "check", "confirm", c_check))
            authzen.append(load("Rolegate", "authzen", "confirm", c_check))
    else:
        for name in servers:
            confirm[name] = [next(r for r in sweep[name] if r.connections == c_check)]
        authzen.append(load("Rolegate", "authzen", "confirm", c_check))

    # Batches.
    log(f"check/batch ({config.batch_size} checks): sweep ...")
    bsweep: dict[str, list[Run]] = {"Rolegate": [], "baseline": []}
    for c in config.batch_concurrencies:
        for name in servers:
            bsweep[name].append(load(name, "batch", "sweep", c))
    bbest, _ = choose(bsweep["Rolegate"], None)
    c_batch = bbest.connections
    bconfirm: dict[str, list[Run]] = {"Rolegate": [], "baseline": []}
    if config.repeats > 1:
        log(f"check/batch: {config.repeats} runs at {c_batch} connections ...")
        for _ in range(config.repeats):
            for name in servers:
                bconfirm[name].append(load(name, "batch", "confirm", c_batch))
    else:
        for name in servers:
            bconfirm[name] = [next(r for r in bsweep[name] if r.connections == c_batch)]

    # Checks on a record (thread pool + the SQL record index), for information.
    log(f"check on a record: one run at {c_check} connections ...")
    record_run = load("Rolegate", "record", "sweep", c_check)

    verified += verify_rolegate(client, demo, w)
    client.close()
    log("verified again after the load")
    pids = {"rolegate": rg.pid, "baseline": base.pid}
    rg.stop()
    base.stop()

    single = {name: _median_run(confirm[name]) for name in servers}
    batch = {name: _median_run(bconfirm[name]) for name in servers}
    result: dict[str, Any] = {
        "date": now_utc(),
        "config": asdict(config),
        "machine": machine(),
        "versions": {**versions("rolegate", "fastapi", "starlette", "uvicorn", "pydantic", "uvloop", "httptools", "h11"), "load generator": _client_version(config)},
        "workload": {
            "preset": "natero",
            "members": len(demo.members),
            "check_bodies": len(w.check_bodies),
            "batch_bodies": len(w.batch_bodies),
            "authzen_bodies": len(w.authzen_bodies),
            "allowed_share": w.allowed_share,
            "revision": w.revision,
            "demo_seconds": demo.demo_seconds,
        },
        "servers": pids,
        "runs": [{**asdict(r), "rps": r.rps, "decisions_per_s": r.decisions_per_s} for r in runs],
        "single": {"connections": c_check, "p99_under_limit": under_limit, **single},
        "batch": {"connections": c_batch, **batch},
        "authzen": {**_median_run(authzen), "to_check": statistics.median(a.rps / c.rps for a, c in zip(authzen, confirm["Rolegate"], strict=False))},
        "record": {"connections": c_check, "rps": record_run.rps, "p50_ms": record_run.p50_ms, "p99_ms": record_run.p99_ms, "others_cores": record_run.others_cores},
        "verification": {"passed": True, "decisions_compared": verified, "non_2xx_under_load": 0},
        "elapsed_s": time.perf_counter() - t_start,
        "load_average": {"start": list(load_start), "end": list(load_average())},
    }
    result["targets"] = targets(result, config)
    return result


def _client_version(config: Config) -> str:
    wrk = wrk_path()
    if config.client != "wrk" or wrk is None:
        return "the Python asyncio client of bench/http.py (wrk was not installed)"
    proc = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
    first = (proc.stdout or proc.stderr).splitlines()
    return first[0].split("Copyright")[0].strip() if first else "unknown"


def targets(result: dict[str, Any], config: Config) -> list[dict[str, Any]]:
    s, b, z = result["single"]["Rolegate"], result["batch"]["Rolegate"], result["authzen"]
    ok_single = s["rps"] >= config.target_rps and s["p99_ms"] < config.p99_limit_ms
    return [
        {
            "target": f"single `check` >= {config.target_rps:,.0f} requests/s with p99 < {config.p99_limit_ms:g} ms",
            "text": f"{s['rps']:,.0f} req/s, p99 {s['p99_ms']:.2f} ms at {s['connections']} connections",
            "status": "PASS" if ok_single else "SHORT",
        },
        {
            "target": f"`check/batch` >= {config.target_batch_decisions:,.0f} decisions/s",
            "text": f"{b['decisions_per_s']:,.0f} decisions/s at {b['connections']} connections",
            "status": "PASS" if b["decisions_per_s"] >= config.target_batch_decisions else "SHORT",
        },
        {
            "target": "AuthZEN `evaluation` within 10% of the single `check` (runs in turn at the same concurrency)",
            "text": f"{z['rps']:,.0f} req/s, {z['to_check']:.2f}x the check (median of the run pairs)",
            "status": "PASS" if z["to_check"] >= 0.9 else "SHORT",
        },
    ]


# -- report -----------------------------------------------------------------------------------


def markdown(result: dict[str, Any]) -> str:
    runs = [Run(**{k: v for k, v in r.items() if k not in ("rps", "decisions_per_s")}) for r in result["runs"]]
    cfg = result["config"]
    lines = [
        f"Single `check` (one decision per request), sweep: {cfg['duration']} s per run, `wrk -t{cfg['wrk_threads']} --latency`",
        "",
        "| connections | Rolegate req/s | p50 ms | p99 ms | baseline req/s | p50 ms | p99 ms | Rolegate/baseline | server CPU, cores | others' CPU, cores | steal, cores | speed probe, M/s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def pair_rows(kind: str, per: int) -> list[str]:
        out = []
        sweep = [r for r in runs if r.kind == kind and r.phase == "sweep"]
        for c in sorted({r.connections for r in sweep}):
            rg = next((r for r in sweep if r.server == "Rolegate" and r.connections == c), None)
            bl = next((r for r in sweep if r.server == "baseline" and r.connections == c), None)
            if rg is None or bl is None:
                continue
            rg_rate, bl_rate = (rg.decisions_per_s, bl.decisions_per_s) if per > 1 else (rg.rps, bl.rps)
            out.append(
                f"| {c} | {rg_rate:,.0f} | {rg.p50_ms:.2f} | {rg.p99_ms:.2f} | {bl_rate:,.0f} | {bl.p50_ms:.2f} | {bl.p99_ms:.2f} | {rg.rps / bl.rps:.2f}x "
                f"| {rg.server_cores:.2f} / {bl.server_cores:.2f} | {rg.others_cores:.2f} / {bl.others_cores:.2f} "
                f"| {rg.steal_cores:.2f} / {bl.steal_cores:.2f} | {rg.probe_mops:.1f} / {bl.probe_mops:.1f} |"
            )
        return out

    lines += pair_rows("check", 1)
    lines += [
        "",
        f"`check/batch` ({cfg['batch_size']:,} checks per request), sweep",
        "",
        "| connections | Rolegate decisions/s | p50 ms | p99 ms | baseline decisions/s | p50 ms | p99 ms | Rolegate/baseline | server CPU, cores | others' CPU, cores | steal, cores | speed probe, M/s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += pair_rows("batch", cfg["batch_size"])
    s, b, rec, z = result["single"], result["batch"], result["record"], result["authzen"]
    n = s["Rolegate"]["runs"]
    lines += [
        "",
        f"At the chosen concurrency (median of {n} run{'s' if n > 1 else ''} per server, interleaved; the best run in brackets)",
        "",
        "| measurement | connections | Rolegate | p50 ms | p99 ms | baseline | p50 ms | p99 ms | Rolegate/baseline | other processes' CPU, max of the runs |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| single `check`, requests/s | {s['connections']} | {s['Rolegate']['rps']:,.0f} ({s['Rolegate']['best_rps']:,.0f}) | {s['Rolegate']['p50_ms']:.2f} | {s['Rolegate']['p99_ms']:.2f} | "
        f"{s['baseline']['rps']:,.0f} ({s['baseline']['best_rps']:,.0f}) | {s['baseline']['p50_ms']:.2f} | {s['baseline']['p99_ms']:.2f} | {s['Rolegate']['rps'] / s['baseline']['rps']:.2f}x "
        f"| {max(s['Rolegate']['others_cores_max'], s['baseline']['others_cores_max']):.2f} cores |",
        f"| `check/batch`, decisions/s | {b['connections']} | {b['Rolegate']['decisions_per_s']:,.0f} ({b['Rolegate']['best_decisions_per_s']:,.0f}) | {b['Rolegate']['p50_ms']:.2f} | {b['Rolegate']['p99_ms']:.2f} | "
        f"{b['baseline']['decisions_per_s']:,.0f} ({b['baseline']['best_decisions_per_s']:,.0f}) | {b['baseline']['p50_ms']:.2f} | {b['baseline']['p99_ms']:.2f} | {b['Rolegate']['rps'] / b['baseline']['rps']:.2f}x "
        f"| {max(b['Rolegate']['others_cores_max'], b['baseline']['others_cores_max']):.2f} cores |",
        f"| AuthZEN `evaluation`, requests/s | {z['connections']} | {z['rps']:,.0f} ({z['best_rps']:,.0f}) | {z['p50_ms']:.2f} | {z['p99_ms']:.2f} | | | | "
        f"{z['to_check']:.2f}x the check | {z['others_cores_max']:.2f} cores |",
        f"| `check` on a record, requests/s (information) | {rec['connections']} | {rec['rps']:,.0f} | {rec['p50_ms']:.2f} | {rec['p99_ms']:.2f} | | | | | {rec['others_cores']:.2f} cores |",
        "",
        "| target | measured | status |",
        "|---|---|---|",
    ]
    lines += [f"| {t['target']} | {t['text']} | {t['status']} |" for t in result["targets"]]
    if not s["p99_under_limit"]:
        lines.append(f"\nNo concurrency kept Rolegate's p99 under {cfg['p99_limit_ms']:g} ms; the row above is the one with the lowest p99.")
    v = result["verification"]
    lines += [
        "",
        f"- verification: {v['decisions_compared']:,} decisions over HTTP (every body, before and after the load) equal the engine's in process "
        f"(allowed, scope, reasons, revision); no non-2xx response under load; a wrong key is a 401: {'PASSED' if v['passed'] else 'FAILED'}",
        f"- allowed share of the workload: {result['workload']['allowed_share']:.1%}",
    ]
    return "\n".join(lines)


DOCS_START = "<!-- bench:http:start (generated by bench/http.py --docs; edits inside are overwritten) -->"
DOCS_END = "<!-- bench:http:end -->"


def docs_section(result: dict[str, Any]) -> str:
    m, v, c, wl = result["machine"], result["versions"], result["config"], result["workload"]
    la = result["load_average"]
    return "\n".join(
        [
            DOCS_START,
            "## HTTP decisions (bench/http.py)",
            "",
            f"- Command: `{result['command']}`",
            f"- Date: {result['date']}; run took {result['elapsed_s']:,.0f} s; load average (1, 5, 15 min) "
            f"{la['start'][0]:.2f}, {la['start'][1]:.2f}, {la['start'][2]:.2f} at the start, "
            f"{la['end'][0]:.2f}, {la['end'][1]:.2f}, {la['end'][2]:.2f} at the end (the benchmark itself adds about 1.5: a busy server and the load generator); "
            "CPU used by processes other than the benchmark's during each timed run (from /proc): median "
            f"{statistics.median(r['others_cores'] for r in result['runs']):.2f} cores, max {max(r['others_cores'] for r in result['runs']):.2f}; "
            f"steal (the hypervisor running other guests): median {statistics.median(r['steal_cores'] for r in result['runs']):.2f} cores, "
            f"max {max(r['steal_cores'] for r in result['runs']):.2f}; Python speed probe before each run (a fixed dict loop, million iterations/s): "
            f"min {min(r['probe_mops'] for r in result['runs']):.1f}, median {statistics.median(r['probe_mops'] for r in result['runs']):.1f}, "
            f"max {max(r['probe_mops'] for r in result['runs']):.1f}",
            f"- Machine: {m['cpu']}, `nproc` = {m['nproc']}, {m['platform']}; Python {m['python']}",
            f"- Versions: rolegate {v['rolegate']}, FastAPI {v['fastapi']}, Starlette {v['starlette']}, uvicorn {v['uvicorn']} "
            f"(h11 {v['h11']}, httptools {v['httptools']}, uvloop {v['uvloop']}), Pydantic {v['pydantic']}; load: {v['load generator']}",
            f"- Servers: `rolegate serve --host 127.0.0.1 --port P --url sqlite:///<tmp>/http.db` (uvicorn with httptools and uvloop, one worker, access log off, as shipped) "
            f"on a database made by `rolegate db upgrade` + `rolegate demo`; the baseline `bench/_baseline_app.py`: bare FastAPI, same uvicorn "
            "settings, same routes parsing the same Pydantic models (`CheckIn`, `BatchCheckIn`), a constant answer. Both run at once, loaded in turn; "
            f"wrk and the server share the {m['nproc']} cores.",
            f"- Workload (seed {c['seed']}): the natero demo workspace ({wl['members']} members: administrator, 3 active, 1 invited, 1 disabled); "
            f"{wl['check_bodies']} random (member, action) bodies over every member and action, cycled by a wrk Lua script; "
            f"{wl['batch_bodies']} batches of {c['batch_size']:,} random checks; records: `account` acme, globex, initech; "
            f"{wl.get('authzen_bodies', 0)} AuthZEN evaluations: random (member, action) pairs whose decision needs no record read, with a resource of the action's "
            "object type, on a decide key of the workspace (the ratio is to the single check's run just before each, at the same concurrency).",
            f"- Method: {c['warmup']} s warm-up per server, then a sweep of {c['duration']} s runs; the chosen concurrency is the best "
            f"Rolegate throughput with p99 < {c['p99_limit_ms'] * HEADROOM:g} ms, half the limit, as headroom for run-to-run p99 noise "
            f"(else < {c['p99_limit_ms']:g} ms; batches: the best throughput), run {c['repeats']} more times on both servers. "
            "Latency is wrk's (closed loop: requests wait for a free connection, so it understates queueing at saturation).",
            "",
            markdown(result),
            DOCS_END,
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run: same code paths, 1 s runs, no target asserted")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH")
    parser.add_argument("--docs", metavar="PATH", help="write the results into the marked section of PATH")
    parser.add_argument("--duration", type=int, help="seconds per wrk run")
    parser.add_argument("--seed", type=int, help="override the fixed seed")
    parser.add_argument(
        "--client", choices=("auto", "wrk", "python"), default="auto", help="load generator (auto: wrk when installed, else the Python client)"
    )
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(args_list)
    config = QUICK if args.quick else Config()
    if args.duration is not None:
        config = replace(config, duration=args.duration)
    if args.seed is not None:
        config = replace(config, seed=args.seed)
    client = args.client
    if client == "auto":
        client = "wrk" if wrk_path() is not None else "python"
        if client == "python":
            print("bench/http.py: wrk is not installed (`apt-get install -y wrk`); using the Python asyncio client, which shares the CPU with the server", file=sys.stderr)
    config = replace(config, client=client)
    try:
        result = run(config)
    except WrkMissingError as exc:
        print(f"bench/http.py: {exc}", file=sys.stderr)
        return 2
    result["command"] = command_line("bench/http.py", args_list)
    print(markdown(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if args.docs:
        update_docs(Path(args.docs), DOCS_START[:24], DOCS_END, docs_section(result))
    return 0


if __name__ == "__main__":
    stop_servers_on_sigterm()
    sys.exit(main())
