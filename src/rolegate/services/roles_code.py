"""Roles as code: a workspace's roles, features and seat capacities as a document
(`rolegate export`), the difference a document would make and its impact on members
(`rolegate plan`), and applying it through the same services as every other change
(`rolegate apply`): same rules, same audit, and nothing done when nothing differs.

The document (YAML in the CLI; any JSON-like mapping here)::

    format: 1
    preset: email_marketing
    features: [sms]
    seat_capacities: {}
    roles:
      - {name: Campaign editor, level: account_administrator, grants: [...], ...}
      - {system: site_administrator, grants: [...]}   # an edited system role

Custom roles are matched by name (case-insensitive), system roles by key. A custom role
of the workspace missing from the document is deleted only with `prune`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rolegate.domain.errors import RolegateError
from rolegate.domain.field_registry import FieldRegistry, RegisteredField
from rolegate.domain.permissions import role_permissions
from rolegate.domain.roles import Role
from rolegate.domain.schema import AdminRight
from rolegate.domain.words import count_of
from rolegate.domain.workspace import Actor
from rolegate.services.context import WorkspaceState, authorize, load_state
from rolegate.services.fields import add_field, add_object, convert_to_synced, set_integration_access
from rolegate.services.roles import create_role, delete_role, update_role
from rolegate.services.workspaces import set_features, set_seat_capacities
from rolegate.store.repositories import _field_json
from rolegate.store.uow import UnitOfWork

__all__ = ["FORMAT", "Plan", "PlannedChange", "Refusal", "apply_document", "export_document", "plan_document"]

FORMAT = 1


class _RoleDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    system: str | None = None
    level: str | None = None
    grants: list[str] = []
    landing_page: str | None = None
    description: str = ""
    field_access: dict[str, dict[str, str]] = {}


class _ObjectDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str
    label: str


class _FieldDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    object: str
    name: str
    label: str
    synced_from: str | None = None
    integration_access: str | None = None


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")
    format: int
    preset: str
    workspace: str = ""
    features: list[str] = []
    seat_capacities: dict[str, int | None] = {}
    objects: list[_ObjectDoc] = []
    """The workspace's own objects (K6), added on top of the preset's."""
    fields: list[_FieldDoc] = []
    """The workspace's own (newly mapped) fields (K8, K9), on the preset's or its own objects."""
    roles: list[_RoleDoc] = []


@dataclass(frozen=True, slots=True)
class PlannedChange:
    """One change: `kind` is features, seats, object.add, field.add, field.sync,
    field.integration_access, role.create, role.update or role.delete (applied in that
    order)."""

    kind: str
    target: str
    before: Any
    after: Any
    holders: int = 0
    gained: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()
    role_id: str | None = None
    """The role updated or deleted; for role.create, None (the name is in `after`)."""

    @property
    def impact(self) -> str:
        if not self.holders:
            return "no member holds it" if self.kind.startswith("role.") else ""
        parts = []
        if self.gained:
            parts.append(f"gain {', '.join(self.gained)}")
        if self.lost:
            parts.append(f"lose {', '.join(self.lost)}")
        return f"{count_of(self.holders, 'member')} " + ("; ".join(parts) if parts else "keep the same effective permissions")


@dataclass(frozen=True, slots=True)
class Plan:
    workspace_id: str
    changes: list[PlannedChange] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    """What `apply` would refuse (filled by `plan_document`); `apply` refuses all of it."""

    @property
    def empty(self) -> bool:
        return not self.changes

    def lines(self) -> list[str]:
        if self.empty:
            return ["no changes"]
        out = []
        for c in self.changes:
            line = f"{c.kind} {c.target}"
            if c.kind in ("features", "seats"):
                line += f": {c.before} -> {c.after}"
            elif c.kind == "role.update":
                line += ": " + ", ".join(sorted(k for k in c.after if c.before.get(k) != c.after.get(k)))
            if c.impact:
                line += f" ({c.impact})"
            out.append(line)
        for r in self.refusals:
            out += r.lines()
        return out


def _role_doc(role: Role) -> dict[str, Any]:
    data: dict[str, Any] = {"system": role.id} if role.is_system else {"name": role.name}
    data |= {"level": role.level, "grants": sorted(role.grants)}
    if role.landing_page is not None:
        data["landing_page"] = role.landing_page
    if role.description:
        data["description"] = role.description
    if role.field_access:
        data["field_access"] = _field_json(role.field_access)
    return data


def _field_doc(f: RegisteredField) -> dict[str, Any]:
    data: dict[str, Any] = {"object": f.object_type, "name": f.name, "label": f.label}
    if f.synced_from is not None:
        data["synced_from"] = f.synced_from
    if f.integration_access is not None:
        data["integration_access"] = f.integration_access.label
    return data


def export_document(uow: UnitOfWork, *, actor: Actor, workspace_id: str) -> dict[str, Any]:
    """Custom roles, edited system roles, field permissions, features, seat capacities,
    and the workspace's own objects and fields (those added on top of the preset)."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_ROLES)
        ws = state.workspace
        registry = uow.fields.registry(ws.id)
        roles = sorted(state.roles.values(), key=lambda r: (not r.is_system, r.name.lower()))
        return {
            "format": FORMAT,
            "preset": ws.preset,
            "workspace": ws.name,
            "features": sorted(ws.features),
            "seat_capacities": dict(sorted(ws.seat_capacities.items())),
            "objects": [{"key": o.key, "label": o.label} for o in registry.objects],
            # Added fields, and preset fields the workspace converted to synced (K10) or
            # whose integration user's permission it set (K9): applied elsewhere, the
            # roles' field access means the same.
            "fields": [_field_doc(f) for f in registry.fields if f.added or f.synced_from is not None or f.integration_access is not None],
            "roles": [_role_doc(r) for r in roles],
        }


