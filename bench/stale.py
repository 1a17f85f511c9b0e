"""Stale-free decisions across processes: a role edit through `rolegate serve` A,
seen by the decisions of `rolegate serve` B on the same PostgreSQL database.

One run:

* a fresh PostgreSQL database (created, and dropped at the end, on the server of
  `--server`, default `ROLEGATE_TEST_DATABASE_URL` or
  `postgresql://postgres@127.0.0.1:5432/postgres`; or `--url` for an existing empty
  database, left in place), `rolegate db upgrade --url` and `rolegate demo --url`;
  in the natero demo workspace, a custom role "Bench toggle" (level analyst, landing
  page dashboard, granting `accounts.view_all`) and a member holding it;
* three `rolegate serve` processes on that database: A (edits), B (LISTEN on, the
  default) and B0 (`ROLEGATE_LISTEN=0`);
* 200 edits: A toggles `accounts.update` on the role (`PATCH .../roles/{id}` on behalf
  of the demo administrator, whole grant list), so `accounts.bulk_edit` flips between
  denied and allowed for the member; as soon as A's answer is back, B's `check` (no
  `min_revision`) is polled back to back on one keep-alive connection until it
  answers the new decision at the edit's revision or later; the delay is from A's
  answer to that answer of B (and, for information, from the start of the PATCH);
* read your own writes: 20 more edits, each followed by one check on B with
  `min_revision` = the revision A returned: the first answer must be the new one;
* the contrast: 50 edits polled on B0 (no listener) with the wait capped at 2 s;
  after each, one check on B0 with `min_revision` must reflect the edit at once.

A decision at the edit's revision (or later) that is not the new one, or a read of
one's own write that is not reflected, raises `VerificationError`. Every server
started is stopped (by its pid); the database is dropped.

    .venv/bin/python bench/stale.py                  # full run (about 3 minutes)
    .venv/bin/python bench/stale.py --quick          # smoke: 10 edits
    .venv/bin/python bench/stale.py --json out.json --docs docs/benchmarks.md
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/stale.py` puts bench/ first on sys.path, where bench/http.py would
# shadow the standard library's `http` package; keep bench/ at the end instead.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != _HERE] + [_HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator, Sequence  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import asdict, dataclass, field, replace  # noqa: E402
from typing import Any  # noqa: E402

from _server import (  # noqa: E402
    CpuWatch,
    DemoWorkspace,
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
    stop_all,
    stop_servers_on_sigterm,
    update_docs,
    versions,
)

__all__ = ["QUICK", "Config", "VerificationError", "main", "run"]

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BASE_GRANTS = ["accounts.view_all"]
TOGGLED = "accounts.update"
ACTION = "accounts.bulk_edit"
"""Granted by `accounts.update` only: denied without it, allowed with it."""


@dataclass(frozen=True)
class Config:
    edits: int = 200
    ryow_edits: int = 20
    contrast_edits: int = 50
    """Edits polled on B0 (no listener); each one B0 never sees costs the whole cap."""
    cap_s: float = 2.0
    target_p99_ms: float = 100.0
    quick: bool = False


QUICK = Config(edits=10, ryow_edits=5, contrast_edits=3, cap_s=1.0, quick=True)


class VerificationError(AssertionError):
    """A server answered a decision that contradicts an edit it had already seen, or
    did not read an edit with `min_revision` = the edit's revision."""


# -- the database -------------------------------------------------------------------------------


