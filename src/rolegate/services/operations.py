"""What the operator's probes read (`/metrics`, `/readyz`): the outbox backlog and
whether the database is reachable and at this version's migration head."""

from __future__ import annotations

from rolegate.services.outbox import Backlog, backlog
from rolegate.store import Engine
from rolegate.store.availability import reachable
from rolegate.store.migrations import DatabaseStatus, readiness
from rolegate.store.uow import UnitOfWork

__all__ = ["Backlog", "DatabaseStatus", "database_status", "outbox_backlog"]


def outbox_backlog(uow: UnitOfWork) -> Backlog:
    """The outbox backlog; StoreUnavailableError when the database cannot be reached."""
    with reachable():
        return backlog(uow)


def database_status(engine: Engine) -> DatabaseStatus:
    """Where the database stands (`store.migrations.readiness`); StoreUnavailableError
    when it cannot be reached."""
    return readiness(engine)
