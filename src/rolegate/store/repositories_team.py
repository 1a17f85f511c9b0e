"""Repositories of team management: invitations, password resets, the mail outbox,
security events (logins), and the few writes on users, records and references that
moving a member's work to another needs. They never commit; the unit of work does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, update

from rolegate.store import tables as t
from rolegate.store.repositories import _aware, _Repo, utcnow

__all__ = [
    "EmailChangeRepository",
    "EmailChangeRow",
    "InvitationRepository",
    "InvitationRow",
    "OutboxRepository",
    "OutboxRow",
    "PasswordResetRepository",
    "PasswordResetRow",
    "ReferenceRow",
    "SecurityEventRepository",
    "SecurityEventRow",
    "TeamRepository",
]


def _at(value: datetime | None) -> datetime | None:
    return _aware(value)


# -- invitations --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvitationRow:
    workspace_id: str
    id: str
    member_id: str
    email: str
    token_hash: str
    invited_by: str
    expires_at: datetime
    sent_count: int
    accepted_at: datetime | None
    revoked_at: datetime | None
    created_at: datetime

    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


def _invitation(row: Any) -> InvitationRow:
    return InvitationRow(
        workspace_id=row.workspace_id,
        id=row.id,
        member_id=row.member_id,
        email=row.email,
        token_hash=row.token_hash,
        invited_by=row.invited_by,
        expires_at=_at(row.expires_at) or utcnow(),
        sent_count=int(row.sent_count),
        accepted_at=_at(row.accepted_at),
        revoked_at=_at(row.revoked_at),
        created_at=_at(row.created_at) or utcnow(),
    )


class InvitationRepository(_Repo):
    def add(self, row: InvitationRow) -> None:
        self.conn.execute(
            insert(t.invitations).values(
                workspace_id=row.workspace_id,
                id=row.id,
                member_id=row.member_id,
                email=row.email,
                token_hash=row.token_hash,
                invited_by=row.invited_by,
                expires_at=row.expires_at,
                sent_count=row.sent_count,
                created_at=row.created_at,
                updated_at=row.created_at,
            )
        )

    def by_token_hash(self, token_hash: str) -> InvitationRow | None:
        row = self.conn.execute(select(t.invitations).where(t.invitations.c.token_hash == token_hash)).first()
        return _invitation(row) if row is not None else None

    def get(self, workspace_id: str, invitation_id: str) -> InvitationRow | None:
        i = t.invitations
        row = self.conn.execute(select(i).where(and_(i.c.workspace_id == workspace_id, i.c.id == invitation_id))).first()
        return _invitation(row) if row is not None else None

    def open_for_member(self, workspace_id: str, member_id: str) -> InvitationRow | None:
        i = t.invitations
        row = self.conn.execute(
            select(i)
            .where(and_(i.c.workspace_id == workspace_id, i.c.member_id == member_id, i.c.accepted_at.is_(None), i.c.revoked_at.is_(None)))
            .order_by(i.c.created_at.desc())
            .limit(1)
        ).first()
        return _invitation(row) if row is not None else None

    def all(self, workspace_id: str, *, open_only: bool = False) -> list[InvitationRow]:
        i = t.invitations
        stmt = select(i).where(i.c.workspace_id == workspace_id)
        if open_only:
            stmt = stmt.where(and_(i.c.accepted_at.is_(None), i.c.revoked_at.is_(None)))
        return [_invitation(r) for r in self.conn.execute(stmt.order_by(i.c.created_at, i.c.id))]

    def renew(self, workspace_id: str, invitation_id: str, *, token_hash: str, expires_at: datetime) -> None:
        i = t.invitations
        self.conn.execute(
            update(i)
            .where(and_(i.c.workspace_id == workspace_id, i.c.id == invitation_id))
            .values(token_hash=token_hash, expires_at=expires_at, sent_count=i.c.sent_count + 1, updated_at=utcnow())
        )

    def consume(self, workspace_id: str, invitation_id: str, *, token_hash: str, at: datetime) -> bool:
        """Accept the invitation if it is still open, unexpired and this token is its
        latest: one conditional UPDATE, so of N simultaneous uses exactly one sees a row
        changed (PostgreSQL re-checks the WHERE after waiting for the winner's commit;
        SQLite's writers take turns)."""
        i = t.invitations
        done = self.conn.execute(
            update(i)
            .where(
                and_(
                    i.c.workspace_id == workspace_id,
                    i.c.id == invitation_id,
                    i.c.token_hash == token_hash,
                    i.c.accepted_at.is_(None),
                    i.c.revoked_at.is_(None),
                    i.c.expires_at > at,
                )
            )
            .values(accepted_at=at, updated_at=utcnow())
        )
        return done.rowcount == 1

    def close(self, workspace_id: str, invitation_id: str, *, accepted_at: datetime | None = None, revoked_at: datetime | None = None) -> None:
        i = t.invitations
        self.conn.execute(
            update(i)
            .where(and_(i.c.workspace_id == workspace_id, i.c.id == invitation_id))
            .values(accepted_at=accepted_at, revoked_at=revoked_at, updated_at=utcnow())
        )


# -- password resets ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PasswordResetRow:
    id: str
    user_id: str
    token_hash: str
    requested_by: str
    expires_at: datetime
    used_at: datetime | None


class PasswordResetRepository(_Repo):
    def add(self, row: PasswordResetRow) -> None:
        self.conn.execute(
            insert(t.password_resets).values(
                id=row.id, user_id=row.user_id, token_hash=row.token_hash, requested_by=row.requested_by, expires_at=row.expires_at
            )
        )

    def by_token_hash(self, token_hash: str) -> PasswordResetRow | None:
        p = t.password_resets
        row = self.conn.execute(select(p).where(p.c.token_hash == token_hash)).first()
        if row is None:
            return None
        return PasswordResetRow(row.id, row.user_id, row.token_hash, row.requested_by, _at(row.expires_at) or utcnow(), _at(row.used_at))

    def consume(self, token_hash: str, at: datetime) -> bool:
        """Spend the token if it is unused and unexpired; True for exactly one of any
        number of simultaneous uses (a conditional UPDATE, see `InvitationRepository.consume`)."""
        p = t.password_resets
        done = self.conn.execute(
            update(p).where(and_(p.c.token_hash == token_hash, p.c.used_at.is_(None), p.c.expires_at > at)).values(used_at=at)
        )
        return done.rowcount == 1

    def use_all(self, user_id: str, at: datetime) -> None:
        """Spend every outstanding token of the user: one reset ends the others too."""
        p = t.password_resets
        self.conn.execute(update(p).where(and_(p.c.user_id == user_id, p.c.used_at.is_(None))).values(used_at=at))


# -- email changes ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmailChangeRow:
    id: str
    user_id: str
    new_email: str
    token_hash: str
    expires_at: datetime
    used_at: datetime | None


class EmailChangeRepository(_Repo):
    def add(self, row: EmailChangeRow) -> None:
        self.conn.execute(
            insert(t.email_changes).values(id=row.id, user_id=row.user_id, new_email=row.new_email, token_hash=row.token_hash, expires_at=row.expires_at)
        )

    def by_token_hash(self, token_hash: str) -> EmailChangeRow | None:
        e = t.email_changes
        row = self.conn.execute(select(e).where(e.c.token_hash == token_hash)).first()
        if row is None:
            return None
        return EmailChangeRow(row.id, row.user_id, row.new_email, row.token_hash, _at(row.expires_at) or utcnow(), _at(row.used_at))

    def consume(self, token_hash: str, at: datetime) -> bool:
        """Spend the link if unused and unexpired; True for exactly one of simultaneous uses."""
        e = t.email_changes
        done = self.conn.execute(update(e).where(and_(e.c.token_hash == token_hash, e.c.used_at.is_(None), e.c.expires_at > at)).values(used_at=at))
        return done.rowcount == 1

    def use_all(self, user_id: str, at: datetime) -> None:
        """Spend every open email change of the user: the newest request, or a confirmed one, ends the others."""
        e = t.email_changes
        self.conn.execute(update(e).where(and_(e.c.user_id == user_id, e.c.used_at.is_(None))).values(used_at=at))


# -- outbox -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: str
    workspace_id: str | None
    kind: str
    to_addr: str
    subject: str
    text_body: str
    html_body: str
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
    created_at: datetime


def _outbox(row: Any) -> OutboxRow:
    return OutboxRow(
        id=row.id,
        workspace_id=row.workspace_id,
        kind=row.kind,
        to_addr=row.to_addr,
        subject=row.subject,
        text_body=row.text_body,
        html_body=row.html_body,
        attempts=int(row.attempts),
        next_attempt_at=_at(row.next_attempt_at) or utcnow(),
        sent_at=_at(row.sent_at),
        last_error=row.last_error,
        created_at=_at(row.created_at) or utcnow(),
    )


class OutboxRepository(_Repo):
    def add(self, row: OutboxRow) -> None:
        self.conn.execute(
            insert(t.outbox).values(
                id=row.id,
                workspace_id=row.workspace_id,
                kind=row.kind,
                to_addr=row.to_addr,
                subject=row.subject,
                text_body=row.text_body,
                html_body=row.html_body,
                attempts=0,
                next_attempt_at=row.next_attempt_at,
                created_at=row.created_at,
            )
        )

    def due(self, now: datetime, limit: int = 50) -> list[OutboxRow]:
        o = t.outbox
        rows = self.conn.execute(
            select(o)
            .where(and_(o.c.sent_at.is_(None), o.c.next_attempt_at <= now, or_(o.c.claimed_until.is_(None), o.c.claimed_until < now)))
            .order_by(o.c.next_attempt_at, o.c.id)
            .limit(limit)
        )
        return [_outbox(r) for r in rows]

    def claim(self, message_id: str, now: datetime, until: datetime) -> bool:
        """Take the message for sending; False when another sender holds it (or sent it)."""
        o = t.outbox
        done = self.conn.execute(
            update(o)
            .where(and_(o.c.id == message_id, o.c.sent_at.is_(None), or_(o.c.claimed_until.is_(None), o.c.claimed_until < now)))
            .values(claimed_until=until)
        )
        return bool(done.rowcount)

    def mark_sent(self, message_id: str, at: datetime) -> None:
        o = t.outbox
        self.conn.execute(update(o).where(o.c.id == message_id).values(sent_at=at, claimed_until=None, attempts=o.c.attempts + 1, last_error=None))

    def mark_failed(self, message_id: str, *, error: str, retry_at: datetime) -> None:
        o = t.outbox
        self.conn.execute(
            update(o).where(o.c.id == message_id).values(attempts=o.c.attempts + 1, next_attempt_at=retry_at, claimed_until=None, last_error=error[:2000])
        )

    def all(self, *, workspace_id: str | None = None, to_addr: str | None = None, limit: int = 200) -> list[OutboxRow]:
        o = t.outbox
        stmt = select(o)
        if workspace_id is not None:
            stmt = stmt.where(o.c.workspace_id == workspace_id)
        if to_addr is not None:
            stmt = stmt.where(o.c.to_addr == to_addr.strip().lower())
        return [_outbox(r) for r in self.conn.execute(stmt.order_by(o.c.created_at.desc(), o.c.id.desc()).limit(limit))]

    def backlog(self) -> tuple[int, datetime | None]:
        """Unsent emails and when the oldest of them was written (one indexed read)."""
        o = t.outbox
        row = self.conn.execute(select(func.count(), func.min(o.c.created_at)).where(o.c.sent_at.is_(None))).one()
        return int(row[0]), _at(row[1])

    def unsent_count(self) -> int:
        o = t.outbox
        return int(self.conn.execute(select(func.count()).select_from(o).where(o.c.sent_at.is_(None))).scalar_one())


# -- security events ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SecurityEventRow:
    id: str
    at: datetime
    kind: str
    user_id: str | None
    email: str
    ip: str
    detail: str


class SecurityEventRepository(_Repo):
    def add(self, row: SecurityEventRow) -> None:
        self.conn.execute(
            insert(t.security_events).values(
                id=row.id, at=row.at, kind=row.kind, user_id=row.user_id, email=row.email[:320], ip=row.ip[:64], detail=row.detail[:300]
            )
        )

    def all(self, *, user_id: str | None = None, email: str | None = None, limit: int = 200) -> list[SecurityEventRow]:
        s = t.security_events
        stmt = select(s)
        if user_id is not None:
            stmt = stmt.where(s.c.user_id == user_id)
        if email is not None:
            stmt = stmt.where(s.c.email == email.strip().lower())
        rows = self.conn.execute(stmt.order_by(s.c.at, s.c.id).limit(limit))
        return [SecurityEventRow(r.id, _at(r.at) or utcnow(), r.kind, r.user_id, r.email, r.ip, r.detail) for r in rows]


# -- users, records and references of the team ---------------------------------------------


@dataclass(frozen=True, slots=True)
class ReferenceRow:
    """C6: a place in the host product that names a member (a playbook task ...)."""

    id: str
    kind: str
    label: str
    member_id: str


class TeamRepository(_Repo):
    def set_password(self, user_id: str, password_hash: str, *, end_sessions: bool) -> None:
        """C8: with `end_sessions`, the user's session generation moves on, so every
        session signed before no longer counts."""
        u = t.users
        values: dict[str, Any] = {"password_hash": password_hash, "updated_at": utcnow()}
        if end_sessions:
            values["session_version"] = u.c.session_version + 1
        self.conn.execute(update(u).where(u.c.id == user_id).values(**values))

    def set_first_password(self, user_id: str, password_hash: str) -> bool:
        """Set the password of an identity that has none; False when it has one by now
        (a concurrent first acceptance won), so a link never replaces a password."""
        u = t.users
        done = self.conn.execute(
            update(u).where(and_(u.c.id == user_id, u.c.password_hash.is_(None))).values(password_hash=password_hash, updated_at=utcnow())
        )
        return done.rowcount == 1

    def set_email(self, user_id: str, email: str) -> None:
        u = t.users
        self.conn.execute(update(u).where(u.c.id == user_id).values(email=email.strip().lower(), updated_at=utcnow()))

    def set_name(self, user_id: str, name: str) -> None:
        u = t.users
        self.conn.execute(update(u).where(u.c.id == user_id).values(name=name, updated_at=utcnow()))

    def session_version(self, user_id: str) -> int | None:
        u = t.users
        value = self.conn.execute(select(u.c.session_version).where(u.c.id == user_id)).scalar()
        return int(value) if value is not None else None

    def assigned_counts(self, workspace_id: str) -> dict[str, int]:
        """Records assigned per member of the workspace (one grouped query)."""
        r = t.records
        rows = self.conn.execute(
            select(r.c.assignee_id, func.count()).where(and_(r.c.workspace_id == workspace_id, r.c.assignee_id.is_not(None))).group_by(r.c.assignee_id)
        ).all()
        return {str(k): int(v) for k, v in rows}

    def assigned_by_type(self, workspace_id: str, member_id: str) -> dict[str, int]:
        r = t.records
        rows = self.conn.execute(
            select(r.c.type, func.count()).where(and_(r.c.workspace_id == workspace_id, r.c.assignee_id == member_id)).group_by(r.c.type)
        ).all()
        return {str(k): int(v) for k, v in rows}

    def reassign_records(self, workspace_id: str, from_member: str, to_member: str) -> int:
        r = t.records
        done = self.conn.execute(
            update(r).where(and_(r.c.workspace_id == workspace_id, r.c.assignee_id == from_member)).values(assignee_id=to_member, updated_at=utcnow())
        )
        return int(done.rowcount)

    def move_references(self, workspace_id: str, from_member: str, to_member: str) -> int:
        ref = t.member_references
        done = self.conn.execute(
            update(ref).where(and_(ref.c.workspace_id == workspace_id, ref.c.member_id == from_member)).values(member_id=to_member)
        )
        return int(done.rowcount)

    def delete_member(self, workspace_id: str, member_id: str) -> None:
        m = t.members
        self.conn.execute(delete(m).where(and_(m.c.workspace_id == workspace_id, m.c.id == member_id)))

    def references(self, workspace_id: str, member_id: str | None = None) -> list[ReferenceRow]:
        r = t.member_references
        where = [r.c.workspace_id == workspace_id] + ([r.c.member_id == member_id] if member_id is not None else [])
        rows = self.conn.execute(select(r.c.id, r.c.kind, r.c.label, r.c.member_id).where(and_(*where)).order_by(r.c.label, r.c.id))
        return [ReferenceRow(str(x.id), str(x.kind), str(x.label), str(x.member_id)) for x in rows]

    def remove_references(self, workspace_id: str, ids: Sequence[str]) -> int:
        r = t.member_references
        done = 0
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            done += int(self.conn.execute(delete(r).where(and_(r.c.workspace_id == workspace_id, r.c.id.in_(chunk)))).rowcount)
        return done

    def add_references(self, workspace_id: str, rows: Sequence[ReferenceRow]) -> None:
        if rows:
            self.conn.execute(
                insert(t.member_references), [{"workspace_id": workspace_id, "id": x.id, "member_id": x.member_id, "kind": x.kind, "label": x.label} for x in rows]
            )
