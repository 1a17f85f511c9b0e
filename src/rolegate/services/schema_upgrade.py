"""Upgrading every workspace of a product to a new version of its schema (issue 19).

`plan_upgrade`: for every workspace of the product on an older version, what the new
version changes and what that does to people (nothing written). `apply_upgrade`: the
same per workspace, each in its own transaction (the workspace locked, its roles
migrated, its `schema_version` set, an audit event with the diff, a new revision and
NOTIFY on commit); decisions keep using the old snapshot until that commit. A workspace
already on the version is skipped, so a killed run resumes where it stopped (the run
row stays `running` and the next `apply` of the same version continues it). A
workspace the upgrade would break is recorded `blocked` with why and stays on its
version; the others go on.

The new version is stored (`product_schemas`) before the first workspace moves, so a
workspace on it loads it like the preset (`schema_upgrade_versions.product_schema`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from rolegate.domain.errors import NotFoundError, RolegateError
from rolegate.domain.field_registry import apply_registry
from rolegate.domain.roles import Member, Role
from rolegate.domain.schema import AdminRight, ProductSchema
from rolegate.domain.schema_upgrade import SchemaDiff, WorkspaceUpgrade, schema_diff, upgrade_workspace
from rolegate.domain.workspace import Actor, Workspace
from rolegate.presets import PRESET_KEYS, load_preset, load_schema_text
from rolegate.services.context import authorize, load_state, new_id, record_change
from rolegate.services.schema_upgrade_versions import digest, product_exists, product_schema
from rolegate.store.repositories_schemas import UpgradeRun
from rolegate.store.uow import UnitOfWork

__all__ = [
    "ApplyProgress",
    "UpgradeNotice",
    "UpgradePlan",
    "UpgradeStatus",
    "WorkspacePlan",
    "apply_upgrade",
    "dismiss_upgrade_notice",
    "plan_upgrade",
    "upgrade_notice",
    "upgrade_status",
]

AUDIT_ACTION = "workspace.schema_upgrade"


@dataclass(frozen=True, slots=True)
class WorkspacePlan:
    workspace_id: str
    name: str
    organization_id: str
    version_from: int
    version_to: int
    upgrade: WorkspaceUpgrade | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.upgrade is not None and self.upgrade.ok

    @property
    def blockers(self) -> tuple[str, ...]:
        if self.error is not None:
            return (self.error,)
        assert self.upgrade is not None
        return self.upgrade.blockers

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "workspace_id": self.workspace_id,
            "name": self.name,
            "version_from": self.version_from,
            "version_to": self.version_to,
            "ok": self.ok,
            "blockers": list(self.blockers),
        }
        if self.upgrade is not None:
            out |= {k: v for k, v in self.upgrade.as_dict().items() if k not in ("ok", "blockers")}
        return out


@dataclass(frozen=True, slots=True)
class UpgradePlan:
    product: str
    version: int
    diff: SchemaDiff
    workspaces: tuple[WorkspacePlan, ...]
    up_to_date: int

    def summary(self) -> dict[str, Any]:
        ready = [w for w in self.workspaces if w.ok]
        changes = [w.upgrade for w in self.workspaces if w.upgrade is not None]
        return {
            "workspaces": len(self.workspaces) + self.up_to_date,
            "to_upgrade": len(self.workspaces),
            "ready": len(ready),
            "blocked": len(self.workspaces) - len(ready),
            "up_to_date": self.up_to_date,
            "members_gaining": sum(1 for u in changes for m in u.member_changes if m.gained),
            "members_losing": sum(1 for u in changes for m in u.member_changes if m.lost),
            "roles_changed": sum(1 for u in changes for c in u.role_changes if c.changed),
            "seat_overflows": sum(len(u.seat_overflow) for u in changes),
            "refused_roles": sum(len(u.refused) for u in changes),
            "k8_violations": sum(len(u.k8) for u in changes),
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "product": self.product,
            "version": self.version,
            "changes": self.diff.as_dict(),
            "summary": self.summary(),
            "workspaces": [w.as_dict() for w in self.workspaces],
        }


@dataclass(frozen=True, slots=True)
class ApplyProgress:
    """Told after each workspace: how far the run is and what happened to it."""

    run_id: str
    done: int
    total: int
    workspace_id: str
    outcome: str
    """`migrated`, `blocked` or `skipped` (already on the version: a resumed run)."""


@dataclass(frozen=True, slots=True)
class UpgradeStatus:
    run: UpgradeRun
    blocked: tuple[tuple[str, tuple[str, ...]], ...]
    """(workspace id, what blocks it)."""

    def as_dict(self) -> dict[str, Any]:
        r = self.run
        return {
            "id": r.id,
            "product": r.product,
            "version": r.version,
            "status": r.status,
            "migrated": r.counts.get("migrated", 0),
            "blocked": r.counts.get("blocked", 0),
            "started_at": r.started_at.isoformat(),
            "finished_at": r.finished_at.isoformat() if r.finished_at else None,
            "blocked_workspaces": [{"workspace_id": w, "blockers": list(b)} for w, b in self.blocked],
        }


def _require_platform(actor: Actor) -> None:
    if not actor.is_platform:
        raise RolegateError(
            "only the platform upgrades a product schema", fix="Use an organization API key or the CLI."
        )


def _parse(source: str) -> ProductSchema:
    return load_schema_text(source, source="the new schema")


def _require_product(uow: UnitOfWork, new: ProductSchema) -> None:
    if not product_exists(uow, new.key):
        raise RolegateError(
            f"product {new.key!r} is no product of this Rolegate",
            fix=f"`key:` is one of {', '.join(PRESET_KEYS)} or a product registered with `rolegate schema register`.",
        )


@dataclass(frozen=True, slots=True)
class ProductRegistered:
    product: str
    version: int
    name: str
    created: bool
    """False: this very schema was registered already (registering is idempotent)."""


def register_product(uow: UnitOfWork, *, actor: Actor, source: str) -> ProductRegistered:
    """A product of the SaaS's own, described in its schema file: once registered,
    workspaces are created for it by its `key` as for a preset, and its later versions
    go through `plan_upgrade`/`apply_upgrade` like a preset's. Only the platform (the
    operator's CLI) registers: a product is shared by every organization."""
    _require_platform(actor)
    new = load_schema_text(source, source="the product schema")
    if new.key in PRESET_KEYS:
        raise RolegateError(
            f"{new.key!r} is a shipped preset", fix="Give your product its own `key:`, or upgrade the preset with `rolegate schema apply`."
        )
    with uow:
        latest = uow.schemas.latest_version(new.key)
        if latest is not None:
            stored = uow.schemas.get(new.key, new.version)
            if stored is not None and stored.digest == digest(source):
                return ProductRegistered(new.key, new.version, new.name, False)
            raise RolegateError(
                f"product {new.key!r} is registered already (version {latest})",
                fix="Ship a change as a new `version:` with `rolegate schema plan` and `rolegate schema apply`.",
            )
        uow.schemas.add(new.key, new.version, source, digest(source))
        uow.commit()
    return ProductRegistered(new.key, new.version, new.name, True)


