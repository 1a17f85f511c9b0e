"""`rolegate serve` as an operator runs it: JSON log lines with request ids, a
`/metrics` that `promtool check metrics` accepts, and a real Prometheus server
(Debian's `prometheus` package) scraping it.

Prometheus is never started as a service: each test runs its own server on a free
loopback port with its own configuration and storage in a temporary directory, and
stops it (by its pid). Without promtool/prometheus these tests skip, saying how to
get them; under CI (CI=true) they fail instead, so a missing install step shows.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from rolegate.cli.main import app
from tests.cli.test_serve import _free_port, _wait_for

runner = CliRunner()


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is not None:
        return path
    message = f"{tool} is not installed: apt-get install -y prometheus (or `make test` as root, which installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Served:
    port: int
    proc: subprocess.Popen[str]
    url: str

    def get(self, path: str, **kw: object) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.port}{path}", timeout=10, **kw)  # type: ignore[arg-type]


def _serve(tmp_path: Path, *extra: str) -> Iterator[Served]:
    url = f"sqlite:///{tmp_path / 'ops.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--url", url]).exit_code == 0
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "ROLEGATE_", "PROMETHEUS_"))}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from rolegate.cli.main import main; main()", "serve", "--url", url, "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    served = Served(port, proc, url)
    try:
        _wait_for(port, proc)
        yield served
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.communicate(timeout=20)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    yield from _serve(tmp_path)


def test_json_logs_carry_the_request_id(tmp_path: Path) -> None:
    lines: list[str] = []
    for s in _serve(tmp_path, "--access-log"):  # json is the default format
        r = s.get("/readyz", headers={"X-Request-Id": "probe-1"})
        assert (r.status_code, r.headers["X-Request-Id"]) == (200, "probe-1")
        made = s.get("/healthz").headers["X-Request-Id"]
        s.proc.terminate()
        out, _ = s.proc.communicate(timeout=20)
        lines = out.splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert records, lines
    access = [r for r in records if r["logger"] == "uvicorn.access"]
    assert {(r["request_id"], r["path"], r["status"]) for r in access} >= {("probe-1", "/readyz", 200), (made, "/healthz", 200)}
    assert all(r["method"] == "GET" for r in access)
    assert any(r["logger"] == "uvicorn.error" and "request_id" not in r for r in records)  # start-up lines: no request
    assert not any("Context impl" in r["message"] for r in records)  # Alembic's chatter on each probe stays out


def test_without_access_log_a_request_writes_no_line(tmp_path: Path) -> None:
    """The default (`--no-access-log`): uvicorn disables its access logger, and the
    app's own log set-up must not enable it again (it did, in every served app)."""
    for s in _serve(tmp_path):
        for _ in range(3):
            assert s.get("/healthz", headers={"X-Request-Id": "quiet-1"}).status_code == 200
        s.proc.terminate()
        out, _ = s.proc.communicate(timeout=20)
        records = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        assert any(r["logger"] == "uvicorn.error" for r in records), out  # the server did log (start-up lines)
        assert not [r for r in records if r["logger"] == "uvicorn.access"], out


def test_text_logs_on_request(tmp_path: Path) -> None:
    for s in _serve(tmp_path, "--access-log", "--log-format", "text"):
        s.get("/healthz", headers={"X-Request-Id": "t-9"})
        s.proc.terminate()
        out, _ = s.proc.communicate(timeout=20)
        assert "INFO uvicorn.access [t-9]" in out, out
        assert not any(line.startswith("{") for line in out.splitlines())


def test_promtool_accepts_the_exposition(served: Served, tmp_path: Path) -> None:
    promtool = _need("promtool")
    r = served.get("/metrics")
    assert r.status_code == 200
    done = subprocess.run([promtool, "check", "metrics"], input=r.text, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_prometheus_scrapes_rolegate(served: Served, tmp_path: Path) -> None:
    prometheus = _need("prometheus")
    served.get("/healthz")  # something to count
    port = _free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n"
        f"  - job_name: rolegate\n    static_configs:\n      - targets: ['127.0.0.1:{served.port}']\n"
    )
    proc = subprocess.Popen(
        [
            prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    api = f"http://127.0.0.1:{port}/api/v1/query"

    def query(expr: str) -> list[dict[str, object]]:
        try:
            body = httpx.get(api, params={"query": expr}, timeout=5).json()
        except (httpx.HTTPError, ValueError):
            return []
        result: list[dict[str, object]] = body.get("data", {}).get("result", [])
        return result

    try:
        deadline = time.monotonic() + 60
        up: list[dict[str, object]] = []
        healthz: list[dict[str, object]] = []
        while time.monotonic() < deadline and proc.poll() is None:
            up = query('up{job="rolegate"} == 1')
            healthz = query('rolegate_http_request_duration_seconds_count{job="rolegate",route="/healthz"}')
            if up and healthz:
                break
            time.sleep(0.5)
        assert proc.poll() is None, "prometheus exited"
        assert up, "Prometheus never saw rolegate up"
        assert healthz, "no rolegate metric in Prometheus"
        assert query('rolegate_database_up{job="rolegate"} == 1')
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]


def test_with_workers_metrics_are_summed_over_them(tmp_path: Path) -> None:
    """`serve --workers 2` gives its workers a metrics directory: whichever answers
    /metrics counts the requests both served; the directory goes with the run."""
    from tests.cli.test_serve_workers import _two_workers, serve_workers

    url = f"sqlite:///{tmp_path / 'workers.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--url", url]).exit_code == 0
    env = {k: "" for k in os.environ if k.startswith("PROMETHEUS_")}
    with serve_workers(url, env=env) as workers:
        a, b = _two_workers(workers)
        for worker in (a, a, b):
            assert workers.request(worker, "GET", "/healthz", headers={"X-Request-Id": f"w-{worker}"}).status == 200
        counts = []
        for worker in (a, b):  # either worker answers the scrape with the sum
            text = workers.request(worker, "GET", "/metrics").data.decode()
            samples = {
                (s.name, frozenset(s.labels.items())): s.value for f in text_string_to_metric_families(text) for s in f.samples
            }
            counts.append(samples[("rolegate_http_request_duration_seconds_count", frozenset({"route": "/healthz", "method": "GET", "status": "200"}.items()))])
        assert counts == [3, 3]
        workers.proc.terminate()
        out, _ = workers.proc.communicate(timeout=30)
    assert not list(Path(tempfile.gettempdir()).glob(f"rolegate-metrics-*/*{a}*"))  # the run's directory is gone
    assert "Traceback" not in out, out
