"""Hypothesis strategies for Rolegate: random valid product schemas and workspaces.

Every strategy of the test suite lives here. `schema_dicts()` draws a raw product
schema (the YAML data, as a dict) that is valid by construction: object forests up to
three ancestors deep, assignable and non-assignable objects (including non-assignable
children of assignable parents), scoped grants only where an object or one of its
ancestors carries an assignee, acyclic `requires` (a permission only requires
permissions declared before it), optional feature gates, levels with floor within
ceiling, fields that are default and/or synced from one integration. No landing pages,
so N4 never refuses a role.

`worlds()` adds a workspace to such a schema: enabled features, the schema's system
role plus random custom roles, an active holder of every role and more members of
any status, a record forest that follows the object parents (with a few orphans and
dangling parents, and stray assignees on non-assignable records), and random queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from hypothesis import strategies as st

from rolegate.domain.field_registry import FieldRegistry, RegisteredField, RegisteredObject
from rolegate.domain.roles import Member, MemberStatus, Role, RoleKind, role_from_system
from rolegate.domain.schema import FieldAccess, ProductSchema, frozen_map
from rolegate.domain.schema_build import parse_schema
from rolegate.engine import Record, RecordRef

__all__ = [
    "ADMIN_KEYS",
    "INTEGRATION",
    "MISSING_ID",
    "OUTSIDER",
    "SYSTEM_ROLE",
    "UNKNOWN_MEMBER",
    "Query",
    "World",
    "schema_dicts",
    "worlds",
]

ADMIN_KEYS = ("view_roles", "manage_roles", "manage_members", "assign_roles", "assign_records", "view_audit")
ACCESS = ("none", "read", "write")
SCOPES = ("all", "assigned", "unassigned")
INTEGRATION = "crm"
SYSTEM_ROLE = "owner"
UNKNOWN_MEMBER = "ghost"
"""A member id that is not in the workspace."""
OUTSIDER = "outsider"
"""An assignee that is not a member of the workspace (a record assigned to someone else)."""
MISSING_ID = "missing"
"""A record id that is never in the record index."""

T = TypeVar("T")

_STATUSES = (MemberStatus.ACTIVE,) * 3 + (MemberStatus.INVITED, MemberStatus.DISABLED)


# -- schemas -------------------------------------------------------------------------------


_BOOL = st.booleans()


def _often(draw: st.DrawFn) -> bool:
    """True three times in four; shrinks to False."""
    return draw(st.integers(0, 3)) > 0


def _rarely(draw: st.DrawFn) -> bool:
    """True once in four; shrinks to False."""
    return draw(st.integers(0, 3)) == 3


def _subset(draw: st.DrawFn, items: list[str], *, often: bool = False) -> list[str]:
    """Each item in or out (cheaper to draw and to shrink than a list strategy)."""
    return [item for item in items if (_often(draw) if often else draw(_BOOL))]


def _some(draw: st.DrawFn, items: list[str], most: int) -> list[str]:
    """Up to `most` distinct items, any of them."""
    if not items:
        return []
    return sorted({_pick(draw, items) for _ in range(draw(st.integers(0, most)))}, key=items.index)


def _pick(draw: st.DrawFn, items: list[T] | tuple[T, ...]) -> T:
    return items[draw(st.integers(0, len(items) - 1))]


def _maybe(draw: st.DrawFn, items: list[T] | tuple[T, ...]) -> T | None:
    return _pick(draw, items) if items and draw(_BOOL) else None


@st.composite
def schema_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A raw product schema that `parse_schema` accepts."""
    features = {f"f{i}": {"label": f"Feature {i}", "default": draw(_BOOL)} for i in range(draw(st.integers(1, 4)))}

    # Objects: o<i> may only have a parent o<j> with j < i, so the forest is acyclic and
    # parents come first; depth counts the ancestors (at most 3).
    objects: dict[str, dict[str, Any]] = {}
    depth: dict[str, int] = {}
    carried: dict[str, bool] = {}  # the object or an ancestor is assignable
    actions: dict[str, dict[str, Any]] = {}
    integ_caps: dict[str, str] = {}
    default_cap = _pick(draw, ACCESS)
    for i in range(draw(st.integers(1, 4))):
        key = f"o{i}"
        candidates = [o for o in objects if depth[o] < 3]
        # Three in four objects have a parent, most often the latest (deepest) candidate.
        parent = None
        if candidates and _often(draw):
            parent = candidates[-1] if _often(draw) else _pick(draw, candidates)
        depth[key] = 0 if parent is None else depth[parent] + 1
        assignable = draw(_BOOL)
        carried[key] = assignable or (parent is not None and carried[parent])
        obj: dict[str, Any] = {"label": f"Object {i}"}
        if parent is not None:
            obj["parent"] = parent
        if assignable:
            obj["assignable"] = True
            if draw(_BOOL):
                actions[f"{key}.be_assigned"] = {"object": key}
                obj["assignee_action"] = f"{key}.be_assigned"
        if draw(st.integers(0, 4)) > 0:  # most objects have a view action
            actions[f"{key}.view"] = {"label": f"View {key}", "object": key}
            obj["view_action"] = f"{key}.view"
        for extra in ("edit", "delete")[: draw(st.integers(1, 2))]:
            actions[f"{key}.{extra}"] = {"object": key}
        fields: dict[str, dict[str, Any]] = {}
        for k in range(draw(st.integers(0, 3))):
            fdef: dict[str, Any] = {}
            if draw(_BOOL):
                fdef["default"] = True
            if draw(_BOOL):
                fdef["synced_from"] = INTEGRATION
                cap = _maybe(draw, ACCESS)
                if cap is not None:
                    integ_caps[f"{key}.x{k}"] = cap
            fields[f"x{k}"] = fdef
        if fields:
            obj["fields"] = fields
        objects[key] = obj
    for i in range(draw(st.integers(1, 2))):
        actions[f"g{i}"] = {"label": f"Global {i}"}
    actions["admin.manage"] = {}
    action_keys = list(actions)

    areas = {f"a{i}": {"label": f"Area {i}"} for i in range(draw(st.integers(1, 3)))}
    permissions: dict[str, dict[str, Any]] = {}
    for i in range(draw(st.integers(3, 15))):
        grants: list[Any] = []
        if _often(draw):
            # Most permissions are about one object: some of its actions (view, edit ...).
            focus = _pick(draw, list(objects))
            granted = _some(draw, [a for a, spec in actions.items() if spec.get("object") == focus], 3)
        else:
            granted = _some(draw, action_keys, 3)
        for action in granted:
            obj_key = actions[action].get("object")
            scope = _pick(draw, SCOPES) if obj_key is not None and carried[obj_key] else "all"
            if scope == "all" and draw(_BOOL):
                grants.append(action)
            else:
                grants.append({"action": action, "scope": scope})
        perm: dict[str, Any] = {"label": f"Permission {i}", "area": _pick(draw, list(areas))}
        if grants:
            perm["grants"] = grants
        requires = _some(draw, list(permissions), 3) if draw(_BOOL) else []  # earlier ones: acyclic
        if requires:
            perm["requires"] = requires
        feature = _pick(draw, list(features)) if _rarely(draw) else None
        if feature is not None:
            perm["feature"] = feature
        # A random letter in front of the index, so that the keys' sorted order is
        # not the order in which they require each other.
        permissions[f"{'pqrs'[draw(st.integers(0, 3))]}{i}"] = perm
    perm_keys = list(permissions)

    levels: dict[str, dict[str, Any]] = {}
    ceilings: dict[str, set[str]] = {}
    for i in range(draw(st.integers(1, 3))):
        form = _pick(draw, ("all", "list", "except"))
        if form == "all":
            ceiling: Any = "all"
            ceilings[f"l{i}"] = set(perm_keys)
        elif form == "list":
            ceiling = _subset(draw, perm_keys, often=True)
            ceilings[f"l{i}"] = set(ceiling)
        else:
            ceiling = {"all_except": _some(draw, perm_keys, 3)}
            ceilings[f"l{i}"] = set(perm_keys) - set(ceiling["all_except"])
        level: dict[str, Any] = {"label": f"Level {i}", "rank": 10 * i + draw(st.integers(0, 9)), "ceiling": ceiling}
        floor = _subset(draw, sorted(ceilings[f"l{i}"]))
        if floor:
            level["floor"] = floor
        if draw(_BOOL):
            level["field_ceiling"] = _pick(draw, ("read", "write"))
        if draw(_BOOL):
            level["new_field_access"] = _pick(draw, ACCESS)
        levels[f"l{i}"] = level
    level_keys = list(levels)

    # The system role must pass the role rules: grants within its level's ceiling, and
    # field settings that K7, K9 and the level's field ceiling accept.
    sys_level = _pick(draw, level_keys)
    system: dict[str, Any] = {"name": "Owner", "level": sys_level}
    if ceilings[sys_level] == set(perm_keys) and draw(_BOOL):
        system["grants"] = "all"
    else:
        system["grants"] = _subset(draw, sorted(ceilings[sys_level]))
    if draw(st.integers(0, 3)) == 0:
        system["grants_except"] = _some(draw, perm_keys, 2)
    fields_mode = _pick(draw, ("level_default", "mirror_integration", "explicit"))
    if fields_mode == "explicit":
        field_ceiling = levels[sys_level].get("field_ceiling", "write")
        explicit: dict[str, dict[str, str]] = {}
        for obj_key, obj in objects.items():
            for fname, fdef in obj.get("fields", {}).items():
                if not draw(_BOOL):
                    continue
                cap = integ_caps.get(f"{obj_key}.{fname}", default_cap) if fdef.get("synced_from") else "write"
                choices = [
                    a
                    for a in ACCESS
                    if not (fdef.get("default") and a == "none")
                    and not (a == "write" and cap != "write")
                    and ACCESS.index(a) <= ACCESS.index(field_ceiling)
                ]
                explicit.setdefault(obj_key, {})[fname] = _pick(draw, choices)
        system["fields"] = explicit
    elif fields_mode == "mirror_integration":
        system["fields"] = "mirror_integration"

    return {
        "key": "generated",
        "name": "Generated product",
        "features": features,
        "integrations": {
            INTEGRATION: {
                "label": "CRM",
                "default_cap": default_cap,
                "field_caps": integ_caps,
            }
        },
        "objects": objects,
        "actions": actions,
        "areas": areas,
        "permissions": permissions,
        "levels": levels,
        "roles": {SYSTEM_ROLE: system},
        "admin": {key: _pick(draw, action_keys) for key in ADMIN_KEYS},
        "team": {"keep_one": {"level": _pick(draw, level_keys)}},
    }


