"""Helpers shared by `bench/http.py` and `bench/stale.py`: free ports, `rolegate serve`
(and other servers) as subprocesses that are always stopped, the demo workspace,
a keep-alive JSON client, percentiles, machine facts and the docs section.

Not a benchmark itself; imported by the two scripts (which put `bench/` on `sys.path`
when run as `python bench/<name>.py`).
"""

from __future__ import annotations

import asyncio
import atexit
import datetime as dt
import http.client
import importlib.metadata
import json
import math
import os
import platform
import re
import resource
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "ROOT",
    "DemoWorkspace",
    "JsonClient",
    "Server",
    "ServerError",
    "CpuWatch",
    "speed_probe",
    "free_port",
    "load_average",
    "log",
    "machine",
    "percentile",
    "rolegate_argv",
    "run_cli",
    "setup_demo",
    "stop_all",
    "stop_servers_on_sigterm",
    "update_docs",
    "versions",
]

ROOT = Path(__file__).resolve().parents[1]
_T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[{time.perf_counter() - _T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


class ServerError(RuntimeError):
    """A server did not start, or answered wrongly."""


# -- processes ------------------------------------------------------------------------------


def rolegate_argv() -> list[str]:
    """The `rolegate` command of this interpreter's environment."""
    exe = Path(sys.executable).parent / "rolegate"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-c", "from rolegate.cli.main import main; main()"]


def run_cli(args: Sequence[str], *, timeout: float = 120) -> str:
    """Run `rolegate ARGS`; its standard output, or ServerError with what it printed."""
    proc = subprocess.run(
        [*rolegate_argv(), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "250", "NO_COLOR": "1"},
        check=False,
    )
    if proc.returncode != 0:
        raise ServerError(f"`rolegate {shlex.join(args)}` exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_running: list[Server] = []


def stop_all() -> None:
    """Stop every server this process started and has not stopped yet."""
    for server in list(_running):
        server.stop()


def _on_sigterm(signum: int, _frame: object) -> None:
    stop_all()
    raise SystemExit(128 + signum)


def stop_servers_on_sigterm() -> None:
    """For the scripts' `__main__`: a SIGTERM to the benchmark stops its servers first."""
    signal.signal(signal.SIGTERM, _on_sigterm)


atexit.register(stop_all)


@dataclass
class Server:
    """A server process on 127.0.0.1:`port`, its output in `log_path`. Started with
    `start()` (waits until it answers HTTP), stopped by its pid with SIGTERM, then
    SIGKILL after `stop_timeout` s; `stop_all()` (also at exit and on SIGTERM) stops
    whatever is left."""

    name: str
    argv: list[str]
    port: int
    log_path: Path
    env: Mapping[str, str] = field(default_factory=dict)
    stop_timeout: float = 10.0
    proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> Server:
        out = self.log_path.open("ab")
        try:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                env={**os.environ, **self.env},
                start_new_session=True,  # a Ctrl-C to the benchmark does not reach it; stop() does
            )
        finally:
            out.close()
        _running.append(self)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                _running.remove(self)
                raise ServerError(f"{self.name} exited {self.proc.returncode} before answering:\n{self.log_tail()}")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/")
                conn.getresponse().read()
                return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise ServerError(f"{self.name} did not answer on port {self.port} within {timeout:.0f} s:\n{self.log_tail()}") from None
                time.sleep(0.05)
            finally:
                conn.close()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(self.stop_timeout)
        if self in _running:
            _running.remove(self)

    def log_tail(self, n: int = 40) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:])

    def __enter__(self) -> Server:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def rolegate_server(name: str, url: str, port: int, log_dir: Path, env: Mapping[str, str] | None = None) -> Server:
    """`rolegate serve --host 127.0.0.1 --port PORT --url URL`: uvicorn, one worker."""
    argv = [*rolegate_argv(), "serve", "--host", "127.0.0.1", "--port", str(port), "--url", url]
    return Server(name, argv, port, log_dir / f"{name}.log", dict(env or {}))


# -- the demo workspace ------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoWorkspace:
    """The natero workspace of `rolegate demo`, with the API key the demo printed."""

    url: str
    workspace_id: str
    organization_id: str
    api_key: str
    members: dict[str, str]
    """email -> member id (admin@, ann@, bob@, eve@, carol@ (invited), dan@ (disabled))."""
    admin_id: str
    demo_seconds: float


_KEY = re.compile(r"\b(rg_[0-9a-f]+_[A-Za-z0-9_-]+)")
_NATERO = re.compile(r"^\s*natero\s+(\S+)\s", re.MULTILINE)


