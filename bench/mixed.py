"""Mixed load: decisions and admin writes at once on `rolegate serve`, with peers.

One run, one fixed seed, every phase on a fresh database prepared as a newcomer does
(`rolegate db upgrade` + `rolegate demo`), then grown through the services: seat
capacities lifted, `--members` bench members (half CSMs, half on Analyst seats),
`--accounts` accounts (80% assigned to the bench CSMs), 4 custom bench roles.

Phases (`--phases`, all by default):

* `mixed`: `--connections` (16) keep-alive connections for `--duration` seconds, each
  request drawn at random: 60% `check`, 12% `check` on an account record, 6%
  `check/batch` (100 checks), 6% `lookup`, 16% admin writes (6% role edits: a bench
  role's grants toggled; 5% member role changes: a bench analyst moved between
  `executive` and `guest`; 5% record assignments: an account given to a bench CSM or
  unassigned). Closed loop: each connection sends its next request when the answer
  is back. The server's RSS is sampled every second.
* `peer`: the same mix with 0% writes (the other kinds in the same proportions), on a
  fresh database of the same shape, right after: what writes cost decisions is the
  ratio of the two.
* `workers`: the mix of `mixed` on `rolegate serve --workers 2` when the CLI has it,
  else (or with `--worker-ports`) two `rolegate serve` processes on two ports, the
  client's connections spread round-robin over them (the JSON and the docs say which).
  On one port the client spreads its connections evenly over the workers, as a
  balancer in front of them would (`balanced`; `--kernel-spread`: as the kernel's
  SO_REUSEPORT hash puts them, which splits 16 connections 13 / 3 as well as 8 / 8).
* `paced`: the peer's closed loop of decisions on `--connections` connections, and
  admin writes (the kinds and proportions of `mixed`) arriving open loop at
  `--paced-rate` per second (20), each on an idle connection of a pool of their own,
  its latency counted from when it was due. The closed loop of `mixed` measures how
  many writes one workspace takes when every connection waits on the one before
  (its write latency is that queue: Little's law); this one measures a write's
  latency at a given rate of writes among decisions.
* `record-sqlite`, `record-pg`: only checks on a record, `--record-connections` (8)
  connections, `--record-duration` seconds, on SQLite and on PostgreSQL.

`--behind` runs none of these but its own comparison (`run_behind`): check latency on
a server while another process writes in a loop, with the newer revisions compiled
behind (`ROLEGATE_COMPILE_BEHIND=1`, the default) and inline (`=0`, the peer), written
to the `bench:behind` section.

`mixed`, `peer` and `workers` run on PostgreSQL (`--db pg`, the default: a database
created on `--server` and dropped after) or SQLite (`--db sqlite`). `--soak` runs only
`mixed`, charting RSS and p99 per minute. After each phase the decisions over HTTP are
compared with the engine's in process on the same database (allowed, at the same
revision); a difference raises `VerificationError`. Every server started is stopped.

    .venv/bin/python bench/mixed.py --docs docs/benchmarks.md --json /tmp/mixed.json
    .venv/bin/python bench/mixed.py --quick --db sqlite        # smoke (a few seconds)
    .venv/bin/python bench/mixed.py --soak --duration 1800 --docs docs/benchmarks.md
    .venv/bin/python bench/mixed.py --behind --docs docs/benchmarks.md --json /tmp/behind.json
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/mixed.py` puts bench/ first on sys.path, where bench/http.py would
# shadow the standard library's `http` package; keep bench/ at the end instead.
_HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != _HERE] + [_HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from array import array  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Callable, Collection, Iterator, Sequence  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import asdict, dataclass, field, replace  # noqa: E402
from typing import Any  # noqa: E402

from _server import (  # noqa: E402
    ROOT,
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
    rolegate_argv,
    rolegate_server,
    setup_demo,
    stop_all,
    stop_servers_on_sigterm,
    update_docs,
    versions,
)

__all__ = ["KINDS", "MIX", "QUICK", "Config", "VerificationError", "main", "run"]

KINDS = ("check", "record", "batch", "lookup", "role", "member", "assign")
WRITE_KINDS = ("role", "member", "assign")
MIX: dict[str, float] = {"check": 60, "record": 12, "batch": 6, "lookup": 6, "role": 6, "member": 5, "assign": 5}
"""Percent of requests per kind: 16% admin writes (role edits, member role changes, record assignments)."""
APART = "-write-process"
"""A phase named with this suffix runs as the phase before it, on `rolegate serve --write-process`."""
PHASES = ("mixed", "peer", "workers", "paced", "mixed" + APART, "paced" + APART, "record-sqlite", "record-pg")
LOADED = ("mixed", "workers", "paced", "mixed" + APART, "paced" + APART)
"""The phases with admin writes, held to the targets."""
DEFAULT_SERVER_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_ROLE_GRANTS = (["accounts.view_all"], ["accounts.view_all", "accounts.update"])
"""A bench role's grants alternate between these two."""


@dataclass(frozen=True)
class Config:
    duration: float = 120.0
    """Seconds of each mixed phase (mixed, peer, workers)."""
    warmup: float = 5.0
    """Seconds of unrecorded load before each phase."""
    connections: int = 16
    record_connections: int = 8
    record_duration: float = 30.0
    workers: int = 2
    worker_ports: bool = False
    write_process: bool = False
    """Serve changes from a process of their own (`rolegate serve --write-process`)."""
    balance: bool = True
    """`workers` on one port: the client spreads its connections evenly over the workers
    (`balanced`), as a balancer would; else as the kernel's hash puts them."""
    """`workers`: N `rolegate serve` processes on N ports, the client's connections spread
    evenly over them (as a load balancer spreads them), instead of `--workers N`."""
    paced_writes_per_s: float = 20.0
    """`paced`: admin writes sent at this rate on their own connections (open loop)."""
    members: int = 40
    accounts: int = 1_000
    batch_size: int = 100
    bucket_s: float = 5.0
    """Width of the latency-over-time buckets (the soak: 60 s)."""
    db: str = "pg"
    phases: tuple[str, ...] = PHASES
    soak: bool = False
    seed: int = 20240917
    target_check_p99_ms: float = 20.0
    target_write_p99_ms: float = 250.0
    target_write_p50_ms: float = 50.0
    target_record_p99_ms: float = 10.0
    target_rss_growth: float = 0.10
    quick: bool = False


QUICK = Config(duration=3.0, warmup=0.5, connections=4, record_connections=2, record_duration=1.5, paced_writes_per_s=5.0, members=4, accounts=20, batch_size=10, bucket_s=1.0, quick=True)


class VerificationError(AssertionError):
    """A server answered a decision that differs from the engine's in process."""


# -- the workspace ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workspace:
    demo: DemoWorkspace
    csms: list[str]
    analysts: list[str]
    roles: list[str]
    accounts: list[str]
    members: list[str]
    actions: list[str]
    account_actions: list[str]
    setup_s: float


