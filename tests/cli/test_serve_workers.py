"""`rolegate serve --workers N` (issue 18, item 3): uvicorn's worker processes behind one
port, each with its own snapshot cache (and LISTEN connection on PostgreSQL).

Which worker answered a request is read from Linux's /proc (the server end of the
test's TCP connection, and the worker process holding it), so the server needs no
debug header: each request below is sent on a fresh connection known to be held by
the worker it is meant for. Proven on a real server: both workers serve; a login
answered by one is valid on the other (one session key for all, made by `serve` when
ROLEGATE_SECRET_KEY is unset); a decision on one is fresh after a write through the
other, with `min_revision` on SQLite and by LISTEN alone on PostgreSQL.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import uvicorn
from typer.testing import CliRunner
from uvicorn.importer import import_from_string
from uvicorn.supervisors import multiprocess

from rolegate.cli import serve as serve_cli
from rolegate.cli.main import app
from rolegate.cli.serve import APP_FACTORY
from tests.pg import postgres_url

runner = CliRunner()
START_TIMEOUT = 90.0
"""Seconds for two workers to start (imports, presets) on a busy 2-core machine."""


# -- the command line: what `serve --workers` hands uvicorn -------------------------------


def test_serve_with_workers_hands_uvicorn_a_factory_and_the_workers_one_session_key(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["db", "upgrade", "--url", sqlite_url]).exit_code == 0
    calls: list[tuple[Any, dict[str, Any], dict[str, str]]] = []

    def fake_run(target: Any, **options: Any) -> None:
        # uvicorn's supervisor makes each worker a socket of its own (SO_REUSEPORT, Linux)
        options["own_sockets"] = multiprocess.Process is serve_cli._OwnSocketWorker
        calls.append((target, options, {k: v for k, v in os.environ.items() if k.startswith("ROLEGATE_")}))

    monkeypatch.setattr(uvicorn, "run", fake_run)
    for name in ("ROLEGATE_SECRET_KEY", "ROLEGATE_DATABASE_URL", "ROLEGATE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)  # and restored after the test: `serve` sets them for its workers
    result = runner.invoke(app, ["serve", "--url", sqlite_url, "--workers", "3", "--port", "9002"])
    assert result.exit_code == 0, result.output
    target, options, env = calls[-1]
    # Workers import the app themselves: a factory by its import string, never the parent's object.
    assert (target, options["factory"], options["workers"], options["port"]) == (APP_FACTORY, True, 3, 9002)
    assert options["own_sockets"] is serve_cli.SPREAD_BY_KERNEL
    assert env["ROLEGATE_DATABASE_URL"] == sqlite_url  # --url reaches the workers
    assert len(env["ROLEGATE_SECRET_KEY"]) >= 32  # one key made once, inherited by every worker
    assert "ROLEGATE_SECRET_KEY is not set" in result.output
    assert "ROLEGATE_REDIS_URL is not set" in result.output
    assert "with 3 workers" in result.output
    assert multiprocess.Process is not serve_cli._OwnSocketWorker  # uvicorn's own again after the run

    monkeypatch.setenv("ROLEGATE_SECRET_KEY", "the-operators-key")
    monkeypatch.setenv("ROLEGATE_REDIS_URL", "redis://127.0.0.1:6379/0")
    result = runner.invoke(app, ["serve", "--url", sqlite_url, "--workers", "2"])
    assert result.exit_code == 0, result.output
    assert calls[-1][2]["ROLEGATE_SECRET_KEY"] == "the-operators-key"  # the operator's key is kept
    assert "is not set" not in result.output


def test_the_worker_factory_builds_the_app_from_the_environment(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    assert runner.invoke(app, ["db", "upgrade", "--url", sqlite_url]).exit_code == 0
    monkeypatch.setenv("ROLEGATE_DATABASE_URL", sqlite_url)
    frozen: list[bool] = []
    monkeypatch.setattr(
        gc, "freeze", lambda: frozen.append(True)
    )  # not in the test process: the suite's objects are not start-up objects
    api = import_from_string(APP_FACTORY)()  # as uvicorn does in each worker
    try:
        assert api.state.rolegate.settings.database_url == sqlite_url
        assert frozen == [True]  # as in one process: start-up objects out of the collector's reach
    finally:
        api.state.rolegate.close()


# -- a real server with two workers ----------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _children(pid: int) -> set[int]:
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _holder(client_port: int, server_port: int, pids: set[int]) -> int | None:
    """The process among `pids` holding the server end of the connection from `client_port`."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            if (
                int(f[1].rsplit(":", 1)[1], 16) == server_port
                and int(f[2].rsplit(":", 1)[1], 16) == client_port
                and f[9] != "0"
            ):
                inode = f[9]
    if inode is None:
        return None  # not accepted yet
    for pid in pids:
        try:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
        except OSError:
            continue
    return None


