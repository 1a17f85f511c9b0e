"""Repositories of issue 19: the stored versions of each product schema, upgrade runs
with each workspace's outcome, and the dismissals of the "what changed" notice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update

from rolegate.store import tables as t
from rolegate.store.repositories import _aware, _Repo, utcnow

__all__ = ["StoredSchema", "UpgradeOutcome", "UpgradeRun", "SchemaRepository"]


@dataclass(frozen=True, slots=True)
class StoredSchema:
    product: str
    version: int
    source: str
    digest: str


@dataclass(frozen=True, slots=True)
class UpgradeRun:
    id: str
    product: str
    version: int
    status: str
    total: int
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class UpgradeOutcome:
    workspace_id: str
    upgrade_id: str
    version: int
    status: str
    detail: Any
    at: datetime


class SchemaRepository(_Repo):
    # -- stored versions ------------------------------------------------------------------
    def get(self, product: str, version: int) -> StoredSchema | None:
        p = t.product_schemas
        row = self.conn.execute(select(p).where(and_(p.c.product == product, p.c.version == version))).first()
        return StoredSchema(row.product, row.version, row.source, row.digest) if row is not None else None

    def add(self, product: str, version: int, source: str, digest: str) -> None:
        self.conn.execute(insert(t.product_schemas).values(product=product, version=version, source=source, digest=digest))

    def latest_version(self, product: str) -> int | None:
        p = t.product_schemas
        return self.conn.execute(select(func.max(p.c.version)).where(p.c.product == product)).scalar()

    # -- workspaces of a product ----------------------------------------------------------
    def workspaces(self, product: str, *, below: int | None = None, organization_id: str | None = None) -> list[tuple[str, int]]:
        """(workspace id, schema version) of every workspace of `product`, in creation
        order; `below`: only those on an older version than it."""
        w = t.workspaces
        stmt = select(w.c.id, w.c.schema_version).where(w.c.preset == product)
        if below is not None:
            stmt = stmt.where(w.c.schema_version < below)
        if organization_id is not None:
            stmt = stmt.where(w.c.organization_id == organization_id)
        return [(r.id, r.schema_version) for r in self.conn.execute(stmt.order_by(w.c.created_at, w.c.id))]

    def system_keys(self, workspace_id: str) -> dict[str, str]:
        """Role id -> system key, for the workspace's system roles."""
        r = t.roles
        stmt = select(r.c.id, r.c.system_key).where(and_(r.c.workspace_id == workspace_id, r.c.system_key.is_not(None)))
        return {row.id: row.system_key for row in self.conn.execute(stmt)}

    def rename_object_type(self, workspace_id: str, old: str, new: str) -> None:
        """An object renamed by a new schema version: the workspace's records (and their
        children's parent references) and its own fields on that object follow."""
        r, f = t.records, t.registry_fields
        self.conn.execute(update(r).where(and_(r.c.workspace_id == workspace_id, r.c.type == old)).values(type=new))
        self.conn.execute(update(r).where(and_(r.c.workspace_id == workspace_id, r.c.parent_type == old)).values(parent_type=new))
        self.conn.execute(update(f).where(and_(f.c.workspace_id == workspace_id, f.c.object_type == old)).values(object_type=new))

    def set_version(self, workspace_id: str, version: int) -> None:
        self.conn.execute(update(t.workspaces).where(t.workspaces.c.id == workspace_id).values(schema_version=version, updated_at=utcnow()))

    # -- upgrade runs -----------------------------------------------------------------------
    def start_run(self, run_id: str, product: str, version: int, total: int) -> None:
        self.conn.execute(insert(t.schema_upgrades).values(id=run_id, product=product, version=version, status="running", total=total))

    def open_run(self, product: str, version: int) -> str | None:
        """The run of this version that has not finished (a killed `apply`), to resume."""
        u = t.schema_upgrades
        stmt = select(u.c.id).where(and_(u.c.product == product, u.c.version == version, u.c.status == "running"))
        return self.conn.execute(stmt.order_by(u.c.started_at.desc()).limit(1)).scalar()

    def finish_run(self, run_id: str, status: str) -> None:
        u = t.schema_upgrades
        self.conn.execute(update(u).where(u.c.id == run_id).values(status=status, finished_at=utcnow()))

    def run(self, run_id: str, *, organization_id: str | None = None) -> UpgradeRun | None:
        """The run, its outcomes counted (those of one organization's workspaces only,
        with `organization_id`: a tenant learns nothing of another's)."""
        u, o = t.schema_upgrades, t.schema_upgrade_workspaces
        row = self.conn.execute(select(u).where(u.c.id == run_id)).first()
        if row is None:
            return None
        stmt = select(o.c.status, func.count().label("n")).where(o.c.upgrade_id == run_id)
        if organization_id is not None:
            stmt = stmt.where(o.c.workspace_id.in_(_of_organization(organization_id)))
        counts = {r.status: int(r.n) for r in self.conn.execute(stmt.group_by(o.c.status))}
        started = _aware(row.started_at)
        assert started is not None
        return UpgradeRun(row.id, row.product, row.version, row.status, row.total, started, _aware(row.finished_at), counts)

    def runs(self, product: str | None = None) -> list[str]:
        u = t.schema_upgrades
        stmt = select(u.c.id).order_by(u.c.started_at.desc(), u.c.id.desc())
        if product is not None:
            stmt = stmt.where(u.c.product == product)
        return [r.id for r in self.conn.execute(stmt)]

    def record_outcome(self, workspace_id: str, run_id: str, version: int, status: str, detail: Any) -> None:
        o = t.schema_upgrade_workspaces
        key = and_(o.c.workspace_id == workspace_id, o.c.upgrade_id == run_id)
        if self.conn.execute(select(o.c.status).where(key)).first() is None:
            self.conn.execute(insert(o).values(workspace_id=workspace_id, upgrade_id=run_id, version=version, status=status, detail=detail))
        else:  # a blocked workspace tried again by a resumed run
            self.conn.execute(update(o).where(key).values(version=version, status=status, detail=detail, at=utcnow()))

    def outcomes(self, run_id: str, *, status: str | None = None, organization_id: str | None = None) -> list[UpgradeOutcome]:
        o = t.schema_upgrade_workspaces
        stmt = select(o).where(o.c.upgrade_id == run_id)
        if status is not None:
            stmt = stmt.where(o.c.status == status)
        if organization_id is not None:
            stmt = stmt.where(o.c.workspace_id.in_(_of_organization(organization_id)))
        return [_outcome(r) for r in self.conn.execute(stmt.order_by(o.c.at, o.c.workspace_id))]

    def last_migration(self, workspace_id: str) -> UpgradeOutcome | None:
        """The workspace's newest upgrade that went through (the notice's content)."""
        o = t.schema_upgrade_workspaces
        stmt = select(o).where(and_(o.c.workspace_id == workspace_id, o.c.status == "migrated"))
        row = self.conn.execute(stmt.order_by(o.c.version.desc()).limit(1)).first()
        return _outcome(row) if row is not None else None

    # -- the notice -------------------------------------------------------------------------
    def dismissed(self, workspace_id: str, member_id: str, version: int) -> bool:
        d = t.upgrade_notice_dismissals
        stmt = select(d.c.version).where(and_(d.c.workspace_id == workspace_id, d.c.member_id == member_id, d.c.version == version))
        return self.conn.execute(stmt).first() is not None

    def dismiss(self, workspace_id: str, member_id: str, version: int) -> None:
        if not self.dismissed(workspace_id, member_id, version):
            self.conn.execute(insert(t.upgrade_notice_dismissals).values(workspace_id=workspace_id, member_id=member_id, version=version))


def _of_organization(organization_id: str) -> Any:
    return select(t.workspaces.c.id).where(t.workspaces.c.organization_id == organization_id)


def _outcome(row: Any) -> UpgradeOutcome:
    at = _aware(row.at)
    assert at is not None
    return UpgradeOutcome(row.workspace_id, row.upgrade_id, row.version, row.status, row.detail, at)

