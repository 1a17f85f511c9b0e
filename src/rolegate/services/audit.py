"""Reading and verifying a workspace's audit log (hash chained): the read use cases of
its doors (a page of events, an export, a verification, each for an actor who holds
the view-audit right), its retention, and pruning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from rolegate.domain.audit_diff import Change, diff, named
from rolegate.domain.errors import NotFoundError
from rolegate.domain.rules.audit_rules import retention_violations
from rolegate.domain.schema import AdminRight
from rolegate.domain.words import count_of
from rolegate.domain.workspace import Actor, AuditEvent, event_hash
from rolegate.services.audit_export import to_csv, to_jsonl
from rolegate.services.context import authorize, load_state, raise_if, record_change
from rolegate.store.repositories import utcnow
from rolegate.store.repositories_sites import AuditRetention
from rolegate.store.uow import UnitOfWork

__all__ = [
    "AuditFile",
    "AuditLogView",
    "AuditRetention",
    "ChainReport",
    "EventFilter",
    "EventLine",
    "EventPage",
    "actor_names",
    "audit_log_view",
    "export_events",
    "get_retention",
    "list_event_page",
    "list_events",
    "prune_events",
    "set_retention",
    "verify_audit",
    "verify_chain",
]


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
            return f"{self.workspace_id}: chain intact up to event {self.last_seq}, {count_of(self.events, 'event')}"
        return f"{self.workspace_id}: chain broken at event {self.first_broken_seq}: {self.problem}"


def verify_chain(uow: UnitOfWork, *, workspace_id: str) -> ChainReport:
    """Recompute every hash in order; the first event whose content, link or position
    does not match is named. For the operator (the CLI); doors call `verify_audit`."""
    with uow:
        if uow.workspaces.get(workspace_id) is None:
            raise NotFoundError(f"no workspace {workspace_id!r}", decision=None, fix="Check the workspace id.")
        return _verify(uow, workspace_id)


def verify_audit(uow: UnitOfWork, *, actor: Actor, workspace_id: str) -> ChainReport:
    """`verify_chain` for an actor who holds the view-audit right, in one transaction."""
    with uow:
        authorize(load_state(uow, workspace_id, lock=False), actor, AdminRight.VIEW_AUDIT)
        return _verify(uow, workspace_id)


def _verify(uow: UnitOfWork, workspace_id: str) -> ChainReport:
    events = uow.audit.all(workspace_id)
    kept = uow.sites.retention(workspace_id)
    prev, expected_seq = kept.pruned_through_hash, kept.pruned_through_seq + 1
    n, pruned = len(events), kept.pruned_through_seq
    for e in events:
        if e.seq != expected_seq:
            return ChainReport(
                workspace_id,
                n,
                False,
                e.seq,
                f"expected event {expected_seq} (an event was removed)",
                expected_seq - 1,
                pruned,
            )
        if e.prev_hash != prev:
            return ChainReport(
                workspace_id, n, False, e.seq, "does not link to the previous event", expected_seq - 1, pruned
            )
        if event_hash(e) != e.hash:
            return ChainReport(
                workspace_id, n, False, e.seq, "content does not match its hash (altered)", expected_seq - 1, pruned
            )
        prev, expected_seq = e.hash, expected_seq + 1
    return ChainReport(workspace_id, n, True, last_seq=expected_seq - 1, pruned_through=pruned)


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which events: by actor label, action (a family without a dot: `role`), target,
    and time (`since` inclusive, `until` exclusive)."""

    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class EventLine:
    """An event, who its actor is, and its before and after as readable changes."""

    event: AuditEvent
    who: str
    changes: list[Change]
    target_name: str = ""
    """The member or role the event is about, by name (issue 15: names, never ids), if it is one."""


@dataclass(frozen=True, slots=True)
class AuditLogView:
    """The audit log page: the newest events that match, the chain's state, the
    retention setting and every actor that appears in the log (for the filter)."""

    lines: tuple[EventLine, ...]
    chain: ChainReport
    retention: AuditRetention
    actors: tuple[tuple[str, str], ...]
    """(label, who) of every actor of the workspace's events."""
    truncated: bool
    """`limit` events were shown: there may be older ones."""
    revision: int


@dataclass(frozen=True, slots=True)
class AuditFile:
    """An export: its file name, media type and text."""

    name: str
    media_type: str
    content: str