# -- workspaces ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    member: str
    action: str
    record: RecordRef | None


@dataclass(frozen=True)
class World:
    """One workspace of one random product, and random questions to ask about it."""

    data: dict[str, Any]
    """The raw schema, as `parse_schema` read it."""
    schema: ProductSchema
    features: frozenset[str]
    roles: tuple[Role, ...]
    members: tuple[Member, ...]
    records: tuple[Record, ...]
    queries: tuple[Query, ...]

    @property
    def member_ids(self) -> list[str]:
        """Every member, and one id that is not a member."""
        return [m.id for m in self.members] + [UNKNOWN_MEMBER]

    def records_of(self, object_type: str) -> list[Record]:
        return [r for r in self.records if r.type == object_type]


@st.composite
def worlds(draw: st.DrawFn) -> World:
    data = draw(schema_dicts())
    schema = parse_schema(data)  # raises SchemaError, failing the test, if a generated schema is refused
    perm_keys = list(data["permissions"])
    level_keys = list(data["levels"])
    all_fields = [(o, f) for o, spec in data["objects"].items() for f in spec.get("fields", {})]

    features = frozenset(_subset(draw, list(data["features"]), often=True))

    roles: list[Role] = [role_from_system(schema, schema.system_roles[SYSTEM_ROLE])]
    for i in range(draw(st.integers(0, 3))):
        settings = {of: FieldAccess.parse(_pick(draw, ACCESS)) for of in all_fields if draw(_BOOL)}
        roles.append(
            Role(
                id=f"r{i}",
                name=f"Custom {i}",
                kind=RoleKind.CUSTOM,
                level=_pick(draw, level_keys),
                grants=frozenset(_subset(draw, perm_keys, often=True)),  # may exceed the ceiling: the engine must clamp
                field_access=frozen_map(settings),
            )
        )
    role_ids = [r.id for r in roles]

    # Every role has an active holder (so every role's decisions are compared), then a
    # few more members of any role and status.
    holders = [Member(f"m{i}", role_id) for i, role_id in enumerate(role_ids)]
    members = tuple(
        holders
        + [
            Member(f"m{i}", _pick(draw, role_ids), _pick(draw, _STATUSES))
            for i in range(len(holders), len(holders) + draw(st.integers(0, 3)))
        ]
    )
    member_ids = [m.id for m in members]

    # Records follow the object forest: o<i>'s parent type has a lower index, so its
    # records exist already. A few records are orphans or point at a missing parent.
    records: list[Record] = []
    for obj_key, obj in data["objects"].items():
        parent_type = obj.get("parent")
        for k in range(draw(st.integers(0, 4))):
            parent: RecordRef | None = None
            if parent_type is not None:
                options = [r.ref for r in records if r.type == parent_type]
                kind = _pick(draw, ("existing",) * 4 + ("none", "dangling"))
                if kind == "existing" and options:
                    parent = _pick(draw, options)
                elif kind == "dangling":
                    parent = RecordRef(parent_type, MISSING_ID)
            if obj.get("assignable"):
                assignee = _pick(draw, [None, None, *member_ids, UNKNOWN_MEMBER, OUTSIDER])
            else:
                # Not assignable: an assignee stored anyway must be ignored.
                assignee = _pick(draw, [None, None, None, None, OUTSIDER, *member_ids])
            records.append(Record(obj_key, f"{obj_key}-{k}", parent, assignee))

    queries: list[Query] = []
    actions = list(data["actions"])
    for _ in range(draw(st.integers(1, 20))):
        action = _pick(draw, actions)
        obj_key = data["actions"][action].get("object")
        record: RecordRef | None = None
        if obj_key is not None:
            refs = [r.ref for r in records if r.type == obj_key]
            record = _pick(draw, [None, RecordRef(obj_key, MISSING_ID), *refs, *refs])
        queries.append(Query(_pick(draw, [*member_ids, UNKNOWN_MEMBER]), action, record))

    return World(data, schema, features, tuple(roles), members, tuple(records), tuple(queries))


