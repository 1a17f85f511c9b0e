"""Webhook delivery against real HTTP receivers on loopback: every committed change at
least once, in revision order per workspace, signed as the Standard Webhooks
specification says (verified with the `standardwebhooks` package, as a receiver
would), retried with backoff, an endpoint failing for the window disabled and its
organization's site administrators emailed (and audited), secrets rotated without a gap.
On SQLite and on PostgreSQL (the cursor and outbox logic is SQL)."""

from __future__ import annotations

import hashlib
import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.errors import InvalidInputError
from rolegate.domain.workspace import Actor
from rolegate.services import audit, sites, webhooks
from rolegate.services.audit_chains import verify_workspaces
from rolegate.services.operations import webhook_backlog
from rolegate.services.outbox import Backlog, operator_mails
from rolegate.services.webhook_delivery import (
    DeliveryPolicy,
    HttpTransport,
    PassResult,
    WebhookSender,
    WebhookWorker,
    deliver_until_idle,
    retry_delay,
)
from rolegate.services.workspaces import create_organization, create_workspace
from rolegate.store.repositories import utcnow
from rolegate.store.repositories_webhooks import DeliveryRow
from tests.webhooks_receiver import Received, Receiver, receiving

PLATFORM = Actor.system("test")


class Clock:
    """The sender's scheduling clock, moved by the test."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Site:
    rg: Rolegate
    org: str
    workspaces: list[str]
    owners: list[str]
    admin_email: str
    senders: list[WebhookSender]

    def change(self, index: int = 0, n: int = 1) -> None:
        """`n` committed changes in workspace `index` (the audit retention set, each time another)."""
        for _ in range(n):
            current = audit.get_retention(self.rg.reader(), actor=PLATFORM, workspace_id=self.workspaces[index]).days or 0
            audit.set_retention(self.rg.uow(), actor=Actor.member(self.owners[index]), workspace_id=self.workspaces[index], days=current + 1)

    def endpoint(self, url: str, **kw: Any) -> webhooks.CreatedEndpoint:
        return webhooks.create_endpoint(self.rg.uow(), actor=PLATFORM, organization_id=self.org, url=url, allow_private=True, **kw)

    def sender(self, clock: Clock, **policy: Any) -> WebhookSender:
        chosen = DeliveryPolicy(allow_private=True, retry_base=timedelta(seconds=5), retry_max=timedelta(minutes=5), **policy)
        sender = self.rg.webhook_sender(policy=chosen, clock=clock, rng=random.Random(7))
        self.senders.append(sender)
        return sender


def make_site(rg: Rolegate, workspaces: int = 1) -> Site:
    org = create_organization(rg.uow(), actor=PLATFORM, name="Hooks Inc")
    ids, owners = [], []
    for i in range(workspaces):
        made = create_workspace(
            rg.uow(), actor=PLATFORM, preset="natero", name=f"ws{i}", owner_email=f"owner{i}-{org[:8]}@hooks.test", organization_id=org
        )
        ids.append(made.workspace.id)
        owners.append(made.owner.member.id)
    admin = f"siteadmin-{org[:8]}@hooks.test"
    sites.add_site_administrator(rg.uow(), actor=PLATFORM, organization_id=org, email=admin, name="Sam")
    site = Site(rg, org, ids, owners, admin, [])
    _sites.append(site)
    return site


_sites: list[Site] = []


@pytest.fixture(autouse=True)
def _close_senders() -> Iterator[None]:
    yield
    while _sites:
        for sender in _sites.pop().senders:
            sender.transport.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def rolegate(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[Rolegate]:
    # PostgreSQL: a fresh database, as the sender reads every organization's endpoints.
    url = f"sqlite:///{tmp_path}/hooks.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    rg = bootstrap(Settings(database_url=url, listen=False))
    rg.create_tables()
    yield rg
    rg.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as r:
        yield r


def verified(secret: str, got: list[Received]) -> list[Any]:
    """Each delivery verified as a receiver does it; the payloads."""
    return [Webhook(secret).verify(g.body, g.headers) for g in got]


def test_each_change_is_delivered_signed_in_revision_order(rolegate: Rolegate, receiver: Receiver) -> None:
    site = make_site(rolegate)
    created = site.endpoint(receiver.url)
    assert created.secret.startswith("whsec_")
    site.change(n=3)
    result = site.sender(Clock()).deliver_due()
    assert result.delivered == 3
    payloads = verified(created.secret, receiver.received)
    revisions = [p["data"]["revision"] for p in payloads]
    assert revisions == sorted(revisions)
    assert len(set(revisions)) == 3
    first = payloads[0]
    assert first["type"] == "audit.retention"
    data = first["data"]
    assert data["workspace_id"] == site.workspaces[0]
    assert data["target"] == {"type": "workspace", "id": site.workspaces[0]}
    assert data["actor"] == f"member:{site.owners[0]}"
    assert set(data) == {"workspace_id", "revision", "seq", "id", "action", "target", "actor", "at"}
    # The body is the one mapping, change_payload, of the audit event.
    events = audit.list_events(rolegate.reader(), actor=PLATFORM, workspace_id=site.workspaces[0])
    last = next(e for e in events if e.action == "audit.retention")
    assert payloads[0] == webhooks.change_payload(last)
    assert receiver.received[0].headers["webhook-id"] == webhooks.message_id(last)
    # A tampered body fails verification (the test would pass a signature of anything otherwise).
    with pytest.raises(WebhookVerificationError):
        Webhook(created.secret).verify(receiver.received[0].body.replace(b"audit", b"audiT"), receiver.received[0].headers)
    assert site.sender(Clock()).deliver_due().delivered == 0  # delivered once: the cursor moved past them


def test_only_changes_after_registration_and_each_workspace_in_its_order(rolegate: Rolegate, receiver: Receiver) -> None:
    site = make_site(rolegate, workspaces=2)
    site.change(0)  # before the endpoint: not sent
    created = site.endpoint(receiver.url)
    for _ in range(3):
        site.change(0)
        site.change(1)
    # A workspace created after the endpoint gets its changes from its first one.
    later = create_workspace(rolegate.uow(), actor=PLATFORM, preset="natero", name="later", owner_email=f"l-{site.org[:8]}@hooks.test", organization_id=site.org)
    site.sender(Clock(), concurrency=3).deliver_due()
    payloads = verified(created.secret, receiver.received)
    by_ws: dict[str, list[int]] = {}
    for p in payloads:
        by_ws.setdefault(p["data"]["workspace_id"], []).append(p["data"]["seq"])
    assert len(by_ws[site.workspaces[0]]) == 3
    assert len(by_ws[site.workspaces[1]]) == 3
    for seqs in by_ws.values():
        assert seqs == sorted(seqs)
    assert by_ws[later.workspace.id][0] == 1
    assert next(p["type"] for p in payloads if p["data"]["workspace_id"] == later.workspace.id) == "workspace.create"


def test_event_types_select_what_is_sent(rolegate: Rolegate, receiver: Receiver) -> None:
    site = make_site(rolegate)
    created = site.endpoint(receiver.url, event_types=["site.*"])
    site.change(n=2)  # audit.retention: not selected
    sites.add_site_administrator(rolegate.uow(), actor=PLATFORM, organization_id=site.org, email=f"x-{site.org[:8]}@hooks.test")
    site.change()  # not selected either: passed over at the end of the batch
    site.sender(Clock()).deliver_due()
    assert [p["type"] for p in verified(created.secret, receiver.received)] == ["site.add_administrator"]
    assert webhooks.matches(["member.*"], "member.add")
    assert not webhooks.matches(["member.*"], "members.add")
    assert webhooks.matches([], "role.update")
    assert webhooks.matches(["role.update"], "role.update")
    assert not webhooks.matches(["role.update"], "role.create")
    # The filtered changes were passed over: nothing waits behind them.
    view = webhooks.get_endpoint(rolegate.reader(), actor=PLATFORM, organization_id=site.org, endpoint_id=created.view.endpoint.id)
    newest = audit.list_events(rolegate.reader(), actor=PLATFORM, workspace_id=site.workspaces[0])[-1].seq
    assert view.cursors[0].last_seq == newest


def test_at_least_once_when_the_receiver_fails_then_recovers(rolegate: Rolegate, receiver: Receiver) -> None:
    site = make_site(rolegate)
    created = site.endpoint(receiver.url)
    site.change(n=3)
    receiver.fail_next = 3
    clock = Clock()
    sender = site.sender(clock)
    assert sender.deliver_due().failed == 1  # the first change refused: the others wait behind it
    assert sender.deliver_due().failed == 0  # held for the backoff: not tried again at once
    for _ in range(6):
        clock.advance(minutes=10)
        sender.deliver_due()
    payloads = verified(created.secret, receiver.received)
    assert [p["data"]["seq"] for p in payloads] == sorted(p["data"]["seq"] for p in payloads)
    assert len(payloads) == 3
    # The refused attempts carried the same webhook-id as the one taken (receivers dedupe).
    assert {r.headers["webhook-id"] for r in receiver.refused} == {receiver.received[0].headers["webhook-id"]}
    listed = webhooks.endpoint_deliveries(rolegate.reader(), actor=PLATFORM, organization_id=site.org, endpoint_id=created.view.endpoint.id)
    assert [d.succeeded for d in reversed(listed)] == [False, False, False, True, True, True]
    assert [d.attempt for d in reversed(listed)][:4] == [1, 2, 3, 4]
    assert listed[-1].error == "HTTP 500"
    assert listed[-1].status_code == 500


def test_a_receiver_down_for_ten_minutes_gets_every_change_afterwards_in_order(rolegate: Rolegate, receiver: Receiver) -> None:
    """The sender's clock is simulated: ten minutes of outage pass in a few passes."""
    site = make_site(rolegate, workspaces=2)
    created = site.endpoint(receiver.url)
    clock = Clock()
    sender = site.sender(clock)
    receiver.down = True
    for minute in range(10):
        site.change(minute % 2)
        sender.deliver_due()
        clock.advance(minutes=1)
    assert receiver.received == []
    assert receiver.refused
    receiver.down = False
    clock.advance(minutes=5)  # the longest backoff (retry_max) has passed
    while sender.deliver_due().delivered:
        pass
    payloads = verified(created.secret, receiver.received)
    assert len(payloads) == 10
    for ws in site.workspaces:
        seqs = [p["data"]["seq"] for p in payloads if p["data"]["workspace_id"] == ws]
        assert seqs == sorted(seqs)
        assert len(seqs) == 5


