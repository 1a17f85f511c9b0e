"""Webhook delivery (issue 16): latency from a committed change to its receipt, and a
receiver down for ten minutes.

Two parts:

* Latency (real processes, loopback): `rolegate db upgrade` + `rolegate demo` on a
  fresh database (SQLite by default, `--url` for another), one `rolegate serve`
  with its delivery thread on (`ROLEGATE_WEBHOOKS=1`, `ROLEGATE_WEBHOOKS_ALLOW_PRIVATE=1`
  for the loopback receiver), a receiver (threaded `http.server`) in this process.
  An endpoint is registered over the API, then N edits (`PUT .../audit/retention`, one
  committed change each), one at a time: each waits until the receiver has taken its
  change. The delay is from the API's answer (the change is committed before it) to
  the receiver reading the body, and, for information, from the start of the request.
  Every delivery is verified with `standardwebhooks` and must come in `seq` order.
* Ten minutes down (in this process, on a simulated clock): the sender
  (`WebhookSender`, the product's delivery policy: backoff from 5 s doubling to 30 min,
  jitter) runs a pass every 5 simulated seconds while changes are committed in two
  workspaces, one every 2 simulated seconds, and the receiver answers 503 for 10
  simulated minutes; then it answers 204. Measured: every change received afterwards,
  in order per workspace, how many were repeated, how long (simulated) until the first
  and the last after the recovery, and the wall time of the drain.

    .venv/bin/python bench/webhooks.py --quick           # smoke: 20 edits, 1 minute down
    .venv/bin/python bench/webhooks.py --json out.json --docs docs/benchmarks.md
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/webhooks.py` puts bench/ first on sys.path, where bench/http.py would
# shadow the standard library's `http` package; keep bench/ at the end instead.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != _HERE] + [_HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Sequence  # noqa: E402
from dataclasses import asdict, dataclass  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from typing import Any  # noqa: E402

from standardwebhooks import Webhook  # noqa: E402

from _server import (  # noqa: E402
    CpuWatch,
    JsonClient,
    command_line,
    free_port,
    load_average,
    log,
    machine,
    now_utc,
    percentile,
    rolegate_server,
    setup_demo,
    stop_servers_on_sigterm,
    update_docs,
    versions,
)

TARGET_P99_S = 1.0


@dataclass(frozen=True)
class Config:
    edits: int = 200
    warmup: int = 5
    down_minutes: float = 10.0
    change_every_s: float = 2.0
    pass_every_s: float = 5.0
    wait_s: float = 10.0
    """An edit whose change has not arrived after this long counts as never received."""


QUICK = Config(edits=20, warmup=2, down_minutes=1.0)


class Receiver:
    """Records every POST it takes (2xx) with the time it read the body; answers 503 while `down`."""

    def __init__(self) -> None:
        self.taken: list[tuple[float, dict[str, str], bytes]] = []
        self.refused = 0
        self.down = False
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                at = time.perf_counter()
                with receiver._cond:
                    status = 503 if receiver.down else 204
                    if status == 204:
                        receiver.taken.append((at, {k.lower(): v for k, v in self.headers.items()}, body))
                    else:
                        receiver.refused += 1
                    receiver._cond.notify_all()
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.taken) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def latency(config: Config, url: str | None, work: Path) -> dict[str, Any]:
    db = url or f"sqlite:///{work / 'webhooks.db'}"
    demo = setup_demo(db)
    receiver = Receiver()
    port = free_port()
    env = {"ROLEGATE_WEBHOOKS": "1", "ROLEGATE_WEBHOOKS_ALLOW_PRIVATE": "1", "ROLEGATE_LOG_LEVEL": "WARNING"}
    try:
        with rolegate_server("A", db, port, work, env=env) as server:
            client = JsonClient(port, {"Authorization": f"Bearer {demo.api_key}", "Rolegate-Actor": demo.admin_id})
            status, made = client.post(f"/v1/organizations/{demo.organization_id}/webhooks", {"url": receiver.url, "description": "bench"})
            if status != 201:
                raise RuntimeError(f"registering the endpoint -> HTTP {status}: {made}")
            verifier = Webhook(made["secret"])
            base = f"/v1/workspaces/{demo.workspace_id}/audit/retention"
            from_answer: list[float] = []
            from_start: list[float] = []
            put_s: list[float] = []
            missing = 0
            watch: CpuWatch | None = None
            for i in range(config.warmup + config.edits):
                if i == config.warmup:
                    watch = CpuWatch([p for p in [server.pid] if p is not None])
                expected = len(receiver.taken) + 1
                t0 = time.perf_counter()
                status, body = client.request("PUT", base, {"days": 1000 + i})
                t1 = time.perf_counter()
                if status != 200:
                    raise RuntimeError(f"PUT retention -> HTTP {status}: {body}")
                if not receiver.wait_for(expected, config.wait_s):
                    missing += i >= config.warmup
                    continue
                at = receiver.taken[expected - 1][0]
                if i >= config.warmup:
                    from_answer.append(at - t1)
                    from_start.append(at - t0)
                    put_s.append(t1 - t0)
            cpu = watch.stop() if watch is not None else {}
            client.close()
    finally:
        receiver.close()
    payloads = [verifier.verify(body, headers) for _, headers, body in receiver.taken]
    seqs = [p["data"]["seq"] for p in payloads if p["data"]["workspace_id"] == demo.workspace_id]
    ids = [h["webhook-id"] for _, h, _ in receiver.taken]
    return {
        "edits": config.edits,
        "received": len(from_answer),
        "never_received": missing,
        "verified": len(payloads),
        "in_order": seqs == sorted(seqs),
        "duplicates": len(ids) - len(set(ids)),
        "p50_ms": _ms(percentile(from_answer, 50)),
        "p95_ms": _ms(percentile(from_answer, 95)),
        "p99_ms": _ms(percentile(from_answer, 99)),
        "max_ms": _ms(max(from_answer)) if from_answer else None,
        "p50_from_start_ms": _ms(percentile(from_start, 50)),
        "p99_from_start_ms": _ms(percentile(from_start, 99)),
        "put_p50_ms": _ms(percentile(put_s, 50)),
        "put_p99_ms": _ms(percentile(put_s, 99)),
        "cpu": cpu,
        "database": "SQLite (file)" if db.startswith("sqlite") else "PostgreSQL",
    }


class SimClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def outage(config: Config, work: Path) -> dict[str, Any]:
    from rolegate.bootstrap import bootstrap
    from rolegate.config import Settings
    from rolegate.domain.workspace import Actor
    from rolegate.services import audit
    from rolegate.services.webhook_delivery import DeliveryPolicy
    from rolegate.services.webhooks import create_endpoint
    from rolegate.services.workspaces import create_organization, create_workspace

    logging.getLogger("rolegate.webhooks").setLevel(logging.ERROR)  # the refused attempts are counted, not logged one by one
    platform = Actor.system("bench")
    rg = bootstrap(Settings(database_url=f"sqlite:///{work / 'outage.db'}", listen=False))
    rg.create_tables()
    receiver = Receiver()
    try:
        org = create_organization(rg.uow(), actor=platform, name="Bench")
        spaces = [
            create_workspace(rg.uow(), actor=platform, preset="natero", name=f"W{i}", owner_email=f"o{i}@bench.test", organization_id=org)
            for i in range(2)
        ]
        made = create_endpoint(rg.uow(), actor=platform, organization_id=org, url=receiver.url, allow_private=True)
        clock = SimClock()
        policy = DeliveryPolicy(allow_private=True)  # the product's backoff: 5 s doubling, at most 30 min, jitter
        sender = rg.webhook_sender(policy=policy, clock=clock, rng=random.Random(16))
        down_s = config.down_minutes * 60
        receiver.down = True
        committed = 0
        elapsed = 0.0
        next_change = 0.0
        next_pass = 0.0
        step = min(config.change_every_s, config.pass_every_s)
        while elapsed < down_s:
            if elapsed >= next_change:
                ws = spaces[committed % 2].workspace.id
                owner = spaces[committed % 2].owner.member.id
                audit.set_retention(rg.uow(), actor=Actor.member(owner), workspace_id=ws, days=1000 + committed)
                committed += 1
                next_change += config.change_every_s
            if elapsed >= next_pass:
                sender.deliver_due()
                next_pass += config.pass_every_s
            elapsed += step
            clock.now += timedelta(seconds=step)
        attempts_down = receiver.refused
        receiver.down = False
        recovered_at = elapsed
        first_after: float | None = None
        wall0 = time.perf_counter()
        expected = committed  # every change made while it was down (the endpoint came before them)
        while len(receiver.taken) < expected and elapsed - recovered_at < 2 * 3600:
            sender.deliver_due()
            if receiver.taken and first_after is None:
                first_after = elapsed - recovered_at
            elapsed += config.pass_every_s
            clock.now += timedelta(seconds=config.pass_every_s)
        drained_sim = elapsed - recovered_at
        wall = time.perf_counter() - wall0
        sender.close()
        verifier = Webhook(made.secret)
        payloads = [verifier.verify(body, headers) for _, headers, body in receiver.taken]
        in_order = all(
            (s := [p["data"]["seq"] for p in payloads if p["data"]["workspace_id"] == w.workspace.id]) == sorted(s) for w in spaces
        )
        ids = [h["webhook-id"] for _, h, _ in receiver.taken]
        return {
            "down_minutes": config.down_minutes,
            "committed_while_down": committed,
            "attempts_refused_while_down": attempts_down,
            "received_after": len(payloads),
            "all_received": len(set(ids)) == committed,
            "in_order": in_order,
            "duplicates": len(ids) - len(set(ids)),
            "first_after_recovery_s": first_after,
            "all_after_recovery_s": drained_sim,
            "drain_wall_s": round(wall, 3),
            "policy": {"retry_base_s": policy.retry_base.total_seconds(), "retry_max_s": policy.retry_max.total_seconds()},
        }
    finally:
        receiver.close()
        rg.close()


def run(config: Config, url: str | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    la0 = load_average()
    with tempfile.TemporaryDirectory(prefix="rolegate-bench-webhooks-") as tmp:
        work = Path(tmp)
        log("latency: demo database, one server with its delivery thread, a loopback receiver")
        lat = latency(config, url, work)
        log(f"latency p99 {lat['p99_ms']} ms over {lat['edits']} edits; ten minutes down (simulated clock)")
        down = outage(config, work)
    return {
        "date": now_utc(),
        "elapsed_s": time.perf_counter() - started,
        "load_average": {"start": la0, "end": load_average()},
        "machine": machine(),
        "versions": versions("rolegate", "httpx", "standardwebhooks", "uvicorn", "sqlalchemy"),
        "config": asdict(config),
        "latency": lat,
        "outage": down,
    }


def markdown(result: dict[str, Any]) -> str:
    lat, down = result["latency"], result["outage"]
    verdict = "met" if lat["p99_ms"] is not None and lat["p99_ms"] < TARGET_P99_S * 1000 and lat["never_received"] == 0 else "NOT met"
    lines = [
        f"| commit to receipt ({lat['database']}, {lat['edits']} edits) | p50 | p95 | p99 | max |",
        "|---|---:|---:|---:|---:|",
        f"| from the API's answer (the change committed before it; negative: the delivery came first) to the receiver reading the body | {lat['p50_ms']} ms | {lat['p95_ms']} ms | {lat['p99_ms']} ms | {lat['max_ms']} ms |",
        f"| from the start of the request | {lat['p50_from_start_ms']} ms | | {lat['p99_from_start_ms']} ms | |",
        f"| the write itself (`PUT .../audit/retention`, answered) | {lat['put_p50_ms']} ms | | {lat['put_p99_ms']} ms | |",
        "",
        f"Target p99 < {TARGET_P99_S * 1000:.0f} ms: **{verdict}**. Received {lat['received']} of {lat['edits']} "
        f"({lat['never_received']} never), {lat['verified']} deliveries verified with `standardwebhooks`, in `seq` order: {lat['in_order']}, "
        f"repeated: {lat['duplicates']}.",
        "",
        f"| receiver down {down['down_minutes']:g} min (simulated clock) | value |",
        "|---|---:|",
        f"| changes committed while it was down (2 workspaces) | {down['committed_while_down']} |",
        f"| attempts refused while down (503) | {down['attempts_refused_while_down']} |",
        f"| changes received after it came back | {down['received_after']} (all: {down['all_received']}) |",
        f"| in order per workspace | {down['in_order']} |",
        f"| repeated deliveries | {down['duplicates']} |",
        f"| first delivery after the recovery (simulated) | {down['first_after_recovery_s']} s |",
        f"| every change delivered after the recovery (simulated) | {down['all_after_recovery_s']:g} s |",
        f"| wall time of that drain | {down['drain_wall_s']} s |",
    ]
    return "\n".join(lines)


DOCS_START = "<!-- bench:webhooks:start (generated by bench/webhooks.py --docs; edits inside are overwritten) -->"
DOCS_END = "<!-- bench:webhooks:end -->"


def docs_section(result: dict[str, Any]) -> str:
    m, v, c = result["machine"], result["versions"], result["config"]
    la = result["load_average"]
    cpu = result["latency"].get("cpu") or {}
    return "\n".join(
        [
            DOCS_START,
            "## Webhook delivery (bench/webhooks.py)",
            "",
            f"- Command: `{result['command']}`",
            f"- Date: {result['date']}; run took {result['elapsed_s']:,.0f} s; load average (1, 5, 15 min) "
            f"{la['start'][0]:.2f}, {la['start'][1]:.2f}, {la['start'][2]:.2f} at the start, {la['end'][0]:.2f}, {la['end'][1]:.2f}, {la['end'][2]:.2f} at the end"
            + (f"; during the edits the server used {cpu.get('servers', 0):.2f} cores, this process {cpu.get('bench', 0):.2f}, others {cpu.get('others', 0):.2f}" if cpu else ""),
            f"- Machine: {m['cpu']}, `nproc` = {m['nproc']}, {m['platform']}; Python {m['python']}",
            f"- Versions: rolegate {v['rolegate']}, httpx {v['httpx']}, standardwebhooks {v['standardwebhooks']}, uvicorn {v['uvicorn']}, SQLAlchemy {v['sqlalchemy']}",
            "- Latency: `rolegate db upgrade` + `rolegate demo` on a fresh database; one `rolegate serve` (its delivery thread on, "
            "`ROLEGATE_WEBHOOKS_ALLOW_PRIVATE=1` for the loopback receiver, a threaded `http.server` in the benchmark's process); "
            f"an endpoint registered over the API; {c['warmup']} warm-up edits, then {c['edits']} edits one at a time, each waiting for its delivery. "
            "Percentiles are nearest-rank.",
            f"- Ten minutes down: in the benchmark's process on a **simulated clock** (the real sender, database and HTTP; only time is simulated): "
            f"a change every {c['change_every_s']:g} s in one of two workspaces, a sender pass every {c['pass_every_s']:g} s, the receiver answering 503 "
            f"for {c['down_minutes']:g} min, then 204; the product's backoff (5 s doubling to 30 min, each delay between half and all of it). "
            "The first delivery after the recovery waits for the backoff the outage had reached.",
            "",
            markdown(result),
            DOCS_END,
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 edits, 1 minute down")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH")
    parser.add_argument("--docs", metavar="PATH", help="write the results into the marked section of PATH")
    parser.add_argument("--url", help="an existing, empty database for the latency part (default: a fresh SQLite file)")
    parser.add_argument("--edits", type=int, help="edits measured")
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(args_list)
    config = QUICK if args.quick else Config()
    if args.edits is not None:
        config = Config(**{**asdict(config), "edits": args.edits})
    result = run(config, url=args.url)
    result["command"] = command_line("bench/webhooks.py", args_list)
    print(markdown(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2, default=str) + "\n")
    if args.docs:
        update_docs(Path(args.docs), DOCS_START[:27], DOCS_END, docs_section(result))
    return 0


if __name__ == "__main__":
    stop_servers_on_sigterm()
    sys.exit(main())