def _parse(doc: Mapping[str, Any], state: WorkspaceState) -> _Document:
    try:
        parsed = _Document.model_validate(dict(doc))
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise RolegateError(f"the roles file is not valid: {where}", fix="Start from `rolegate export` and edit that.") from None
    if parsed.format != FORMAT:
        raise RolegateError(f"the roles file has format {parsed.format}, this Rolegate reads {FORMAT}", fix="Export it again with this version.")
    if parsed.preset != state.workspace.preset:
        raise RolegateError(
            f"the roles file is for preset {parsed.preset!r}, workspace {state.workspace.name!r} runs {state.workspace.preset!r}",
            fix="Apply it to a workspace of the same product.",
        )
    for r in parsed.roles:
        if (r.name is None) == (r.system is None):
            raise RolegateError("each role in the roles file has either `name` (custom) or `system` (a system role's key)", fix="Fix that role entry.")
        if r.system is not None and r.system not in state.roles:
            raise RolegateError(f"no system role {r.system!r} in preset {state.workspace.preset!r}", fix=f"Use one of {', '.join(state.schema.system_roles)}.")
    return parsed


def _desired(state: WorkspaceState, r: _RoleDoc, existing: Role | None) -> dict[str, Any]:
    level = r.level or (existing.level if existing is not None else None) or ""
    return {
        "level": level,
        "grants": _with_floor(state, level, r.grants),
        "landing_page": r.landing_page,
        "description": r.description,
        "field_access": {o: dict(sorted(f.items())) for o, f in sorted(r.field_access.items())},
    }


def _with_floor(state: WorkspaceState, level: str, grants: Iterable[str]) -> list[str]:
    """Grants as stored hold the level's floor or not, depending on how the role was made
    (created: with it; cloned from a system role: without); the floor is held either way."""
    lv = state.schema.levels.get(level)
    return sorted(set(grants) | (lv.floor if lv is not None else frozenset()))


def _current(state: WorkspaceState, role: Role) -> dict[str, Any]:
    return {
        "level": role.level,
        "grants": _with_floor(state, role.level, role.grants),
        "landing_page": role.landing_page,
        "description": role.description,
        "field_access": _field_json(role.field_access),
    }