def test_failing_for_the_window_disables_the_endpoint_and_emails_site_administrators(rolegate: Rolegate) -> None:
    site = make_site(rolegate)
    with socket.socket() as s:  # a port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/hooks"
    created = site.endpoint(dead, description="billing sync")
    site.change()
    clock = Clock()
    sender = site.sender(clock, disable_after=timedelta(days=3))
    for _ in range(3 * 4 + 1):  # every 6 hours for three days
        sender.deliver_due()
        clock.advance(hours=6)
    view = webhooks.get_endpoint(rolegate.reader(), actor=PLATFORM, organization_id=site.org, endpoint_id=created.view.endpoint.id)
    assert not view.endpoint.enabled
    assert view.endpoint.disabled_reason is not None
    assert "ConnectError" in view.endpoint.disabled_reason
    mails = operator_mails(rolegate.reader(), to=site.admin_email)
    assert [m.subject.startswith("A Rolegate webhook endpoint was disabled") for m in mails] == [True]
    assert dead in mails[0].text_body
    assert "billing sync" in mails[0].text_body
    # Disabled: no more attempts. Enabled again: it resumes where it stopped, nothing lost.
    attempts = len(webhooks.endpoint_deliveries(rolegate.reader(), actor=PLATFORM, organization_id=site.org, endpoint_id=created.view.endpoint.id, limit=500))
    sender.deliver_due()
    assert len(webhooks.endpoint_deliveries(rolegate.reader(), actor=PLATFORM, organization_id=site.org, endpoint_id=created.view.endpoint.id, limit=500)) == attempts
    with receiving() as receiver:
        webhooks.update_endpoint(
            rolegate.uow(), actor=PLATFORM, organization_id=site.org, endpoint_id=created.view.endpoint.id,
            change=webhooks.EndpointChange(url=receiver.url, enabled=True), allow_private=True,
        )
        sender.deliver_due()
        # Then the endpoint's own changes since: the sender disabling it, the update enabling it.
        got = verified(created.secret, receiver.received)
        assert [(p["type"], p["data"]["actor"]) for p in got] == [
            ("audit.retention", f"member:{site.owners[0]}"),
            ("webhook.update", "platform:webhooks"),
            ("webhook.update", PLATFORM.label),
        ]


