"""OpenTelemetry traces: the maintained instrumentations of FastAPI (a span per request)
and SQLAlchemy (a span per statement), exported where the standard OTEL_* variables
say (`config.traces_exporters`).

Off unless those variables turn it on: then, and only then, `bootstrap` calls
`start_tracing` and the SDK, the instrumentations and the exporters are imported. Its packages are the `otel` extra
(`pip install 'rolegate[otel]'`); asking for traces without them is an error that
says so, never a silent no-op.

Each `Rolegate` owns its `TracerProvider` and hands it to its instrumentations, rather
than installing a global one (which a process may set only once): two apps in one
process (the tests) each export their own spans. Resource attributes come from
`OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES`; `service.name` defaults to
`rolegate`. Exporters read their own variables (endpoint, headers, timeout).
Probes and scrapes (`/metrics`, `/healthz`, `/readyz`) are not traced: they would be
most of the spans and tell nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Any

from rolegate.domain.errors import RolegateError
from rolegate.logs import set_trace_ids

__all__ = ["UNTRACED_URLS", "Tracing", "start_tracing"]

UNTRACED_URLS = "/metrics$,/healthz$,/readyz$"
"""Regular expressions (comma-separated, as the FastAPI instrumentation takes them)."""

_MISSING_FIX = "Install the tracing packages: pip install 'rolegate[otel]' (or unset the OTEL_* variables to run without traces)."


class Tracing:
    """A tracer provider and what it instruments; `shutdown` flushes the spans left."""

    def __init__(self, provider: Any) -> None:
        self.provider = provider
        self._engine_instrumented = False

    def instrument_app(self, app: Any) -> None:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(app, tracer_provider=self.provider, excluded_urls=UNTRACED_URLS)

    def instrument_engines(self, engines: Sequence[Any]) -> None:
        """The primary's engine and, when there is one, the read replica's (one call:
        the instrumentor is one per process)."""
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        # skip_dep_check: the instrumentation declares SQLAlchemy < 2.1 but works on the
        # 2.1 we run (tests/api/test_tracing.py proves the statement spans).
        SQLAlchemyInstrumentor().instrument(engines=list(engines), tracer_provider=self.provider, skip_dep_check=True)
        self._engine_instrumented = True

    def shutdown(self) -> None:
        if self._engine_instrumented:
            from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

            # The instrumentor is one per process: release it, so the next Rolegate of
            # this process (tests) can instrument its own engine.
            SQLAlchemyInstrumentor().uninstrument()
            self._engine_instrumented = False
        self.provider.shutdown()


def start_tracing(exporters: Sequence[str | Any]) -> Tracing:
    """A tracer provider exporting to `exporters`: entry point names of the group
    `opentelemetry_traces_exporter` (`otlp_proto_http`, `otlp_proto_grpc`, `console`,
    or any installed), or SpanExporter objects (tests pass an in-memory one)."""
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import SERVICE_NAME, Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError as exc:
        raise RolegateError(f"OpenTelemetry tracing is asked for (OTEL_* variables) but not installed ({exc.name})", fix=_MISSING_FIX) from exc
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: "rolegate"}))
    provider = TracerProvider(resource=resource)
    for exporter in exporters:
        if isinstance(exporter, str):
            provider.add_span_processor(BatchSpanProcessor(_load_exporter(exporter)))
        else:
            provider.add_span_processor(SimpleSpanProcessor(exporter))  # given objects: each span at its end (tests read them at once)

    def current_ids() -> tuple[str, str] | None:
        context = trace.get_current_span().get_span_context()
        if not context.is_valid:
            return None
        return format(context.trace_id, "032x"), format(context.span_id, "016x")

    set_trace_ids(current_ids)
    return Tracing(provider)


def _load_exporter(name: str) -> Any:
    found = entry_points(group="opentelemetry_traces_exporter", name=name)
    if not found:
        raise RolegateError(
            f"no OpenTelemetry span exporter named {name!r} is installed",
            fix="Set OTEL_TRACES_EXPORTER to otlp, console or none (otlp comes with pip install 'rolegate[otel]').",
        )
    return next(iter(found)).load()()