def _check_stored(uow: UnitOfWork, new: ProductSchema, source: str) -> bool:
    """Whether this version is already stored (with this very text); another text under
    a stored version is refused: a version never changes once workspaces run it."""
    if new.key in PRESET_KEYS and load_preset(new.key).version >= new.version:
        raise RolegateError(
            f"version {new.version} of {new.key!r} is the shipped preset or older",
            fix=f"Raise `version:` above {load_preset(new.key).version}.",
        )
    stored = uow.schemas.get(new.key, new.version)
    if stored is not None and stored.digest != digest(source):
        raise RolegateError(
            f"version {new.version} of {new.key!r} is already stored with another content",
            fix="Give the new schema the next version number.",
        )
    return stored is not None


def _steps(uow: UnitOfWork, ws: Workspace, new: ProductSchema) -> list[ProductSchema]:
    """The versions a workspace goes through, one by one: each version's lineage maps
    the previous one's keys."""
    return [product_schema(uow, new.key, v) for v in range(ws.schema_version + 1, new.version)] + [new]


def _plan_one(uow: UnitOfWork, ws: Workspace, new: ProductSchema) -> WorkspacePlan:
    try:
        steps = _steps(uow, ws, new)
        registry = uow.fields.registry(ws.id)
        current = apply_registry(product_schema(uow, ws.preset, ws.schema_version), registry)
    except NotFoundError as exc:
        return WorkspacePlan(ws.id, ws.name, ws.organization_id, ws.schema_version, new.version, None, exc.message)
    roles: Mapping[str, Role] = {info.role.id: info.role for info in uow.roles.all(ws.id)}
    system_keys: Mapping[str, str] = uow.schemas.system_keys(ws.id)
    members: list[Member] = uow.members.members(ws.id)
    features, caps = ws.features, ws.seat_capacities
    upgrade: WorkspaceUpgrade | None = None
    for step in steps:
        target = apply_registry(step, registry)
        upgrade = upgrade_workspace(
            current, target, roles=roles, system_keys=system_keys, members=members, features=features, seat_capacities=caps
        )
        if not upgrade.ok:
            break
        roles, system_keys, features, caps = upgrade.roles, upgrade.system_keys, upgrade.features, upgrade.seat_capacities
        current = target
    return WorkspacePlan(ws.id, ws.name, ws.organization_id, ws.schema_version, new.version, upgrade)


