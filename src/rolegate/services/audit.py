"""Reading and verifying a workspace's audit log (hash chained)."""

from __future__ import annotations

from dataclasses import dataclass

from rolegate.domain.errors import NotFoundError
from rolegate.domain.schema import AdminRight
from rolegate.domain.workspace import GENESIS_HASH, Actor, AuditEvent, event_hash
from rolegate.services.context import authorize, load_state
from rolegate.store.uow import UnitOfWork

__all__ = ["ChainReport", "list_events", "verify_chain"]


@dataclass(frozen=True, slots=True)
class ChainReport:
    workspace_id: str
    events: int
    intact: bool
    first_broken_seq: int | None = None
    problem: str = ""

    def __str__(self) -> str:
        if self.intact:
            return f"{self.workspace_id}: chain intact, {self.events} event(s)"
        return f"{self.workspace_id}: chain broken at event {self.first_broken_seq}: {self.problem}"


def verify_chain(uow: UnitOfWork, *, workspace_id: str) -> ChainReport:
    """Recompute every hash in order; the first event whose content, link or position
    does not match is named."""
    with uow:
        if uow.workspaces.get(workspace_id) is None:
            raise NotFoundError(f"no workspace {workspace_id!r}", decision=None, fix="Check the workspace id.")
        events = uow.audit.all(workspace_id)
    prev, expected_seq = GENESIS_HASH, 1
    for e in events:
        if e.seq != expected_seq:
            return ChainReport(workspace_id, len(events), False, e.seq, f"expected event {expected_seq} (an event was removed)")
        if e.prev_hash != prev:
            return ChainReport(workspace_id, len(events), False, e.seq, "does not link to the previous event")
        if event_hash(e) != e.hash:
            return ChainReport(workspace_id, len(events), False, e.seq, "content does not match its hash (altered)")
        prev, expected_seq = e.hash, expected_seq + 1
    return ChainReport(workspace_id, len(events), True)


def list_events(
    uow: UnitOfWork,
    *,
    actor: Actor,
    workspace_id: str,
    actor_filter: str | None = None,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    after_seq: int = 0,
    limit: int = 100,
) -> list[AuditEvent]:
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_AUDIT)
        return uow.audit.all(
            workspace_id, actor=actor_filter, action=action, target_type=target_type, target_id=target_id, after_seq=after_seq, limit=limit
        )
