"""`rolegate serve --write-process` on a real server (issue 18, "mixed load without
stalls"): changes are made by a process of their own, decisions where they are asked;
a login made over there holds here; the write process is restarted when it dies (the
changes sent meanwhile answer 503, nothing changed) and goes with the server."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.cli.test_serve_workers import START_TIMEOUT, Reply, Started, _api, _children, _cookie, _demo, started_serve
from tests.pg import postgres_url


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class Server:
    def __init__(self, started: Started) -> None:
        self.started = started
        self.port = started.port

    def write_process(self) -> int | None:
        found = [pid for pid in _children(self.started.proc.pid) if "rolegate.cli.write_process" in _cmdline(pid)]
        return found[0] if found else None

    def request(self, method: str, path: str, *, body: Any = None, headers: Mapping[str, str] | None = None) -> Reply:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}))
            r = conn.getresponse()
            return Reply(r.status, r.read(), r.getheaders())
        finally:
            conn.close()


@contextmanager
def serve_write_process(url: str, env: Mapping[str, str] | None = None) -> Iterator[Server]:
    if not Path("/proc").is_dir():
        pytest.skip("needs Linux's /proc to find the write process")
    with started_serve(url, ["--write-process"], env) as started:
        yield Server(started)


def _check_bob(server: Server, ids: Mapping[str, str], **extra: Any) -> dict[str, Any]:
    body = json.dumps({"member": ids["TELEPHONY_BOB"], "action": "reports.view", **extra})
    r = server.request("POST", f"/v1/workspaces/{ids['TELEPHONY_WS']}/check", body=body, headers=_api(ids))
    assert r.status == 200, r.data
    answer: dict[str, Any] = json.loads(r.data)
    return answer


def _set_bob(server: Server, ids: Mapping[str, str], state: str) -> Reply:
    path = f"/v1/workspaces/{ids['TELEPHONY_WS']}/members/{ids['TELEPHONY_BOB']}/{state}"
    return server.request("POST", path, body=b"", headers=_api(ids, actor=True))


def test_a_server_with_a_write_process_makes_changes_there_and_decides_them_fresh(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'split.db'}"
    ids = _demo(url)
    with serve_write_process(url) as server:
        writer = server.write_process()
        assert writer is not None, "no write process under the server"
        assert _check_bob(server, ids)["allowed"] is True
        r = _set_bob(server, ids, "disable")
        assert r.status == 200, r.data
        revision = json.loads(r.data)["revision"]
        after = _check_bob(server, ids, min_revision=revision)
        assert (after["allowed"], after["revision"] >= revision) == (False, True), after

        # A login (a change: forwarded, its CSRF check and session made over there) holds
        # on the pages this process serves: one session key for both.
        page = server.request("GET", "/login")
        csrf = re.search(rb'name="csrf_token" value="([^"]+)"', page.data)
        assert csrf is not None
        form = urlencode({"email": "admin@example.com", "password": "rolegate-demo", "next": "/", "csrf_token": csrf.group(1).decode()})
        login = server.request("POST", "/login", body=form, headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": _cookie(page)})
        assert login.status == 303, login.data
        assert server.request("GET", "/workspaces", headers={"Cookie": _cookie(login)}).status == 200

        # The write process dies: changes answer 503 and change nothing, decisions go on;
        # the server starts it again and changes are made again.
        os.kill(writer, signal.SIGKILL)
        deadline = time.monotonic() + START_TIMEOUT
        while Path(f"/proc/{writer}").exists():  # until the server has reaped it: a change sent before may have reached it
            assert time.monotonic() < deadline
            time.sleep(0.01)
        refused = _set_bob(server, ids, "enable")
        if refused.status != 200:  # else restarted already, on a slow machine
            problem = json.loads(refused.data)
            assert (refused.status, problem["code"], {k.lower(): v for k, v in refused.headers}.get("retry-after")) == (503, "unavailable", "1"), problem
            assert "nothing was changed" in problem["detail"]
            assert _check_bob(server, ids)["allowed"] is False  # nothing changed, and decisions are answered
        while (again := _set_bob(server, ids, "enable")).status != 200:
            assert again.status == 503, again.data
            assert time.monotonic() < deadline, "the write process was not restarted"
            time.sleep(0.2)
        assert server.write_process() not in (None, writer)
        restarted = server.write_process()
    # Gone with the server (stopped by SIGTERM), and the directory of its socket too.
    assert restarted is not None
    assert not Path(f"/proc/{restarted}").exists() or "rolegate.cli.write_process" not in _cmdline(restarted)
    sockets = set(re.findall(r"(/\S*/rolegate-writes-\w+)/writes\.sock", server.started.output))
    assert len(sockets) == 1, server.started.output
    assert not Path(sockets.pop()).exists()
    assert server.started.proc.returncode == 143
    assert "with a write process:" in server.started.output
    assert "the write process exited with code -9: restarting it" in server.started.output


def test_a_change_made_by_the_write_process_reaches_decisions_by_listen_on_postgresql() -> None:
    with postgres_url(migrate=True) as url:
        ids = _demo(url)
        # Ten minutes of staleness allowed: only LISTEN/NOTIFY can make the decisions fresh in seconds.
        with serve_write_process(url, {"ROLEGATE_MAX_STALENESS_MS": "600000"}) as server:
            assert _check_bob(server, ids)["allowed"] is True
            r = _set_bob(server, ids, "disable")
            assert r.status == 200, r.data
            revision = json.loads(r.data)["revision"]
            deadline = time.monotonic() + 10
            while (answer := _check_bob(server, ids))["allowed"]:
                assert time.monotonic() < deadline, f"still allowed at revision {answer['revision']} (write: {revision})"
                time.sleep(0.05)
            assert answer["revision"] >= revision


def test_workers_and_a_write_process_together(tmp_path: Path) -> None:
    """`--workers 2 --write-process`: two deciding workers under uvicorn's supervisor,
    one write process beside them, every change made there whichever worker took it."""
    url = f"sqlite:///{tmp_path / 'both.db'}"
    ids = _demo(url)
    def workers(s: Started) -> set[int]:
        return {pid for pid in _children(s.proc.pid) if "multiprocessing.spawn" in _cmdline(pid)}

    with started_serve(url, ["--workers", "2", "--write-process"], ready=lambda s: len(workers(s)) == 2) as started:
        server = Server(started)
        writer = server.write_process()
        assert writer is not None
        assert writer not in workers(started)
        for state in ("disable", "enable", "disable"):
            r = _set_bob(server, ids, state)
            assert r.status == 200, r.data
        revision = json.loads(r.data)["revision"]
        assert _check_bob(server, ids, min_revision=revision)["allowed"] is False
    assert "with 2 workers and a write process:" in started.output
    assert not Path(f"/proc/{writer}").exists() or "rolegate.cli.write_process" not in _cmdline(writer)
