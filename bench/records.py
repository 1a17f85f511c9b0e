"""Record-level access at scale, on PostgreSQL: lists as SQL, child-record checks, bulk sync.

One run:

* a dedicated PostgreSQL database (created, and dropped at the end, on the server of
  `--server`, default `ROLEGATE_TEST_DATABASE_URL` or
  `postgresql://postgres@127.0.0.1:5432/postgres`; or `--url` for an existing empty
  database, left in place), migrated to head;
* one CustomerSuccessBox workspace (through the services) and, loaded with COPY through
  psycopg: `--members` members (75% Customer Success Managers, the rest Super
  Managers, Developers and Administrators), `--accounts` accounts (10% unassigned, the
  rest spread over the CSMs) and `--children` child records: per account, tasks
  (depth 1), a comment per task (depth 2), subscriptions and usage events; then
  VACUUM ANALYZE;
* **first page** of 100 visible accounts for a random CSM (own + unassigned) through
  the service (`assignments.visible_records`: snapshot `lookup`, SQL pages), against
  the same page written as `assignee_id = :m OR assignee_id IS NULL` and against the
  naive list (read accounts in id order, `check` each one until 100 are allowed), the
  three verified equal; EXPLAIN ANALYZE of the first two;
* **child-record checks** in process on the snapshot over PostgreSQL (`SqlRecordIndex`:
  the record and its ancestors in one query), task (depth 1) and task comment
  (depth 2), against a step-by-step index (one query per step up), verified equal;
* **bulk upsert** through the service (`record_bulk.upsert_records`, 10,000 per call):
  new accounts with assignees (each an audited assignment) and new tasks, against
  `records.upsert_record` one record per call.

    .venv/bin/python bench/records.py                 # full run (1M accounts, 5M children; ~15 min)
    .venv/bin/python bench/records.py --quick         # smoke: small sizes
    .venv/bin/python bench/records.py --json out.json --docs docs/benchmarks.md
    .venv/bin/python bench/records.py --only bulk     # the full load, then the bulk upserts alone
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != _HERE] + [_HERE]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Iterator, Sequence  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import asdict, dataclass, replace  # noqa: E402
from typing import Any  # noqa: E402

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from _server import load_average, log, machine, now_utc, percentile, update_docs, versions  # noqa: E402
from rolegate.bootstrap import Rolegate, bootstrap  # noqa: E402
from rolegate.config import Settings  # noqa: E402
from rolegate.domain.workspace import Actor  # noqa: E402
from rolegate.engine import Record, RecordRef, Snapshot, compile_snapshot  # noqa: E402
from rolegate.presets import load_preset  # noqa: E402
from rolegate.services import audit, record_bulk, records, workspaces  # noqa: E402
from rolegate.services.assignments import visible_records  # noqa: E402
from rolegate.store.migrations import upgrade  # noqa: E402
from rolegate.store.record_index import SqlRecordIndex  # noqa: E402
from rolegate.store.record_lists import page_statement  # noqa: E402

__all__ = ["QUICK", "Config", "VerificationError", "main", "run"]

DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
START, END = "<!-- bench:records:start -->", "<!-- bench:records:end -->"
PLATFORM = Actor.system("bench")


class VerificationError(AssertionError):
    """Two ways of answering the same question disagreed: the figures are void."""


@dataclass(frozen=True)
class Config:
    accounts: int = 1_000_000
    children: int = 5_000_000
    members: int = 2_000
    unassigned: float = 0.10
    page_queries: int = 200
    naive_queries: int = 20
    check_queries: int = 2_000
    bulk_batches: int = 5
    bulk_size: int = 10_000
    single_upserts: int = 300
    seed: int = 6


QUICK = Config(
    accounts=3_000, children=15_000, members=40, page_queries=20, naive_queries=5, check_queries=200, bulk_batches=2, bulk_size=1_000, single_upserts=30
)


# -- the database ---------------------------------------------------------------------------


@contextmanager
def dedicated_database(server: str) -> Iterator[str]:
    name = f"rolegate_bench_records_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    log(f"created database {name}")
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        log(f"dropped database {name}")


def account_id(k: int) -> str:
    return f"acc-{k:07d}"


@dataclass
class World:
    workspace_id: str
    csms: list[str]
    assignees: list[str | None]
    """Per account index, its assignee."""
    tasks: int
    comments: int


def load(url: str, cfg: Config, rg: Rolegate) -> World:
    rng = random.Random(cfg.seed)
    created = workspaces.create_workspace(rg.uow(), actor=PLATFORM, preset="customersuccessbox", name="bench", owner_email="owner@bench.test")
    ws = created.workspace.id
    n_csm = max(2, cfg.members * 3 // 4)
    roles = ["csm"] * n_csm + [rng.choice(["super_manager", "developer", "administrator"]) for _ in range(cfg.members - n_csm - 1)]
    member_ids = [str(uuid.uuid4()) for _ in roles]
    csms = member_ids[:n_csm]
    assignees: list[str | None] = [None if rng.random() < cfg.unassigned else rng.choice(csms) for _ in range(cfg.accounts)]
    # Children per account: 2 tasks, a comment per task (depth 2), 1 subscription; the rest usage events.
    per_account = cfg.children / cfg.accounts
    tasks = int(cfg.accounts * min(2.0, per_account / 2.5))
    comments = tasks
    subscriptions = min(cfg.accounts, max(0, cfg.children - tasks - comments))
    events = max(0, cfg.children - tasks - comments - subscriptions)
    t0 = time.perf_counter()
    with psycopg.connect(url, autocommit=False) as conn:
        with conn.cursor().copy("COPY users (id, email, name) FROM STDIN") as cp:
            for k, mid in enumerate(member_ids):
                cp.write_row((mid, f"m{k}@bench.test", f"Member {k}"))
        with conn.cursor().copy("COPY members (workspace_id, id, user_id, role_id, status) FROM STDIN") as cp:
            for mid, role in zip(member_ids, roles, strict=True):
                cp.write_row((ws, mid, mid, role, "active"))
        # The secondary indexes are rebuilt after the COPY, as the migrations define them.
        rebuilt = ("ix_records_scope", "ix_records_parent", "ix_records_unassigned")
        index_defs = conn.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'records' AND indexname = ANY(%s)", (list(rebuilt),)).fetchall()
        assert sorted(name for name, _ in index_defs) == sorted(rebuilt), index_defs
        for name, _ in index_defs:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        with conn.cursor().copy("COPY records (workspace_id, type, id, parent_type, parent_id, assignee_id) FROM STDIN") as cp:
            for k, who in enumerate(assignees):
                cp.write_row((ws, "account", account_id(k), None, None, who))
            for k in range(tasks):
                cp.write_row((ws, "task", f"task-{k:08d}", "account", account_id(k % cfg.accounts), None))
            for k in range(comments):
                cp.write_row((ws, "task_comment", f"cmt-{k:08d}", "task", f"task-{k:08d}", None))
            for k in range(subscriptions):
                cp.write_row((ws, "subscription", f"sub-{k:08d}", "account", account_id(k % cfg.accounts), None))
            for k in range(events):
                cp.write_row((ws, "usage_event", f"evt-{k:08d}", "account", account_id(k % cfg.accounts), None))
        conn.commit()
        log(f"COPY: {cfg.accounts + tasks + comments + subscriptions + events:,} records in {time.perf_counter() - t0:.1f} s; indexing")
        for _, definition in index_defs:
            conn.execute(definition)
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    log(f"loaded in {time.perf_counter() - t0:.1f} s")
    return World(ws, csms, assignees, tasks, comments)


# -- measurements ---------------------------------------------------------------------------


def timed(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    t0 = time.perf_counter_ns()
    out = fn(*args, **kwargs)
    return (time.perf_counter_ns() - t0) / 1e6, out


def stats(ms: Sequence[float]) -> dict[str, float]:
    return {"n": len(ms), "p50_ms": statistics.median(ms), "p95_ms": percentile(ms, 95), "p99_ms": percentile(ms, 99), "max_ms": max(ms)}


def or_page(rg: Rolegate, ws: str, member: str, limit: int) -> list[str]:
    """The planner-hostile form, for comparison only."""
    q = text(
        "SELECT id FROM records WHERE workspace_id = :ws AND type = 'account' AND (assignee_id = :m OR assignee_id IS NULL) ORDER BY id LIMIT :n"
    )
    with rg.engine.connect() as conn:
        return [r[0] for r in conn.execute(q, {"ws": ws, "m": member, "n": limit})]


def naive_page(rg: Rolegate, snap: Snapshot, ws: str, member: str, limit: int) -> tuple[list[str], int]:
    """What a host does without `lookup`: read accounts in id order, check each."""
    found: list[str] = []
    checks = 0
    after = ""
    q = text("SELECT id FROM records WHERE workspace_id = :ws AND type = 'account' AND id > :after ORDER BY id LIMIT 1000")
    while len(found) < limit:
        with rg.engine.connect() as conn:
            ids = [r[0] for r in conn.execute(q, {"ws": ws, "after": after})]
        if not ids:
            break
        for rid in ids:
            checks += 1
            if snap.check(member, "accounts.view", ("account", rid)).allowed:
                found.append(rid)
                if len(found) == limit:
                    break
        after = ids[-1]
    return found, checks


def explain(rg: Rolegate, statement: Any, params: dict[str, Any] | None = None) -> str:
    with rg.engine.connect() as conn:
        if params is None:
            compiled = statement.compile(rg.engine, compile_kwargs={"literal_binds": True})
            rows = conn.execute(text(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {compiled}"))
        else:
            rows = conn.execute(text(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement}"), params)
        return "\n".join(r[0] for r in rows)


def measure_pages(rg: Rolegate, cfg: Config, w: World, snap: Snapshot, rng: random.Random) -> dict[str, Any]:
    ws = w.workspace_id
    members = [rng.choice(w.csms) for _ in range(cfg.page_queries)]
    service_ms, or_ms = [], []
    for m in members:
        ms, page = timed(visible_records, rg.uow(), snap, workspace_id=ws, member=m, action="accounts.view", object_type="account", limit=100)
        service_ms.append(ms)
        ms, ids = timed(or_page, rg, ws, m, 100)
        or_ms.append(ms)
        if list(page.ids) != ids:
            raise VerificationError(f"pages differ for {m}: {page.ids[:3]} vs {ids[:3]}")
        if len(page.ids) == 100 and page.next_cursor is None:
            raise VerificationError("a full first page came without a cursor")
    # Second pages (with the cursor), for the record.
    cursor_ms = []
    for m in members[: max(5, cfg.page_queries // 4)]:
        first = visible_records(rg.uow(), snap, workspace_id=ws, member=m, action="accounts.view", object_type="account", limit=100)
        ms, _ = timed(visible_records, rg.uow(), snap, workspace_id=ws, member=m, action="accounts.view", object_type="account", cursor=first.next_cursor, limit=100)
        cursor_ms.append(ms)
    naive_ms, naive_checks = [], []
    for m in members[: cfg.naive_queries]:
        ms, (ids, checks) = timed(naive_page, rg, snap, ws, m, 100)
        naive_ms.append(ms)
        naive_checks.append(checks)
        expected = list(visible_records(rg.uow(), snap, workspace_id=ws, member=m, action="accounts.view", object_type="account", limit=100).ids)
        if ids != expected:
            raise VerificationError(f"the naive page differs for {m}")
    f = snap.lookup(members[0], "accounts.view", "account")
    plan = explain(rg, page_statement(f, ws, after=None, limit=101))
    or_plan = explain(
        rg,
        "SELECT id FROM records WHERE workspace_id = :ws AND type = 'account' AND (assignee_id = :m OR assignee_id IS NULL) ORDER BY id LIMIT 101",
        {"ws": ws, "m": members[0]},
    )
    child_f = snap.lookup(members[0], "tasks.view", "task")
    ms_child = [timed(visible_records, rg.uow(), snap, workspace_id=ws, member=m, action="tasks.view", object_type="task", limit=100)[0] for m in members[:20]]
    return {
        "service": stats(service_ms),
        "second_page": stats(cursor_ms),
        "or_form": stats(or_ms),
        "naive": stats(naive_ms) | {"checks_p50": statistics.median(naive_checks)},
        "tasks_first_page": stats(ms_child),
        "plan": plan,
        "or_plan": or_plan,
        "child_plan": explain(rg, page_statement(child_f, ws, after=None, limit=101)),
    }


class StepIndex:
    """The SQL index without `lineage`: the engine then asks one record per step up."""

    def __init__(self, inner: SqlRecordIndex) -> None:
        self.inner = inner

    def get(self, ref: RecordRef) -> Record | None:
        return self.inner.get(ref)


def measure_checks(rg: Rolegate, cfg: Config, w: World, snap: Snapshot, rng: random.Random) -> dict[str, Any]:
    ws = w.workspace_id
    with rg.uow() as uow:
        ws_row = uow.workspaces.get(ws)
        assert ws_row is not None
        roles = [info.role for info in uow.roles.all(ws)]
        members = uow.members.members(ws)
    stepwise = compile_snapshot(load_preset(ws_row.preset), features=ws_row.features, roles=roles, members=members, records=StepIndex(SqlRecordIndex(rg.engine, ws)))
    out: dict[str, Any] = {}
    for label, action, prefix, count in (("task (depth 1)", "tasks.view", "task", w.tasks), ("task comment (depth 2)", "task_comments.view", "cmt", w.comments)):
        rtype = "task" if prefix == "task" else "task_comment"
        queries = [(rng.choice(w.csms), (rtype, f"{prefix}-{rng.randrange(count):08d}")) for _ in range(cfg.check_queries)]
        fast, slow, allowed = [], [], 0
        for m, ref in queries:
            ms, d1 = timed(snap.check, m, action, ref)
            fast.append(ms)
            ms, d2 = timed(stepwise.check, m, action, ref)
            slow.append(ms)
            if d1.allowed != d2.allowed:
                raise VerificationError(f"check {m} {action} {ref}: lineage {d1.allowed}, step by step {d2.allowed}")
            allowed += d1.allowed
        out[label] = {"lineage": stats(fast), "step_by_step": stats(slow), "allowed": allowed}
    return out


def measure_bulk(rg: Rolegate, cfg: Config, w: World, rng: random.Random) -> dict[str, Any]:
    ws = w.workspace_id
    actor = PLATFORM
    acc_rates, task_rates = [], []
    assigned = 0
    for b in range(cfg.bulk_batches):
        batch = [Record("account", f"new-{b:03d}-{k:06d}", None, rng.choice(w.csms) if rng.random() > cfg.unassigned else None) for k in range(cfg.bulk_size)]
        ms, done = timed(record_bulk.upsert_records, rg.uow(), actor=actor, workspace_id=ws, records=batch)
        if done.created != len(batch):
            raise VerificationError("bulk upsert did not create every account")
        assigned += sum(r.assignee is not None for r in batch)
        acc_rates.append(len(batch) / (ms / 1000))
        tasks = [Record("task", f"newtask-{b:03d}-{k:06d}", RecordRef("account", account_id(rng.randrange(cfg.accounts)))) for k in range(cfg.bulk_size)]
        ms, done = timed(record_bulk.upsert_records, rg.uow(), actor=actor, workspace_id=ws, records=tasks)
        if done.created != len(tasks):
            raise VerificationError("bulk upsert did not create every task")
        task_rates.append(len(tasks) / (ms / 1000))
    single = [Record("account", f"one-{k:06d}", None, rng.choice(w.csms)) for k in range(cfg.single_upserts)]
    ms, _ = timed(lambda: [records.upsert_record(rg.uow(), actor=actor, workspace_id=ws, record=r) for r in single])
    with rg.uow() as uow:
        audited = len(uow.audit.all(ws, action="record.assign"))
    if audited != assigned:
        raise VerificationError(f"{assigned} accounts assigned in bulk, {audited} record.assign events")
    chain = audit.verify_chain(rg.uow(), workspace_id=ws)
    if not chain.intact:
        raise VerificationError(f"the audit chain breaks at event {chain.first_broken_seq}: {chain.problem}")
    return {
        "accounts_with_assignees_per_s": statistics.median(acc_rates),
        "tasks_per_s": statistics.median(task_rates),
        "accounts_rates": acc_rates,
        "tasks_rates": task_rates,
        "one_per_call_per_s": len(single) / (ms / 1000),
        "batches": cfg.bulk_batches,
        "batch_size": cfg.bulk_size,
        "assignment_events": audited,
    }


# -- the run ----------------------------------------------------------------------------------


def run(cfg: Config, url: str, *, only: str | None = None) -> dict[str, Any]:
    """Every measurement, or (`only="bulk"`) the load and the bulk upserts alone."""
    upgrade(url)
    # No record cache: the child-record checks measure the record index's reads (one
    # query per lineage against one per step), not the memory in front of it.
    rg = bootstrap(Settings(database_url=url, listen=False, record_cache_size=0))
    try:
        started = time.perf_counter()
        load_avg_before = load_average()
        w = load(url, cfg, rg)
        snap = rg.snapshots.get(w.workspace_id)
        rng = random.Random(cfg.seed + 1)
        pages: dict[str, Any] | None = None
        checks: dict[str, Any] | None = None
        if only != "bulk":
            log("first pages")
            pages = measure_pages(rg, cfg, w, snap, rng)
            log("child-record checks")
            checks = measure_checks(rg, cfg, w, snap, rng)
        log("bulk upserts")
        bulk = measure_bulk(rg, cfg, w, rng)
        return {
            "config": asdict(cfg),
            "at": now_utc(),
            "machine": machine(),
            "versions": versions("sqlalchemy", "psycopg"),
            "postgres": _server_version(url),
            "load_average_before": load_avg_before,
            "load_average_after": load_average(),
            "seconds": time.perf_counter() - started,
            "pages": pages,
            "checks": checks,
            "bulk": bulk,
        }
    finally:
        rg.close()


def _server_version(url: str) -> str:
    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def targets(result: dict[str, Any]) -> list[tuple[str, str, bool]]:
    rows: list[tuple[str, str, bool]] = []
    if result.get("pages") is not None:
        p95_page = result["pages"]["service"]["p95_ms"]
        rows.append(("first page of 100 visible accounts for a CSM (own + unassigned), p95 < 20 ms", f"{p95_page:.2f} ms", p95_page < 20))
    if result.get("checks") is not None:
        p95_check = max(v["lineage"]["p95_ms"] for v in result["checks"].values())
        rows.append(("a child-record check in process, p95 < 1 ms", f"{p95_check:.3f} ms", p95_check < 1))
    sync, assigning = result["bulk"]["tasks_per_s"], result["bulk"]["accounts_with_assignees_per_s"]
    return [
        *rows,
        ("bulk upsert through the service >= 20,000 records/s (records synced: new tasks)", f"{sync:,.0f} records/s", sync >= 20_000),
        ("the same with an assignment change on every record (one audit event each)", f"{assigning:,.0f} records/s", assigning >= 20_000),
    ]


def _spread(b: dict[str, Any]) -> str:
    """Each call's rate (slowest to fastest), when the run recorded them."""
    if "accounts_rates" not in b:
        return ""
    acc, tasks = sorted(b["accounts_rates"]), sorted(b["tasks_rates"])
    return f" (calls from {acc[0]:,.0f} to {acc[-1]:,.0f}/s and from {tasks[0]:,.0f} to {tasks[-1]:,.0f}/s)"