def _previous(uow: UnitOfWork, new: ProductSchema) -> ProductSchema:
    try:
        return product_schema(uow, new.key, new.version - 1)
    except NotFoundError:
        return load_preset(new.key)


def plan_upgrade(uow: UnitOfWork, *, actor: Actor, source: str, organization_id: str | None = None) -> UpgradePlan:
    """What upgrading every workspace of the product (of one organization, for an
    organization's key) to the schema in `source` would do. Writes nothing."""
    _require_platform(actor)
    new = _parse(source)
    with uow:
        _require_product(uow, new)
        _check_stored(uow, new, source)
        rows = uow.schemas.workspaces(new.key, organization_id=organization_id)
        plans: list[WorkspacePlan] = []
        for ws_id, version in rows:
            if version >= new.version:
                continue
            ws = uow.workspaces.get(ws_id)
            assert ws is not None  # listed just above, in this transaction
            plans.append(_plan_one(uow, ws, new))
        diff = schema_diff(_previous(uow, new), new)
    return UpgradePlan(new.key, new.version, diff, tuple(plans), len(rows) - len(plans))


def _audit_diff(plan: WorkspacePlan) -> dict[str, Any]:
    assert plan.upgrade is not None
    u = plan.upgrade
    return {
        "version": plan.version_to,
        "roles": [c.as_dict() for c in u.role_changes if c.changed],
        "added_roles": list(u.added_roles),
        "removed_roles": list(u.removed_roles),
        "members_gaining": sum(1 for m in u.member_changes if m.gained),
        "members_losing": sum(1 for m in u.member_changes if m.lost),
        "dropped_features": list(u.dropped_features),
    }


def _apply_one(uow: UnitOfWork, workspace_id: str, new: ProductSchema, run_id: str, actor: Actor) -> str:
    with uow:
        ws = uow.workspaces.lock(workspace_id)
        if ws is None or ws.schema_version >= new.version:
            return "skipped"
        plan = _plan_one(uow, ws, new)
        if not plan.ok:
            uow.schemas.record_outcome(ws.id, run_id, new.version, "blocked", {"blockers": list(plan.blockers)})
            uow.commit()
            return "blocked"
        assert plan.upgrade is not None
        before = {info.role.id: info.role for info in uow.roles.all(ws.id)}
        for rid in plan.upgrade.removed_roles:
            uow.roles.delete(ws.id, rid)
        for rid, role in plan.upgrade.roles.items():
            if rid not in before:
                uow.roles.add(ws.id, role, system_key=plan.upgrade.system_keys.get(rid))
            elif before[rid] != role:
                uow.roles.update(ws.id, role)
        if plan.upgrade.features != ws.features or dict(plan.upgrade.seat_capacities) != dict(ws.seat_capacities):
            uow.workspaces.update_settings(ws.id, features=plan.upgrade.features, seat_capacities=plan.upgrade.seat_capacities)
        for step in _steps(uow, ws, new):
            for (kind, old_key), new_key in step.lineage.renamed.items():
                if kind == "object":
                    uow.schemas.rename_object_type(ws.id, old_key, new_key)
        uow.schemas.set_version(ws.id, new.version)
        detail = _audit_diff(plan)
        uow.schemas.record_outcome(ws.id, run_id, new.version, "migrated", detail)
        record_change(uow, ws.id, actor, AUDIT_ACTION, "workspace", ws.id, {"version": ws.schema_version}, detail)
        uow.commit()
    return "migrated"