@dataclass
class Workers:
    proc: subprocess.Popen[str]
    port: int

    def pids(self) -> set[int]:
        return _children(self.proc.pid)

    @contextmanager
    def connection(self, worker: int | None = None) -> Iterator[tuple[int, http.client.HTTPConnection]]:
        """A fresh connection held by `worker` (any when None), and that worker's pid."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            conn.connect()
            assert conn.sock is not None
            client_port = conn.sock.getsockname()[1]
            holder = None
            for _ in range(200):  # a worker accepts within milliseconds; allow a busy machine
                holder = _holder(client_port, self.port, self.pids())
                if holder is not None:
                    break
                time.sleep(0.01)
            if holder is not None and worker in (None, holder):
                try:
                    yield holder, conn
                finally:
                    conn.close()
                return
            conn.close()
        raise AssertionError(f"no connection reached worker {worker} in 30 s")

    def request(
        self, worker: int, method: str, path: str, *, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> Reply:
        with self.connection(worker) as (_, conn):
            conn.request(method, path, body=body, headers=dict(headers or {}))
            r = conn.getresponse()
            return Reply(r.status, r.read(), r.getheaders())


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    data: bytes
    headers: list[tuple[str, str]]


@dataclass
class Started:
    """A `rolegate serve` process started by a test, on `port`; `output` once it stopped."""

    proc: subprocess.Popen[str]
    port: int
    output: str = ""


@contextmanager
def started_serve(url: str, options: list[str], env: Mapping[str, str] | None = None, *, ready: Callable[[Started], bool] | None = None) -> Iterator[Started]:
    """`rolegate serve --url URL --port P OPTIONS` in a process of its own, once it answers
    (and `ready` says so); stopped after, its output kept."""
    port = _free_port()
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"ROLEGATE_SECRET_KEY", "ROLEGATE_REDIS_URL", "ROLEGATE_DATABASE_URL"}
    }
    environment.update(env or {})
    cli = "from rolegate.cli.main import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", cli, "serve", "--url", url, "--port", str(port), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
    )
    started = Started(proc, port)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _answers(port) or (ready is not None and not ready(started)):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"rolegate serve {' '.join(options)} did not start: {proc.communicate()[0]}")
            time.sleep(0.2)
        yield started
    finally:
        if proc.poll() is None:
            proc.terminate()
        try:
            started.output = proc.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            started.output = proc.communicate()[0]


@contextmanager
def serve_workers(url: str, env: Mapping[str, str] | None = None) -> Iterator[Workers]:
    if not Path("/proc/net/tcp").exists():
        pytest.skip("needs Linux's /proc to tell which worker holds a connection")
    with started_serve(url, ["--workers", "2"], env, ready=lambda s: len(_children(s.proc.pid)) >= 2) as started:
        yield Workers(started.proc, started.port)


def _answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/login")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def _two_workers(workers: Workers) -> tuple[int, int]:
    """Connections until both workers have answered one: the pids of the two."""
    seen: set[int] = set()
    for _ in range(200):
        with workers.connection() as (pid, conn):
            conn.request("GET", "/login")
            assert conn.getresponse().status == 200
            seen.add(pid)
        if len(seen) == 2:
            a, b = sorted(seen)
            return a, b
    raise AssertionError(f"200 connections reached only the workers {seen}")


def _demo(url: str) -> dict[str, str]:
    result = runner.invoke(app, ["demo", "--url", url, "--env"])
    assert result.exit_code == 0, result.output
    return dict(re.findall(r"^export (\w+)=(\S+)$", result.output, re.M))


# The Telephony demo: Bob is an analyst (reports.view), holding no records, so the
# administrator may disable him.


def _api(ids: Mapping[str, str], *, actor: bool = False) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {ids['KEY'].strip(chr(39))}", "Content-Type": "application/json"}
    if actor:
        headers["Rolegate-Actor"] = ids["TELEPHONY_ADMIN"]
    return headers


def _check(workers: Workers, worker: int, ids: Mapping[str, str], **extra: Any) -> dict[str, Any]:
    body = json.dumps({"member": ids["TELEPHONY_BOB"], "action": "reports.view", **extra})
    r = workers.request(worker, "POST", f"/v1/workspaces/{ids['TELEPHONY_WS']}/check", body=body, headers=_api(ids))
    assert r.status == 200, r.data
    answer: dict[str, Any] = json.loads(r.data)
    return answer


def _disable_bob(workers: Workers, worker: int, ids: Mapping[str, str]) -> int:
    r = workers.request(
        worker,
        "POST",
        f"/v1/workspaces/{ids['TELEPHONY_WS']}/members/{ids['TELEPHONY_BOB']}/disable",
        body=b"",
        headers=_api(ids, actor=True),
    )
    assert r.status == 200, r.data
    revision: int = json.loads(r.data)["revision"]
    return revision


def _cookie(r: Reply) -> str:
    for name, value in r.headers:
        if name.lower() == "set-cookie" and value.startswith("rolegate_session="):
            return value.split(";", 1)[0]
    raise AssertionError(f"no session cookie in {r.headers}")


def _listening(port: int) -> int:
    """Listening sockets on `port` (Linux's /proc): one per worker with SO_REUSEPORT, one in all when shared."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            count += int(f[1].rsplit(":", 1)[1], 16) == port and f[3] == "0A"  # TCP_LISTEN
    return count


@pytest.mark.skipif(not serve_cli.SPREAD_BY_KERNEL, reason="SO_REUSEPORT spreads connections on Linux only")
def test_each_worker_listens_on_its_own_socket_and_keep_alive_connections_are_spread(tmp_path: Path) -> None:
    """Issue 18 (many processes): on one shared socket, whichever worker woke first
    took most long-lived connections (14 of 16 measured, the other worker idle)."""
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--url", url]).exit_code == 0
    with serve_workers(url) as workers:
        # `serve_workers` returns once one worker answers; the other may still be starting.
        deadline = time.monotonic() + START_TIMEOUT
        while _listening(workers.port) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _listening(workers.port) == 2
        held: dict[int, int] = {}
        conns = []
        try:
            for _ in range(32):  # opened one after another, all kept open: as a client's pool does
                conn = http.client.HTTPConnection("127.0.0.1", workers.port, timeout=30)
                conn.request("GET", "/healthz")
                assert conn.getresponse().read() is not None
                conns.append(conn)
                assert conn.sock is not None
                holder = _holder(conn.sock.getsockname()[1], workers.port, workers.pids())
                assert holder is not None
                held[holder] = held.get(holder, 0) + 1
        finally:
            for conn in conns:
                conn.close()
    # Spread by a hash of each connection's addresses: each of two workers gets 16 on
    # average; fewer than 4 has a chance of about 3 in a million.
    assert len(held) == 2, held
    assert min(held.values()) >= 4, held


def test_two_workers_serve_share_logins_and_decide_fresh_after_a_write_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'workers.db'}"
    ids = _demo(url)
    with serve_workers(url) as workers:
        a, b = _two_workers(workers)
        # Many requests on fresh connections: every one answered, whichever worker.
        for _ in range(10):
            with workers.connection() as (_, conn):
                conn.request("GET", "/login")
                assert conn.getresponse().status == 200

        # A login answered by worker a (the form, its CSRF token and the login itself) ...
        page = workers.request(a, "GET", "/login")
        csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page.data)
        assert csrf is not None
        form = urlencode(
            {
                "email": "admin@example.com",
                "password": "rolegate-demo",
                "next": "/",
                "csrf_token": csrf.group(1).decode(),
            }
        )
        login = workers.request(
            a,
            "POST",
            "/login",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": _cookie(page)},
        )
        assert login.status == 303, login.data
        session = _cookie(login)
        # ... is valid on worker b, which did not make the key: `serve` made one for both.
        assert workers.request(b, "GET", "/workspaces", headers={"Cookie": session}).status == 200
        assert workers.request(b, "GET", "/workspaces").status in {302, 303}  # without it: to the login page

        # A decision on b (its snapshot cached), a write through a, b again with the
        # write's revision: fresh, whatever b had cached.
        assert _check(workers, b, ids)["allowed"] is True
        revision = _disable_bob(workers, a, ids)
        after = _check(workers, b, ids, min_revision=revision)
        assert (after["allowed"], after["revision"] >= revision) == (False, True), after


def test_a_write_through_one_worker_reaches_the_others_decisions_by_listen_on_postgresql() -> None:
    with postgres_url(migrate=True) as url:
        ids = _demo(url)
        # Ten minutes of staleness allowed: only LISTEN/NOTIFY can make b fresh in seconds.
        with serve_workers(url, {"ROLEGATE_MAX_STALENESS_MS": "600000"}) as workers:
            a, b = _two_workers(workers)
            assert _check(workers, b, ids)["allowed"] is True
            revision = _disable_bob(workers, a, ids)
            deadline = time.monotonic() + 10
            while (answer := _check(workers, b, ids))["allowed"]:
                assert time.monotonic() < deadline, (
                    f"worker b still allows at revision {answer['revision']} (write: {revision})"
                )
                time.sleep(0.05)
            assert answer["revision"] >= revision
