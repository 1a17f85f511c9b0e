"""What the operator's probes read (`/metrics`, `/readyz`): the outbox and webhook
backlogs and whether the database is reachable and at this version's migration head."""

from __future__ import annotations

from datetime import datetime

from rolegate.services.outbox import Backlog, backlog
from rolegate.store import Engine
from rolegate.store.availability import reachable
from rolegate.store.migrations import DatabaseStatus, readiness
from rolegate.store.repositories import utcnow
from rolegate.store.uow import UnitOfWork

__all__ = ["Backlog", "DatabaseStatus", "database_status", "outbox_backlog", "webhook_backlog"]


def outbox_backlog(uow: UnitOfWork) -> Backlog:
    """The outbox backlog; StoreUnavailableError when the database cannot be reached."""
    with reachable():
        return backlog(uow)


def webhook_backlog(uow: UnitOfWork, *, now: datetime | None = None) -> Backlog:
    """How far webhook delivery is behind: events after the cursors of the enabled
    endpoints (`unsent`), and the age of the oldest; StoreUnavailableError when the
    database cannot be reached. A disabled endpoint's events wait for it unseen here:
    it is disabled because its receiver failed (the organization's administrators
    were emailed)."""
    at = now or utcnow()
    with reachable(), uow:
        events, oldest = uow.webhooks.backlog()
    return Backlog(events, max(0.0, (at - oldest).total_seconds()) if oldest is not None else 0.0)


def database_status(engine: Engine) -> DatabaseStatus:
    """Where the database stands (`store.migrations.readiness`); StoreUnavailableError
    when it cannot be reached."""
    return readiness(engine)
