"""OpenTelemetry: with an exporter, a request gives a server span and its SQL gives
statement spans in the same trace, and log lines carry the trace id; without the
OTEL_* variables nothing of OpenTelemetry is imported or instrumented."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings, traces_exporters
from rolegate.domain.errors import RolegateError
from rolegate.logs import JsonFormatter
from rolegate.tracing import start_tracing
from tests.api.conftest import Api


@pytest.fixture
def traced(tmp_path: Path) -> Iterator[tuple[Api, Rolegate, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/t.db", listen=False), span_exporters=[exporter])
    rg.create_tables()
    with start_blocking_portal() as portal:
        transport = httpx.ASGITransport(app=create_app(rg), raise_app_exceptions=False)  # a 500 is answered, as a server does
        client = httpx.AsyncClient(transport=transport, base_url="http://rolegate.test")
        try:
            yield Api(portal, client), rg, exporter
        finally:
            portal.call(client.aclose)
            rg.close()


def test_a_request_and_its_sql_are_spans_of_one_trace(traced: tuple[Api, Rolegate, InMemorySpanExporter]) -> None:
    api, _rg, exporter = traced
    exporter.clear()
    r = api.get("/v1/workspaces/nope/roles")  # no key: 401, after reading nothing
    assert r.status_code == 401
    r = api.get("/readyz")  # a probe: not traced
    exporter.clear()
    r = api.post("/v1/password-resets", json={"email": "someone@acme.test"})  # reads and writes the database
    assert r.status_code == 202
    spans = exporter.get_finished_spans()
    server = [s for s in spans if s.kind.name == "SERVER"]
    assert len(server) == 1
    assert server[0].attributes is not None
    assert server[0].attributes.get("http.route") == "/v1/password-resets"
    sql = [s for s in spans if s.attributes is not None and s.attributes.get("db.system") == "sqlite"]
    assert sql, [s.name for s in spans]
    assert {s.context.trace_id for s in sql} == {server[0].context.trace_id}
    assert any("INSERT" in str(s.attributes.get("db.statement", "")) for s in sql if s.attributes is not None)


def test_probes_are_not_traced(traced: tuple[Api, Rolegate, InMemorySpanExporter]) -> None:
    api, _rg, exporter = traced
    exporter.clear()
    # /readyz: 503 here, the test database has tables but no migration stamp; answered all the same.
    statuses = {path: api.get(path).status_code for path in ("/healthz", "/readyz", "/metrics")}
    assert statuses == {"/healthz": 200, "/readyz": 503, "/metrics": 200}
    assert [s for s in exporter.get_finished_spans() if s.kind.name == "SERVER"] == []


def test_log_lines_carry_the_trace_id(traced: tuple[Api, Rolegate, InMemorySpanExporter], monkeypatch: pytest.MonkeyPatch) -> None:
    api, rg, exporter = traced

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(rg, "uow", broken)  # the reset request fails unexpectedly: a 500, logged
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("rolegate.api")
    logger.addHandler(handler)
    try:
        exporter.clear()
        r = api.post("/v1/password-resets", json={"email": "someone@acme.test"}, headers={"X-Request-Id": "traced-1"})
    finally:
        logger.removeHandler(handler)
    assert r.status_code == 500
    line = json.loads(stream.getvalue().splitlines()[0])
    server = next(s for s in exporter.get_finished_spans() if s.kind.name == "SERVER")
    assert line["request_id"] == "traced-1"
    assert line["trace_id"] == format(server.context.trace_id, "032x")
    assert len(line["span_id"]) == 16


def test_without_otel_variables_nothing_is_imported_or_instrumented(tmp_path: Path) -> None:
    code = f"""
import os, sys
for name in [n for n in os.environ if n.startswith("OTEL_")]:
    del os.environ[name]
from rolegate.asgi import create_app
from rolegate.bootstrap import bootstrap
from rolegate.config import Settings
from rolegate.logs import JsonFormatter
import logging
rg = bootstrap(Settings.from_env(database_url="sqlite:///{tmp_path}/t.db", listen=False))
app = create_app(rg)
assert rg.tracing is None
assert not getattr(app, "_is_instrumented_by_opentelemetry", False)
assert "trace_id" not in JsonFormatter().format(logging.LogRecord("x", 20, "", 0, "m", None, None))
print(sorted(m for m in sys.modules if m.startswith(("opentelemetry.instrumentation", "opentelemetry.exporter"))))
from opentelemetry import trace
print(type(trace.get_tracer_provider()).__name__)
rg.close()
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    # Others import parts of OpenTelemetry on their own: FastAPI its API (its native
    # telemetry, idle without a configured provider), the redis client its SDK (its
    # observability module, when the SDK is installed). Ours, the instrumentations and
    # the exporters, are not imported, and no tracer provider is installed.
    assert out.split() == ["[]", "ProxyTracerProvider"]


def test_which_variables_turn_tracing_on() -> None:
    assert traces_exporters({}) == ()
    assert traces_exporters({"OTEL_SERVICE_NAME": "x"}) == ()
    assert traces_exporters({"OTEL_TRACES_EXPORTER": "console"}) == ("console",)
    assert traces_exporters({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}) == ()
    assert traces_exporters({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}) == ("otlp_proto_http",)
    assert traces_exporters({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}) == ("otlp_proto_grpc",)
    assert traces_exporters({"OTEL_TRACES_EXPORTER": "otlp,console"}) == ("otlp_proto_http", "console")
    assert traces_exporters({"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"}) == ()


def test_an_unknown_exporter_says_what_to_set() -> None:
    with pytest.raises(RolegateError) as caught:
        start_tracing(["carrier_pigeon"])
    assert "OTEL_TRACES_EXPORTER" in (caught.value.fix or "")


def test_console_exporter_from_the_environment(tmp_path: Path) -> None:
    """OTEL_TRACES_EXPORTER=console, as an operator sets it: spans printed at close."""
    code = f"""
import httpx, anyio
from rolegate.asgi import create_app
from rolegate.bootstrap import bootstrap
from rolegate.config import Settings
rg = bootstrap(Settings.from_env(database_url="sqlite:///{tmp_path}/t.db", listen=False))
rg.create_tables()
app = create_app(rg)
async def main():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.post("/v1/password-resets", json={{"email": "a@b.test"}})).status_code == 202
anyio.run(main)
rg.close()
"""
    env = {"PATH": "/usr/bin:/bin", "OTEL_TRACES_EXPORTER": "console", "OTEL_SERVICE_NAME": "rolegate-test"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True, env=env).stdout
    assert '"http.route": "/v1/password-resets"' in out
    assert '"db.system": "sqlite"' in out
    assert '"service.name": "rolegate-test"' in out
    json.dumps(out)  # printed, parsable text
