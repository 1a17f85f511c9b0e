"""The mail outbox: an email is a row written in the transaction that caused it, and
sent only after that transaction commits, so a rolled-back invitation sends nothing
and a committed one is never lost (a crash or a restart leaves the row, sent later).

`OutboxSender.deliver_due` sends what is due, each message claimed first (several
processes may send: a claim expires, so a sender that died mid-send hands the message
on; delivery is at least once). A failure is retried with exponential backoff
(`RETRY_BASE` doubling up to `RETRY_MAX`). `OutboxWorker` runs it in a thread: woken
after each commit that queued mail, and every `poll` seconds for retries. Without SMTP
configured nothing is sent: the rows stay (`rolegate outbox` lists them), and where the
operator turns on the admin UI's developer page (`ROLEGATE_DEV_OUTBOX`), each viewer
reads their own mail there.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from rolegate.metrics import OUTBOX_SEND_FAILURES, OUTBOX_SENT
from rolegate.services.context import new_id
from rolegate.services.mail import RenderedEmail, render_email
from rolegate.store.repositories import utcnow
from rolegate.store.repositories_team import OutboxRow
from rolegate.store.uow import UnitOfWork

__all__ = [
    "CLAIM_FOR",
    "RETRY_BASE",
    "RETRY_MAX",
    "Backlog",
    "OutboxSender",
    "OutboxWorker",
    "Transport",
    "backlog",
    "developer_mails",
    "operator_mails",
    "queue_email",
    "retry_delay",
]

log = logging.getLogger("rolegate.mail")

RETRY_BASE = timedelta(seconds=30)
RETRY_MAX = timedelta(hours=1)
CLAIM_FOR = timedelta(minutes=2)


class Transport(Protocol):
    def send(self, to: str, email: RenderedEmail) -> None: ...


def retry_delay(attempts: int) -> timedelta:
    """After the n-th failed attempt: 30 s, 1 min, 2 min, ... at most an hour."""
    delay: timedelta = RETRY_BASE * (2 ** max(attempts - 1, 0))
    return min(delay, RETRY_MAX)


def queue_email(
    uow: UnitOfWork,
    *,
    kind: str,
    to: str,
    context: dict[str, Any],
    workspace_id: str | None = None,
    now: datetime | None = None,
) -> str:
    """Render the email and write it to the outbox in the open transaction; the sender
    is woken once the transaction commits."""
    at = now or utcnow()
    email = render_email(kind, context)
    message_id = new_id()
    uow.outbox.add(
        OutboxRow(message_id, workspace_id, kind, to, email.subject, email.text, email.html, 0, at, None, None, at)
    )
    if uow.on_mail is not None:
        uow.after_commit(uow.on_mail)
    return message_id


class OutboxSender:
    def __init__(
        self, uow: Callable[[], UnitOfWork], transport: Transport, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._uow = uow
        self._transport = transport
        self._clock = clock

    def deliver_due(self) -> int:
        """Send every message that is due now; return how many were sent."""
        now = self._clock()
        with self._uow() as uow:
            due = uow.outbox.due(now)
        sent = 0
        for message in due:
            with self._uow() as uow:
                claimed = uow.outbox.claim(message.id, now, now + CLAIM_FOR)
                uow.commit()
            if not claimed:
                continue
            try:
                self._transport.send(
                    message.to_addr, RenderedEmail(message.subject, message.text_body, message.html_body)
                )
            except Exception as exc:  # any SMTP or network failure: keep the message, retry later
                retry_at = self._clock() + retry_delay(message.attempts + 1)
                OUTBOX_SEND_FAILURES.inc()
                log.warning(
                    "email %s to %s failed (attempt %d), retrying at %s: %s",
                    message.id,
                    message.to_addr,
                    message.attempts + 1,
                    retry_at,
                    exc,
                )
                with self._uow() as uow:
                    uow.outbox.mark_failed(message.id, error=f"{exc.__class__.__name__}: {exc}", retry_at=retry_at)
                    uow.commit()
                continue
            with self._uow() as uow:
                uow.outbox.mark_sent(message.id, self._clock())
                uow.commit()
            OUTBOX_SENT.inc()
            sent += 1
        return sent


class OutboxWorker:
    """A daemon thread running the sender: at start (mail left by an earlier process),
    when woken, and every `poll` seconds."""

    def __init__(self, sender: OutboxSender, *, poll: float = 5.0) -> None:
        self.sender = sender
        self.poll = poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="rolegate-outbox", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sender.deliver_due()
            except Exception:  # the database may be briefly unavailable: log, keep the thread alive
                log.exception("the outbox sender failed; retrying in %s s", self.poll)
            self._wake.wait(self.poll)
            self._wake.clear()


def developer_mails(uow: UnitOfWork, *, viewer_email: str) -> list[OutboxRow]:
    """What the developer outbox page shows: the viewer's own mail, and nothing else.
    Invitations, reset and set-password links are live credentials for logins that may
    reach other workspaces and organizations, so nobody reads another person's mail
    here (`rolegate outbox` shows everything to the operator)."""
    with uow:
        return uow.outbox.all(to_addr=viewer_email)


def operator_mails(uow: UnitOfWork, *, unsent_only: bool = True, to: str | None = None) -> list[OutboxRow]:
    """What `rolegate outbox` shows the operator: the outbox (its unsent emails, or all
    of them), newest first, to one address or to anyone."""
    with uow:
        mails = uow.outbox.all(to_addr=to)
    return [m for m in mails if m.sent_at is None] if unsent_only else mails


@dataclass(frozen=True, slots=True)
class Backlog:
    unsent: int
    """Emails written and not sent yet (due, waiting for a retry, or being sent)."""
    oldest_age: float
    """Seconds since the oldest of them was written; 0 when there is none."""


def backlog(uow: UnitOfWork, *, now: datetime | None = None) -> Backlog:
    """How far the mail outbox is behind (`/metrics`). Webhook deliveries are not outbox
    rows: each endpoint keeps a cursor into the audit log (`services.webhook_delivery`)."""
    at = now or utcnow()
    with uow:
        unsent, oldest = uow.outbox.backlog()
    return Backlog(unsent, max(0.0, (at - oldest).total_seconds()) if oldest is not None else 0.0)
