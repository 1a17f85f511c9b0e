"""Upgrading a workspace from one version of its product schema to the next.

Pure: given the old and the new schema (each with the workspace's own objects and
fields folded in) and what the workspace holds (roles, members, features, seat
capacities), `upgrade_workspace` returns the migrated roles and what the upgrade does
to people, so the same function plans (nothing written) and applies (one transaction
per workspace, `services.schema_upgrade`).

How a role's keys travel (the new schema's `lineage`, from `renamed_from`,
`split_from` and `removed`):
- a permission kept keeps its key; renamed: the new key; split: every part (its holders
  lose nothing); removed: its replacement, or nothing (dropped, reported as lost);
- a level, an object, a field: kept, renamed, or replaced; an unknown level blocks;
- a custom role gets nothing new otherwise; a system role that the customer cannot
  edit becomes the new version's definition, an editable one keeps the customer's
  grants plus what the product added to its definition.

What blocks a workspace (it stays on its version, the others go on): a role that a
role rule refuses on the new schema, a seat type that would hold more members than
its capacity, a system role gone that someone holds, a level gone without a
replacement, and a breach of K8 (a new object or field reaching a custom role of a
level that hands nothing out to fields it does not mention: Standard, Limited).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from rolegate.domain.fields import role_field_access
from rolegate.domain.permissions import role_permissions
from rolegate.domain.roles import Member, Role, role_from_system
from rolegate.domain.rules.role_rules import role_violations
from rolegate.domain.schema import FieldAccess, ProductSchema, frozen_map
from rolegate.domain.seats import seat_usage
from rolegate.domain.violations import Violation
from rolegate.domain.words import count_of, quoted

__all__ = [
    "FieldChange",
    "KeyMap",
    "MemberChange",
    "RoleChange",
    "SchemaDiff",
    "WorkspaceUpgrade",
    "schema_diff",
    "upgrade_workspace",
]


# -- the schema itself ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SchemaDiff:
    """What a new version changes, whatever the workspace: per part of the schema, the
    keys added, removed and renamed (`old -> new`), and permissions split."""

    version_from: int
    version_to: int
    added: Mapping[str, tuple[str, ...]]
    removed: Mapping[str, tuple[str, ...]]
    renamed: Mapping[str, tuple[tuple[str, str], ...]]
    split: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def empty(self) -> bool:
        return not (any(self.added.values()) or any(self.removed.values()) or any(self.renamed.values()) or self.split)

    def as_dict(self) -> dict[str, Any]:
        return {
            "version_from": self.version_from,
            "version_to": self.version_to,
            "added": {k: list(v) for k, v in self.added.items() if v},
            "removed": {k: list(v) for k, v in self.removed.items() if v},
            "renamed": {k: [list(p) for p in v] for k, v in self.renamed.items() if v},
            "split": {old: list(new) for old, new in self.split},
        }


def _parts(schema: ProductSchema) -> dict[str, frozenset[str]]:
    return {
        "permissions": frozenset(schema.permissions),
        "actions": frozenset(schema.actions),
        "areas": frozenset(schema.areas),
        "levels": frozenset(schema.levels),
        "seats": frozenset(schema.seats),
        "features": frozenset(schema.features),
        "objects": frozenset(schema.objects),
        "fields": frozenset(f"{o}.{f}" for o, obj in schema.objects.items() for f in obj.fields),
        "system_roles": frozenset(schema.system_roles),
    }


_KIND = {"permissions": "permission", "actions": "action", "levels": "level", "objects": "object", "fields": "field"}


def schema_diff(old: ProductSchema, new: ProductSchema) -> SchemaDiff:
    keys = KeyMap(old, new)
    before, after = _parts(old), _parts(new)
    added: dict[str, tuple[str, ...]] = {}
    removed: dict[str, tuple[str, ...]] = {}
    renamed: dict[str, tuple[tuple[str, str], ...]] = {}
    for part in before:
        kind = _KIND.get(part)
        pairs = tuple(sorted((o, n) for (k, o), n in new.lineage.renamed.items() if k == kind)) if kind else ()
        renamed[part] = pairs
        was = before[part] | {n for _, n in pairs}
        if part == "fields":
            # A field of a renamed object is the same field under the object's new key.
            was |= {f"{keys.object(o)}.{f}" for o, obj in old.objects.items() for f in obj.fields}
        added[part] = tuple(sorted(after[part] - was - frozenset(p for ps in new.lineage.split.values() for p in ps if part == "permissions")))
        removed[part] = tuple(sorted(before[part] - after[part] - {o for o, _ in pairs} - (frozenset(new.lineage.split) if part == "permissions" else frozenset())))
        if part == "fields":
            removed[part] = tuple(f for f in removed[part] if keys.field(*f.split(".", 1)) is None)
    split = tuple(sorted(new.lineage.split.items()))
    return SchemaDiff(old.version, new.version, frozen_map(added), frozen_map(removed), frozen_map(renamed), split)


class KeyMap:
    """Where each key of the old schema goes in the new one."""

    def __init__(self, old: ProductSchema, new: ProductSchema) -> None:
        self.old = old
        self.new = new
        self._lineage = new.lineage

    def _renamed(self, kind: str, key: str, current: Mapping[str, object]) -> str | None:
        if key in current:
            return key
        to = self._lineage.renamed.get((kind, key))
        if to is not None:
            return to
        return self._lineage.removed.get((kind, key))

    def permission(self, key: str) -> frozenset[str]:
        """The permissions a holder of `key` holds on the new schema (empty: dropped)."""
        parts = self._lineage.split.get(key, ())
        if parts:
            return frozenset(parts) | ({key} if key in self.new.permissions else frozenset())
        to = self._renamed("permission", key, self.new.permissions)
        return frozenset() if to is None else frozenset({to})

    def permissions(self, keys: Iterable[str]) -> frozenset[str]:
        return frozenset(p for k in keys for p in self.permission(k))

    def level(self, key: str) -> str | None:
        return self._renamed("level", key, self.new.levels)

    def object(self, key: str) -> str | None:
        return self._renamed("object", key, self.new.objects)

    def field(self, object_type: str, name: str) -> tuple[str, str] | None:
        obj = self.object(object_type)
        if obj is None:
            return None
        fields = self.new.objects[obj].fields
        if name in fields:
            return obj, name
        to = self._lineage.renamed.get(("field", f"{obj}.{name}"))
        if to is None:
            return None
        return obj, to.split(".", 1)[1]

    def fields(self, access: Mapping[tuple[str, str], FieldAccess]) -> dict[tuple[str, str], FieldAccess]:
        out: dict[tuple[str, str], FieldAccess] = {}
        for (o, f), a in access.items():
            to = self.field(o, f)
            if to is not None:
                out[to] = a
        return out

    def new_fields(self) -> frozenset[tuple[str, str]]:
        """Fields of the new schema no old field becomes (on new objects too)."""
        had = {self.field(o, f) for o, obj in self.old.objects.items() for f in obj.fields}
        return frozenset((o, f) for o, obj in self.new.objects.items() for f in obj.fields if (o, f) not in had)

    def new_objects(self) -> frozenset[str]:
        had = {self.object(o) for o in self.old.objects}
        return frozenset(o for o in self.new.objects if o not in had)


# -- one workspace -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoleChange:
    role_id: str
    name: str
    kind: str
    before: Role
    after: Role
    dropped: tuple[str, ...] = ()
    """Old grants that become nothing (removed without a replacement)."""

    @property
    def changed(self) -> bool:
        return self.before != self.after

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"role_id": self.role_id, "name": self.name, "kind": self.kind}
        if self.before.level != self.after.level:
            out["level"] = [self.before.level, self.after.level]
        out["grants_added"] = sorted(self.after.grants - self.before.grants)
        out["grants_removed"] = sorted(self.before.grants - self.after.grants)
        out["dropped"] = list(self.dropped)
        return out


@dataclass(frozen=True, slots=True)
class FieldChange:
    object_type: str
    field: str
    before: FieldAccess
    after: FieldAccess


@dataclass(frozen=True, slots=True)
class MemberChange:
    """What one member effectively holds after the upgrade, and the difference (in the
    new version's keys: a renamed permission is neither gained nor lost)."""

    member_id: str
    role_id: str
    permissions: frozenset[str]
    field_access: Mapping[tuple[str, str], FieldAccess]
    gained: tuple[str, ...]
    lost: tuple[str, ...]
    """In the new keys, and under its old key a permission removed without a replacement."""
    fields: tuple[FieldChange, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "member_id": self.member_id,
            "role_id": self.role_id,
            "gained": list(self.gained),
            "lost": list(self.lost),
            "fields": [
                {"object": c.object_type, "field": c.field, "before": c.before.label, "after": c.after.label}
                for c in self.fields
            ],
        }


@dataclass(frozen=True, slots=True)
class WorkspaceUpgrade:
    roles: Mapping[str, Role]
    """Every role after the upgrade, by id (the system roles the version adds too)."""
    system_keys: Mapping[str, str]
    """Role id -> system key, for the system roles after the upgrade."""
    added_roles: tuple[str, ...]
    removed_roles: tuple[str, ...]
    features: frozenset[str]
    seat_capacities: Mapping[str, int | None]
    role_changes: tuple[RoleChange, ...]
    member_changes: tuple[MemberChange, ...]
    seat_overflow: Mapping[str, int]
    """Seat type -> how many members more than its capacity would hold it."""
    refused: tuple[tuple[str, Violation], ...]
    """(role id, violation): what a role rule would refuse on the new schema."""
    k8: tuple[str, ...]
    problems: tuple[str, ...] = ()
    dropped_features: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """Whether the workspace can move to the new version."""
        return not (self.seat_overflow or self.refused or self.k8 or self.problems)

    @property
    def blockers(self) -> tuple[str, ...]:
        out = list(self.problems)
        out += [f"{seat}: {count_of(n, 'member')} over capacity" for seat, n in sorted(self.seat_overflow.items())]
        out += [f"role {quoted(self.roles[rid].name)}: [{v.rule_id}] {v.message}" for rid, v in self.refused]
        out += list(self.k8)
        return tuple(out)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "blockers": list(self.blockers),
            "roles": [c.as_dict() for c in self.role_changes if c.changed],
            "added_roles": list(self.added_roles),
            "removed_roles": list(self.removed_roles),
            "members": [c.as_dict() for c in self.member_changes if c.gained or c.lost or c.fields],
            "seat_overflow": dict(self.seat_overflow),
            "dropped_features": list(self.dropped_features),
            "k8": list(self.k8),
        }