def markdown(result: dict[str, Any], argv: Sequence[str]) -> str:
    c, p, k, b = result["config"], result["pages"], result["checks"], result["bulk"]

    def row(name: str, s: dict[str, float], base: float | None = None) -> str:
        ratio = f"{s['p50_ms'] / base:,.1f}x" if base else "1x"
        return f"| {name} | {s['p50_ms']:.2f} | {s['p95_ms']:.2f} | {s['p99_ms']:.2f} | {ratio} |"

    head = [
        START,
        "## Record-level access at scale (bench/records.py)",
        "",
        f"Run {result['at']} on {result['machine']['cpu']} ({result['machine']['nproc']} cores, shared with other engineers' work: "
        f"load average {result['load_average_before'][0]:.2f} before, {result['load_average_after'][0]:.2f} after), PostgreSQL {result['postgres']}, "
        f"Python {result['machine']['python']}. `{' '.join(['.venv/bin/python', 'bench/records.py', *argv])}`, {result['seconds'] / 60:.1f} min.",
        "",
        f"Data: {c['accounts']:,} accounts ({c['unassigned']:.1%} unassigned), {c['children']:,} child records (tasks, task comments at "
        f"depth 2, subscriptions, usage events), {c['members']:,} members (75% CSMs), loaded with COPY into a dedicated database, dropped after.",
        "",
        "| target | measured | status |",
        "|---|---|---|",
        *[f"| {name} | {value} | {'PASS' if ok else 'FAIL'} |" for name, value, ok in targets(result)],
        "",
    ]
    bulk_line = (
        f"Bulk upsert through `record_bulk.upsert_records` ({b['batches']} calls of {b['batch_size']:,} each, median rate): "
        f"new accounts with assignees (every one an audited `record.assign`) **{b['accounts_with_assignees_per_s']:,.0f}/s**, "
        f"new tasks **{b['tasks_per_s']:,.0f}/s**{_spread(b)}; one record per call (`records.upsert_record`) {b['one_per_call_per_s']:,.0f}/s "
        f"({b['accounts_with_assignees_per_s'] / b['one_per_call_per_s']:,.0f}x slower than in bulk)."
    )
    if p is None or k is None:  # --only bulk
        return "\n".join([*head, bulk_line, END])
    base = p["service"]["p50_ms"]
    lines = [
        *head,
        f"First page of 100 visible accounts, random CSMs ({p['service']['n']} queries; naive: {p['naive']['n']}), ms:",
        "",
        "| approach | p50 | p95 | p99 | p50 vs lookup |",
        "|---|---|---|---|---|",
        row("`lookup` -> SQL pages (service: snapshot + UNION ALL of two index ranges)", p["service"]),
        row("same, second page (keyset cursor)", p["second_page"], base),
        row("`assignee_id = :m OR assignee_id IS NULL ORDER BY id LIMIT 100` (bare SQL)", p["or_form"], base),
        row(f"naive: accounts in id order, `check` each until 100 (p50 {p['naive']['checks_p50']:,.0f} checks)", p["naive"], base),
        row("tasks (depth 1) visible to a CSM, first page", p["tasks_first_page"], base),
        "",
        f"Child-record checks in process, snapshot over PostgreSQL ({c['check_queries']:,} random records each, random CSMs), ms:",
        "",
        "| record | index | p50 | p95 | p99 | p50 vs lineage |",
        "|---|---|---|---|---|---|",
    ]
    for label, v in k.items():
        lb = v["lineage"]["p50_ms"]
        lines.append(f"| {label} | lineage (one query) | {v['lineage']['p50_ms']:.3f} | {v['lineage']['p95_ms']:.3f} | {v['lineage']['p99_ms']:.3f} | 1x |")
        s = v["step_by_step"]
        lines.append(f"| {label} | step by step (one query per level) | {s['p50_ms']:.3f} | {s['p95_ms']:.3f} | {s['p99_ms']:.3f} | {s['p50_ms'] / lb:.1f}x |")
    lines += [
        "",
        bulk_line,
        "",
        "PostgreSQL's plan of the first page (`EXPLAIN (ANALYZE, BUFFERS)`, one CSM):",
        "",
        "```",
        p["plan"],
        "```",
        "",
        "The same page written with `OR ... IS NULL`:",
        "",
        "```",
        p["or_plan"],
        "```",
        "",
        "First page of tasks (depth 1, joined to their account through the primary key):",
        "",
        "```",
        p["child_plan"],
        "```",
        END,
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--server", default=os.environ.get("ROLEGATE_TEST_DATABASE_URL", DEFAULT_SERVER_URL), help="admin URL: a database is created and dropped there")
    parser.add_argument("--url", help="an existing empty database to use instead (left in place)")
    parser.add_argument("--accounts", type=int)
    parser.add_argument("--children", type=int)
    parser.add_argument("--members", type=int)
    parser.add_argument("--unassigned", type=float, help="share of accounts assigned to no one (default 0.10)")
    parser.add_argument("--naive-queries", type=int, dest="naive_queries", help="pages listed the naive way (default 20)")
    parser.add_argument("--only", choices=["bulk"], help="measure only this part (after the full load); its report cannot go into --docs")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--docs", type=Path, help="replace this benchmark's section of this markdown file")
    args = parser.parse_args(args_list)
    if args.only and args.docs:
        parser.error("--only measures a part of the run; the docs section takes a whole run")
    cfg = QUICK if args.quick else Config()
    for name in ("accounts", "children", "members", "unassigned", "naive_queries"):
        if getattr(args, name) is not None:
            cfg = replace(cfg, **{name: getattr(args, name)})
    if args.url:
        result = run(cfg, args.url, only=args.only)
    else:
        server = make_url(args.server).set(drivername="postgresql").render_as_string(hide_password=False)
        with dedicated_database(server) as url:
            result = run(cfg, url, only=args.only)
    text_md = markdown(result, args_list)
    print(text_md)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    if args.docs:
        update_docs(args.docs, START, END, text_md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