def _plan(uow: UnitOfWork, state: WorkspaceState, doc: _Document, prune: bool) -> Plan:
    ws, schema = state.workspace, state.schema
    changes: list[PlannedChange] = []
    holders: dict[str, int] = {}
    for m in state.members:
        if m.status.value != "disabled":
            holders[m.role] = holders.get(m.role, 0) + 1
    feats = frozenset(doc.features)
    if feats != ws.features:
        affected = 0
        gained: set[str] = set()
        lost: set[str] = set()
        for role in state.roles.values():
            before, after = role_permissions(schema, role, ws.features), role_permissions(schema, role, feats & schema.features.keys())
            if before != after:
                affected += holders.get(role.id, 0)
                gained |= after - before
                lost |= before - after
        changes.append(PlannedChange("features", "workspace", sorted(ws.features), sorted(feats), affected, tuple(sorted(gained)), tuple(sorted(lost))))
    caps = dict(ws.seat_capacities) | doc.seat_capacities
    if caps != dict(ws.seat_capacities):
        changes.append(PlannedChange("seats", "workspace", dict(ws.seat_capacities), caps))
    registry = uow.fields.registry(ws.id)
    have_objects = {o.key for o in registry.objects}
    for o in doc.objects:
        if o.key not in have_objects:
            changes.append(PlannedChange("object.add", repr(o.key), None, {"key": o.key, "label": o.label}))
    for f in doc.fields:
        changes += _field_changes(state, registry, f)
    by_name = {r.name.strip().lower(): r for r in state.roles.values() if not r.is_system}
    seen: set[str] = set()
    eval_feats = feats & schema.features.keys()
    for r in doc.roles:
        existing = state.roles.get(r.system) if r.system is not None else by_name.get((r.name or "").strip().lower())
        label = r.system if r.system is not None else (r.name or "").strip()
        want = _desired(state, r, existing)
        if existing is None:
            changes.append(PlannedChange("role.create", repr(label), None, want | {"name": label}))
            continue
        seen.add(existing.id)
        have = _current(state, existing)
        if r.landing_page is None:
            want["landing_page"] = have["landing_page"]  # the services cannot clear a landing page; absent means keep
        if want == have:
            continue
        n = holders.get(existing.id, 0)
        before = role_permissions(schema, existing, eval_feats)
        after_role = existing.with_changes(level=want["level"] or None, grants=want["grants"])
        after = role_permissions(schema, after_role, eval_feats) if after_role.level in schema.levels else frozenset()
        changes.append(PlannedChange("role.update", repr(existing.name), have, want, n, tuple(sorted(after - before)), tuple(sorted(before - after)), existing.id))
    if prune:
        for role in state.roles.values():
            if not role.is_system and role.id not in seen:
                n = holders.get(role.id, 0)
                changes.append(PlannedChange("role.delete", repr(role.name), _current(state, role), None, n, (), tuple(sorted(role_permissions(schema, role, ws.features))), role.id))
    return Plan(ws.id, changes)


class _Joined(UnitOfWork):
    """The caller's open unit of work, lent to the services: their `with` and their
    `commit()` join the caller's transaction, so every change of a roles file is applied
    (or tried, for `plan`) in one transaction the caller commits or rolls back."""

    def __init__(self, outer: UnitOfWork) -> None:  # no super().__init__(): everything is the outer unit's
        self.__dict__["_outer"] = outer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["_outer"], name)

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        return None

    def revision_changed(self, workspace_id: str, revision: int) -> None:
        self.__dict__["_outer"].revision_changed(workspace_id, revision)

    def after_commit(self, callback: Callable[[], None]) -> None:
        self.__dict__["_outer"].after_commit(callback)

    def commit(self) -> None:
        return None  # the caller commits (apply) or rolls back (plan)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A change of the plan that a rule (or a check of the services) refuses."""

    change: PlannedChange
    error: RolegateError

    def lines(self) -> list[str]:
        head = f"refused {self.change.kind} {self.change.target}"
        if not self.error.violations:
            return [f"{head}: {self.error.message}"]
        return [f"{head}: [{v.rule_id}] {v.message}" for v in self.error.violations]


_ORDER = {"features": 0, "seats": 1, "object.add": 2, "field.add": 3, "field.sync": 4, "field.integration_access": 5}
"""Features and seats first, then the objects and fields the roles' field access names."""


def _run_changes(uow: UnitOfWork, actor: Actor, workspace_id: str, plan: Plan, *, stop: bool) -> list[Refusal]:
    """Each change of `plan` through the services, inside the caller's transaction;
    a refused change is noted (and, with `stop`, ends the run by raising)."""
    joined = _Joined(uow)
    refusals: list[Refusal] = []
    for c in sorted(plan.changes, key=lambda c: _ORDER.get(c.kind, len(_ORDER))):
        try:
            _change(joined, actor, workspace_id, c)
        except RolegateError as exc:
            if stop:
                raise
            refusals.append(Refusal(c, exc))
    return refusals