def grow(demo: DemoWorkspace, config: Config) -> Workspace:
    """Bench members, roles and accounts, made through the services as an admin would."""
    from rolegate.bootstrap import bootstrap
    from rolegate.config import Settings
    from rolegate.domain.workspace import Actor
    from rolegate.engine import Record
    from rolegate.services.members import add_member
    from rolegate.services.record_bulk import upsert_records
    from rolegate.services.roles import create_role
    from rolegate.services.workspaces import set_seat_capacities

    t0 = time.perf_counter()
    rng = random.Random(config.seed)
    rg = bootstrap(Settings(database_url=demo.url, listen=False))
    try:
        admin, ws = Actor.member(demo.admin_id), demo.workspace_id
        set_seat_capacities(rg.uow(), actor=Actor.system("bench"), workspace_id=ws, seat_capacities={"csm": None, "analyst": None})
        roles = [
            create_role(rg.uow(), actor=admin, workspace_id=ws, name=f"Bench {k}", level="analyst", grants=BENCH_ROLE_GRANTS[0], landing_page="dashboard").id
            for k in range(4)
        ]
        csms: list[str] = []
        analysts: list[str] = []
        for k in range(config.members):
            csm = k % 2 == 0
            info = add_member(rg.uow(), actor=admin, workspace_id=ws, email=f"bench{k}@example.com", role_id="csm" if csm else "executive", name=f"Bench {k}")
            (csms if csm else analysts).append(info.member.id)
        accounts = [f"bench-{k:06d}" for k in range(config.accounts)]
        records = [Record("account", a, None, rng.choice(csms) if rng.random() < 0.8 else None) for a in accounts]
        for k in range(0, len(records), 5_000):
            upsert_records(rg.uow(), actor=admin, workspace_id=ws, records=records[k : k + 5_000])
        snap = rg.snapshots.get(ws)
        members = sorted({*demo.members.values(), *csms, *analysts})
        actions = sorted(snap.schema.actions)
        account_actions = sorted(k for k, a in snap.schema.actions.items() if a.object_type == "account")
    finally:
        rg.close()
    return Workspace(demo, csms, analysts, roles, accounts, members, actions, account_actions, time.perf_counter() - t0)


# -- requests ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    kind: str
    method: str
    path: str
    body: Any


def make_picker(w: Workspace, mix: dict[str, float], config: Config, rng: random.Random) -> Callable[[], Request]:
    """Draws the next request: its kind by `mix`, its body at random over the workspace."""
    kinds = [k for k in KINDS if mix.get(k, 0) > 0]
    weights = [mix[k] for k in kinds]
    base = f"/v1/workspaces/{w.demo.workspace_id}"
    role_state = dict.fromkeys(w.roles, 0)

    def pair() -> dict[str, Any]:
        return {"member": rng.choice(w.members), "action": rng.choice(w.actions)}

    def pick() -> Request:
        kind = rng.choices(kinds, weights)[0]
        if kind == "check":
            return Request(kind, "POST", f"{base}/check", pair())
        if kind == "record":
            body = {"member": rng.choice(w.members), "action": rng.choice(w.account_actions), "record": {"type": "account", "id": rng.choice(w.accounts)}}
            return Request(kind, "POST", f"{base}/check", body)
        if kind == "batch":
            return Request(kind, "POST", f"{base}/check/batch", {"checks": [pair() for _ in range(config.batch_size)]})
        if kind == "lookup":
            return Request(kind, "POST", f"{base}/lookup", {"member": rng.choice(w.members), "action": rng.choice(w.account_actions), "object": "account"})
        if kind == "role":
            role = rng.choice(w.roles)
            role_state[role] ^= 1
            return Request(kind, "PATCH", f"{base}/roles/{role}", {"grants": BENCH_ROLE_GRANTS[role_state[role]]})
        if kind == "member":
            return Request(kind, "PATCH", f"{base}/members/{rng.choice(w.analysts)}", {"role": rng.choice(["executive", "guest"])})
        assignee = rng.choice(w.csms) if rng.random() < 0.8 else None
        return Request(kind, "PUT", f"{base}/records/account/{rng.choice(w.accounts)}/assignee", {"assignee": assignee})

    return pick


def phase_mix(name: str) -> dict[str, float]:
    if name.removesuffix(APART) in ("peer", "paced"):
        return {k: v for k, v in MIX.items() if k not in WRITE_KINDS}
    if name.startswith("record"):
        return {"record": 100.0}
    return dict(MIX)


# -- the load -----------------------------------------------------------------------------------------


