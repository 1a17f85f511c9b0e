"""For the operator's machines: `/metrics` (Prometheus), `/healthz` (the process
answers) and `/readyz` (the database is reachable and migrated). No API key: a
scraper and a load balancer's probe hold none.

`/metrics` names no tenant (its labels are route templates and small fixed words,
see `rolegate.metrics`) but tells traffic and error rates; expose it to the
monitoring network only, or set `ROLEGATE_METRICS_TOKEN` and give Prometheus the
token (`authorization: {credentials: ...}` in its scrape job). Beside the counters,
each scrape reads the outbox and webhook backlogs from the database (whichever
process answers: the numbers are the database's, not a process's).

`/readyz` asks the database through the process's own pool: 503 `store_unavailable`
(with Retry-After) when it cannot be reached, 503 `not_ready` when it is not at this
version's migration head (`rolegate db upgrade`), else 200. `/healthz` does no I/O:
it fails only when the process cannot answer at all, so a load balancer takes a
process out on `/readyz` and restarts it on `/healthz`.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from rolegate.api.problems import ApiError, ApiProblem, problem_response, rolegate_problem
from rolegate.bootstrap import Rolegate
from rolegate.domain.errors import StoreUnavailableError
from rolegate.metrics import CONTENT_TYPE, exposition
from rolegate.services.operations import database_status, outbox_backlog, webhook_backlog

__all__ = ["DatabaseCollector", "router"]

router = APIRouter(tags=["operations"])

_NOT_READY_RETRY = "10"


class DatabaseCollector(Collector):
    """What the database says when scraped: is it reachable, the outbox backlog and
    the webhook backlog."""

    def __init__(self, rolegate: Rolegate) -> None:
        self._rolegate = rolegate

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("rolegate_database_up", "1 when this scrape could read the database, else 0.")
        try:
            due = outbox_backlog(self._rolegate.reader())
            hooks = webhook_backlog(self._rolegate.reader())
        except StoreUnavailableError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "rolegate_outbox_backlog_messages",
            "Emails written to the outbox and not sent yet (webhooks: rolegate_webhook_backlog_events).",
            value=due.unsent,
        )
        yield GaugeMetricFamily(
            "rolegate_outbox_oldest_unsent_age_seconds",
            "Age of the oldest unsent email (0: none).",
            value=due.oldest_age,
        )
        yield GaugeMetricFamily(
            "rolegate_webhook_backlog_events",
            "Changes not yet delivered to the enabled webhook endpoints (each endpoint's events after its cursors, summed).",
            value=hooks.unsent,
        )
        yield GaugeMetricFamily(
            "rolegate_webhook_oldest_undelivered_age_seconds",
            "Age of the oldest change not yet delivered to an enabled webhook endpoint (0: none).",
            value=hooks.oldest_age,
        )


def _require_token(request: Request, token: str) -> None:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise ApiError(
            ApiProblem.UNAUTHENTICATED,
            401,
            "/metrics needs the metrics token: Authorization: Bearer <ROLEGATE_METRICS_TOKEN>.",
            headers={"WWW-Authenticate": "Bearer"},
        )


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    rolegate: Rolegate = request.app.state.rolegate
    token = rolegate.settings.metrics_token
    if token is not None:
        _require_token(request, token)
    return Response(exposition([DatabaseCollector(rolegate)]), media_type=CONTENT_TYPE)


@router.get("/healthz", summary="Is the process up? (no I/O)")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="May this process take traffic? (database reachable, migrations current)")
def readyz(request: Request) -> Response:
    rolegate: Rolegate = request.app.state.rolegate
    try:
        status = database_status(rolegate.engine)
    except StoreUnavailableError as error:
        return rolegate_problem(error)
    if not status.is_current:
        where = (
            "has no Rolegate tables"
            if status.current is None
            else f"is at migration {status.current}, this version needs {status.head}"
        )
        detail = f"The database {where}. Run `rolegate db upgrade` with this version."
        return problem_response(ApiProblem.NOT_READY.value, 503, detail, headers={"Retry-After": _NOT_READY_RETRY})
    return JSONResponse({"status": "ready", "migration": status.current})