def test_a_window_not_yet_passed_keeps_the_endpoint(rolegate: Rolegate, receiver: Receiver) -> None:
    site = make_site(rolegate)
    created = site.endpoint(receiver.url)
    site.change()
    receiver.down = True
    clock = Clock()
    sender = site.sender(clock, disable_after=timedelta(days=3))
    for _ in range(10):
        sender.deliver_due()
        clock.advance(hours=7)  # 70 hours of failures
    receiver.down = False
    clock.advance(hours=1)
    sender.deliver_due()  # a success in time resets the window
    view = webhooks.get_endpoint(rolegate.reader(), actor=PLATFORM, organization_id=site.org, endpoint_id=created.view.endpoint.id)
    assert view.endpoint.enabled
    assert view.endpoint.failing_since is None
    assert operator_mails(rolegate.reader(), to=site.admin_email) == []


def test_the_sender_disabling_a_failing_endpoint_is_one_webhook_update_in_every_workspace(rolegate: Rolegate) -> None:
    """In the transaction that disables it, by `platform:webhooks`; once, however many
    cursors fail at once (two workspaces, concurrent senders)."""
    site = make_site(rolegate, workspaces=2)
    with socket.socket() as s:  # a port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/hooks"
    created = site.endpoint(dead, description="billing sync")
    site.change(0)
    site.change(1)
    clock = Clock()
    sender = site.sender(clock, disable_after=timedelta(days=3), concurrency=2)
    for _ in range(3 * 4 + 2):  # every 6 hours for three days, and a pass after
        sender.deliver_due()
        clock.advance(hours=6)
    view = webhooks.get_endpoint(rolegate.reader(), actor=PLATFORM, organization_id=site.org, endpoint_id=created.view.endpoint.id)
    assert not view.endpoint.enabled
    origin = dead.removesuffix("/hooks")
    fingerprint = hashlib.sha256(dead.encode()).hexdigest()[:12]
    shown = {"id": created.view.endpoint.id, "url": f"{origin}/…", "url_fingerprint": fingerprint, "description": "billing sync", "event_types": [], "enabled": True}
    for workspace_id in site.workspaces:
        with rolegate.reader() as uow:
            events = uow.audit.all(workspace_id, action="webhook")
        assert [(e.action, e.actor, e.target_type, e.target_id) for e in events] == [
            ("webhook.create", PLATFORM.label, "webhook", created.view.endpoint.id),
            ("webhook.update", "platform:webhooks", "webhook", created.view.endpoint.id),
        ]
        assert (events[1].before, events[1].after) == (shown, {**shown, "enabled": False})
        assert created.secret.removeprefix("whsec_") not in json.dumps([events[1].before, events[1].after])
    for chain in verify_workspaces(rolegate.uow()):
        assert chain.report.intact, chain.report.problem