@dataclass
class Samples:
    """Per kind: when each answer came (s since the start of the phase) and its latency (ms)."""

    at: dict[str, array[float]] = field(default_factory=lambda: {k: array("d") for k in KINDS})
    ms: dict[str, array[float]] = field(default_factory=lambda: {k: array("d") for k in KINDS})
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    error_examples: list[str] = field(default_factory=list)
    io_errors: int = 0


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, headers: bytes, req: Request) -> tuple[int, bytes]:
    """One request on a keep-alive connection: its status and body."""
    body = json.dumps(req.body, separators=(",", ":")).encode()
    writer.write(f"{req.method} {req.path} HTTP/1.1\r\n".encode() + headers + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    answer = await read_response(reader)
    if answer is None:
        raise ConnectionResetError("the server closed the connection")
    return int(answer[0].split()[1]), answer[1]


def _record(s: Samples, req: Request, status: int, payload: bytes, at: float, ms: float) -> None:
    if not 200 <= status < 300:
        s.errors[req.kind] += 1
        if len(s.error_examples) < 5:
            s.error_examples.append(f"{req.kind} {req.method} {req.path} -> {status}: {payload[:300].decode(errors='replace')}")
    s.at[req.kind].append(at)
    s.ms[req.kind].append(ms)


Opened = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def balanced(port: int, count: int, pids: Sequence[int], workers: int, tries: int = 400) -> list[Opened]:
    """`count` connections to `port`, spread evenly over the `workers` processes of the
    trees of `pids` that accept on it, as a least-connections balancer in front of them
    would: a connection accepted by a worker that has its share already is put aside,
    and closed once the others are open. SO_REUSEPORT hashes each connection's
    addresses to a worker, so 16 connections split 13 / 3 as well as 8 / 8, and what
    the phase measured was then that split (docs/benchmarks.md). Falls back to the
    kernel's spread (the rest as they come) after `tries` connections, or off Linux."""
    share = math.ceil(count / workers)
    held: Counter[int] = Counter()
    kept: list[Opened] = []
    aside: list[Opened] = []
    for _ in range(tries):
        if len(kept) == count:
            break
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client_port = writer.get_extra_info("sockname")[1]
        pid = None
        for _ in range(200):  # until a worker accepts it
            pid = server_of(pids, port, client_port)
            if pid is not None:
                break
            await asyncio.sleep(0.005)
        if pid is None:
            kept.append((reader, writer))  # off Linux, or never accepted: as the kernel spread it
            continue
        if held[pid] >= share:
            aside.append((reader, writer))
            continue
        held[pid] += 1
        kept.append((reader, writer))
    while len(kept) < count:
        kept.append(await asyncio.open_connection("127.0.0.1", port))
    for _, writer in aside:
        writer.close()
    return kept


async def _connection(
    port: int, headers: bytes, pick: Callable[[], Request], t0: float, deadline: float, record_from: float, s: Samples, opened: Opened | None = None
) -> None:
    loop = asyncio.get_running_loop()
    reader, writer = opened if opened is not None else await asyncio.open_connection("127.0.0.1", port)
    try:
        while loop.time() < deadline:
            req = pick()
            start = time.perf_counter()
            status, payload = await _exchange(reader, writer, headers, req)
            end = time.perf_counter()
            if end - t0 >= record_from:
                _record(s, req, status, payload, end - t0 - record_from, (end - start) * 1e3)
    except (OSError, asyncio.IncompleteReadError) as error:
        s.io_errors += 1
        if len(s.error_examples) < 5:
            s.error_examples.append(f"connection: {error!r}")
    finally:
        writer.close()


IDLE_REUSE_S = 2.0
"""A paced write reuses a connection idle for less than this (uvicorn closes keep-alive
connections idle for 5 s)."""


async def _paced(
    port: int, headers: bytes, pick: Callable[[], Request], rate: float, t0: float, deadline: float, record_from: float, s: Samples, seed: str
) -> None:
    """Admin writes arriving at `rate` per second (exponential gaps: independent
    arrivals), whatever the answers to the earlier ones: each is sent on an idle
    connection of its own pool, a new one when none is idle. Its latency counts from
    when it was due, so a late send is not hidden (no coordinated omission)."""
    loop = asyncio.get_running_loop()
    rng = random.Random(seed)
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
    tasks: set[asyncio.Task[None]] = set()

    async def connection() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        while idle:
            reader, writer, since = idle.pop()  # the most recently used first
            if time.perf_counter() - since < IDLE_REUSE_S:
                return reader, writer
            writer.close()  # the server may be closing it (its keep-alive timeout)
        return await asyncio.open_connection("127.0.0.1", port)

    async def one(due: float) -> None:
        conn = await connection()
        req = pick()
        try:
            status, payload = await _exchange(conn[0], conn[1], headers, req)
        except (OSError, asyncio.IncompleteReadError) as error:
            s.io_errors += 1
            if len(s.error_examples) < 5:
                s.error_examples.append(f"paced write: {error!r}")
            conn[1].close()
            return
        end = time.perf_counter()
        idle.append((conn[0], conn[1], end))
        if due - t0 >= record_from:
            _record(s, req, status, payload, end - t0 - record_from, (end - due) * 1e3)

    due = time.perf_counter()
    while loop.time() < deadline:
        due += rng.expovariate(rate)
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        task = asyncio.create_task(one(due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    for _, writer, _ in idle:
        writer.close()


def drive(
    ports: Sequence[int],
    demo: DemoWorkspace,
    pick: Callable[[], Request],
    connections: int,
    warmup: float,
    duration: float,
    *,
    paced: tuple[float, Callable[[], Request]] | None = None,
    balance: tuple[Sequence[int], int] | None = None,
) -> Samples:
    """`connections` closed-loop connections, spread round-robin over `ports`, for
    `warmup` (not recorded) + `duration` seconds; and with `paced` (rate, picker),
    requests arriving at that rate besides, open loop (`_paced`). `balance` (server
    pids, workers): one port whose workers each get an even share (`balanced`)."""
    headers = (
        f"Host: 127.0.0.1\r\nAuthorization: Bearer {demo.api_key}\r\nRolegate-Actor: {demo.admin_id}\r\nContent-Type: application/json\r\n".encode()
    )
    s = Samples()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        opened: list[Opened | None] = [None] * connections
        if balance is not None and len(ports) == 1:
            opened = list(await balanced(ports[0], connections, *balance))
        t0 = time.perf_counter()
        deadline = loop.time() + warmup + duration
        work = [_connection(ports[k % len(ports)], headers, pick, t0, deadline, warmup, s, opened[k]) for k in range(connections)]
        if paced is not None:
            work.append(_paced(ports[0], headers, paced[1], paced[0], t0, deadline, warmup, s, "paced"))
        await asyncio.gather(*work)

    asyncio.run(main())
    return s


class RssWatch:
    """The resident memory of the server processes (and their children: uvicorn's
    workers), sampled every `every` seconds in a thread."""

    def __init__(self, pids: Sequence[int], every: float = 1.0) -> None:
        self.pids = list(pids)
        self.every = every
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self, t0: float) -> RssWatch:
        self._t0 = t0
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter() - self._t0, tree_rss(self.pids)))
            self._stop.wait(self.every)

    def stop(self) -> list[tuple[float, int]]:
        self._stop.set()
        self._thread.join()
        return self.samples


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _tree(pids: Sequence[int]) -> list[int]:
    """The processes and all their descendants (Linux; the processes alone elsewhere)."""
    todo, seen = list(pids), []
    while todo:
        pid = todo.pop()
        if pid not in seen:
            seen.append(pid)
            todo.extend(_children(pid))
    return seen


def tree_rss(pids: Sequence[int]) -> int:
    """Bytes resident in the processes and all their descendants (Linux; 0 elsewhere)."""
    total = 0
    for pid in _tree(pids):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


_ESTABLISHED, _LISTEN = "01", "0A"


def connections_by_process(pids: Sequence[int], ports: Collection[int], *, state: str = _ESTABLISHED) -> list[int]:
    """How many TCP sockets of `ports` in `state` (established connections by default)
    each process of the trees of `pids` holds, for those that hold any, most first
    (Linux; [] elsewhere): how the kernel spread the client's connections over `serve
    --workers` (SO_REUSEPORT hashes each connection's addresses, so 16 connections may
    well split 11 / 5)."""
    owner = _socket_owners(pids)
    held: Counter[int] = Counter()
    for fields in _tcp_sockets():
        if fields[3] == state and int(fields[1].rsplit(":", 1)[1], 16) in ports and fields[9] in owner:
            held[owner[fields[9]]] += 1
    return sorted(held.values(), reverse=True)


