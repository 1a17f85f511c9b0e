"""Reading and verifying a workspace's audit log (hash chained)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rolegate.domain.errors import NotFoundError
from rolegate.domain.schema import AdminRight
from rolegate.domain.violations import Violation
from rolegate.domain.workspace import Actor, AuditEvent, event_hash
from rolegate.services.context import authorize, load_state, raise_if, record_change
from rolegate.store.repositories import utcnow
from rolegate.store.repositories_sites import AuditRetention
from rolegate.store.uow import UnitOfWork

__all__ = ["ChainReport", "actor_names", "get_retention", "list_events", "prune_events", "set_retention", "verify_chain"]


@dataclass(frozen=True, slots=True)
class ChainReport:
    workspace_id: str
    events: int
    intact: bool
    first_broken_seq: int | None = None
    problem: str = ""
    last_seq: int = 0
    """The newest event checked: "chain intact up to event N"."""
    pruned_through: int = 0
    """Events up to this one were removed by the retention setting; the chain is checked
    from the hash they ended with."""

    def __str__(self) -> str:
        if self.intact:
            return f"{self.workspace_id}: chain intact up to event {self.last_seq}, {self.events} event(s)"
        return f"{self.workspace_id}: chain broken at event {self.first_broken_seq}: {self.problem}"


def verify_chain(uow: UnitOfWork, *, workspace_id: str) -> ChainReport:
    """Recompute every hash in order; the first event whose content, link or position
    does not match is named."""
    with uow:
        if uow.workspaces.get(workspace_id) is None:
            raise NotFoundError(f"no workspace {workspace_id!r}", decision=None, fix="Check the workspace id.")
        events = uow.audit.all(workspace_id)
        kept = uow.sites.retention(workspace_id)
    prev, expected_seq = kept.pruned_through_hash, kept.pruned_through_seq + 1
    n, pruned = len(events), kept.pruned_through_seq
    for e in events:
        if e.seq != expected_seq:
            return ChainReport(workspace_id, n, False, e.seq, f"expected event {expected_seq} (an event was removed)", expected_seq - 1, pruned)
        if e.prev_hash != prev:
            return ChainReport(workspace_id, n, False, e.seq, "does not link to the previous event", expected_seq - 1, pruned)
        if event_hash(e) != e.hash:
            return ChainReport(workspace_id, n, False, e.seq, "content does not match its hash (altered)", expected_seq - 1, pruned)
        prev, expected_seq = e.hash, expected_seq + 1
    return ChainReport(workspace_id, n, True, last_seq=expected_seq - 1, pruned_through=pruned)


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
    limit: int | None = 100,
    since: datetime | None = None,
    until: datetime | None = None,
    newest_first: bool = False,
) -> list[AuditEvent]:
    """E8: the changes made by every administrator of the workspace, for whoever holds
    the view-audit right (the Web Access Log permission). `action` matches a whole
    family when it has no dot (`role` is role.create, role.update, ...)."""
    since, until = _utc(since), _utc(until)
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_AUDIT)
        return uow.audit.all(
            workspace_id,
            actor=actor_filter,
            action=action,
            target_type=target_type,
            target_id=target_id,
            since=since,
            until=until,
            after_seq=after_seq,
            limit=limit,
            newest_first=newest_first,
        )


def _utc(value: datetime | None) -> datetime | None:
    """Times are stored in UTC; a time without a zone is taken as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def actor_names(uow: UnitOfWork, *, workspace_id: str) -> dict[str, str]:
    """Audit actor labels (`member:<id>`, `site-admin:<user id>`) -> who that is."""
    with uow:
        ws = uow.workspaces.get(workspace_id)
        if ws is None:
            return {}
        out = {f"member:{m.member.id}": (f"{m.name} <{m.email}>" if m.name else m.email) for m in uow.members.all(workspace_id)}
        for user_id, email, name in uow.sites.admin_list(ws.organization_id):
            out[f"site-admin:{user_id}"] = f"{name} <{email}> (site administrator)" if name else f"{email} (site administrator)"
        return out


def get_retention(uow: UnitOfWork, *, actor: Actor, workspace_id: str) -> AuditRetention:
    with uow:
        authorize(load_state(uow, workspace_id, lock=False), actor, AdminRight.VIEW_AUDIT)
        return uow.sites.retention(workspace_id)


def set_retention(uow: UnitOfWork, *, actor: Actor, workspace_id: str, days: int | None) -> AuditRetention:
    """How long events are kept (None: forever). Setting it is itself audited; events
    go only when `prune_events` runs (e.g. daily from cron: `rolegate audit prune`)."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_ROLES)
        raise_if([Violation("E8", f"Retention of {days} day(s) is too short.", "Keep events at least 1 day, or forever.")] if days is not None and days < 1 else [])
        before = uow.sites.retention(workspace_id)
        if before.days == days:
            return before
        after = AuditRetention(days, before.pruned_through_seq, before.pruned_through_hash)
        uow.sites.set_retention(workspace_id, after)
        record_change(uow, workspace_id, actor, "audit.retention", "workspace", workspace_id, {"retention_days": before.days}, {"retention_days": days})
        uow.commit()
        return after


def prune_events(uow: UnitOfWork, *, actor: Actor, workspace_id: str, now: datetime | None = None) -> int:
    """Remove the events older than the retention setting, keeping the newest event
    always (the chain continues from it) and the last removed hash (the chain stays
    verifiable). The pruning is audited. Returns how many events went."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.MANAGE_ROLES)
        kept = uow.sites.retention(workspace_id)
        if kept.days is None:
            return 0
        cutoff = (now or utcnow()) - timedelta(days=kept.days)
        last = uow.audit.last(workspace_id)
        through = uow.sites.last_event_before(workspace_id, cutoff)
        if through is None or last is None:
            return 0
        if through[0] >= last[0]:  # never the newest: the next event links to it
            older = uow.audit.all(workspace_id, after_seq=last[0] - 2, limit=1)
            if not older or older[0].seq >= last[0]:
                return 0
            through = (older[0].seq, older[0].hash)
        removed = uow.sites.delete_events_through(workspace_id, through[0])
        uow.sites.set_retention(workspace_id, AuditRetention(kept.days, through[0], through[1]))
        record_change(uow, workspace_id, actor, "audit.prune", "workspace", workspace_id, {"first_event": kept.pruned_through_seq + 1}, {"first_event": through[0] + 1, "removed": removed})
        uow.commit()
        return removed