# -- field-level security (issue 7: K5-K12) -------------------------------------------------

__all__ += ["FieldPage", "FieldWorld", "field_worlds"]

_STRAY_KEYS = ("id", "ghost", "Name", "")


@dataclass(frozen=True, slots=True)
class FieldPage:
    """One question about fields: a member, an object, a page of records (dicts whose
    keys are declared fields and a few strays) and a change (field names)."""

    member: str
    object_type: str
    records: tuple[dict[str, Any], ...]
    changes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FieldWorld:
    world: World
    registry: FieldRegistry
    pages: tuple[FieldPage, ...]


@st.composite
def field_registries(draw: st.DrawFn, data: dict[str, Any]) -> FieldRegistry:
    """What a host adds on top of a random schema: maybe an additional object, new
    fields (local or synced, with or without an integration cap), conversions of local
    fields to synced ones, and caps on synced fields."""
    objects: list[RegisteredObject] = []
    fields: list[RegisteredField] = []
    targets = list(data["objects"])
    if _rarely(draw) or draw(_BOOL):
        objects.append(RegisteredObject("extra", "Extra"))
        targets.append("extra")

    def cap() -> FieldAccess | None:
        return _maybe(draw, [FieldAccess.NONE, FieldAccess.READ, FieldAccess.WRITE])

    for i in range(draw(st.integers(0, 4))):
        synced = draw(_BOOL)
        fields.append(RegisteredField(_pick(draw, targets), f"nf{i}", f"New field {i}", True, INTEGRATION if synced else None, cap() if synced else None))
    for obj_key, spec in data["objects"].items():
        for fname, fdef in spec.get("fields", {}).items():
            if draw(st.integers(0, 3)) != 0:
                continue
            if fdef.get("synced_from") is None:
                fields.append(RegisteredField(obj_key, fname, fname, False, INTEGRATION, cap()))  # K10
            else:
                fields.append(RegisteredField(obj_key, fname, fname, False, None, cap()))  # K9
    return FieldRegistry(tuple(objects), tuple(fields))


@st.composite
def field_worlds(draw: st.DrawFn) -> FieldWorld:
    world = draw(worlds())
    registry = draw(field_registries(world.data))
    declared: dict[str, list[str]] = {o: list(spec.get("fields", {})) for o, spec in world.data["objects"].items()}
    for obj in registry.objects:
        declared.setdefault(obj.key, [])
    for f in registry.fields:
        if f.added:
            declared[f.object_type].append(f.name)
    pages: list[FieldPage] = []
    for _ in range(draw(st.integers(1, 6))):
        obj_key = _pick(draw, list(declared))
        keys = declared[obj_key] + list(_STRAY_KEYS)
        records = tuple(
            {k: draw(st.integers(0, 9)) for k in _subset(draw, keys, often=True)} for _ in range(draw(st.integers(0, 4)))
        )
        changes = tuple(_subset(draw, keys))
        pages.append(FieldPage(_pick(draw, world.member_ids), obj_key, records, changes))
    return FieldWorld(world, registry, tuple(pages))