def _socket_owners(pids: Sequence[int]) -> dict[str, int]:
    """The process of the trees of `pids` that holds each socket, by inode."""
    owner: dict[str, int] = {}
    for pid in _tree(pids):
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:["):
                    owner[link[8:-1]] = pid
        except OSError:
            continue
    return owner


def _tcp_sockets() -> Iterator[list[str]]:
    """The fields of each line of Linux's TCP socket tables: sl local remote st ... inode (the 10th)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9:
                yield fields


def server_of(pids: Sequence[int], port: int, client_port: int) -> int | None:
    """The process of the trees of `pids` that accepted the connection from local port
    `client_port` to `port` (Linux), None while none has."""
    owner = _socket_owners(pids)
    for fields in _tcp_sockets():
        local, remote = fields[1].rsplit(":", 1)[1], fields[2].rsplit(":", 1)[1]
        if fields[3] == _ESTABLISHED and int(local, 16) == port and int(remote, 16) == client_port and fields[9] in owner:
            return owner[fields[9]]
    return None


# -- statistics --------------------------------------------------------------------------------------


def kind_stats(ms: Sequence[float], errors: int, seconds: float) -> dict[str, Any]:
    return {
        "requests": len(ms),
        "rps": len(ms) / seconds if seconds else 0.0,
        "errors": errors,
        "p50_ms": percentile(ms, 50),
        "p90_ms": percentile(ms, 90),
        "p99_ms": percentile(ms, 99),
        "max_ms": max(ms) if ms else math.nan,
    }


def buckets(at: Sequence[float], ms: Sequence[float], width: float, duration: float) -> list[dict[str, Any]]:
    """p50/p99 per `width`-second bucket (NaN for an empty one)."""
    n = max(1, math.ceil(duration / width))
    per: list[list[float]] = [[] for _ in range(n)]
    for t, v in zip(at, ms, strict=True):
        per[min(n - 1, int(t / width))].append(v)
    return [{"t": (k + 1) * width, "n": len(vals), "p50_ms": percentile(vals, 50), "p99_ms": percentile(vals, 99)} for k, vals in enumerate(per)]


def rss_summary(samples: Sequence[tuple[float, int]]) -> dict[str, Any]:
    """Growth from the first tenth of the run (after the warm-up) to the last tenth."""
    if not samples:
        return {"start_mb": math.nan, "end_mb": math.nan, "max_mb": math.nan, "growth": math.nan}
    values = [v for _, v in samples]
    tenth = max(1, len(values) // 10)
    start, end = sorted(values[:tenth])[tenth // 2], sorted(values[-tenth:])[tenth // 2]
    return {"start_mb": start / 2**20, "end_mb": end / 2**20, "max_mb": max(values) / 2**20, "growth": (end - start) / start if start else math.nan}


# -- servers and databases --------------------------------------------------------------------------


def serve_has_workers() -> bool:
    """Does `rolegate serve` take `--workers`? (added by another part of issue 18)"""
    proc = subprocess.run([*rolegate_argv(), "serve", "--help"], capture_output=True, text=True, cwd=ROOT, env={**os.environ, "COLUMNS": "200"}, check=False)
    return "--workers" in proc.stdout


@contextmanager
def database(kind: str, tmp: Path, name: str, server: str) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp}/{name}.db"
        return
    from stale import fresh_database

    with fresh_database(server) as url:
        yield url


@contextmanager
def servers(
    url: str, tmp: Path, name: str, workers: int, *, ports: bool = False, balance: bool = True, write_process: bool = False
) -> Iterator[tuple[list[Server], str]]:
    """One `rolegate serve`, or `workers` of them: `--workers N` if the CLI has it and
    not `ports`, else N processes on N ports. Yields the servers and how they were run."""
    if workers <= 1:
        how = "`rolegate serve` (one process)"
        started = [rolegate_server(name, url, free_port(), tmp)]
    elif ports:
        how = f"{workers} `rolegate serve` processes on {workers} ports, the client's connections round-robin over them (`--worker-ports`)"
        started = [rolegate_server(f"{name}-{k}", url, free_port(), tmp) for k in range(workers)]
    elif serve_has_workers():
        how = f"`rolegate serve --workers {workers}` (one port; {'the client spreads its connections evenly over the workers, as a balancer would' if balance else 'connections as the kernel spreads them'})"
        srv = rolegate_server(name, url, free_port(), tmp)
        srv.argv += ["--workers", str(workers)]
        started = [srv]
    else:
        how = f"{workers} `rolegate serve` processes on {workers} ports, the client's connections round-robin over them (`--workers` not in this build)"
        started = [rolegate_server(f"{name}-{k}", url, free_port(), tmp) for k in range(workers)]
    if write_process:
        how += ", changes answered by a process of their own (`--write-process`)"
        for srv in started:
            srv.argv.append("--write-process")
    try:
        for srv in started:
            srv.start()
        if len(started) == 1 and workers > 1 and sys.platform == "linux":
            _wait_listening(started[0], workers)
        yield started, how
    finally:
        for srv in started:
            srv.stop()


def _wait_listening(srv: Server, workers: int, timeout: float = 30.0) -> None:
    """`serve --workers N` answers once one worker does; with a socket per worker
    (SO_REUSEPORT), connections made before the others listen all go to the first one,
    and the phase would measure one worker. Wait until N processes listen (a build
    whose workers share the supervisor's socket never shows N: said, then go on)."""
    assert srv.pid is not None
    deadline = time.monotonic() + timeout
    while (listening := len(connections_by_process([srv.pid], {srv.port}, state=_LISTEN))) < workers:
        if time.monotonic() > deadline:
            log(f"{srv.name}: {listening} of {workers} workers listen on a socket of their own after {timeout:g} s; going on")
            return
        time.sleep(0.05)


# -- verification ------------------------------------------------------------------------------------


def verify(w: Workspace, port: int, rng: random.Random, n: int = 64) -> int:
    """Decisions over HTTP at the final revision equal the engine's in process."""
    from rolegate.bootstrap import bootstrap
    from rolegate.config import Settings
    from rolegate.engine import RecordRef

    rg = bootstrap(Settings(database_url=w.demo.url, listen=False))
    client = JsonClient(port, {"Authorization": f"Bearer {w.demo.api_key}"})
    try:
        snap = rg.snapshots.get(w.demo.workspace_id)
        compared = 0
        for k in range(n):
            body: dict[str, Any] = {"member": rng.choice(w.members), "action": rng.choice(w.actions), "min_revision": snap.revision}
            ref = None
            if k % 2:
                body["action"] = rng.choice(w.account_actions)
                body["record"] = {"type": "account", "id": rng.choice(w.accounts)}
                ref = RecordRef("account", body["record"]["id"])
            status, got = client.post(f"/v1/workspaces/{w.demo.workspace_id}/check", body)
            want = snap.check(body["member"], body["action"], ref)
            if status != 200 or got["allowed"] != want.allowed or got["revision"] != snap.revision:
                raise VerificationError(f"{body} -> HTTP {status} {got}; the engine says allowed={want.allowed} at revision {snap.revision}")
            compared += 1
        return compared
    finally:
        client.close()
        rg.close()


# -- phases ------------------------------------------------------------------------------------------


_prepared: dict[str, Workspace] = {}


def run_phase(name: str, config: Config, tmp: Path, server_url: str) -> dict[str, Any]:
    db = "sqlite" if name == "record-sqlite" else "pg" if name == "record-pg" else config.db
    mix = phase_mix(name)
    connections = config.record_connections if name.startswith("record") else config.connections
    duration = config.record_duration if name.startswith("record") else config.duration
    base = name.removesuffix(APART)
    workers = config.workers if base == "workers" else 1
    rng = random.Random(f"{config.seed}:{name}")
    with database(db, tmp, "quick" if config.quick else name, server_url) as url:
        # --quick (the smoke test) prepares one SQLite database for all its phases: the
        # CLI's `db upgrade` and `demo` are most of its time; a full run starts afresh.
        w = _prepared.get(url) if config.quick and db == "sqlite" else None
        if w is None:
            w = _prepared[url] = grow(setup_demo(url), config)
        demo = w.demo
        log(f"{name}: workspace ready on {db} ({len(w.members)} members, {len(w.accounts)} accounts, {w.setup_s:.1f} s); {connections} connections, {duration:g} s")
        with servers(url, tmp, name, workers, ports=config.worker_ports, balance=config.balance, write_process=config.write_process or name.endswith(APART)) as (started, how):
            pids = [s.pid for s in started if s.pid is not None]
            load0 = load_average()
            t0 = time.perf_counter()
            rss = RssWatch(pids).start(t0 + config.warmup)
            cpu: dict[str, CpuWatch] = {}

            spread: list[int] = []
            listening: list[int] = []

            def start_cpu() -> None:
                cpu["w"] = CpuWatch(pids)
                spread.extend(connections_by_process(pids, {s.port for s in started}))
                listening.extend(connections_by_process(pids, {s.port for s in started}, state=_LISTEN))

            timer = threading.Timer(config.warmup, start_cpu)
            timer.start()
            paced = (config.paced_writes_per_s, make_picker(w, {k: MIX[k] for k in WRITE_KINDS}, config, random.Random(f"{config.seed}:paced"))) if base == "paced" else None
            balance = (pids, workers) if workers > 1 and config.balance else None
            samples = drive([s.port for s in started], demo, make_picker(w, mix, config, rng), connections, config.warmup, duration, paced=paced, balance=balance)
            timer.join()
            cores = cpu["w"].stop() if "w" in cpu else {}
            rss_samples = [(t, v) for t, v in rss.stop() if t >= 0]
            load1 = load_average()
            compared = verify(w, started[0].port, rng)
    per_kind = {k: kind_stats(samples.ms[k], samples.errors[k], duration) for k in KINDS if mix.get(k, 0) > 0 or samples.ms[k]}
    writes_ms = [v for k in WRITE_KINDS for v in samples.ms[k]]
    writes_at = [t for k in WRITE_KINDS for t in samples.at[k]]
    if writes_ms:
        per_kind["writes"] = kind_stats(writes_ms, sum(samples.errors[k] for k in WRITE_KINDS), duration)
    series = {k: buckets(samples.at[k], samples.ms[k], config.bucket_s, duration) for k in KINDS if mix.get(k, 0) > 0 or samples.ms[k]}
    if writes_ms:
        series["writes"] = buckets(writes_at, writes_ms, config.bucket_s, duration)
    total = sum(len(samples.ms[k]) for k in KINDS)
    errors = sum(samples.errors.values()) + samples.io_errors
    log(f"{name}: {total / duration:,.0f} req/s, errors {errors}; " + ", ".join(f"{k} p50 {v['p50_ms']:.1f} p99 {v['p99_ms']:.1f} ms" for k, v in per_kind.items()))
    return {
        "name": name,
        "db": db,
        "servers": how,
        "server_pids": pids,
        "connections": connections,
        "duration_s": duration,
        "mix": mix,
        "requests": total,
        "rps": total / duration,
        "errors": errors,
        "io_errors": samples.io_errors,
        "error_examples": samples.error_examples,
        "kinds": per_kind,
        "series": series,
        "rss": rss_summary(rss_samples),
        "rss_samples": [(round(t, 1), v) for t, v in rss_samples],
        "cores": cores,
        "connections_by_process": spread,
        "listening_processes": len(listening),
        "load_start": load0,
        "load_end": load1,
        "verified": compared,
        "workspace": {"members": len(w.members), "accounts": len(w.accounts), "setup_s": w.setup_s},
    }


def run(config: Config, *, server: str | None = None) -> dict[str, Any]:
    server_url = server or _admin_url()
    t_start, load_start = time.perf_counter(), load_average()
    result: dict[str, Any] = {"config": asdict(config), "date": now_utc(), "machine": machine(), "phases": {}}
    with tempfile.TemporaryDirectory(prefix="rolegate-mixed-") as tmp:
        for name in config.phases:
            result["phases"][name] = run_phase(name, config, Path(tmp), server_url)
    result["load_start"], result["load_end"] = load_start, load_average()
    result["seconds"] = time.perf_counter() - t_start
    result["versions"] = versions("rolegate", "fastapi", "uvicorn", "sqlalchemy", "psycopg")
    if "pg" in {p["db"] for p in result["phases"].values()}:
        from stale import _server_version

        result["versions"]["postgresql"] = _server_version(server_url)
    result["targets"] = targets(result, config)
    return result


def _admin_url() -> str:
    from sqlalchemy.engine import make_url

    url = make_url(os.environ.get("ROLEGATE_TEST_DATABASE_URL", DEFAULT_SERVER_URL))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


# -- writes never block decisions (--behind) -----------------------------------------------------------


BEHIND_MODES = (("behind", "1"), ("inline", "0"))
"""`ROLEGATE_COMPILE_BEHIND` of the deciding server: a newer revision compiled in a worker
thread while the held snapshot decides (`behind`, the default), or by the decisions that
need it, each waiting (`inline`, the behaviour before: the peer)."""


def _write_loop(port: int, w: Workspace, stop: threading.Event, counts: dict[str, Any], seed: str) -> None:
    """Admin writes that move the revision (role edits, member role changes), one after
    the other on one connection, until `stop`."""
    rng = random.Random(seed)
    pick = make_picker(w, {"role": 50.0, "member": 50.0}, QUICK, rng)
    client = JsonClient(port, {"Authorization": f"Bearer {w.demo.api_key}", "Rolegate-Actor": w.demo.admin_id})
    try:
        while not stop.is_set():
            req = pick()
            start = time.perf_counter()
            status, _ = client.request(req.method, req.path, req.body)
            counts["ms"].append((time.perf_counter() - start) * 1e3)
            counts["errors"] += not 200 <= status < 300
    finally:
        client.close()


def run_behind(config: Config, *, server: str | None = None) -> dict[str, Any]:
    """Check latency on a server while another process writes in a loop (each write's
    NOTIFY makes the deciding server compile a newer revision), with the compile
    behind (`ROLEGATE_COMPILE_BEHIND=1`) and inline (`=0`, the peer), the two servers
    up at once on the same PostgreSQL database, loaded in turn (`rounds` each, each
    run preceded by a run without writes: the floor)."""
    server_url = server or _admin_url()
    t_start, load_start = time.perf_counter(), load_average()
    rounds = 1 if config.quick else 3
    seconds = config.duration if config.quick else min(config.duration, 20.0)
    result: dict[str, Any] = {"config": asdict(config), "date": now_utc(), "machine": machine(), "rounds": rounds, "run_s": seconds}
    with tempfile.TemporaryDirectory(prefix="rolegate-behind-") as tmp_dir, database("pg", Path(tmp_dir), "behind", server_url) as url:
        tmp = Path(tmp_dir)
        w = grow(setup_demo(url), config)
        writer = rolegate_server("writer", url, free_port(), tmp)
        deciders = {mode: rolegate_server(f"decide-{mode}", url, free_port(), tmp, env={"ROLEGATE_COMPILE_BEHIND": flag}) for mode, flag in BEHIND_MODES}
        started = [writer, *deciders.values()]
        try:
            for srv in started:
                srv.start()
            runs: list[dict[str, Any]] = []
            rng = random.Random(f"{config.seed}:behind")
            for k in range(rounds):
                for mode, srv in deciders.items():
                    for writes in (False, True):
                        stop = threading.Event()
                        counts: dict[str, Any] = {"ms": [], "errors": 0}
                        thread = threading.Thread(target=_write_loop, args=(writer.port, w, stop, counts, f"{config.seed}:{k}:{mode}"), daemon=True)
                        if writes:
                            thread.start()
                        cpu = CpuWatch([p for p in (srv.pid,) if p is not None])
                        samples = drive([srv.port], w.demo, make_picker(w, {"check": 100.0}, config, rng), config.record_connections, config.warmup, seconds)
                        cores = cpu.stop()
                        stop.set()
                        if writes:
                            thread.join()
                        stats = kind_stats(samples.ms["check"], samples.errors["check"] + samples.io_errors, seconds)
                        run = {"round": k, "mode": mode, "writes": writes, "check": stats, "writes_done": len(counts["ms"]), "writes_per_s": len(counts["ms"]) / seconds, "write_errors": counts["errors"], "write_p50_ms": percentile(counts["ms"], 50) if counts["ms"] else math.nan, "cores": cores}
                        runs.append(run)
                        log(f"behind: round {k} {mode:6} writes={'on ' if writes else 'off'} check {stats['rps']:,.0f} req/s p50 {stats['p50_ms']:.2f} p99 {stats['p99_ms']:.2f} max {stats['max_ms']:.1f} ms; {len(counts['ms'])} writes")
            result["runs"] = runs
            result["verified"] = sum(verify(w, srv.port, rng) for srv in deciders.values())
        finally:
            for srv in started:
                srv.stop()
    result["load_start"], result["load_end"] = load_start, load_average()
    result["seconds"] = time.perf_counter() - t_start
    result["versions"] = versions("rolegate", "fastapi", "uvicorn", "sqlalchemy", "psycopg")
    from stale import _server_version

    result["versions"]["postgresql"] = _server_version(server_url)
    result["summary"] = behind_summary(result["runs"])
    return result


def behind_summary(runs: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per (mode, writes): the median over the rounds of each run's check figures."""
    out: dict[str, dict[str, float]] = {}
    for mode, _ in BEHIND_MODES:
        for writes in (False, True):
            mine = [r for r in runs if r["mode"] == mode and r["writes"] == writes]
            key = f"{mode}:{'writes' if writes else 'quiet'}"
            out[key] = {
                "rps": statistics.median(r["check"]["rps"] for r in mine),
                "p50_ms": statistics.median(r["check"]["p50_ms"] for r in mine),
                "p99_ms": statistics.median(r["check"]["p99_ms"] for r in mine),
                "max_ms": max(r["check"]["max_ms"] for r in mine),
                "errors": sum(r["check"]["errors"] for r in mine),
                "writes_per_s": statistics.median(r["writes_per_s"] for r in mine),
            }
    return out


def behind_markdown(result: dict[str, Any]) -> str:
    c = result["config"]
    s = result["summary"]
    lines = [
        "## Writes never block decisions (bench/mixed.py --behind)",
        "",
        f"- Command: `{result.get('command', '.venv/bin/python bench/mixed.py --behind')}`",
        f"- Date: {result['date']}; run took {result['seconds']:.0f} s; load average (1, 5, 15 min) {_load(result['load_start'])} at the start, {_load(result['load_end'])} at the end (the benchmark itself adds about 2: three servers, PostgreSQL and the load generator on 2 cores)",
        f"- Machine: {result['machine']['cpu']}, `nproc` = {result['machine']['nproc']}, {result['machine']['platform']}; Python {result['machine']['python']}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in result["versions"].items()),
        f"- Workspace (seed {c['seed']}): the natero demo grown as in the mixed phases ({c['members']} bench members, {c['accounts']:,} accounts, 4 bench roles), on PostgreSQL.",
        "- Servers, up at once on the same database: a writer (`rolegate serve`), and two deciding servers, "
        "`ROLEGATE_COMPILE_BEHIND=1` (**behind**, the default: a newer revision heard of by NOTIFY is compiled in a worker thread while the snapshot held keeps deciding, within the staleness bound) "
        "and `ROLEGATE_COMPILE_BEHIND=0` (**inline**, the peer: the behaviour before, every check after a NOTIFY waits for the compile).",
        f"- Method: on each deciding server in turn, {c['record_connections']} keep-alive connections of single `check`s (closed loop, the asyncio client of this script) for {result['run_s']:g} s after {c['warmup']:g} s of warm-up, "
        "first with no writes (the floor), then while one connection writes to the writer in a loop (role edits and member role changes, each a new revision and a NOTIFY); "
        f"{result['rounds']} rounds, interleaved; figures are the median of the rounds (max: the largest of all). {result['verified']} decisions compared with the engine's in process afterwards: all equal.",
        "",
        "| deciding server | writes | check req/s | p50 ms | p99 ms | max ms | writes/s | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for mode, _ in BEHIND_MODES:
        for writes in (False, True):
            v = s[f"{mode}:{'writes' if writes else 'quiet'}"]
            wps = f"{v['writes_per_s']:.0f}" if writes else ""
            lines.append(f"| {mode} | {'in a loop' if writes else 'none'} | {v['rps']:,.0f} | {v['p50_ms']:.2f} | {v['p99_ms']:.2f} | {v['max_ms']:.1f} | {wps} | {v['errors']} |")
    b, i = s["behind:writes"], s["inline:writes"]
    lines += [
        "",
        f"- While writing: check p99 {b['p99_ms']:.2f} ms behind vs {i['p99_ms']:.2f} ms inline ({i['p99_ms'] / b['p99_ms']:.2f}x); "
        f"p99 with writes over p99 without: behind {b['p99_ms'] / s['behind:quiet']['p99_ms']:.2f}x, inline {i['p99_ms'] / s['inline:quiet']['p99_ms']:.2f}x.",
        "",
        "Every run:",
        "",
        "| round | server | writes | check req/s | p50 ms | p99 ms | max ms | writes done | server cores |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["runs"]:
        cores = r["cores"].get("servers", math.nan) if isinstance(r["cores"], dict) else math.nan
        lines.append(
            f"| {r['round']} | {r['mode']} | {'on' if r['writes'] else 'off'} | {r['check']['rps']:,.0f} | {r['check']['p50_ms']:.2f} | {r['check']['p99_ms']:.2f} | {r['check']['max_ms']:.1f} | {r['writes_done']} | {cores:.2f} |"
        )
    return "\n".join(lines) + "\n"


# -- targets, charts, docs ---------------------------------------------------------------------------


def targets(result: dict[str, Any], config: Config) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(what: str, value: float, limit: float, unit: str = " ms", fmt: str = "{:.2f}") -> None:
        out.append({"target": what, "measured": fmt.format(value) + unit, "status": "PASS" if value < limit else "SHORT"})

    phases = result["phases"]
    for name in LOADED:
        p = phases.get(name)
        if p is None:
            continue
        where = f"{name} ({p['db']}, {p['connections']} connections)"
        if name.startswith("paced"):
            where = f"{name} ({p['db']}, {p['connections']} connections of decisions, admin writes arriving at {config.paced_writes_per_s:g}/s)"
        add(f"{where}: check p99 < {config.target_check_p99_ms:g} ms", p["kinds"]["check"]["p99_ms"], config.target_check_p99_ms)
        add(f"{where}: admin write p99 < {config.target_write_p99_ms:g} ms", p["kinds"]["writes"]["p99_ms"], config.target_write_p99_ms)
        add(f"{where}: admin write p50 < {config.target_write_p50_ms:g} ms", p["kinds"]["writes"]["p50_ms"], config.target_write_p50_ms)
        out.append({"target": f"{where}: 0 errors", "measured": f"{p['errors']}", "status": "PASS" if p["errors"] == 0 else "SHORT"})
        add(f"{where}: server RSS growth < {config.target_rss_growth:.0%}", 100 * p["rss"]["growth"], 100 * config.target_rss_growth, unit="%", fmt="{:.1f}")
    for name in ("record-sqlite", "record-pg"):
        p = phases.get(name)
        if p is not None:
            add(f"record checks over HTTP on {p['db']} at {p['connections']} connections: p99 < {config.target_record_p99_ms:g} ms", p["kinds"]["record"]["p99_ms"], config.target_record_p99_ms)
    return out


COLORS = {"check": "tab:blue", "record": "tab:orange", "batch": "tab:green", "lookup": "tab:purple", "writes": "tab:red", "role": "tab:red", "member": "tab:brown", "assign": "tab:pink"}


def chart_mixed(result: dict[str, Any], path: Path) -> None:
    """p50 and p99 over time per request kind; the peer's check p99 dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    phases = result["phases"]
    shown = [n for n in ("mixed", "workers", "paced", "paced" + APART) if n in phases]
    fig, axes = plt.subplots(len(shown), 2, figsize=(13, 4.2 * len(shown)), squeeze=False)
    for row, name in enumerate(shown):
        p = phases[name]
        for col, stat in enumerate(("p50_ms", "p99_ms")):
            ax = axes[row][col]
            for kind in ("check", "record", "batch", "lookup", "writes"):
                pts = p["series"].get(kind)
                if pts:
                    ax.plot([b["t"] for b in pts], [b[stat] for b in pts], label=kind, color=COLORS[kind])
            peer = phases.get("peer")
            if peer is not None and name == "mixed":
                pts = peer["series"]["check"]
                ax.plot([b["t"] for b in pts], [b[stat] for b in pts], "--", color=COLORS["check"], alpha=0.6, label="check, peer (no writes)")
            ax.set_yscale("log")
            ax.set_xlabel("seconds")
            ax.set_ylabel(f"{stat[:3]} latency, ms ({result['config']['bucket_s']:g} s buckets)")
            ax.set_title(f"{name}: {p['db']}, {p['connections']} connections, {stat[:3]}")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8)
    load = ", ".join(f"{name} {phases[name]['load_start'][0]:.2f}->{phases[name]['load_end'][0]:.2f}" for name in shown)
    fig.suptitle(f"bench/mixed.py, {result['date']}: latency over time per request kind\n1-min load average {load}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.98))  # room for the two lines of the title
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def chart_soak(result: dict[str, Any], path: Path) -> None:
    """RSS and p99 per minute over a long run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = result["phases"]["mixed"]
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    for kind in ("check", "record", "batch", "lookup", "writes"):
        pts = p["series"].get(kind)
        if pts:
            ax1.plot([b["t"] / 60 for b in pts], [b["p99_ms"] for b in pts], marker=".", label=f"{kind} p99", color=COLORS[kind])
    ax1.set_yscale("log")
    ax1.set_ylabel("p99 per minute, ms")
    ax1.grid(True, which="both", alpha=0.3)
    ax1.legend(fontsize=8)
    ax2.plot([t / 60 for t, _ in p["rss_samples"]], [v / 2**20 for _, v in p["rss_samples"]], color="black")
    ax2.set_ylabel("server RSS, MiB")
    ax2.set_xlabel("minutes")
    ax2.grid(True, alpha=0.3)
    ax2.set_ylim(bottom=0)
    fig.suptitle(
        f"Soak, {result['date']}: ran {p['duration_s'] / 60:.0f} minutes (the issue asks for 30), {p['db']}, {p['connections']} connections; "
        f"1-min load {p['load_start'][0]:.2f} -> {p['load_end'][0]:.2f}",
        fontsize=9,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _load(v: Sequence[float]) -> str:
    return ", ".join(f"{x:.2f}" for x in v)


def _servers(phase: dict[str, Any]) -> str:
    """How the phase ran its servers and, with more than one, how many of the client's
    connections each held."""
    spread = phase.get("connections_by_process") or []
    return str(phase["servers"]) + (f"; connections held {' / '.join(map(str, spread))}" if len(spread) > 1 else "")


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| phase | db | servers | connections | req/s | errors | check p50 / p99 ms | record p50 / p99 | batch p50 / p99 | lookup p50 / p99 | writes p50 / p99 | RSS start -> end MiB (growth) | server cores | others' cores | load (1, 5, 15 min) start; end |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for p in result["phases"].values():
        cells = []
        for kind in ("check", "record", "batch", "lookup", "writes"):
            k = p["kinds"].get(kind)
            cells.append(f"{k['p50_ms']:.2f} / {k['p99_ms']:.2f}" if k else "")
        rss, cores = p["rss"], p["cores"]
        lines.append(
            f"| {p['name']} | {p['db']} | {_servers(p)} | {p['connections']} | {p['rps']:,.0f} | {p['errors']} | {' | '.join(cells)} | "
            f"{rss['start_mb']:.0f} -> {rss['end_mb']:.0f} ({100 * rss['growth']:+.1f}%) | {cores.get('servers', math.nan):.2f} | {cores.get('others', math.nan):.2f} | "
            f"{_load(p['load_start'])}; {_load(p['load_end'])} |"
        )
    phases = result["phases"]
    if "mixed" in phases and "peer" in phases:
        m, q = phases["mixed"]["kinds"], phases["peer"]["kinds"]
        lines += ["", "What writes cost decisions (mixed / peer without writes, same connections, same database kind):", "", "| kind | p50 ratio | p99 ratio | req/s ratio |", "|---|---:|---:|---:|"]
        for kind in ("check", "record", "batch", "lookup"):
            if kind in m and kind in q:
                lines.append(f"| {kind} | {m[kind]['p50_ms'] / q[kind]['p50_ms']:.2f}x | {m[kind]['p99_ms'] / q[kind]['p99_ms']:.2f}x | {m[kind]['rps'] / q[kind]['rps']:.2f}x |")
    apart = [(n, n + APART) for n in ("mixed", "paced") if n in phases and n + APART in phases]
    if apart:
        lines += ["", "Changes in a process of their own (`rolegate serve --write-process`), against one process (ratio = write process / one process):", "",
                  "| phases | writes p50 ms | writes p99 ms | check p50 ms | check p99 ms | req/s | server cores |", "|---|---:|---:|---:|---:|---:|---:|"]
        for one, two in apart:
            a, b = phases[one], phases[two]
            cells = []
            for kind in ("writes", "check"):
                for q in ("p50_ms", "p99_ms"):
                    x, y = a["kinds"][kind][q], b["kinds"][kind][q]
                    cells.append(f"{x:.1f} -> {y:.1f} ({y / x:.2f}x)")
            cells.append(f"{a['rps']:,.0f} -> {b['rps']:,.0f} ({b['rps'] / a['rps']:.2f}x)")
            cells.append(f"{a['cores'].get('servers', math.nan):.2f} -> {b['cores'].get('servers', math.nan):.2f}")
            lines.append(f"| `{one}` -> `{two}` | {' | '.join(cells)} |")
    if "mixed" in phases and "writes" in phases["mixed"]["kinds"]:
        m = phases["mixed"]["kinds"]
        lines += ["", "Admin writes in `mixed`, per kind:", "", "| write | requests | p50 ms | p99 ms | max ms |", "|---|---:|---:|---:|---:|"]
        for kind, label in (("role", "role edit (PATCH role)"), ("member", "member role change (PATCH member)"), ("assign", "record assignment (PUT assignee)")):
            k = m[kind]
            lines.append(f"| {label} | {k['requests']:,} | {k['p50_ms']:.2f} | {k['p99_ms']:.2f} | {k['max_ms']:.2f} |")
    lines += ["", "| target | measured | status |", "|---|---|---|"]
    lines += [f"| {t['target']} | {t['measured']} | {t['status']} |" for t in result["targets"]]
    return "\n".join(lines)


def docs_section(result: dict[str, Any], charts: dict[str, str]) -> str:
    c, key = result["config"], "soak" if result["config"]["soak"] else "mixed"
    mix = ", ".join(f"{v:g}% {k}" for k, v in MIX.items())
    phases = result["phases"]
    lines = [
        f"<!-- bench:{key}:start (generated by bench/mixed.py --docs; edits inside are overwritten) -->",
        "## Mixed load: decisions and admin writes (bench/mixed.py)" if key == "mixed" else "## Soak: the mixed load for a long run (bench/mixed.py --soak)",
        "",
        f"- Command: `{result['command']}`",
        f"- Date: {result['date']}; run took {result['seconds']:.0f} s; load average (1, 5, 15 min) {_load(result['load_start'])} at the start, {_load(result['load_end'])} at the end (the benchmark itself adds about 2: a busy server, PostgreSQL and the load generator on 2 cores)",
        f"- Machine: {result['machine']['cpu']}, `nproc` = {result['machine']['nproc']}, {result['machine']['platform']}; Python {result['machine']['python']}",
        "- Versions: " + ", ".join(f"{k} {v}" for k, v in result["versions"].items()),
        f"- Workspace (seed {c['seed']}): the natero demo, seat capacities lifted, {c['members']} bench members (half `csm`, half `executive`), {c['accounts']:,} accounts (80% assigned to the bench CSMs), 4 custom bench roles; a fresh database per phase.",
        f"- Mix: {mix}; `batch` = `check/batch` of {c['batch_size']} checks; `record` = `check` on an account; writes as the demo administrator (`Rolegate-Actor`): role edits toggle `accounts.update` on a bench role, member role changes move a bench analyst between `executive` and `guest`, assignments give an account to a bench CSM (or nobody). Peer `peer`: the same mix without writes.",
        f"- Method: a Python asyncio client (keep-alive connections, closed loop, one process beside the servers; in `paced` the writes arrive open loop at {c['paced_writes_per_s']:g}/s, exponential gaps, each timed from when it was due), {c['warmup']:g} s warm-up not recorded, then {c['duration']:g} s per mixed phase and {c['record_duration']:g} s per record-only phase; latency from writing the request to the last byte of the answer, nearest-rank percentiles; RSS of the server process tree every second, growth = median of the last tenth over the median of the first tenth; after each phase 64 decisions over HTTP (with `min_revision`) compared with the engine's in process: {sum(p['verified'] for p in phases.values())} compared, all equal.",
        "",
        markdown(result),
        "",
    ]
    for label, path in charts.items():
        lines.append(f"![{label}]({path})")
        lines.append("")
    lines.append(f"<!-- bench:{key}:end -->")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke: a tiny workspace, seconds per phase")
    parser.add_argument("--duration", type=float, help="seconds of each mixed phase (default 120; the soak: 1800)")
    parser.add_argument("--record-duration", type=float)
    parser.add_argument("--connections", type=int)
    parser.add_argument("--worker-ports", action="store_true", help="the workers phase as N processes on N ports, connections spread evenly (not --workers N)")
    parser.add_argument("--write-process", action="store_true", help="rolegate serve --write-process: changes answered by a process of their own")
    parser.add_argument("--kernel-spread", action="store_true", help="--workers N: the connections as the kernel's SO_REUSEPORT hash spreads them (not evenly, as a balancer would)")
    parser.add_argument("--paced-rate", type=float, help="admin writes per second of the paced phase (default 20)")
    parser.add_argument("--phases", help=f"comma-separated, of {', '.join(PHASES)}")
    parser.add_argument("--db", choices=["pg", "sqlite"], help="database of mixed, peer and workers (default pg)")
    parser.add_argument("--server", help="PostgreSQL admin URL where databases are created (default ROLEGATE_TEST_DATABASE_URL or local)")
    parser.add_argument("--soak", action="store_true", help="only the mixed phase, charted per minute (RSS, p99)")
    parser.add_argument("--behind", action="store_true", help="only check latency while another process writes: compile behind vs inline")
    parser.add_argument("--json", type=Path, help="write the full result here")
    parser.add_argument("--docs", type=Path, help="write the section into this markdown file")
    parser.add_argument("--charts", type=Path, default=ROOT / "docs" / "charts", help="where the PNG charts go (with --docs)")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else Config()
    if args.soak:
        config = replace(config, phases=("mixed",), soak=True, duration=1800.0, bucket_s=60.0 if not args.quick else 1.0)
    if args.duration is not None:
        config = replace(config, duration=args.duration)
    if args.record_duration is not None:
        config = replace(config, record_duration=args.record_duration)
    if args.connections is not None:
        config = replace(config, connections=args.connections)
    if args.paced_rate is not None:
        config = replace(config, paced_writes_per_s=args.paced_rate)
    if args.worker_ports:
        config = replace(config, worker_ports=True)
    if args.write_process:
        config = replace(config, write_process=True)
    if args.kernel_spread:
        config = replace(config, balance=False)
    if args.db is not None:
        config = replace(config, db=args.db)
    if args.phases:
        names = tuple(p.strip() for p in args.phases.split(",") if p.strip())
        unknown = sorted(set(names) - set(PHASES))
        if unknown:
            parser.error(f"unknown phases: {', '.join(unknown)}")
        config = replace(config, phases=names)
    stop_servers_on_sigterm()
    if args.behind:
        return _main_behind(args, config)
    try:
        result = run(config, server=args.server)
    except ServerError as error:
        log(str(error))
        return 2
    finally:
        stop_all()
    result["command"] = command_line("bench/mixed.py", sys.argv[1:] if argv is None else argv)
    charts: dict[str, str] = {}
    if args.docs is not None or args.quick:
        chart_dir = args.charts if args.docs is not None else (args.json.parent if args.json else Path(tempfile.gettempdir()))
        if config.soak:
            chart_soak(result, chart_dir / "soak.png")
            charts["RSS and p99 per minute"] = "soak.png"
        elif any(n in result["phases"] for n in LOADED):
            chart_mixed(result, chart_dir / "mixed.png")
            charts["latency over time per request kind"] = "mixed.png"
        result["charts"] = {k: str(chart_dir / v) for k, v in charts.items()}
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    print(markdown(result))
    if args.docs is not None:
        rel = os.path.relpath(args.charts, args.docs.parent)
        key = "soak" if config.soak else "mixed"
        section = docs_section(result, {k: f"{rel}/{v}" for k, v in charts.items()})
        update_docs(args.docs, f"<!-- bench:{key}:start", f"<!-- bench:{key}:end -->", section)
    return 0


def _main_behind(args: argparse.Namespace, config: Config) -> int:
    try:
        result = run_behind(config, server=args.server)
    except ServerError as error:
        log(str(error))
        return 2
    finally:
        stop_all()
    result["command"] = command_line("bench/mixed.py", sys.argv[1:])
    text = behind_markdown(result)
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    print(text)
    if args.docs is not None:
        section = f"<!-- bench:behind:start (generated by bench/mixed.py --behind --docs; edits inside are overwritten) -->\n{text}<!-- bench:behind:end -->"
        update_docs(args.docs, "<!-- bench:behind:start", "<!-- bench:behind:end -->", section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