def test_an_endpoint_change_waits_for_a_sender_in_flight_without_a_deadlock(rolegate: Rolegate) -> None:
    """A sender's transaction holds its workspace (its delivery row references it) and
    then writes the endpoint's row; a change of the endpoint locks the organization's
    workspaces before that row, so it waits for the sender instead of holding the row
    the sender waits for (PostgreSQL would abort one of the two as a deadlock)."""
    site = make_site(rolegate, workspaces=2)
    endpoint = site.endpoint("https://hooks.example.com/x", description="before").view.endpoint
    at = utcnow()
    with rolegate.uow() as uow:
        uow.webhooks.failing(endpoint.id, at)  # so that a success writes the endpoint's row
        uow.commit()
    errors: list[BaseException] = []

    def change() -> None:
        try:
            webhooks.update_endpoint(
                rolegate.uow(), actor=PLATFORM, organization_id=site.org, endpoint_id=endpoint.id,
                change=webhooks.EndpointChange(description="after"),
            )
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    with rolegate.uow() as sending:
        sending.webhooks.add_delivery(
            DeliveryRow(site.workspaces[1], "d1", endpoint.id, "msg_x", 1, 1, "audit.retention", 1, True, 200, None, 5, at)
        )
        changer = threading.Thread(target=change)
        changer.start()
        time.sleep(0.5)  # the change is waiting for the workspace by now
        sending.webhooks.succeeded(endpoint.id)
        sending.commit()
    changer.join(timeout=30)
    assert not changer.is_alive()
    assert errors == []
    view = webhooks.get_endpoint(rolegate.reader(), actor=PLATFORM, organization_id=site.org, endpoint_id=endpoint.id)
    assert (view.endpoint.description, view.endpoint.failing_since) == ("after", None)
    for workspace_id in site.workspaces:
        with rolegate.reader() as uow:
            assert [e.action for e in uow.audit.all(workspace_id, action="webhook")] == ["webhook.create", "webhook.update"]


