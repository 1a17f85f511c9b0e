"""Webhooks (issue 16): an organization's endpoints, the delivery cursor of each
endpoint in each workspace, and the attempts made (what the API and the UI list)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update

from rolegate.store import tables as t
from rolegate.store.repositories import _aware, _Repo

__all__ = ["CursorRow", "DeliveryRow", "EndpointRow", "WebhookRepository"]


@dataclass(frozen=True, slots=True)
class EndpointRow:
    id: str
    organization_id: str
    url: str
    description: str
    event_types: tuple[str, ...]
    enabled: bool
    secret: str
    previous_secret: str | None
    previous_secret_until: datetime | None
    failing_since: datetime | None
    disabled_reason: str | None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CursorRow:
    workspace_id: str
    endpoint_id: str
    last_seq: int
    attempts: int
    next_attempt_at: datetime | None
    claimed_until: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    workspace_id: str
    id: str
    endpoint_id: str
    message_id: str
    seq: int
    revision: int
    event_type: str
    attempt: int
    succeeded: bool
    status_code: int | None
    error: str | None
    duration_ms: int
    at: datetime


def _endpoint(row: Any) -> EndpointRow:
    return EndpointRow(
        row.id,
        row.organization_id,
        row.url,
        row.description,
        tuple(row.event_types or ()),
        bool(row.enabled),
        row.secret,
        row.previous_secret,
        _aware(row.previous_secret_until),
        _aware(row.failing_since),
        row.disabled_reason,
        _aware(row.created_at),
        _aware(row.updated_at),
    )


def _cursor(row: Any) -> CursorRow:
    return CursorRow(
        row.workspace_id,
        row.endpoint_id,
        int(row.last_seq),
        int(row.attempts),
        _aware(row.next_attempt_at),
        _aware(row.claimed_until),
        row.last_error,
    )


def _delivery(row: Any) -> DeliveryRow:
    at = _aware(row.at)
    assert at is not None
    return DeliveryRow(
        row.workspace_id,
        row.id,
        row.endpoint_id,
        row.message_id,
        int(row.seq),
        int(row.revision),
        row.event_type,
        int(row.attempt),
        bool(row.succeeded),
        row.status_code,
        row.error,
        int(row.duration_ms),
        at,
    )


class WebhookRepository(_Repo):
    # -- endpoints ------------------------------------------------------------------------
    def add_endpoint(self, row: EndpointRow, at: datetime) -> None:
        self.conn.execute(
            insert(t.webhook_endpoints).values(
                id=row.id,
                organization_id=row.organization_id,
                url=row.url,
                description=row.description,
                event_types=list(row.event_types),
                enabled=int(row.enabled),
                secret=row.secret,
                created_at=at,
                updated_at=at,
            )
        )

    def endpoint(self, organization_id: str, endpoint_id: str) -> EndpointRow | None:
        """The endpoint if it is the organization's: another's is None, as a missing one."""
        e = t.webhook_endpoints
        row = self.conn.execute(
            select(e).where(and_(e.c.id == endpoint_id, e.c.organization_id == organization_id))
        ).first()
        return _endpoint(row) if row is not None else None

    def endpoints(self, organization_id: str) -> list[EndpointRow]:
        e = t.webhook_endpoints
        rows = self.conn.execute(select(e).where(e.c.organization_id == organization_id).order_by(e.c.created_at, e.c.id))
        return [_endpoint(r) for r in rows]

    def enabled_endpoints(self) -> list[EndpointRow]:
        e = t.webhook_endpoints
        return [_endpoint(r) for r in self.conn.execute(select(e).where(e.c.enabled == 1).order_by(e.c.id))]

    def update_endpoint(self, endpoint_id: str, at: datetime, **values: Any) -> None:
        if "event_types" in values:
            values["event_types"] = list(values["event_types"])
        if "enabled" in values:
            values["enabled"] = int(values["enabled"])
        e = t.webhook_endpoints
        self.conn.execute(update(e).where(e.c.id == endpoint_id).values(updated_at=at, **values))

    def delete_endpoint(self, endpoint_id: str) -> None:
        # The children first: SQLite enforces ON DELETE CASCADE only with its pragma on.
        for table in (t.webhook_deliveries, t.webhook_cursors):
            self.conn.execute(delete(table).where(table.c.endpoint_id == endpoint_id))
        self.conn.execute(delete(t.webhook_endpoints).where(t.webhook_endpoints.c.id == endpoint_id))

    def failing(self, endpoint_id: str, since: datetime) -> datetime:
        """Mark the endpoint failing from `since` unless it already is; the start kept."""
        e = t.webhook_endpoints
        self.conn.execute(update(e).where(and_(e.c.id == endpoint_id, e.c.failing_since.is_(None))).values(failing_since=since))
        found = self.conn.execute(select(e.c.failing_since).where(e.c.id == endpoint_id)).scalar_one()
        value = _aware(found)
        assert value is not None
        return value

    def succeeded(self, endpoint_id: str) -> None:
        e = t.webhook_endpoints
        self.conn.execute(update(e).where(and_(e.c.id == endpoint_id, e.c.failing_since.is_not(None))).values(failing_since=None))

    def disable(self, endpoint_id: str, *, reason: str, at: datetime) -> bool:
        """False when it was disabled already (another sender got there first)."""
        e = t.webhook_endpoints
        done = self.conn.execute(
            update(e).where(and_(e.c.id == endpoint_id, e.c.enabled == 1)).values(enabled=0, disabled_reason=reason[:300], updated_at=at)
        )
        return bool(done.rowcount)

    # -- workspaces and their audit events --------------------------------------------------
    def workspaces_of(self, organization_ids: Iterable[str]) -> dict[str, list[str]]:
        """Organization -> its workspace ids, in creation order."""
        w = t.workspaces
        out: dict[str, list[str]] = {}
        orgs = sorted(set(organization_ids))
        if not orgs:
            return out
        for row in self.conn.execute(select(w.c.id, w.c.organization_id).where(w.c.organization_id.in_(orgs)).order_by(w.c.created_at, w.c.id)):
            out.setdefault(row.organization_id, []).append(row.id)
        return out

    def last_seqs(self, workspace_ids: Sequence[str]) -> dict[str, int]:
        """Each workspace's newest audit event (its primary key's last entry)."""
        a = t.audit_events
        if not workspace_ids:
            return {}
        rows = self.conn.execute(
            select(a.c.workspace_id, func.max(a.c.seq)).where(a.c.workspace_id.in_(list(workspace_ids))).group_by(a.c.workspace_id)
        )
        return {r[0]: int(r[1]) for r in rows}

    def backlog(self) -> tuple[int, datetime | None]:
        """Events not yet delivered: per enabled endpoint, the audit events of its
        organization's workspaces after its cursor there (no cursor: a workspace made
        after the endpoint, from its first event), summed; and when the oldest of them
        was made. One read: the audit log's primary key from each cursor on."""
        e, w, c, a = t.webhook_endpoints, t.workspaces, t.webhook_cursors, t.audit_events
        after = func.coalesce(c.c.last_seq, 0)
        row = self.conn.execute(
            select(func.count(), func.min(a.c.at))
            .select_from(
                e.join(w, w.c.organization_id == e.c.organization_id)
                .outerjoin(c, and_(c.c.endpoint_id == e.c.id, c.c.workspace_id == w.c.id))
                .join(a, and_(a.c.workspace_id == w.c.id, a.c.seq > after))
            )
            .where(e.c.enabled == 1)
        ).one()
        return int(row[0]), _aware(row[1])

    # -- cursors ------------------------------------------------------------------------------
    def cursors(self, endpoint_ids: Sequence[str]) -> dict[tuple[str, str], CursorRow]:
        c = t.webhook_cursors
        if not endpoint_ids:
            return {}
        rows = self.conn.execute(select(c).where(c.c.endpoint_id.in_(list(endpoint_ids))))
        return {(r.workspace_id, r.endpoint_id): _cursor(r) for r in rows}

    def add_cursor(self, workspace_id: str, endpoint_id: str, last_seq: int, at: datetime) -> None:
        self.conn.execute(
            insert(t.webhook_cursors).values(workspace_id=workspace_id, endpoint_id=endpoint_id, last_seq=last_seq, updated_at=at)
        )

    def cursor(self, workspace_id: str, endpoint_id: str) -> CursorRow | None:
        c = t.webhook_cursors
        row = self.conn.execute(select(c).where(and_(c.c.workspace_id == workspace_id, c.c.endpoint_id == endpoint_id))).first()
        return _cursor(row) if row is not None else None

    def claim(self, workspace_id: str, endpoint_id: str, now: datetime, until: datetime) -> CursorRow | None:
        """Take the cursor for delivering (one sender at a time, so events leave in
        order); None when another sender holds it or it waits for a retry."""
        c = t.webhook_cursors
        done = self.conn.execute(
            update(c)
            .where(
                and_(
                    c.c.workspace_id == workspace_id,
                    c.c.endpoint_id == endpoint_id,
                    or_(c.c.claimed_until.is_(None), c.c.claimed_until < now),
                    or_(c.c.next_attempt_at.is_(None), c.c.next_attempt_at <= now),
                )
            )
            .values(claimed_until=until)
        )
        return self.cursor(workspace_id, endpoint_id) if done.rowcount else None

    def advance(self, workspace_id: str, endpoint_id: str, last_seq: int, at: datetime) -> None:
        c = t.webhook_cursors
        self.conn.execute(
            update(c)
            .where(and_(c.c.workspace_id == workspace_id, c.c.endpoint_id == endpoint_id, c.c.last_seq < last_seq))
            .values(last_seq=last_seq, attempts=0, next_attempt_at=None, last_error=None, updated_at=at)
        )

    def hold(self, workspace_id: str, endpoint_id: str, *, attempts: int, retry_at: datetime, error: str, at: datetime) -> None:
        c = t.webhook_cursors
        self.conn.execute(
            update(c)
            .where(and_(c.c.workspace_id == workspace_id, c.c.endpoint_id == endpoint_id))
            .values(attempts=attempts, next_attempt_at=retry_at, last_error=error[:2000], updated_at=at)
        )

    def release(self, workspace_id: str, endpoint_id: str) -> None:
        c = t.webhook_cursors
        self.conn.execute(
            update(c).where(and_(c.c.workspace_id == workspace_id, c.c.endpoint_id == endpoint_id)).values(claimed_until=None)
        )

    def retry_now(self, endpoint_id: str, at: datetime, workspace_id: str | None = None) -> int:
        """Cursors held for a retry become due at once; how many."""
        c = t.webhook_cursors
        stmt = update(c).where(and_(c.c.endpoint_id == endpoint_id, c.c.next_attempt_at.is_not(None)))
        if workspace_id is not None:
            stmt = stmt.where(c.c.workspace_id == workspace_id)
        return int(self.conn.execute(stmt.values(next_attempt_at=at, updated_at=at)).rowcount)

    # -- deliveries -----------------------------------------------------------------------------
    def add_delivery(self, row: DeliveryRow) -> None:
        self.conn.execute(
            insert(t.webhook_deliveries).values(
                workspace_id=row.workspace_id,
                id=row.id,
                endpoint_id=row.endpoint_id,
                message_id=row.message_id,
                seq=row.seq,
                revision=row.revision,
                event_type=row.event_type,
                attempt=row.attempt,
                succeeded=int(row.succeeded),
                status_code=row.status_code,
                error=row.error[:500] if row.error is not None else None,
                duration_ms=row.duration_ms,
                at=row.at,
            )
        )

    def deliveries(self, endpoint_id: str, *, limit: int = 50, before: tuple[datetime, str] | None = None) -> list[DeliveryRow]:
        """Newest first; `before`: the (at, id) of the last one of the previous page."""
        d = t.webhook_deliveries
        stmt = select(d).where(d.c.endpoint_id == endpoint_id)
        if before is not None:
            stmt = stmt.where(or_(d.c.at < before[0], and_(d.c.at == before[0], d.c.id < before[1])))
        rows = self.conn.execute(stmt.order_by(d.c.at.desc(), d.c.id.desc()).limit(limit))
        return [_delivery(r) for r in rows]

    def delivery(self, endpoint_id: str, delivery_id: str) -> DeliveryRow | None:
        d = t.webhook_deliveries
        row = self.conn.execute(select(d).where(and_(d.c.endpoint_id == endpoint_id, d.c.id == delivery_id))).first()
        return _delivery(row) if row is not None else None