def _admin_url() -> str:
    from sqlalchemy.engine import make_url

    url = make_url(os.environ.get("ROLEGATE_TEST_DATABASE_URL", DEFAULT_SERVER_URL))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new database `rolegate_bench_stale_<pid>_<random>` on `server`, dropped after."""
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    name = f"rolegate_bench_stale_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _server_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "unknown"


@dataclass(frozen=True)
class Toggle:
    """The role A edits and the member whose decision it flips."""

    role_id: str
    member_id: str


def add_toggle(demo: DemoWorkspace) -> Toggle:
    """The custom role and its member, made through the services by the demo's
    administrator (as an admin would in the product)."""
    from rolegate.bootstrap import bootstrap
    from rolegate.config import Settings
    from rolegate.domain.workspace import Actor
    from rolegate.services.members import add_member
    from rolegate.services.roles import create_role

    rg = bootstrap(Settings(database_url=demo.url, listen=False))
    try:
        actor = Actor.member(demo.admin_id)
        role = create_role(
            rg.uow(), actor=actor, workspace_id=demo.workspace_id, name="Bench toggle", level="analyst", grants=BASE_GRANTS, landing_page="dashboard"
        )
        info = add_member(rg.uow(), actor=actor, workspace_id=demo.workspace_id, email="toggle@example.com", role_id=role.id, name="Toggle")
    finally:
        rg.close()
    return Toggle(role.id, info.member.id)


# -- measuring ----------------------------------------------------------------------------------


@dataclass
class Edit:
    revision: int
    allowed: bool
    """The decision the edit makes for (member, ACTION)."""
    patch_ms: float
    delay_ms: float = math.inf
    """From A's answer to B's first answer reflecting the edit; inf if never (cap)."""
    delay_from_start_ms: float = math.inf
    polls: int = 0


@dataclass
class Phase:
    name: str
    edits: list[Edit] = field(default_factory=list)
    ryow_ms: list[float] = field(default_factory=list)
    """Latency of the check with `min_revision` that read the edit."""

    @property
    def seen(self) -> int:
        return sum(math.isfinite(e.delay_ms) for e in self.edits)

    def summary(self) -> dict[str, Any]:
        delays = [e.delay_ms for e in self.edits]
        starts = [e.delay_from_start_ms for e in self.edits]
        seen = [e for e in self.edits if math.isfinite(e.delay_ms)]
        return {
            "edits": len(self.edits),
            "seen": self.seen,
            "never_seen": len(self.edits) - self.seen,
            **{f"p{p}_ms": percentile(delays, p) for p in (50, 95, 99)},
            "max_ms": max(delays, default=math.nan),
            "mean_ms_seen": statistics.fmean(e.delay_ms for e in seen) if seen else math.nan,
            "p99_from_start_ms": percentile(starts, 99),
            "p50_from_start_ms": percentile(starts, 50),
            "mean_polls_seen": statistics.fmean(e.polls for e in seen) if seen else math.nan,
            "patch_p50_ms": percentile([e.patch_ms for e in self.edits], 50),
            "patch_p99_ms": percentile([e.patch_ms for e in self.edits], 99),
            "ryow_checks": len(self.ryow_ms),
            "ryow_p50_ms": percentile(self.ryow_ms, 50),
            "ryow_p99_ms": percentile(self.ryow_ms, 99),
        }


class Bench:
    def __init__(self, demo: DemoWorkspace, toggle: Toggle, a_port: int) -> None:
        self.demo = demo
        self.toggle = toggle
        self.base = f"/v1/workspaces/{demo.workspace_id}"
        self.a = JsonClient(a_port, {"Authorization": f"Bearer {demo.api_key}", "Rolegate-Actor": demo.admin_id})
        self.granted = False
        self.check_body = json.dumps({"member": toggle.member_id, "action": ACTION}).encode()

    def edit(self) -> tuple[int, bool, float, float]:
        """Toggle the permission through A: (revision, new decision, t_start, t_answer)."""
        grants = [*BASE_GRANTS, TOGGLED] if not self.granted else list(BASE_GRANTS)
        t0 = time.perf_counter()
        status, got = self.a.request("PATCH", f"{self.base}/roles/{self.toggle.role_id}", {"grants": grants})
        t1 = time.perf_counter()
        if status != 200:
            raise VerificationError(f"PATCH role through A -> HTTP {status}: {got}")
        self.granted = not self.granted
        if sorted(got["role"]["grants"]) != sorted(grants):
            raise VerificationError(f"A answered grants {got['role']['grants']}, sent {grants}")
        return int(got["revision"]), self.granted, t0, t1

    def check(self, b: JsonClient, min_revision: int | None = None) -> tuple[bool, int]:
        body = self.check_body
        if min_revision is not None:
            body = json.dumps({"member": self.toggle.member_id, "action": ACTION, "min_revision": min_revision}).encode()
        status, got = b.post(f"{self.base}/check", body)
        if status != 200:
            raise VerificationError(f"check on B -> HTTP {status}: {got}")
        return bool(got["allowed"]), int(got["revision"])

    def poll(self, b: JsonClient, phase: Phase, cap_s: float) -> Edit:
        """One edit through A, then B's check back to back until it reflects it."""
        revision, allowed, t0, t1 = self.edit()
        e = Edit(revision, allowed, (t1 - t0) * 1e3)
        deadline = t1 + cap_s
        while True:
            got_allowed, got_rev = self.check(b)
            now = time.perf_counter()
            e.polls += 1
            if got_rev >= revision:
                if got_allowed != allowed:
                    raise VerificationError(f"{phase.name}: B decided {got_allowed} at revision {got_rev}, but the edit at revision {revision} made it {allowed}")
                e.delay_ms, e.delay_from_start_ms = (now - t1) * 1e3, (now - t0) * 1e3
                break
            if now > deadline:
                break
        phase.edits.append(e)
        return e

    def read_own_write(self, b: JsonClient, phase: Phase, revision: int, allowed: bool) -> None:
        t0 = time.perf_counter()
        got_allowed, got_rev = self.check(b, min_revision=revision)
        phase.ryow_ms.append((time.perf_counter() - t0) * 1e3)
        if got_rev < revision or got_allowed != allowed:
            raise VerificationError(
                f"{phase.name}: check with min_revision={revision} answered {got_allowed} at revision {got_rev}; the edit made it {allowed}"
            )