def audit_log_view(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, filters: EventFilter, limit: int
) -> AuditLogView:
    """E8: the newest `limit` events that match, read with the chain and the retention
    in one transaction, for an actor who holds the view-audit right."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_AUDIT)
        events = _events(uow, workspace_id, filters, limit=limit, newest_first=True)
        names = _names(uow, workspace_id, state.workspace.organization_id)
        # Ids in the before and after (members, roles) read as names, never as ids.
        by_id = {k.removeprefix("member:"): v for k, v in names.items() if k.startswith("member:")}
        by_id |= {r.id: r.name for r in state.roles.values()}
        return AuditLogView(
            lines=tuple(
                EventLine(
                    e,
                    names.get(e.actor, e.actor),
                    named(diff(e.before, e.after), by_id),
                    by_id.get(e.target_id, "") if e.target_type in ("member", "role") else "",
                )
                for e in events
            ),
            chain=_verify(uow, workspace_id),
            retention=uow.sites.retention(workspace_id),
            actors=tuple((a, names.get(a, a)) for a in uow.sites.event_actors(workspace_id)),
            truncated=len(events) == limit,
            revision=state.workspace.revision,
        )


def export_events(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, filters: EventFilter, fmt: Literal["csv", "jsonl"]
) -> AuditFile:
    """E8: every event that matches, oldest first, as CSV or JSON Lines, for an actor
    who holds the view-audit right."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_AUDIT)
        events = _events(uow, workspace_id, filters, limit=None)
        names = _names(uow, workspace_id, state.workspace.organization_id)
    name = f"audit-{workspace_id}.{fmt}"
    if fmt == "csv":
        return AuditFile(name, "text/csv; charset=utf-8", to_csv(events, names))
    return AuditFile(name, "application/x-ndjson", to_jsonl(events, names))


def _events(
    uow: UnitOfWork,
    workspace_id: str,
    filters: EventFilter,
    *,
    limit: int | None,
    after_seq: int = 0,
    newest_first: bool = False,
) -> list[AuditEvent]:
    return uow.audit.all(
        workspace_id,
        actor=filters.actor,
        action=filters.action,
        target_type=filters.target_type,
        target_id=filters.target_id,
        since=_utc(filters.since),
        until=_utc(filters.until),
        after_seq=after_seq,
        limit=limit,
        newest_first=newest_first,
    )


@dataclass(frozen=True, slots=True)
class EventPage:
    events: list[AuditEvent]
    revision: int
    """The workspace revision the events were read at."""


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
    return list_event_page(
        uow,
        actor=actor,
        workspace_id=workspace_id,
        filters=EventFilter(actor_filter, action, target_type, target_id, since, until),
        after_seq=after_seq,
        limit=limit,
        newest_first=newest_first,
    ).events


def list_event_page(
    uow: UnitOfWork,
    *,
    actor: Actor,
    workspace_id: str,
    filters: EventFilter,
    after_seq: int = 0,
    limit: int | None = 100,
    newest_first: bool = False,
) -> EventPage:
    """`list_events`, with the workspace revision they were read at."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_AUDIT)
        found = _events(uow, workspace_id, filters, limit=limit, after_seq=after_seq, newest_first=newest_first)
        return EventPage(found, state.workspace.revision)


def _utc(value: datetime | None) -> datetime | None:
    """Times are stored in UTC; a time without a zone is taken as UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def actor_names(uow: UnitOfWork, *, workspace_id: str) -> dict[str, str]:
    """Audit actor labels (`member:<id>`, `site-admin:<user id>`) -> who that is."""
    with uow:
        ws = uow.workspaces.get(workspace_id)
        return {} if ws is None else _names(uow, workspace_id, ws.organization_id)


def _names(uow: UnitOfWork, workspace_id: str, organization_id: str) -> dict[str, str]:
    out = {
        f"member:{m.member.id}": (f"{m.name} <{m.email}>" if m.name else m.email) for m in uow.members.all(workspace_id)
    }
    for user_id, email, name in uow.sites.admin_list(organization_id):
        out[f"site-admin:{user_id}"] = (
            f"{name} <{email}> (site administrator)" if name else f"{email} (site administrator)"
        )
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
        raise_if(retention_violations(days, rule_id=state.schema.rule("audit_log")))
        before = uow.sites.retention(workspace_id)
        if before.days == days:
            return before
        after = AuditRetention(days, before.pruned_through_seq, before.pruned_through_hash)
        uow.sites.set_retention(workspace_id, after)
        record_change(
            uow,
            workspace_id,
            actor,
            "audit.retention",
            "workspace",
            workspace_id,
            {"retention_days": before.days},
            {"retention_days": days},
        )
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
        record_change(
            uow,
            workspace_id,
            actor,
            "audit.prune",
            "workspace",
            workspace_id,
            {"first_event": kept.pruned_through_seq + 1},
            {"first_event": through[0] + 1, "removed": removed},
        )
        uow.commit()
        return removed
