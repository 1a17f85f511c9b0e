"""Delivering webhooks: each committed change of a workspace (its audit events) to each
enabled endpoint of its organization, at least once, in `seq` (revision) order.

The audit log is the outbox: a change and its event commit together, and delivery
reads the events after a cursor kept per endpoint and workspace (`webhook_cursors`).
A sender claims a cursor (several processes may deliver; a claim expires), POSTs the
events after it one at a time, and moves it past each one the receiver answers 2xx
(or that the endpoint's event types do not select). A failure (an error, a timeout,
anything but 2xx, a redirect: never followed) holds that cursor for a backoff
(`retry_delay`: doubling from `retry_base` up to `retry_max`, with jitter, so the
senders of many workspaces do not knock together); the events behind it wait, so
order is kept. An endpoint failing without a success for `disable_after` is disabled
and the organization's site administrators are emailed (through the mail outbox);
enabling it again resumes every cursor where it stopped. The disabling is a
`webhook.update` audit event by `platform:webhooks` in every workspace of the
organization, in the transaction that disables it (which then locks those workspaces
first, before any webhook row: `services.webhooks` does the same, so neither waits
for the other crosswise).

`WebhookSender.deliver_due` is one pass (`rolegate webhooks deliver`);
`WebhookWorker` runs passes in a thread, woken by every commit this process makes or
hears of (the snapshot cache's revision notices, LISTEN/NOTIFY on PostgreSQL) and
every `poll` seconds for retries.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

import httpx

from rolegate.domain.workspace import Actor, AuditEvent
from rolegate.services.context import audit_organization, lock_organization, new_id
from rolegate.services.outbox import queue_email
from rolegate.services.webhooks import (
    TARGET_TYPE,
    change_payload,
    endpoint_json,
    matches,
    message_id,
    refuse_private_address,
    sign,
)
from rolegate.store.repositories import utcnow
from rolegate.store.repositories_webhooks import CursorRow, DeliveryRow, EndpointRow
from rolegate.store.uow import UnitOfWork

__all__ = [
    "DeliveryPolicy",
    "HttpTransport",
    "Transport",
    "WebhookSender",
    "PassResult",
    "WebhookWorker",
    "deliver_until_idle",
    "retry_delay",
]

log = logging.getLogger("rolegate.webhooks")

USER_AGENT = "Rolegate-Webhooks/1"
SENDER = Actor.system("webhooks")
"""Who disables a failing endpoint, in its audit events: `platform:webhooks`."""


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    allow_private: bool = False
    """Private addresses allowed (ROLEGATE_WEBHOOKS_ALLOW_PRIVATE): loopback tests."""
    disable_after: timedelta = timedelta(days=3)
    retry_base: timedelta = timedelta(seconds=5)
    retry_max: timedelta = timedelta(minutes=30)
    timeout: float = 10.0
    """Seconds for the whole attempt (connect 5 s at most)."""
    batch: int = 100
    """Events read per cursor per pass."""
    claim_for: timedelta = timedelta(minutes=5)
    concurrency: int = 4
    """Cursors delivered at once (each cursor's events stay in order)."""
    public_url: str = "http://127.0.0.1:8000"


def retry_delay(attempts: int, policy: DeliveryPolicy, rng: random.Random) -> timedelta:
    """After the n-th failed attempt in a row: base * 2^(n-1), capped, then between half
    and all of it (jitter)."""
    base = policy.retry_base.total_seconds() * (2 ** min(max(attempts - 1, 0), 30))
    capped = min(base, policy.retry_max.total_seconds())
    return timedelta(seconds=capped * (0.5 + rng.random() / 2))


class Transport(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """The response's status; raises on a network error or a timeout."""
        ...

    def close(self) -> None: ...


class HttpTransport:
    """httpx, one connection pool for every endpoint (keep-alive between deliveries),
    no redirects, no proxy from the environment, a bounded time per attempt; a host
    is resolved and checked public first unless private addresses are allowed.

    The check and the connection resolve the name separately, so a name that changes
    its address in between (DNS rebinding) is not caught; an operator who needs that
    closed sends deliveries through an egress proxy that refuses private ranges."""

    def __init__(self, *, timeout: float = 10.0, allow_private: bool = False) -> None:
        self.allow_private = allow_private
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            follow_redirects=False,
            trust_env=False,
            headers={"user-agent": USER_AGENT},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        )

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        if not self.allow_private:
            refuse_private_address(url)
        response = self._client.post(url, content=body, headers=headers)
        return response.status_code

    def close(self) -> None:
        self._client.close()


@dataclass
class PassResult:
    delivered: int = 0
    failed: int = 0
    more: bool = False
    """A cursor still had events after its batch: run another pass at once."""
    idle: bool = False
    """No endpoint is enabled: a commit has no one to be delivered to."""


@dataclass
class _Work:
    endpoint: EndpointRow
    workspace_id: str
    has_cursor: bool
    result: PassResult = field(default_factory=PassResult)


class WebhookSender:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        reader: Callable[[], UnitOfWork],
        transport: Transport,
        *,
        policy: DeliveryPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
        wall_clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        """`clock` schedules (retries, the failure window; tests move it); `wall_clock`
        stamps `webhook-timestamp`, which receivers compare with their own clock."""
        self._uow = uow
        self._reader = reader
        self.transport = transport
        self.policy = policy or DeliveryPolicy()
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> WebhookSender:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def deliver_due(self) -> PassResult:
        """Deliver what is due now on every cursor; the totals of the pass."""
        work = self._plan(self._clock())
        if work is None:
            return PassResult(idle=True)
        total = PassResult()
        if not work:
            return total
        if len(work) == 1 or self.policy.concurrency <= 1:
            for item in work:
                self._deliver(item)
        else:
            with ThreadPoolExecutor(max_workers=min(self.policy.concurrency, len(work)), thread_name_prefix="rolegate-webhook") as pool:
                list(pool.map(self._deliver, work))
        for item in work:
            total.delivered += item.result.delivered
            total.failed += item.result.failed
            total.more = total.more or item.result.more
        return total

    def _plan(self, now: datetime) -> list[_Work] | None:
        """The cursors with events after them, not waiting for a retry nor held by
        another sender (a few indexed reads, whatever the number of events); None when
        no endpoint is enabled."""
        with self._reader() as uow:
            endpoints = uow.webhooks.enabled_endpoints()
            if not endpoints:
                return None
            workspaces = uow.webhooks.workspaces_of(e.organization_id for e in endpoints)
            cursors = uow.webhooks.cursors([e.id for e in endpoints])
            last = uow.webhooks.last_seqs(sorted({w for ws in workspaces.values() for w in ws}))
        work: list[_Work] = []
        for endpoint in endpoints:
            for workspace_id in workspaces.get(endpoint.organization_id, []):
                newest = last.get(workspace_id, 0)
                cursor = cursors.get((workspace_id, endpoint.id))
                if cursor is None:
                    if newest > 0:  # a workspace made after the endpoint: from its first change
                        work.append(_Work(endpoint, workspace_id, has_cursor=False))
                    continue
                if cursor.last_seq >= newest:
                    continue
                if cursor.next_attempt_at is not None and cursor.next_attempt_at > now:
                    continue
                if cursor.claimed_until is not None and cursor.claimed_until >= now:
                    continue
                work.append(_Work(endpoint, workspace_id, has_cursor=True))
        return work

    def _claim(self, item: _Work, now: datetime) -> CursorRow | None:
        with self._uow() as uow:
            if not item.has_cursor and uow.webhooks.cursor(item.workspace_id, item.endpoint.id) is None:
                uow.webhooks.add_cursor(item.workspace_id, item.endpoint.id, 0, now)
            claimed = uow.webhooks.claim(item.workspace_id, item.endpoint.id, now, now + self.policy.claim_for)
            uow.commit()
        return claimed

    def _deliver(self, item: _Work) -> None:
        try:
            self._deliver_cursor(item)
        except Exception:  # the database may be briefly unavailable: the claim expires, a later pass resumes
            log.exception("delivering webhooks of workspace %s to endpoint %s failed", item.workspace_id, item.endpoint.id)

    def _deliver_cursor(self, item: _Work) -> None:
        endpoint, workspace_id = item.endpoint, item.workspace_id
        cursor = self._claim(item, self._clock())
        if cursor is None:
            return
        try:
            with self._reader() as uow:
                events = uow.audit.all(workspace_id, after_seq=cursor.last_seq, limit=self.policy.batch)
            if events and events[0].seq > cursor.last_seq + 1 and cursor.last_seq > 0:
                # seq has no holes: these changes were pruned (audit retention) before this
                # endpoint got them. Said loudly; the `audit.prune` change that follows tells
                # the receiver too.
                log.warning(
                    "webhook endpoint %s missed changes %d-%d of workspace %s: pruned by the audit retention before delivery",
                    endpoint.id, cursor.last_seq + 1, events[0].seq - 1, workspace_id,
                )
            attempts = cursor.attempts
            skipped_to: int | None = None
            # Stop well inside the claim: past it another sender may take the cursor, and
            # two senders on one cursor would break the order (a slow receiver, 10 s each).
            stop_at = time.monotonic() + self.policy.claim_for.total_seconds() / 2
            for event in events:
                if time.monotonic() > stop_at:
                    item.result.more = True
                    break
                if not matches(endpoint.event_types, event.action):
                    skipped_to = event.seq
                    continue
                ok = self._send(endpoint, event, attempts + 1)
                if not ok:
                    item.result.failed += 1
                    return
                item.result.delivered += 1
                attempts = 0
                skipped_to = None
            if skipped_to is not None:
                with self._uow() as uow:
                    uow.webhooks.advance(workspace_id, endpoint.id, skipped_to, self._clock())
                    uow.commit()
            item.result.more = item.result.more or len(events) == self.policy.batch
        finally:
            with self._uow() as uow:
                uow.webhooks.release(workspace_id, endpoint.id)
                uow.commit()

    def _send(self, endpoint: EndpointRow, event: AuditEvent, attempt: int) -> bool:
        """One attempt; the outcome recorded and the cursor moved (or held) in one
        transaction. True when the receiver took it."""
        body = json.dumps(change_payload(event), separators=(",", ":"), sort_keys=True).encode()
        msg_id = message_id(event)
        stamp = self._wall_clock()
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(stamp.timestamp())),
            "webhook-signature": sign(endpoint, msg_id, stamp, body, now=self._clock()),
        }
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            status = self.transport.post(endpoint.url, body, headers)
            if not 200 <= status < 300:
                error = f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
        except Exception as exc:  # any network failure, timeout or refused address: retried later
            error = f"{exc.__class__.__name__}: {exc}"[:500]
        took = int((time.perf_counter() - started) * 1000)
        now = self._clock()
        row = DeliveryRow(
            event.workspace_id, new_id(), endpoint.id, msg_id, event.seq, event.revision, event.action, attempt,
            error is None, status, error, took, now,
        )
        with self._uow() as uow:
            disabling = self._lock_to_disable(uow, endpoint, now) if error is not None else None
            uow.webhooks.add_delivery(row)
            if error is None:
                uow.webhooks.advance(event.workspace_id, endpoint.id, event.seq, now)
                uow.webhooks.succeeded(endpoint.id)
            else:
                with self._rng_lock:
                    delay = retry_delay(attempt, self.policy, self._rng)
                uow.webhooks.hold(event.workspace_id, endpoint.id, attempts=attempt, retry_at=now + delay, error=error, at=now)
                since = uow.webhooks.failing(endpoint.id, now)
                # Not locked (the window closed after `_lock_to_disable` read it, a race):
                # the next failed attempt disables it.
                if now - since >= self.policy.disable_after and disabling is not None:
                    current, locked = disabling
                    self._disable(uow, current, since=since, error=error, now=now, locked=locked)
                log.warning("webhook %s to %s failed (attempt %d), retrying in %s: %s", msg_id, endpoint.url, attempt, delay, error)
            uow.commit()
        return error is None

    def _lock_to_disable(self, uow: UnitOfWork, endpoint: EndpointRow, now: datetime) -> tuple[EndpointRow, list[str]] | None:
        """When this failed attempt may disable the endpoint (enabled, failing since
        `disable_after` ago or longer; a first failure counts from now): the workspaces
        of its organization locked, for the audit events of the disabling, first, before
        any webhook row (a unit holding one may be waiting for a workspace), and the
        endpoint as it is once they are (whoever changes it locks them too)."""
        current = uow.webhooks.endpoint(endpoint.organization_id, endpoint.id)
        if current is None or not current.enabled or now - (current.failing_since or now) < self.policy.disable_after:
            return None
        locked = lock_organization(uow, endpoint.organization_id)
        current = uow.webhooks.endpoint(endpoint.organization_id, endpoint.id)
        return None if current is None else (current, locked)

    def _disable(self, uow: UnitOfWork, endpoint: EndpointRow, *, since: datetime, error: str, now: datetime, locked: list[str]) -> None:
        reason = f"failing since {since:%Y-%m-%d %H:%M} UTC: {error}"
        if not uow.webhooks.disable(endpoint.id, reason=reason, at=now):
            return
        log.warning("webhook endpoint %s (%s) disabled: %s", endpoint.id, endpoint.url, reason)
        before = endpoint_json(endpoint)
        after = endpoint_json(replace(endpoint, enabled=False))
        audit_organization(uow, endpoint.organization_id, SENDER, "webhook.update", TARGET_TYPE, endpoint.id, before, after, locked=locked)
        base = self.policy.public_url.rstrip("/")
        for _user_id, email, name in uow.sites.admin_list(endpoint.organization_id):
            queue_email(
                uow,
                kind="webhook_disabled",
                to=email,
                context={
                    "name": name,
                    "url": endpoint.url,
                    "description": endpoint.description,
                    "failing_since": f"{since:%Y-%m-%d %H:%M} UTC",
                    "last_error": error,
                    "api_path": f"/v1/organizations/{endpoint.organization_id}/webhooks/{endpoint.id}",
                    "page": f"{base}/workspaces",
                },
                now=now,
            )