def _migrate_role(keys: KeyMap, role: Role, system_key: str | None) -> tuple[Role, tuple[str, ...], str | None]:
    """The role on the new schema, the grants dropped, and a blocking problem if any."""
    old, new = keys.old, keys.new
    grants = keys.permissions(role.grants)
    dropped = tuple(sorted(g for g in role.grants if not keys.permission(g)))
    fields = keys.fields(role.field_access)
    landing = role.landing_page if role.landing_page in new.landing_pages else None
    if system_key is not None:
        definition = new.system_roles[system_key]
        fresh = role_from_system(new, definition, role_id=role.id)
        if not definition.editable:
            return fresh, dropped, None
        # The customer's grants stay; what the product added to the definition comes too.
        # A system role the old version did not define (a workspace ahead of its recorded
        # version) gets nothing added: the definition is no news to it.
        before = old.system_roles.get(system_key)
        added = definition.grants - keys.permissions(before.grants) if before is not None else frozenset()
        grants |= added
        level = new.level_for(definition.level, grants)
        return fresh.with_changes(grants=grants, level=level, field_access=fields), dropped, None
    mapped = keys.level(role.level)
    if mapped is None:
        return role, dropped, f"role {quoted(role.name)}: level {role.level} is gone and nothing replaces it"
    level = new.level_for(mapped, grants)
    migrated = replace(role, grants=grants, level=level, field_access=frozen_map(fields), landing_page=landing)
    return migrated, dropped, None


