"""Single sign-on's rows: an organization's identity provider, its domain claims, the
workspaces a first sign-in joins, and the sign-ins under way (`uow.sso`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from rolegate.domain.sso import DomainClaim, JitWorkspace
from rolegate.store import tables as t
from rolegate.store.repositories import _Repo, utcnow

__all__ = ["SsoDomain", "SsoFlow", "SsoProviderRow", "SsoRepository"]


@dataclass(frozen=True, slots=True)
class SsoProviderRow:
    organization_id: str
    issuer: str
    client_id: str
    client_secret: str
    """As stored: encrypted (`services/sso_secrets.py`)."""
    sso_required: bool


@dataclass(frozen=True, slots=True)
class SsoDomain:
    organization_id: str
    domain: str
    token: str
    verified_at: datetime | None

    @property
    def claim(self) -> DomainClaim:
        return DomainClaim(self.organization_id, self.domain, self.verified_at is not None)


@dataclass(frozen=True, slots=True)
class SsoFlow:
    organization_id: str
    nonce: str
    code_verifier: str
    next_path: str


class SsoRepository(_Repo):
    # -- providers --------------------------------------------------------------------------
    def provider(self, organization_id: str) -> SsoProviderRow | None:
        p = t.sso_providers
        row = self.conn.execute(select(p).where(p.c.organization_id == organization_id)).first()
        if row is None:
            return None
        return SsoProviderRow(row.organization_id, row.issuer, row.client_id, row.client_secret, bool(row.sso_required))

    def save_provider(self, row: SsoProviderRow) -> None:
        p = t.sso_providers
        values = {"issuer": row.issuer, "client_id": row.client_id, "client_secret": row.client_secret, "sso_required": int(row.sso_required)}
        done = self.conn.execute(update(p).where(p.c.organization_id == row.organization_id).values(**values, updated_at=utcnow()))
        if not done.rowcount:
            self.conn.execute(insert(p).values(organization_id=row.organization_id, **values))

    def delete_provider(self, organization_id: str) -> bool:
        p = t.sso_providers
        return bool(self.conn.execute(delete(p).where(p.c.organization_id == organization_id)).rowcount)

    # -- domains ----------------------------------------------------------------------------
    def domains(self, organization_id: str) -> list[SsoDomain]:
        d = t.sso_domains
        rows = self.conn.execute(select(d).where(d.c.organization_id == organization_id).order_by(d.c.domain))
        return [SsoDomain(r.organization_id, r.domain, r.token, r.verified_at) for r in rows]

    def claims_on(self, domain: str) -> list[SsoDomain]:
        """Every organization's claim on the domain."""
        d = t.sso_domains
        rows = self.conn.execute(select(d).where(d.c.domain == domain).order_by(d.c.organization_id))
        return [SsoDomain(r.organization_id, r.domain, r.token, r.verified_at) for r in rows]

    def verified_owner(self, domain: str) -> str | None:
        d = t.sso_domains
        row = self.conn.execute(select(d.c.organization_id).where(and_(d.c.domain == domain, d.c.verified_at.is_not(None)))).first()
        return str(row.organization_id) if row is not None else None

    def add_claim(self, organization_id: str, domain: str, token: str) -> None:
        self.conn.execute(insert(t.sso_domains).values(organization_id=organization_id, domain=domain, token=token))

    def mark_verified(self, organization_id: str, domain: str, at: datetime) -> bool:
        """False when another organization proved the domain first (the partial unique
        index `uq_sso_domains_verified` decides a race; a savepoint keeps the
        transaction usable on PostgreSQL)."""
        d = t.sso_domains
        try:
            with self.conn.begin_nested():
                self.conn.execute(update(d).where(and_(d.c.organization_id == organization_id, d.c.domain == domain)).values(verified_at=at))
        except IntegrityError:
            return False
        return True

    def remove_claim(self, organization_id: str, domain: str) -> bool:
        d = t.sso_domains
        return bool(self.conn.execute(delete(d).where(and_(d.c.organization_id == organization_id, d.c.domain == domain))).rowcount)

    # -- just-in-time workspaces ----------------------------------------------------------
    def jit_workspaces(self, organization_id: str) -> list[JitWorkspace]:
        j, w = t.sso_workspaces, t.workspaces
        rows = self.conn.execute(
            select(j.c.workspace_id, j.c.role_id).join(w, w.c.id == j.c.workspace_id).where(w.c.organization_id == organization_id).order_by(j.c.workspace_id)
        )
        return [JitWorkspace(r.workspace_id, r.role_id) for r in rows]

    def set_jit(self, workspace_id: str, role_id: str | None) -> None:
        j = t.sso_workspaces
        self.conn.execute(delete(j).where(j.c.workspace_id == workspace_id))
        self.conn.execute(insert(j).values(workspace_id=workspace_id, role_id=role_id))

    def clear_jit(self, workspace_id: str) -> bool:
        j = t.sso_workspaces
        return bool(self.conn.execute(delete(j).where(j.c.workspace_id == workspace_id)).rowcount)

    # -- sign-ins under way ---------------------------------------------------------------
    def add_flow(self, state_hash: str, flow: SsoFlow, *, expires_at: datetime) -> None:
        self.conn.execute(
            insert(t.sso_flows).values(
                state_hash=state_hash,
                organization_id=flow.organization_id,
                nonce=flow.nonce,
                code_verifier=flow.code_verifier,
                next_path=flow.next_path,
                expires_at=expires_at,
            )
        )

    def spend_flow(self, state_hash: str, now: datetime) -> SsoFlow | None:
        """The flow of this state, spent by one conditional UPDATE: a second callback
        with the same state (a replay) finds nothing."""
        f = t.sso_flows
        done = self.conn.execute(
            update(f).where(and_(f.c.state_hash == state_hash, f.c.used_at.is_(None), f.c.expires_at > now)).values(used_at=now)
        )
        if not done.rowcount:
            return None
        row = self.conn.execute(select(f).where(f.c.state_hash == state_hash)).one()
        return SsoFlow(row.organization_id, row.nonce, row.code_verifier, row.next_path)

    def purge_flows(self, before: datetime) -> int:
        f = t.sso_flows
        return int(self.conn.execute(delete(f).where(f.c.expires_at < before)).rowcount)