def _change(uow: UnitOfWork, actor: Actor, workspace_id: str, c: PlannedChange) -> None:
    want = c.after
    if c.kind == "features":
        set_features(uow, actor=actor, workspace_id=workspace_id, features=want)
    elif c.kind == "seats":
        set_seat_capacities(uow, actor=actor, workspace_id=workspace_id, seat_capacities=want)
    elif c.kind == "object.add":
        add_object(uow, actor=actor, workspace_id=workspace_id, key=want["key"], label=want["label"])
    elif c.kind == "field.add":
        add_field(
            uow,
            actor=actor,
            workspace_id=workspace_id,
            object_type=want["object"],
            name=want["name"],
            label=want["label"],
            synced_from=want["synced_from"],
            integration_access=want["integration_access"],
        )
    elif c.kind == "field.sync":
        convert_to_synced(uow, actor=actor, workspace_id=workspace_id, object_type=want["object"], name=want["name"], integration=want["synced_from"])
    elif c.kind == "field.integration_access":
        set_integration_access(uow, actor=actor, workspace_id=workspace_id, object_type=want["object"], name=want["name"], access=want["access"])
    elif c.kind == "role.create":
        create_role(
            uow,
            actor=actor,
            workspace_id=workspace_id,
            name=want["name"],
            level=want["level"] or None,
            grants=want["grants"],
            landing_page=want["landing_page"],
            description=want["description"],
            field_access=want["field_access"],
        )
    elif c.kind == "role.update":
        assert c.role_id is not None
        update_role(
            uow,
            actor=actor,
            workspace_id=workspace_id,
            role_id=c.role_id,
            level=want["level"] or None,
            grants=want["grants"],
            landing_page=want["landing_page"],
            description=want["description"],
            field_access=want["field_access"],
        )
    else:  # role.delete
        assert c.role_id is not None
        delete_role(uow, actor=actor, workspace_id=workspace_id, role_id=c.role_id)


def _field_changes(state: WorkspaceState, registry: FieldRegistry, f: _FieldDoc) -> list[PlannedChange]:
    """A field of the file: added where the workspace lacks it; a field it has (the
    preset's or its own) is converted to synced (K10) and given the integration user's
    permission (K9) as the file says. A file never makes a synced field local again."""
    target = repr(f"{f.object}.{f.name}")
    have = registry.field(f.object, f.name)
    if have is None and f.name not in _preset_fields(state, f.object):
        return [PlannedChange("field.add", target, None, f.model_dump())]
    synced_now = (have.synced_from if have is not None else None) or _preset_synced_from(state, f.object, f.name)
    access_now = have.integration_access.label if have is not None and have.integration_access is not None else None
    out: list[PlannedChange] = []
    if f.synced_from is not None and f.synced_from != synced_now:
        out.append(PlannedChange("field.sync", target, synced_now, {"object": f.object, "name": f.name, "synced_from": f.synced_from}))
    if f.integration_access is not None and f.integration_access != access_now:
        out.append(PlannedChange("field.integration_access", target, access_now, {"object": f.object, "name": f.name, "access": f.integration_access}))
    return out


def _preset_synced_from(state: WorkspaceState, object_type: str, name: str) -> str | None:
    obj = state.schema.objects.get(object_type)
    fdef = obj.fields.get(name) if obj is not None else None
    return fdef.synced_from if fdef is not None else None


def _preset_fields(state: WorkspaceState, object_type: str) -> frozenset[str]:
    obj = state.schema.objects.get(object_type)
    return frozenset(obj.fields) if obj is not None else frozenset()


def plan_document(uow: UnitOfWork, *, actor: Actor, workspace_id: str, document: Mapping[str, Any], prune: bool = False) -> Plan:
    """What applying `document` would change, who it would affect, and every refusal
    `apply` would hit: the changes run through the same services as `apply`, in one
    transaction that is rolled back. Writes nothing."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_ROLES)
        plan = _plan(uow, state, _parse(document, state), prune)
        refusals = _run_changes(uow, actor, workspace_id, plan, stop=False)
        return Plan(plan.workspace_id, plan.changes, refusals)  # never committed: rolled back on exit


def apply_document(uow: UnitOfWork, *, actor: Actor, workspace_id: str, document: Mapping[str, Any], prune: bool = False) -> Plan:
    """Apply the plan through the services (same rules, one audit event per change) in
    one transaction: all of it, or nothing when a change is refused (the error names
    the rule that refused it)."""
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.VIEW_ROLES)
        plan = _plan(uow, state, _parse(document, state), prune)
        _run_changes(uow, actor, workspace_id, plan, stop=True)
        uow.commit()
        return plan