def setup_demo(url: str) -> DemoWorkspace:
    """`rolegate db upgrade --url URL` and `rolegate demo --url URL` (subprocesses, as a
    newcomer runs them); the natero workspace and key parsed from what the demo prints,
    its member ids read through the store."""
    from rolegate.bootstrap import bootstrap
    from rolegate.config import Settings

    t0 = time.perf_counter()
    run_cli(["db", "upgrade", "--url", url])
    out = run_cli(["demo", "--url", url])
    seconds = time.perf_counter() - t0
    key, ws = _KEY.search(out), _NATERO.search(out)
    if key is None or ws is None:
        raise ServerError(f"could not find the API key and the natero workspace in the demo's output:\n{out}")
    rg = bootstrap(Settings(database_url=url, listen=False))
    try:
        with rg.uow() as uow:
            workspace = uow.workspaces.get(ws.group(1))
            infos = uow.members.all(ws.group(1))
    finally:
        rg.close()
    if workspace is None:
        raise ServerError(f"the demo printed workspace {ws.group(1)}, which the store does not have")
    members = {i.email: i.member.id for i in infos if i.email}
    return DemoWorkspace(url, workspace.id, workspace.organization_id, key.group(1), members, members["admin@example.com"], seconds)


# -- HTTP client --------------------------------------------------------------------------------


class JsonClient:
    """One keep-alive connection (http.client: little overhead per request); JSON in
    and out. Reconnects once when the server closed an idle connection."""

    def __init__(self, port: int, headers: Mapping[str, str] | None = None, timeout: float = 30.0) -> None:
        self.port = port
        self.headers = {"Content-Type": "application/json", **(headers or {})}
        self.timeout = timeout
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(self, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        hdrs = {**self.headers, **(headers or {})}
        for attempt in (0, 1):
            try:
                self._conn.request(method, path, body=data, headers=hdrs)
                resp = self._conn.getresponse()
                raw = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self._conn.close()
                if attempt:
                    raise
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw.decode(errors="replace")
        return resp.status, payload

    def post(self, path: str, body: Any, headers: Mapping[str, str] | None = None) -> tuple[int, Any]:
        return self.request("POST", path, body, headers)

    def close(self) -> None:
        self._conn.close()


# -- numbers and facts --------------------------------------------------------------------------


async def read_response(reader: asyncio.StreamReader) -> tuple[bytes, bytes] | None:
    """The status line and body of one HTTP/1.1 answer with a Content-Length, read from a
    keep-alive connection; None when the server closed it first."""
    status_line = await reader.readline()
    if not status_line:
        return None
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status_line, await reader.readexactly(length)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (a value that was observed); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _machine_busy() -> tuple[float, float]:
    """(busy, steal) CPU seconds of the whole machine since boot, from /proc/stat."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / _TICK, steal / _TICK


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a running process, from /proc/PID/stat."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    rest = text.rsplit(")", 1)[1].split()
    return (int(rest[11]) + int(rest[12])) / _TICK


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a running process and of all its descendants still running (a
    supervisor's workers are its children, and a child's seconds reach its parent's
    counters only once it is reaped)."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            rest = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        parents.setdefault(int(rest[1]), []).append(int(stat.parent.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += _process_cpu(current)
        todo += parents.get(current, [])
    return total


def _own_cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class CpuWatch:
    """Who used the CPU during a measurement: the servers watched, this process and its
    reaped children (wrk, the CLI), and everything else on the machine ("others": the
    load that is not the benchmark's). Linux only; zeros elsewhere."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.pids = list(pids)
        self._start = self._sample()

    def _sample(self) -> tuple[float, float, float, float, float]:
        try:
            busy, steal = _machine_busy()
        except (OSError, ValueError):
            return (time.monotonic(), 0.0, 0.0, 0.0, 0.0)
        return (time.monotonic(), busy, steal, sum(_tree_cpu(p) for p in self.pids), _own_cpu())

    def stop(self) -> dict[str, float]:
        """Cores used on average since the start: `servers`, `bench` (this process and
        its children), `others`, and `steal` (time the hypervisor gave elsewhere)."""
        t0, busy0, steal0, srv0, own0 = self._start
        t1, busy1, steal1, srv1, own1 = self._sample()
        wall = max(t1 - t0, 1e-9)
        servers, own = srv1 - srv0, own1 - own0
        return {
            "servers": servers / wall,
            "bench": own / wall,
            "others": max(0.0, (busy1 - busy0) - servers - own - (steal1 - steal0)) / wall,
            "steal": (steal1 - steal0) / wall,
        }


def speed_probe(n: int = 200_000) -> float:
    """A fixed pure-Python loop (dict lookups), in million iterations per second: how
    fast this machine runs Python right now. On a shared VM it moves by tens of
    percent from one second to the next; recorded beside each run to tell the
    machine's noise from the server's."""
    d = {i: i for i in range(1000)}
    total = 0
    t0 = time.perf_counter()
    for i in range(n):
        total += d[i % 1000]
    return n / (time.perf_counter() - t0) / 1e6


def load_average() -> tuple[float, float, float]:
    try:
        return os.getloadavg()
    except OSError:
        return (math.nan, math.nan, math.nan)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "nproc": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def versions(*packages: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in packages:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def command_line(script: str, args: Sequence[str]) -> str:
    return shlex.join([os.path.relpath(sys.executable, ROOT), script, *args])


def update_docs(path: Path, start_marker: str, end_marker: str, section: str) -> None:
    """Replace the text from `start_marker` to `end_marker` in `path` (append the
    section, or create the file, when the markers are missing); the rest is kept."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    start, end = text.find(start_marker), text.find(end_marker)
    if start != -1 and end != -1 and end > start:
        text = text[:start] + section + text[end + len(end_marker) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    path.write_text(text)
