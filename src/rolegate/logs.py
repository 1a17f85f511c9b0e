"""Logs: the standard library's `logging`, one line per record, as JSON or text, each
carrying the id of the request it was written for.

The request id lives in a context variable (`REQUEST_ID`) that the HTTP layer sets
when a request arrives (`api.observe.Observe`: the caller's `X-Request-Id`, or a new
one); every log line written while that request runs, in any layer, in the event
loop or in a worker thread it started (Starlette copies the context into them),
carries it. Outside a request there is none and the field is left out.

`configure_logging("json")` is what `rolegate serve` does by default: one JSON object
per line on stderr with `time`, `level`, `logger`, `message`, `request_id` (in a
request), `trace_id`/`span_id` (when tracing is on), `exc_info` (a traceback, as one
string) and, for uvicorn's access log, `client`, `method`, `path` and `status`.
Standard library only, so every layer may use it.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Final, Literal, TextIO

__all__ = [
    "LOG_FORMATS",
    "REQUEST_ID",
    "JsonFormatter",
    "LogFormat",
    "TextFormatter",
    "configure_logging",
    "set_trace_ids",
]

LogFormat = Literal["json", "text"]
LOG_FORMATS: Final = ("json", "text")

REQUEST_ID: ContextVar[str | None] = ContextVar("rolegate_request_id", default=None)
"""The id of the request being served (None outside a request)."""

_trace_ids: Callable[[], tuple[str, str] | None] | None = None


def set_trace_ids(reader: Callable[[], tuple[str, str] | None] | None) -> None:
    """Tracing (when on) tells the formatters how to read the current trace and span
    ids; without it, log lines carry none and OpenTelemetry is never imported here."""
    global _trace_ids
    _trace_ids = reader


_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            out["request_id"] = request_id
        if _trace_ids is not None:
            ids = _trace_ids()
            if ids is not None:
                out["trace_id"], out["span_id"] = ids
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == len(_ACCESS_FIELDS):
            out.update(zip(_ACCESS_FIELDS, record.args, strict=True))  # uvicorn's access line, as fields too
        if record.exc_info:
            out["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exc_info"] = record.exc_text
        if record.stack_info:
            out["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(out, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`time level logger [request id] message` for people reading a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(request)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        request_id = REQUEST_ID.get()
        record.request = f" [{request_id}]" if request_id is not None else ""
        return super().format(record)


class _RolegateHandler(logging.StreamHandler):  # type: ignore[type-arg]  # the stream's type is not needed here
    """The handler `configure_logging` installs (and replaces when called again)."""


def configure_logging(
    log_format: LogFormat = "json", *, level: int | str = logging.INFO, stream: TextIO | None = None, access_log: bool = True
) -> logging.Handler:
    """Send every logger's records (Rolegate's, uvicorn's, the libraries') to one
    handler on `stream` (stderr) in `log_format`; returns the handler (remove it from
    the root logger to undo). Calling it again replaces the handler it installed
    before (no doubled lines) and leaves others' handlers alone. `access_log`: whether
    uvicorn's line per request reaches it (off, uvicorn does not even build the line)."""
    handler = _RolegateHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _RolegateHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic says which dialect it uses each time it reads the version table: at start
    # and on every /readyz probe. Noise in a server's log; its warnings still show.
    logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)
    # httpx says each request it sends: every change a deciding process forwards to the
    # write process (`api.write_process`), and every webhook delivery, which keeps its
    # own record. Its warnings still show.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        # uvicorn's own configuration (not used: serve passes log_config=None) would
        # give these loggers handlers of their own; here they reach the root's.
        logger = logging.getLogger(name)
        logger.handlers.clear()
        # uvicorn writes the access line only when its logger has a handler to reach:
        # without one it builds no record at all.
        logger.propagate = access_log or name != "uvicorn.access"
    return handler