def _k8(keys: KeyMap, role: Role, features: frozenset[str]) -> list[str]:
    """K8: a custom role of a level that hands nothing out to unconfigured fields
    (Standard, Limited) gets nothing of a new object or field."""
    new = keys.new
    protected: set[str | None] = {lv for lv in new.levels if new.levels[lv].new_field_access is FieldAccess.NONE}
    protected |= {keys.level(k) for k, lv in keys.old.levels.items() if lv.new_field_access is FieldAccess.NONE}
    if role.is_system or role.level not in protected:
        return []
    out: list[str] = []
    access = role_field_access(new, role)
    for o, f in sorted(keys.new_fields()):
        floor = FieldAccess.READ if new.objects[o].fields[f].default else FieldAccess.NONE
        if access[(o, f)] > floor:
            out.append(f"K8: new field {o}.{f} would reach custom role {quoted(role.name)} ({access[(o, f)].label})")
    objects = keys.new_objects()
    for perm in sorted(role_permissions(new, role, features)):
        for g in new.permissions[perm].grants:
            obj = new.actions[g.action].object_type
            if obj in objects:
                out.append(f"K8: new object {obj} would reach custom role {quoted(role.name)} through {perm}")
    return out


def upgrade_workspace(
    old: ProductSchema,
    new: ProductSchema,
    *,
    roles: Mapping[str, Role],
    system_keys: Mapping[str, str],
    members: Sequence[Member],
    features: frozenset[str],
    seat_capacities: Mapping[str, int | None],
) -> WorkspaceUpgrade:
    """The workspace on `new`: its roles migrated and what that does to each member."""
    keys = KeyMap(old, new)
    problems: list[str] = []
    held = {m.role for m in members}
    migrated: dict[str, Role] = {}
    sys_keys: dict[str, str] = {}
    changes: list[RoleChange] = []
    removed_roles: list[str] = []
    for rid, role in roles.items():
        skey = system_keys.get(rid)
        if skey is not None and skey not in new.system_roles:
            if rid in held:
                problems.append(f"system role {quoted(role.name)} is gone from version {new.version} and members hold it")
            else:
                removed_roles.append(rid)
            continue
        after, dropped, problem = _migrate_role(keys, role, skey)
        if problem is not None:
            problems.append(problem)
        migrated[rid] = after
        if skey is not None:
            sys_keys[rid] = skey
        changes.append(RoleChange(rid, role.name, role.kind.value, role, after, dropped))
    added_roles: list[str] = []
    names = {r.name.strip().casefold(): r.name for r in migrated.values()}
    for skey, definition in new.system_roles.items():
        if skey not in system_keys.values() and skey not in migrated:
            if definition.name.strip().casefold() in names:
                problems.append(f"new system role {quoted(definition.name)}: a role of this workspace has that name")
                continue
            migrated[skey] = role_from_system(new, definition, role_id=skey)
            sys_keys[skey] = skey
            added_roles.append(skey)
    new_features = frozenset(f for f in features if f in new.features)
    caps = {s: seat_capacities.get(s) for s in new.seats}
    refused: list[tuple[str, Violation]] = []
    k8: list[str] = []
    if not problems:
        for c in changes:
            if c.role_id in migrated and c.changed:
                refused += [(c.role_id, v) for v in role_violations(new, migrated[c.role_id], new_features, system_ok=True)]
            k8 += _k8(keys, migrated[c.role_id], new_features)
    member_changes = _member_changes(keys, roles, migrated, members, features, new_features) if not problems else []
    overflow: dict[str, int] = {}
    if not problems:
        usage = seat_usage(new, migrated, members)
        overflow = {s: n - cap for s, n in usage.items() if (cap := caps.get(s)) is not None and n > cap}
    return WorkspaceUpgrade(
        roles=frozen_map(migrated),
        system_keys=frozen_map(sys_keys),
        added_roles=tuple(added_roles),
        removed_roles=tuple(removed_roles),
        features=new_features,
        seat_capacities=frozen_map(caps),
        role_changes=tuple(changes),
        member_changes=tuple(member_changes),
        seat_overflow=frozen_map(overflow),
        refused=tuple(refused),
        k8=tuple(k8),
        problems=tuple(problems),
        dropped_features=tuple(sorted(features - new_features)),
    )