class WebhookWorker:
    """A daemon thread running passes: at start (changes left by an earlier process),
    when woken (a commit), at once again while a pass leaves work, and every `poll`
    seconds (retries whose time came). Passes that find nothing to deliver start at
    least `coalesce` seconds apart: every commit wakes the worker, and under a write
    load each pass would otherwise read the endpoints again for the same events.
    While no endpoint is enabled, commits do not wake it (nothing to deliver): it
    looks again every `poll` seconds (an endpoint another process registered), or at
    once when this process registers or enables one (`endpoints_changed`)."""

    def __init__(self, sender: WebhookSender, *, poll: float = 1.0, coalesce: float = 0.05) -> None:
        self.sender = sender
        self.poll = poll
        self.coalesce = coalesce
        self._wake = threading.Event()
        self._forced = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="rolegate-webhooks", daemon=True)
        self._thread.start()

    def wake(self, *_: object) -> None:
        """Called with a commit's (workspace, revision); any call means "look now"."""
        self._wake.set()

    def endpoints_changed(self) -> None:
        """A pass at once, even while no endpoint was enabled at the last one."""
        self._forced.set()
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._forced.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
        self.sender.transport.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            self._forced.clear()
            started = time.monotonic()
            try:
                result = self.sender.deliver_due()
                if result.more or result.delivered:
                    continue  # more may be waiting, and a commit during the pass was cleared above
                if result.idle:
                    self._forced.wait(self.poll)
                    continue
            except Exception:  # the database may be briefly unavailable: log, keep the thread alive
                log.exception("the webhook sender failed; retrying in %s s", self.poll)
            self._wake.wait(self.poll)
            rest = self.coalesce - (time.monotonic() - started)
            if rest > 0:
                self._stop.wait(rest)  # the commits meanwhile are served by the next pass


def deliver_until_idle(sender: WebhookSender, *, max_passes: int = 1000) -> PassResult:
    """Passes until one leaves nothing due (a retry waiting for its time is not due):
    `rolegate webhooks deliver`, run from cron where no server runs the worker."""
    total = PassResult()
    for _ in range(max_passes):
        result = sender.deliver_due()
        total.delivered += result.delivered
        total.failed += result.failed
        if not (result.more or result.delivered):
            break
    return total