def run(config: Config, *, url: str | None = None, server: str | None = None) -> dict[str, Any]:
    t_start = time.perf_counter()
    load_start = load_average()
    tmp = Path(tempfile.mkdtemp(prefix="rolegate-bench-stale-"))
    try:
        if url is not None:
            return _run(config, url, tmp, t_start, load_start, created=False)
        with fresh_database(server or _admin_url()) as fresh:
            return _run(config, fresh, tmp, t_start, load_start, created=True)
    finally:
        stop_all()
        shutil.rmtree(tmp, ignore_errors=True)


def _run(config: Config, url: str, tmp: Path, t_start: float, load_start: tuple[float, float, float], *, created: bool) -> dict[str, Any]:
    from sqlalchemy.engine import make_url

    where = make_url(url).render_as_string(hide_password=True)
    log(f"database {where}: rolegate db upgrade, rolegate demo ...")
    demo = setup_demo(url)
    toggle = add_toggle(demo)
    a = rolegate_server("A", url, free_port(), tmp)
    b = rolegate_server("B", url, free_port(), tmp)
    b0 = rolegate_server("B0", url, free_port(), tmp, env={"ROLEGATE_LISTEN": "0"})
    for srv in (a, b, b0):
        srv.start()
    log(f"servers: A pid {a.pid} :{a.port}, B pid {b.pid} :{b.port} (LISTEN), B0 pid {b0.pid} :{b0.port} (ROLEGATE_LISTEN=0)")
    bench = Bench(demo, toggle, a.port)
    auth = {"Authorization": f"Bearer {demo.api_key}"}
    cb, cb0, ca = JsonClient(b.port, auth), JsonClient(b0.port, auth), JsonClient(a.port, auth)
    for client in (cb, cb0, ca):
        allowed, _ = bench.check(client)  # loads the snapshot and the key: not part of any edit
        if allowed:
            raise VerificationError(f"{ACTION} is allowed before any edit; the role grants only {BASE_GRANTS}")
    ca.close()

    listening = Phase("B (LISTEN)")
    log(f"B (LISTEN): {config.edits} edits ...")
    watch = CpuWatch([p for p in (a.pid, b.pid, b0.pid) if p])
    for i in range(config.edits):
        e = bench.poll(cb, listening, config.cap_s)
        if not math.isfinite(e.delay_ms):
            log(f"  edit {i}: B did not see revision {e.revision} within {config.cap_s:g} s")
    cpu = watch.stop()
    loads = [load_average()[0]]
    s = listening.summary()
    log(f"  seen {s['seen']}/{s['edits']}: p50 {s['p50_ms']:.2f} ms, p99 {s['p99_ms']:.2f} ms, max {s['max_ms']:.2f} ms")

    log(f"B (LISTEN): {config.ryow_edits} reads of one's own write ...")
    for _ in range(config.ryow_edits):
        revision, allowed, _, _ = bench.edit()
        bench.read_own_write(cb, listening, revision, allowed)

    contrast = Phase("B0 (ROLEGATE_LISTEN=0)")
    log(f"B0 (ROLEGATE_LISTEN=0): {config.contrast_edits} edits, wait capped at {config.cap_s:g} s ...")
    for _ in range(config.contrast_edits):
        e = bench.poll(cb0, contrast, config.cap_s)
        bench.read_own_write(cb0, contrast, e.revision, e.allowed)
    loads.append(load_average()[0])
    s0 = contrast.summary()
    log(f"  seen {s0['seen']}/{s0['edits']}; every read with min_revision reflected its edit")

    for client in (bench.a, cb, cb0):
        client.close()
    pids = {"A": a.pid, "B": b.pid, "B0": b0.pid}
    for srv in (a, b, b0):
        srv.stop()

    result: dict[str, Any] = {
        "date": now_utc(),
        "config": asdict(config),
        "machine": machine(),
        "versions": {**versions("rolegate", "fastapi", "uvicorn", "psycopg", "sqlalchemy"), "postgresql": _server_version(url)},
        "database": {"url": where, "created_and_dropped": created},
        "servers": pids,
        "listening": listening.summary(),
        "contrast": contrast.summary(),
        "edits": {"listening": [asdict(e) for e in listening.edits], "contrast": [asdict(e) for e in contrast.edits]},
        "verification": {
            "passed": True,
            "ryow_checks": len(listening.ryow_ms) + len(contrast.ryow_ms),
            "ryow_reflected": len(listening.ryow_ms) + len(contrast.ryow_ms),
        },
        "elapsed_s": time.perf_counter() - t_start,
        "load_average": {"start": list(load_start), "end": list(load_average()), "after_phases": loads},
        "cpu_during_b_phase": cpu,
    }
    result["targets"] = targets(result, config)
    return result