def _member_changes(
    keys: KeyMap,
    before: Mapping[str, Role],
    after: Mapping[str, Role],
    members: Sequence[Member],
    features: frozenset[str],
    new_features: frozenset[str],
) -> list[MemberChange]:
    old, new = keys.old, keys.new
    cache: dict[str, tuple[frozenset[str], frozenset[str], frozenset[str], dict[tuple[str, str], FieldAccess], dict[tuple[str, str], FieldAccess]]] = {}
    out: list[MemberChange] = []
    for m in members:
        if m.role not in cache:
            b, a = before[m.role], after[m.role]
            held = role_permissions(old, b, features)
            # A permission removed without a replacement counts as lost under its old key.
            gone = frozenset(p for p in held if not keys.permission(p))
            now = role_permissions(new, a, new_features)
            cache[m.role] = (keys.permissions(held), now, gone, keys.fields(role_field_access(old, b)), role_field_access(new, a))
        was, now, gone, fields_was, fields_now = cache[m.role]
        fchanges = tuple(
            FieldChange(o, f, fields_was.get((o, f), FieldAccess.NONE), acc)
            for (o, f), acc in sorted(fields_now.items())
            if acc != fields_was.get((o, f), FieldAccess.NONE)
        )
        out.append(
            MemberChange(
                m.id, m.role, now, frozen_map(fields_now), tuple(sorted(now - was)), tuple(sorted((was - now) | gone)), fchanges
            )
        )
    return out