def _batches(ids: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def apply_upgrade(
    uow: Callable[[], UnitOfWork],
    *,
    actor: Actor,
    source: str,
    batch: int = 100,
    organization_id: str | None = None,
    on_progress: Callable[[ApplyProgress], None] | None = None,
) -> UpgradeStatus:
    """Move every workspace of the product to the schema in `source`, one transaction
    per workspace, `batch` workspaces listed at a time. Resumes an unfinished run of the
    same version; a workspace already on it is skipped."""
    _require_platform(actor)
    if batch < 1:
        raise RolegateError("--batch must be at least 1", fix="Pass a positive number, e.g. --batch 100.")
    new = _parse(source)
    with uow() as u:
        _require_product(u, new)
        if not _check_stored(u, new, source):
            u.schemas.add(new.key, new.version, source, digest(source))
        pending = [ws_id for ws_id, _ in u.schemas.workspaces(new.key, below=new.version, organization_id=organization_id)]
        run_id = u.schemas.open_run(new.key, new.version)
        if run_id is None:
            run_id = new_id()
            u.schemas.start_run(run_id, new.key, new.version, len(pending))
        u.commit()
    done = 0
    for chunk in _batches(pending, batch):
        for ws_id in chunk:
            outcome = _apply_one(uow(), ws_id, new, run_id, actor)
            done += 1
            if on_progress is not None:
                on_progress(ApplyProgress(run_id, done, len(pending), ws_id, outcome))
    with uow() as u:
        u.schemas.finish_run(run_id, "finished")
        u.commit()
        return _status(u, run_id)


def _status(uow: UnitOfWork, run_id: str, organization_id: str | None = None) -> UpgradeStatus:
    run = uow.schemas.run(run_id, organization_id=organization_id)
    if run is None:
        raise NotFoundError(f"no schema upgrade {run_id!r}", decision=None, fix="List the upgrades of the product.")
    outcomes = uow.schemas.outcomes(run_id, status="blocked", organization_id=organization_id)
    blocked = tuple((o.workspace_id, tuple(o.detail.get("blockers", ()))) for o in outcomes)
    return UpgradeStatus(run, blocked)


def upgrade_status(
    uow: UnitOfWork,
    *,
    actor: Actor,
    upgrade_id: str | None = None,
    product: str | None = None,
    organization_id: str | None = None,
) -> list[UpgradeStatus]:
    """One run by id, or every run (of `product`), newest first; with
    `organization_id` (an organization's key), counted over its workspaces only."""
    _require_platform(actor)
    with uow:
        ids = [upgrade_id] if upgrade_id is not None else uow.schemas.runs(product)
        return [_status(uow, i, organization_id) for i in ids]


# -- what workspace administrators see after an upgrade -------------------------------


@dataclass(frozen=True, slots=True)
class UpgradeNotice:
    workspace_id: str
    version: int
    detail: Mapping[str, Any]
    new_permissions: tuple[tuple[str, str], ...]
    """(key, label) of the permissions the version added: available to custom roles."""
    dismissed: bool


def upgrade_notice(uow: UnitOfWork, *, actor: Actor, workspace_id: str) -> UpgradeNotice | None:
    """The workspace's last upgrade, for its administrators (view roles right); None
    when there was none. `dismissed`: the acting member closed it."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_ROLES)
        last = uow.schemas.last_migration(workspace_id)
        if last is None:
            return None
        schema = state.schema
        previous = _previous(uow, schema) if schema.version > 1 else schema
        added = schema_diff(previous, schema).added.get("permissions", ())
        who = actor.member_id or actor.site_user_id or ""
        dismissed = bool(who) and uow.schemas.dismissed(workspace_id, who, last.version)
        perms = tuple((k, schema.permissions[k].label) for k in added if k in schema.permissions)
        return UpgradeNotice(workspace_id, last.version, last.detail, perms, dismissed)


def dismiss_upgrade_notice(uow: UnitOfWork, *, actor: Actor, workspace_id: str) -> None:
    """The acting member closes the notice of the workspace's last upgrade."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_ROLES)
        last = uow.schemas.last_migration(workspace_id)
        who = actor.member_id or actor.site_user_id
        if last is not None and who is not None:
            uow.schemas.dismiss(workspace_id, who, last.version)
            uow.commit()
