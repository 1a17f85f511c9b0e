"""`/metrics`: the Prometheus exposition parses, and each metric moves when what it
counts happens (asserted as deltas: the metrics are the process's, shared by every
test). Labels stay bounded: no workspace or member id ever appears in the exposition."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from anyio.from_thread import start_blocking_portal
from prometheus_client.parser import text_string_to_metric_families

from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.errors import StoreUnavailableError
from rolegate.domain.workspace import Actor
from rolegate.services.snapshots import SnapshotCache
from rolegate.services.webhooks import create_endpoint
from rolegate.store.availability import read_revision as read_revision_of
from tests.api.conftest import Api, Tenant, assert_problem, invite

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]

CHECK_ROUTE = "/v1/workspaces/{workspace_id}/check"


def scrape(api: Api) -> Samples:
    r = api.without_key().get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return parse(r.text)


def parse(text: str) -> Samples:
    return {(s.name, frozenset(s.labels.items())): s.value for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture
def rolegate(tmp_path: Path) -> Iterator[Rolegate]:
    """A staleness bound no test here outlives: on a loaded machine three checks can
    take longer than the default second, and a revalidation counts as a miss."""
    rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/t.db", listen=False, max_staleness_ms=600_000))
    rg.create_tables()
    yield rg
    rg.close()


def test_the_exposition_parses_and_holds_every_metric(api: Api) -> None:
    r = api.without_key().get("/metrics")
    names = {family.name for family in text_string_to_metric_families(r.text)}
    assert names >= {
        "rolegate_http_request_duration_seconds",
        "rolegate_decisions",
        "rolegate_stale_answers",
        "rolegate_snapshot_cache_lookups",
        "rolegate_snapshot_compile_seconds",
        "rolegate_snapshot_revalidations",
        "rolegate_snapshot_evictions",
        "rolegate_snapshots_cached",
        "rolegate_snapshots_unconfirmed",
        "rolegate_outbox_sent",
        "rolegate_outbox_send_failures",
        "rolegate_outbox_backlog_messages",
        "rolegate_outbox_oldest_unsent_age_seconds",
        "rolegate_db_pool_checked_out_connections",
        "rolegate_db_pool_max_connections",
        "rolegate_database_up",
        "rolegate_rate_limit_refusals",
        "rolegate_record_cache_lookups",
        "rolegate_record_cache_invalidations",
        "rolegate_records_cached",
        "rolegate_webhook_backlog_events",
        "rolegate_webhook_oldest_undelivered_age_seconds",
        "process_cpu_seconds",  # the default registry's process metrics come along
    }
    assert value(parse(r.text), "rolegate_database_up") == 1


def test_decisions_are_counted_by_route_and_result(natero: Tenant) -> None:
    csm = invite(natero, "csm@acme.test", "csm")
    natero.api.post(natero.url("/check"), json={"member": csm, "action": "accounts.view"})  # compile first
    before = scrape(natero.api)
    assert natero.api.post(natero.url("/check"), json={"member": csm, "action": "accounts.view"}).json()["allowed"] is True
    assert natero.api.post(natero.url("/check"), json={"member": csm, "action": "settings.create_workflows"}).json()["allowed"] is False
    checks = [{"member": csm, "action": "accounts.view"}] * 3 + [{"member": csm, "action": "settings.create_workflows"}] * 2
    assert natero.api.post(natero.url("/check/batch"), json={"checks": checks}).status_code == 200
    assert natero.api.post(natero.url("/lookup"), json={"member": csm, "action": "accounts.view", "object": "account"}).status_code == 200
    assert natero.api.post(natero.url("/lookup"), json={"member": natero.owner, "action": "accounts.view", "object": "account"}).status_code == 200
    page = [{"name": "A"}, {"name": "B"}]
    assert natero.api.post(natero.url("/fields/filter"), json={"member": csm, "object": "account", "records": page}).status_code == 200
    after = scrape(natero.api)
    assert delta(before, after, "rolegate_decisions_total", route="check", result="allowed") == 1
    assert delta(before, after, "rolegate_decisions_total", route="check", result="denied") == 1
    assert delta(before, after, "rolegate_decisions_total", route="check_batch", result="allowed") == 3
    assert delta(before, after, "rolegate_decisions_total", route="check_batch", result="denied") == 2
    assert delta(before, after, "rolegate_decisions_total", route="lookup", result="filtered") == 1  # a CSM: their accounts (N11)
    assert delta(before, after, "rolegate_decisions_total", route="lookup", result="all") == 1  # the administrator
    assert delta(before, after, "rolegate_decisions_total", route="fields_filter", result="filtered") == 2
    # Latency by route template and status: two checks answered 200.
    assert delta(before, after, "rolegate_http_request_duration_seconds_count", route=CHECK_ROUTE, method="POST", status="200") == 2
    assert delta(before, after, "rolegate_http_request_duration_seconds_bucket", route=CHECK_ROUTE, method="POST", status="200", le="+Inf") == 2


def test_a_failed_batch_counts_no_decision(natero: Tenant) -> None:
    before = scrape(natero.api)
    checks = [{"member": natero.owner, "action": "accounts.view"}, {"member": natero.owner, "action": "accounts.veiw"}]
    assert_problem(natero.api.post(natero.url("/check/batch"), json={"checks": checks}), 422, "unknown_action")
    after = scrape(natero.api)
    assert delta(before, after, "rolegate_decisions_total", route="check_batch", result="allowed") == 0
    assert delta(before, after, "rolegate_http_request_duration_seconds_count", route=CHECK_ROUTE + "/batch", method="POST", status="422") == 1


def test_compiles_hits_and_misses_move(natero: Tenant) -> None:
    before = scrape(natero.api)
    invite(natero, "csm@acme.test", "csm")  # a write: the next decision compiles a new snapshot
    body = {"member": natero.owner, "action": "accounts.view"}
    natero.api.post(natero.url("/check"), json=body)
    middle = scrape(natero.api)
    assert delta(before, middle, "rolegate_snapshot_compile_seconds_count") >= 1
    assert delta(before, middle, "rolegate_snapshot_cache_lookups_total", result="miss") >= 1
    for _ in range(3):
        natero.api.post(natero.url("/check"), json=body)
    after = scrape(natero.api)
    assert delta(middle, after, "rolegate_snapshot_compile_seconds_count") == 0
    assert delta(middle, after, "rolegate_snapshot_cache_lookups_total", result="hit") == 3
    assert value(after, "rolegate_snapshots_cached") >= 1


def test_rate_limit_refusals_are_counted(natero: Tenant) -> None:
    keyless = natero.api.without_key().without_actor()
    before = scrape(natero.api)
    for _ in range(3):
        assert keyless.post("/v1/password-resets", json={"email": "someone@acme.test"}).status_code == 202
    assert_problem(keyless.post("/v1/password-resets", json={"email": "someone@acme.test"}), 429, "rate_limited")
    after = scrape(natero.api)
    assert delta(before, after, "rolegate_rate_limit_refusals_total", kind="password_reset") == 1


def test_the_outbox_backlog_is_read_from_the_database(natero: Tenant) -> None:
    before = scrape(natero.api)
    invite(natero, "new@acme.test", "csm", activate=False)  # an invitation email, queued (no SMTP here)
    after = scrape(natero.api)
    assert delta(before, after, "rolegate_outbox_backlog_messages") == 1
    assert value(after, "rolegate_outbox_oldest_unsent_age_seconds") >= 0


def test_the_webhook_backlog_is_read_from_the_database(natero: Tenant, rolegate: Rolegate, org: str) -> None:
    """No sender runs here (`Settings()`: webhooks off): each change waits for the endpoint."""
    create_endpoint(rolegate.uow(), actor=Actor.system("test"), organization_id=org, url="https://hooks.example.com/rolegate")
    before = scrape(natero.api)
    assert natero.api.put(natero.url("/records/account/acme"), json={}).status_code == 200
    assert natero.api.put(natero.url("/records/account/acme"), json={"assignee": natero.owner}).status_code == 200
    after = scrape(natero.api)
    assert delta(before, after, "rolegate_webhook_backlog_events") == 2
    assert value(after, "rolegate_webhook_oldest_undelivered_age_seconds") >= 0


def test_record_checks_count_cache_hits_and_misses(natero: Tenant) -> None:
    csm = invite(natero, "csm@acme.test", "csm")  # scope: assigned accounts, so the record is read
    assert natero.api.put(natero.url("/records/account/mine"), json={"assignee": csm}).status_code == 200
    check = {"member": csm, "action": "accounts.view", "record": {"type": "account", "id": "mine"}}
    before = scrape(natero.api)
    for _ in range(3):
        assert natero.api.post(natero.url("/check"), json=check).json()["allowed"] is True
    after = scrape(natero.api)
    assert delta(before, after, "rolegate_record_cache_lookups_total", result="miss") == 1
    assert delta(before, after, "rolegate_record_cache_lookups_total", result="hit") >= 2
    assert delta(before, after, "rolegate_records_cached") == 1


def test_pool_use_follows_checkouts(api: Api, rolegate: Rolegate) -> None:
    before = scrape(api)
    with rolegate.engine.connect():
        during = scrape(api)
    after = scrape(api)
    assert delta(before, during, "rolegate_db_pool_checked_out_connections") == 1
    assert delta(before, after, "rolegate_db_pool_checked_out_connections") == 0
    assert value(after, "rolegate_db_pool_max_connections") >= 15  # SQLAlchemy's default pool: 5 + 10 overflow


def test_labels_are_route_templates_never_ids(natero: Tenant) -> None:
    natero.api.post(natero.url("/check"), json={"member": natero.owner, "action": "accounts.view"})
    natero.api.get(f"/no/such/{natero.id}")
    text = natero.api.without_key().get("/metrics").text
    assert natero.id not in text
    assert natero.owner not in text
    samples = parse(text)
    assert value(samples, "rolegate_http_request_duration_seconds_count", route="unmatched", method="GET", status="404") >= 1
    natero.api.request("BREW", natero.url("/check"))
    assert value(scrape(natero.api), "rolegate_http_request_duration_seconds_count", route=CHECK_ROUTE, method="other", status="405") >= 1


def test_revalidations_and_unconfirmed_snapshots_during_an_outage(natero: Tenant, rolegate: Rolegate) -> None:
    now = [0.0]
    down = [False]

    def read_revision(workspace_id: str) -> int | None:
        if down[0]:
            raise StoreUnavailableError("OperationalError")
        return read_revision_of(rolegate.engine, workspace_id)

    cache = SnapshotCache(rolegate.engine, max_staleness=1.0, clock=lambda: now[0], read_revision=read_revision)
    before = scrape(natero.api)
    cache.get(natero.id)
    now[0] = 2.0
    cache.get(natero.id)  # past the bound: the revision is read, still current
    down[0] = True
    now[0] = 4.0
    cache.get(natero.id)  # past the bound, the database is gone: decides unconfirmed
    during = scrape(natero.api)
    down[0] = False
    now[0] = 6.0
    cache.get(natero.id)
    after = scrape(natero.api)
    cache.clear()
    assert delta(before, during, "rolegate_snapshot_revalidations_total", result="current") == 1
    assert delta(before, during, "rolegate_snapshot_revalidations_total", result="unreachable") == 1
    assert delta(before, during, "rolegate_snapshots_unconfirmed") == 1
    assert delta(before, after, "rolegate_snapshots_unconfirmed") == 0


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[Api]:
    rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/t.db", listen=False, metrics_token="s3cret-token"))
    rg.create_tables()
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(rg)), base_url="http://rolegate.test")
        try:
            yield Api(portal, client)
        finally:
            portal.call(client.aclose)
            rg.close()


def test_a_metrics_token_guards_the_exposition(guarded: Api) -> None:
    r = guarded.get("/metrics")
    assert_problem(r, 401, "unauthenticated")
    assert r.headers["WWW-Authenticate"] == "Bearer"
    assert guarded.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    r = guarded.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    assert r.status_code == 200
    assert "rolegate_decisions" in r.text
    assert guarded.get("/healthz").status_code == 200  # the probes stay open


_WORKER = """
import os, sys
from rolegate.metrics import DB_POOL_CHECKED_OUT, DECISIONS
DECISIONS.labels("check", "allowed").inc(int(sys.argv[1]))
DB_POOL_CHECKED_OUT.inc(2)
print(os.getpid())
"""

_SCRAPER = """
import sys
from rolegate.metrics import exposition, worker_exited
for pid in sys.argv[1:]:
    worker_exited(int(pid))
sys.stdout.write(exposition().decode())
"""


def test_multiprocess_mode_sums_every_worker(tmp_path: Path) -> None:
    """With PROMETHEUS_MULTIPROC_DIR, whichever process answers /metrics reports the
    sum over every worker (here: two workers that exited, then a scraper)."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}

    def run(code: str, *args: str) -> str:
        return subprocess.run([sys.executable, "-c", code, *args], env=env, check=True, timeout=60, capture_output=True, text=True).stdout

    first, _second = (run(_WORKER, n).strip() for n in ("3", "4"))
    samples = parse(run(_SCRAPER))
    assert value(samples, "rolegate_decisions_total", route="check", result="allowed") == 7
    assert value(samples, "rolegate_db_pool_checked_out_connections") == 4  # livesum, over the processes not marked dead
    samples = parse(run(_SCRAPER, first))  # the first worker exited: its gauges leave the sum, its counts stay
    assert value(samples, "rolegate_db_pool_checked_out_connections") == 2
    assert value(samples, "rolegate_decisions_total", route="check", result="allowed") == 7