def test_an_endpoints_changes_go_to_the_endpoints_that_select_them_and_not_its_own_creation(rolegate: Rolegate, receiver: Receiver) -> None:
    site = make_site(rolegate)
    watcher = site.endpoint(receiver.url, event_types=["webhook.*"])
    other = site.endpoint("https://hooks.example.com/x", enabled=False).view.endpoint.id  # disabled: never sent to
    webhooks.rotate_secret(rolegate.uow(), actor=PLATFORM, organization_id=site.org, endpoint_id=other)
    webhooks.update_endpoint(
        rolegate.uow(), actor=PLATFORM, organization_id=site.org, endpoint_id=other, change=webhooks.EndpointChange(description="x")
    )
    webhooks.delete_endpoint(rolegate.uow(), actor=PLATFORM, organization_id=site.org, endpoint_id=other)
    site.change()  # audit.retention: not selected
    deliver_until_idle(site.sender(Clock()))
    got = verified(watcher.secret, receiver.received)
    assert [(p["type"], p["data"]["target"]) for p in got] == [
        (action, {"type": "webhook", "id": other})
        for action in ("webhook.create", "webhook.rotate_secret", "webhook.update", "webhook.delete")
    ]


def test_rotation_signs_with_both_secrets_during_the_grace_then_only_the_new(rolegate: Rolegate, receiver: Receiver) -> None:
    site = make_site(rolegate)
    created = site.endpoint(receiver.url)
    rotated = webhooks.rotate_secret(rolegate.uow(), actor=PLATFORM, organization_id=site.org, endpoint_id=created.view.endpoint.id)
    assert rotated.secret != created.secret
    clock = Clock()
    sender = site.sender(clock)
    site.change()
    sender.deliver_due()
    during = receiver.received[-1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(created.secret).verify(during.body, during.headers)  # a receiver still holding the old secret
    Webhook(rotated.secret).verify(during.body, during.headers)  # one that already has the new
    clock.advance(hours=24, seconds=1)
    site.change()
    sender.deliver_due()
    after = receiver.received[-1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    Webhook(rotated.secret).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(created.secret).verify(after.body, after.headers)


def test_a_slow_receiver_never_keeps_a_cursor_past_half_its_claim(rolegate: Rolegate, receiver: Receiver) -> None:
    """Past its claim another sender may take the cursor: a pass stops inside it, and the
    next pass goes on where it stopped, in order."""
    site = make_site(rolegate)
    created = site.endpoint(receiver.url)
    site.change(n=5)
    receiver.delay = 0.15
    sender = site.sender(Clock(), claim_for=timedelta(seconds=0.4))
    first = sender.deliver_due()
    assert 1 <= first.delivered < 5
    assert first.more
    while sender.deliver_due().delivered:
        pass
    seqs = [p["data"]["seq"] for p in verified(created.secret, receiver.received)]
    assert len(seqs) == 5
    assert seqs == sorted(seqs)


def test_changes_pruned_before_delivery_are_reported_not_skipped_silently(
    rolegate: Rolegate, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    site = make_site(rolegate)
    created = site.endpoint(receiver.url)
    site.change(n=3)  # the retention, set to 1, 2, 3 days
    receiver.down = True
    sender = site.sender(Clock())
    sender.deliver_due()
    pruned = audit.prune_events(rolegate.uow(), actor=PLATFORM, workspace_id=site.workspaces[0], now=utcnow() + timedelta(days=30))
    assert pruned > 0
    receiver.down = False
    later = Clock()
    later.advance(hours=1)
    with caplog.at_level("WARNING", logger="rolegate.webhooks"):
        while site.sender(later).deliver_due().delivered:
            pass
    assert any("pruned by the audit retention before delivery" in r.getMessage() for r in caplog.records)
    assert [p["type"] for p in verified(created.secret, receiver.received)][-1] == "audit.prune"


def test_redirects_are_not_followed(rolegate: Rolegate, receiver: Receiver) -> None:
    site = make_site(rolegate)
    site.endpoint(receiver.url)
    receiver.status = 307
    receiver.location = "http://169.254.169.254/latest/meta-data/"
    site.change()
    assert site.sender(Clock()).deliver_due().failed == 1
    assert receiver.received == []
    assert len(receiver.refused) == 1


def test_private_addresses_are_refused_unless_allowed(rolegate: Rolegate, receiver: Receiver) -> None:
    site = make_site(rolegate)
    for url in ("http://127.0.0.1/x", "http://10.1.2.3/x", "http://[::1]/x", "http://169.254.169.254/", "http://localhost:8000/"):
        with pytest.raises(InvalidInputError, match="public address"):
            webhooks.create_endpoint(rolegate.uow(), actor=PLATFORM, organization_id=site.org, url=url)
    for url in ("ftp://example.com/", "file:///etc/passwd", "https://user:pw@example.com/", "not a url"):
        with pytest.raises(InvalidInputError):
            webhooks.create_endpoint(rolegate.uow(), actor=PLATFORM, organization_id=site.org, url=url, allow_private=True)
    assert webhooks.check_url("https://hooks.example.com/x", allow_private=False) == "https://hooks.example.com/x"
    # A name that resolves to a private address is refused at delivery time.
    transport = HttpTransport(allow_private=False)
    try:
        with pytest.raises(OSError, match="not a public address"):
            transport.post(receiver.url.replace("127.0.0.1", "localhost"), b"{}", {})
    finally:
        transport.close()
    assert receiver.received == []
    assert receiver.refused == []


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    policy = DeliveryPolicy(retry_base=timedelta(seconds=5), retry_max=timedelta(minutes=30))
    rng = random.Random(1)
    delays = [retry_delay(n, policy, rng).total_seconds() for n in range(1, 12)]
    for n, d in enumerate(delays, start=1):
        full = min(5 * 2 ** (n - 1), 1800)
        assert full / 2 <= d <= full
    assert delays[-1] <= 1800


def test_the_worker_delivers_after_each_commit(rolegate: Rolegate, receiver: Receiver) -> None:
    """The thread `bootstrap` starts (Settings.webhooks), woken by the commit itself."""
    site = make_site(rolegate)
    created = site.endpoint(receiver.url)
    rolegate.start_webhooks(poll=30.0, policy=DeliveryPolicy(allow_private=True))  # a poll this long: only the wake-up can deliver in time
    site.change(n=2)
    got = receiver.wait_for(2, timeout=10)
    assert len(verified(created.secret, got)) == 2


class _CountingSender:
    """A sender that finds nothing to deliver, counting its passes."""

    def __init__(self) -> None:
        self.passes = 0
        self.transport = self

    def close(self) -> None:
        pass

    def deliver_due(self) -> PassResult:
        self.passes += 1
        return PassResult()


def _commits(worker: WebhookWorker, seconds: float = 0.5) -> None:
    """A commit every 2 ms for `seconds` (about 250 in the default half second)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        worker.wake()
        time.sleep(0.002)


def test_a_burst_of_commits_wakes_the_worker_for_few_passes() -> None:
    """Issue 18 (admin writes under load): every commit wakes the worker; passes that
    find nothing start `coalesce` apart, not one per commit. A wake still gets a pass."""
    sender = _CountingSender()
    worker = WebhookWorker(sender, poll=30.0, coalesce=0.2)  # type: ignore[arg-type]
    worker.start()
    try:
        _commits(worker)
        time.sleep(0.3)
        assert 2 <= sender.passes <= 6, sender.passes  # the start, then one per 0.2 s
        before = sender.passes
        worker.wake()
        time.sleep(0.5)
        assert sender.passes == before + 1
    finally:
        worker.stop()


class _IdleSender(_CountingSender):
    """A sender that finds no endpoint enabled."""

    def deliver_due(self) -> PassResult:
        self.passes += 1
        return PassResult(idle=True)


def test_while_no_endpoint_is_enabled_commits_do_not_wake_the_worker() -> None:
    """Issue 18: with nobody to deliver to, a pass per commit read the endpoints for
    nothing (3% of the server's time under the mixed load). It looks again after its
    poll, or at once when this process registers or enables an endpoint."""
    sender = _IdleSender()
    worker = WebhookWorker(sender, poll=30.0, coalesce=0.01)  # type: ignore[arg-type]
    worker.start()
    try:
        _commits(worker)
        time.sleep(0.1)
        assert sender.passes == 1, sender.passes  # the one at start
        worker.endpoints_changed()
        time.sleep(0.3)
        assert sender.passes == 2
    finally:
        worker.stop()


def test_an_endpoint_registered_here_is_delivered_to_at_once_after_idle_passes(rolegate: Rolegate, receiver: Receiver) -> None:
    """The worker started with no endpoint (idle); registering one here wakes it: the
    change after it arrives long before the 30 s poll."""
    site = make_site(rolegate)
    rolegate.start_webhooks(poll=30.0, policy=DeliveryPolicy(allow_private=True))
    time.sleep(0.3)  # its first pass: no endpoint, now waiting out its poll
    site.change()  # a commit: not a reason to look while no endpoint is enabled
    created = site.endpoint(receiver.url)
    site.change()
    got = receiver.wait_for(1, timeout=10)
    assert [p["type"] for p in verified(created.secret, got)] == ["audit.retention"]


def test_bootstrap_starts_the_worker_when_the_settings_say_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On by default for a server (`Settings.from_env`), off for `Settings()` (tests, scripts)."""
    monkeypatch.delenv("ROLEGATE_WEBHOOKS", raising=False)
    assert Settings.from_env().webhooks is True
    monkeypatch.setenv("ROLEGATE_WEBHOOKS", "0")
    assert Settings.from_env().webhooks is False
    assert Settings().webhooks is False
    url = f"sqlite:///{tmp_path}/boot.db"
    rg = bootstrap(Settings(database_url=url, listen=False, webhooks=True, webhooks_allow_private=True))
    try:
        assert rg.webhooks is not None
        assert rg.webhooks.sender.policy.allow_private is True
        assert rg.webhooks.wake in rg.snapshots._watchers  # woken by every revision heard of
    finally:
        rg.close()
    off = bootstrap(Settings(database_url=url, listen=False))
    try:
        assert off.webhooks is None
    finally:
        off.close()


def test_a_commit_in_another_process_wakes_the_worker_through_notify(pg_url: str, receiver: Receiver) -> None:
    """PostgreSQL: the sender's process hears another process's commit (LISTEN/NOTIFY)
    and delivers at once, long before its poll."""
    delivering = bootstrap(Settings(database_url=pg_url, listen=True))
    delivering.create_tables()
    writer = bootstrap(Settings(database_url=pg_url, listen=False))
    try:
        site = make_site(writer)
        created = site.endpoint(receiver.url)
        delivering.start_webhooks(poll=60.0, policy=DeliveryPolicy(allow_private=True))
        assert delivering.listener is not None
        site.change()
        got = receiver.wait_for(1, timeout=15)
        assert [p["type"] for p in verified(created.secret, got)] == ["audit.retention"]
    finally:
        writer.close()
        delivering.close()


def test_the_backlog_counts_each_endpoints_undelivered_changes_and_the_oldest_age(rolegate: Rolegate, receiver: Receiver) -> None:
    """`/metrics`' rolegate_webhook_backlog_events and ..._oldest_undelivered_age_seconds:
    the changes after each enabled endpoint's cursors, summed over its workspaces (a
    workspace made after it: from its first change); a disabled endpoint's wait unseen."""
    site = make_site(rolegate, workspaces=2)
    first = site.endpoint(receiver.url)
    assert webhook_backlog(rolegate.reader()) == Backlog(0, 0.0)  # it starts after the changes made before it
    site.change(0, n=2)
    site.change(1)
    assert webhook_backlog(rolegate.reader()).unsent == 3
    second = site.endpoint(receiver.url)  # its webhook.create in each workspace: two changes for the first
    site.change(1)
    assert webhook_backlog(rolegate.reader()).unsent == 3 + 2 + 1 + 1
    later = webhook_backlog(rolegate.reader(), now=utcnow() + timedelta(minutes=10))
    assert later.oldest_age >= 600
    made = create_workspace(rolegate.uow(), actor=PLATFORM, preset="natero", name="late", owner_email=f"late-{site.org[:8]}@hooks.test", organization_id=site.org)
    with rolegate.reader() as uow:
        born = len(uow.audit.all(made.workspace.id))
    assert born > 0
    assert webhook_backlog(rolegate.reader()).unsent == 7 + 2 * born
    # Disabling the second is a webhook.update in each of the three workspaces: for the first.
    webhooks.update_endpoint(rolegate.uow(), actor=PLATFORM, organization_id=site.org, endpoint_id=second.view.endpoint.id, change=webhooks.EndpointChange(enabled=False))
    assert webhook_backlog(rolegate.reader()).unsent == 6 + born + 3
    assert deliver_until_idle(site.sender(Clock())).delivered == 6 + born + 3
    assert webhook_backlog(rolegate.reader()) == Backlog(0, 0.0)
    assert first.view.endpoint.id != second.view.endpoint.id
