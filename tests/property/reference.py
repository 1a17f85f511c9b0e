"""A naive reference evaluator of Rolegate's decision model, for property tests.

Written from docs DESIGN.md ("Decision model") and the field rule of
`rolegate.domain.fields`, reading only the raw schema dict, never the engine nor the
built `ProductSchema`. Nothing is cached or compiled: every call recomputes
everything from the raw data. Scopes are plain sets of relation names until the
very end, where they become a `Scope` so tests can compare them with the engine's.

The rules, as implemented here:

- An unknown, invited or disabled member may do nothing, and has no field access.
- effective = ((grants | floor) & ceiling), minus permissions whose feature is off,
  minus permissions whose `requires` are not all effective, repeated until nothing
  changes.
- The scope of an action: the union of the scopes of every grant of the action by an
  effective permission. Empty: denied.
- With a record R of the action's object O, R's chain is R, its parent, its
  grandparent ... (a missing record ends the chain: everything above is missing).
  The action is allowed on the chain when
  a. the action's scope is `all`, or the carrier (the nearest record at or above R
     whose type is assignable) exists and its assignee relates to the member as one
     of the scope's relations: assigned (the member), unassigned (no one), others;
  b. R is visible: O has no view action, or the action is the view action, or the
     view action is allowed on the same chain;
  c. every ancestor is visible (C7): for the record k steps up, its type has no view
     action, or its view action is allowed on the chain from that record up.
- Without a record: allowed when some possible chain of records of O's lineage
  (every assignable record assigned to the member, to no one, or to someone else)
  allows the action; the scope is every relation of O's carrier that such a chain
  can have (`all` when O has no carrier).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from rolegate.domain.roles import Member, MemberStatus, Role
from rolegate.domain.schema import FieldAccess, Scope
from rolegate.engine import Record, RecordRef

__all__ = [
    "ref_check",
    "ref_effective",
    "ref_field_access",
    "ref_member_field_access",
    "ref_member_effective",
]

ALL = frozenset({"assigned", "unassigned", "others"})
ACCESS_ORDER = ["none", "read", "write"]
SOMEONE_ELSE = "\x00someone else"
"""The assignee of hypothetical records assigned to someone other than the member."""

Schema = dict[str, Any]


# -- permissions ---------------------------------------------------------------------------


def _ceiling(schema: Schema, level: dict[str, Any]) -> set[str]:
    ceiling = level.get("ceiling", "all")
    if ceiling == "all":
        return set(schema["permissions"])
    if isinstance(ceiling, dict):
        return set(schema["permissions"]) - set(ceiling["all_except"])
    return set(ceiling)


def ref_effective(schema: Schema, features: Iterable[str], role: Role) -> set[str]:
    """The permissions in effect for a role, in a workspace with these features."""
    level = schema["levels"][role.level]
    held = set(role.grants) | set(level.get("floor", []))
    ceiling = _ceiling(schema, level)
    effective = set()
    for key in held:
        if key not in ceiling:
            continue
        feature = schema["permissions"][key].get("feature")
        if feature is not None and feature not in set(features):
            continue
        effective.add(key)
    changed = True
    while changed:
        changed = False
        for key in sorted(effective):
            if any(req not in effective for req in schema["permissions"][key].get("requires", [])):
                effective.remove(key)
                changed = True
    return effective


def _find_member(members: Iterable[Member], member: str) -> Member | None:
    for m in members:
        if m.id == member:
            return m
    return None


def _find_role(roles: Iterable[Role], role_id: str) -> Role:
    for r in roles:
        if r.id == role_id:
            return r
    raise AssertionError(f"no role {role_id!r}")


def _active_role(roles: Iterable[Role], members: Iterable[Member], member: str) -> Role | None:
    m = _find_member(members, member)
    if m is None or m.status != MemberStatus.ACTIVE:
        return None
    return _find_role(roles, m.role)


def ref_member_effective(
    schema: Schema, features: Iterable[str], roles: Iterable[Role], members: Iterable[Member], member: str
) -> set[str]:
    role = _active_role(roles, members, member)
    return set() if role is None else ref_effective(schema, features, role)


def _action_scope(schema: Schema, effective: set[str], action: str) -> frozenset[str]:
    scope: set[str] = set()
    for key in effective:
        for grant in schema["permissions"][key].get("grants", []):
            if isinstance(grant, str):
                grant = {"action": grant}
            if grant["action"] != action:
                continue
            name = grant.get("scope", "all")
            scope |= ALL if name == "all" else {name}
    return frozenset(scope)


# -- records -------------------------------------------------------------------------------


def _lineage(schema: Schema, object_type: str) -> list[str]:
    """The type and the types above it, nearest first."""
    out = [object_type]
    while schema["objects"][out[-1]].get("parent") is not None:
        out.append(schema["objects"][out[-1]]["parent"])
    return out


def _carrier(schema: Schema, object_type: str) -> int | None:
    """How many steps up the nearest assignable type is, if any."""
    for steps, t in enumerate(_lineage(schema, object_type)):
        if schema["objects"][t].get("assignable", False):
            return steps
    return None


def _relation(member: str, assignee: str | None) -> str:
    if assignee is None:
        return "unassigned"
    return "assigned" if assignee == member else "others"


def _allowed_on(schema: Schema, effective: set[str], member: str, action: str, chain: list[Record | None]) -> bool:
    """Rules a, b, c of the module docstring; `chain[k]` is the record k steps up."""
    object_type = schema["actions"][action]["object"]
    scope = _action_scope(schema, effective, action)
    if not scope:
        return False
    if scope != ALL:
        steps = _carrier(schema, object_type)
        assert steps is not None, "the schema only scopes actions on objects with a carrier"
        carrier = chain[steps]
        if carrier is None or _relation(member, carrier.assignee) not in scope:
            return False
    view = schema["objects"][object_type].get("view_action")
    if view is not None and view != action and not _allowed_on(schema, effective, member, view, chain):
        return False
    for steps, ancestor in enumerate(_lineage(schema, object_type)):
        if steps == 0:
            continue
        ancestor_view = schema["objects"][ancestor].get("view_action")
        if ancestor_view is not None and not _allowed_on(schema, effective, member, ancestor_view, chain[steps:]):
            return False
    return True


def _chain(schema: Schema, records: Iterable[Record], ref: RecordRef) -> list[Record | None]:
    """The record and its ancestors, as far as the lineage goes; None once one is missing."""
    by_ref = {(r.type, r.id): r for r in records}
    chain: list[Record | None] = []
    current: Record | None = by_ref.get((ref.type, ref.id))
    for _ in _lineage(schema, ref.type):
        chain.append(current)
        if current is None or current.parent is None:
            current = None
        else:
            current = by_ref.get((current.parent.type, current.parent.id))
    return chain


def _possible_chains(schema: Schema, member: str, object_type: str) -> list[list[Record | None]]:
    """Every way the records above a record of `object_type` could be assigned."""
    lineage = _lineage(schema, object_type)
    choices = [
        [member, None, SOMEONE_ELSE] if schema["objects"][t].get("assignable", False) else [None] for t in lineage
    ]
    chains = []
    for assignees in itertools.product(*choices):
        chain: list[Record | None] = []
        for t, assignee in zip(lineage, assignees, strict=True):
            chain.append(Record(t, "hypothetical", None, assignee))
        chains.append(chain)
    return chains


def _to_scope(relations: Iterable[str]) -> Scope:
    scope = Scope.NONE
    for name in relations:
        scope |= Scope.parse(name)
    return scope


def ref_check(
    schema: Schema,
    features: Iterable[str],
    roles: Iterable[Role],
    members: Iterable[Member],
    records: Iterable[Record],
    member: str,
    action: str,
    record: RecordRef | None,
) -> tuple[bool, Scope]:
    """May `member` do `action` (on `record`)? Returns (allowed, scope); a denial has
    scope NONE. With a record, an allowed decision carries the scope it has without one."""
    role = _active_role(roles, members, member)
    if role is None:
        return False, Scope.NONE
    effective = ref_effective(schema, features, role)
    object_type = schema["actions"][action].get("object")
    if object_type is None:
        assert record is None, "an action on no object takes no record"
        scope = _action_scope(schema, effective, action)
        return bool(scope), _to_scope(scope)
    if record is not None:
        assert record.type == object_type
        if not _allowed_on(schema, effective, member, action, _chain(schema, records, record)):
            return False, Scope.NONE
        return ref_check(schema, features, roles, members, records, member, action, None)
    allowed = False
    relations: set[str] = set()
    steps = _carrier(schema, object_type)
    for chain in _possible_chains(schema, member, object_type):
        if _allowed_on(schema, effective, member, action, chain):
            allowed = True
            if steps is None:
                relations |= ALL
            else:
                carrier = chain[steps]
                assert carrier is not None
                relations.add(_relation(member, carrier.assignee))
    return allowed, _to_scope(relations)


# -- fields --------------------------------------------------------------------------------


def ref_field_access(schema: Schema, role: Role, object_type: str, field: str) -> FieldAccess:
    """The role's access to a field: mirror-integration roles write, else the role's own
    setting, else the level's access for new fields; a default field is at least
    readable (K7); then at most the level's field ceiling, and at most the integration's
    cap for a synced field (K9)."""
    level = schema["levels"][role.level]
    fdef = schema["objects"][object_type]["fields"][field]
    if role.mirror_integration:
        access = "write"
    elif (object_type, field) in role.field_access:
        access = role.field_access[(object_type, field)].name.lower()
    else:
        access = level.get("new_field_access", "none")
    rank = ACCESS_ORDER.index(access)
    if fdef.get("default", False):
        rank = max(rank, ACCESS_ORDER.index("read"))
    rank = min(rank, ACCESS_ORDER.index(level.get("field_ceiling", "write")))
    integration = fdef.get("synced_from")
    if integration is not None:
        spec = schema["integrations"][integration]
        cap = spec.get("field_caps", {}).get(f"{object_type}.{field}", spec.get("default_cap", "write"))
        rank = min(rank, ACCESS_ORDER.index(cap))
    return FieldAccess(rank)


def ref_member_field_access(
    schema: Schema, roles: Iterable[Role], members: Iterable[Member], member: str, object_type: str, field: str
) -> FieldAccess:
    role = _active_role(roles, members, member)
    return FieldAccess.NONE if role is None else ref_field_access(schema, role, object_type, field)