def targets(result: dict[str, Any], config: Config) -> list[dict[str, Any]]:
    s = result["listening"]
    ok = s["never_seen"] == 0 and s["p99_ms"] < config.target_p99_ms
    return [
        {
            "target": f"an edit through A reflected in B's decisions within {config.target_p99_ms:g} ms (p99 over {s['edits']} edits)",
            "text": f"p99 {_ms(s['p99_ms'])}, {s['seen']}/{s['edits']} seen",
            "status": "PASS" if ok else "SHORT",
        },
        {
            "target": "a check with `min_revision` = the edit's revision reflects it on the first answer (B and B0)",
            "text": f"{result['verification']['ryow_reflected']}/{result['verification']['ryow_checks']}",
            "status": "PASS",
        },
    ]


# -- report -----------------------------------------------------------------------------------


def _ms(v: float, cap: float | None = None) -> str:
    if not math.isfinite(v):
        return f"never (> {cap:g} s)" if cap is not None else "never"
    return f"{v:,.2f} ms"


def markdown(result: dict[str, Any]) -> str:
    cap = result["config"]["cap_s"]
    lines = [
        "| B | edits | seen | never seen (cap) | p50 | p95 | p99 | max | mean polls until seen |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, key in (("B: LISTEN on (default)", "listening"), ("B0: `ROLEGATE_LISTEN=0`", "contrast")):
        s = result[key]
        polls = f"{s['mean_polls_seen']:.1f}" if math.isfinite(s["mean_polls_seen"]) else "n/a"
        lines.append(
            f"| {label} | {s['edits']} | {s['seen']} | {s['never_seen']} ({cap:g} s) | {_ms(s['p50_ms'], cap)} | {_ms(s['p95_ms'], cap)} | "
            f"{_ms(s['p99_ms'], cap)} | {_ms(s['max_ms'], cap)} | {polls} |"
        )
    s, s0 = result["listening"], result["contrast"]
    lines += [
        "",
        "Delay: from A's answer to the PATCH to B's first answer at the edit's revision (or later) with the new decision.",
        "",
        "| also measured | p50 | p99 |",
        "|---|---:|---:|",
        f"| B: delay from the start of the PATCH (A's work included) | {_ms(s['p50_from_start_ms'], cap)} | {_ms(s['p99_from_start_ms'], cap)} |",
        f"| PATCH role through A (commit, audit, answer) | {_ms(s['patch_p50_ms'])} | {_ms(s['patch_p99_ms'])} |",
        f"| B: check with `min_revision` right after the PATCH ({s['ryow_checks']} edits), all reflected on the first answer | {_ms(s['ryow_p50_ms'])} | {_ms(s['ryow_p99_ms'])} |",
        f"| B0: check with `min_revision` after the capped wait ({s0['ryow_checks']} edits), all reflected on the first answer | {_ms(s0['ryow_p50_ms'])} | {_ms(s0['ryow_p99_ms'])} |",
        "",
        "| target | measured | status |",
        "|---|---|---|",
    ]
    lines += [f"| {t['target']} | {t['text']} | {t['status']} |" for t in result["targets"]]
    return "\n".join(lines)


DOCS_START = "<!-- bench:stale:start (generated by bench/stale.py --docs; edits inside are overwritten) -->"
DOCS_END = "<!-- bench:stale:end -->"


def docs_section(result: dict[str, Any]) -> str:
    m, v, c = result["machine"], result["versions"], result["config"]
    la = result["load_average"]
    return "\n".join(
        [
            DOCS_START,
            "## Stale-free decisions across processes (bench/stale.py)",
            "",
            f"- Command: `{result['command']}`",
            f"- Date: {result['date']}; run took {result['elapsed_s']:,.0f} s; load average (1, 5, 15 min) "
            f"{la['start'][0]:.2f}, {la['start'][1]:.2f}, {la['start'][2]:.2f} at the start, "
            f"{la['end'][0]:.2f}, {la['end'][1]:.2f}, {la['end'][2]:.2f} at the end; 1-min load after the B and B0 phases: "
            + ", ".join(f"{x:.2f}" for x in la["after_phases"])
            + f"; during the {c['edits']} edits on B, the three servers used {result['cpu_during_b_phase']['servers']:.2f} cores, "
            f"PostgreSQL and every other process {result['cpu_during_b_phase']['others']:.2f} cores (from /proc)",
            f"- Machine: {m['cpu']}, `nproc` = {m['nproc']}, {m['platform']}; Python {m['python']}",
            f"- Versions: rolegate {v['rolegate']}, PostgreSQL {v['postgresql']} (same machine, 127.0.0.1), psycopg {v['psycopg']}, "
            f"SQLAlchemy {v['sqlalchemy']}, FastAPI {v['fastapi']}, uvicorn {v['uvicorn']}",
            "- Setup: a fresh PostgreSQL database, `rolegate db upgrade --url` + `rolegate demo --url`; in the natero demo workspace a custom "
            f"role (level analyst, granting `{BASE_GRANTS[0]}`) and a member holding it. Three `rolegate serve` processes on the database: "
            "A (edits), B (LISTEN on, the default), B0 (`ROLEGATE_LISTEN=0`).",
            f"- Method: {c['edits']} edits through A, each `PATCH .../roles/{{id}}` toggling `{TOGGLED}` (so `{ACTION}` flips for the member); "
            "when A has answered, B's `check` (no `min_revision`) is polled back to back on one keep-alive connection until it answers "
            f"at the edit's revision or later (the decision must then be the new one, else the run fails). Then {c['ryow_edits']} edits each "
            f"followed by one check on B with `min_revision`; then {c['contrast_edits']} edits polled on B0 with the wait capped at "
            f"{c['cap_s']:g} s, each followed by one check on B0 with `min_revision`. Percentiles are nearest-rank; an edit never seen counts as infinite.",
            "",
            markdown(result),
            DOCS_END,
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smoke run: 10 edits, 3 on B0, 1 s cap")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH")
    parser.add_argument("--docs", metavar="PATH", help="write the results into the marked section of PATH")
    parser.add_argument("--url", help="an existing, empty PostgreSQL database to use (left in place)")
    parser.add_argument("--server", help="PostgreSQL server URL where a fresh database is created and dropped (default: ROLEGATE_TEST_DATABASE_URL or postgres@127.0.0.1)")
    parser.add_argument("--edits", type=int, help="edits polled on B")
    parser.add_argument("--contrast-edits", type=int, help="edits polled on B0 (no listener)")
    args_list = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(args_list)
    config = QUICK if args.quick else Config()
    if args.edits is not None:
        config = replace(config, edits=args.edits)
    if args.contrast_edits is not None:
        config = replace(config, contrast_edits=args.contrast_edits)
    result = run(config, url=args.url, server=args.server)
    result["command"] = command_line("bench/stale.py", args_list)
    print(markdown(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if args.docs:
        update_docs(Path(args.docs), DOCS_START[:25], DOCS_END, docs_section(result))
    return 0


if __name__ == "__main__":
    stop_servers_on_sigterm()
    sys.exit(main())
