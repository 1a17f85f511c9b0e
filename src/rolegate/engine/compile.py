"""Compile one workspace into an immutable Snapshot.

Everything a check without a record needs is decided here, once per role: each
(role, action) gets its final Decision object, with reasons, scope and the record
constraints (own scope, the object's visibility, every ancestor's visibility: C7)
already intersected. `check` is then two dict lookups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import replace
from types import MappingProxyType

from rolegate.domain.errors import RolegateError
from rolegate.domain.fields import FieldDecision, field_decision
from rolegate.domain.permissions import PermissionState, PermissionStatus, resolve_permissions
from rolegate.domain.roles import Member, MemberStatus, Role
from rolegate.domain.schema import FieldAccess, ObjectType, ProductSchema, Scope
from rolegate.domain.words import quoted
from rolegate.engine.decision import Decision, Reason, ReasonCode
from rolegate.engine.records import RecordIndex
from rolegate.engine.snapshot import CompiledRole, Snapshot

__all__ = ["compile_snapshot"]

ActionTable = Mapping[str, Decision]


def compile_snapshot(
    schema: ProductSchema,
    *,
    features: Iterable[str] | None = None,
    roles: Iterable[Role],
    members: Iterable[Member],
    records: RecordIndex | None = None,
    revision: int = 0,
    previous: Snapshot | None = None,
) -> Snapshot:
    """Build the snapshot of one workspace at one revision.

    `features` defaults to the schema's defaults. Raises RolegateError when a member
    holds a role that is not given, or a role names an unknown level.

    `previous`: an earlier snapshot of the workspace; a role it compiled from the same
    schema object and features, unchanged since, is reused with its decisions stamped
    with `revision` instead of compiled again (a write changes one role or member; the
    others' tables are what they were). The result is the same as without it.
    """
    feats = schema.feature_defaults if features is None else frozenset(features)
    unknown_features = sorted(feats - schema.features.keys())
    if unknown_features:
        raise RolegateError(f"unknown features: {', '.join(unknown_features)}", fix=f"Use features of {schema.key}: {', '.join(schema.features) or 'none'}.")
    # A compiled role depends on the schema, the features and the role alone (and carries
    # the revision in its decisions): reuse is sound only for the very same schema object.
    reusable = previous.compiled_roles if previous is not None and previous.schema is schema and previous.features == feats else {}
    compiled: dict[str, CompiledRole] = {}
    for role in roles:
        if role.level not in schema.levels:
            raise RolegateError(f"role {role.id!r} has unknown level {role.level!r}", fix=f"Use one of {', '.join(schema.levels)}.")
        before = reusable.get(role.id)
        if before is not None and before.role == role:
            compiled[role.id] = _restamped(before, revision)
        else:
            compiled[role.id] = _compile_role(schema, feats, role, revision)
    tables: dict[str, ActionTable] = {}
    member_roles: dict[str, str] = {}
    status_tables = {
        MemberStatus.INVITED: _status_table(schema, revision, ReasonCode.MEMBER_INACTIVE, "the member has not accepted the invitation yet (T4)"),
        MemberStatus.DISABLED: _status_table(schema, revision, ReasonCode.MEMBER_INACTIVE, "the member is disabled"),
    }
    member_status: dict[str, MemberStatus] = {}
    for m in members:
        if m.role not in compiled:
            raise RolegateError(f"member {m.id!r} holds unknown role {m.role!r}", fix="Pass every role the members hold.")
        member_roles[m.id] = m.role
        member_status[m.id] = m.status
        tables[m.id] = compiled[m.role].actions if m.is_active else status_tables[m.status]
    unknown = _status_table(schema, revision, ReasonCode.UNKNOWN_MEMBER, "no such member in this workspace")
    return Snapshot(
        schema=schema,
        features=feats,
        revision=revision,
        roles=MappingProxyType(compiled),
        tables=tables,
        unknown_table=unknown,
        member_roles=MappingProxyType(member_roles),
        member_status=MappingProxyType(member_status),
        records=records,
    )


def _restamped(compiled: CompiledRole, revision: int) -> CompiledRole:
    """`compiled` with every decision at `revision` (nothing else in it depends on it),
    each restamped when first read."""
    actions = compiled.actions
    if isinstance(actions, _Restamped):
        if actions.revision == revision:
            return compiled
        return replace(compiled, actions=_Restamped(actions.origin, revision))
    if not actions or next(iter(actions.values())).revision == revision:
        return compiled
    return replace(compiled, actions=_Restamped(actions, revision))


def _status_table(schema: ProductSchema, revision: int, code: ReasonCode, message: str) -> ActionTable:
    """Every action denied, for one reason, to a member who is not active (or unknown)."""
    reason = (Reason(code, message),)
    actions = schema.actions
    return _Lazily(actions, lambda a: Decision(a, False, Scope.NONE, reason, revision, actions[a].object_type))


class _Lazily(Mapping[str, Decision]):
    """A table of decisions, one per action of `keys`, each made when it is first read.

    A write compiles the workspace again for a new revision, and every decision carries
    its revision: the roles the write did not change are restamped (`_restamped`) and the
    tables of members not active are made again, hundreds of decisions of which the
    next revision's checks read a few (issue 18: a quarter of a write's compile). A read
    of an action not in `keys` raises KeyError, as a complete table's does; iteration,
    length and equality are those of the complete table."""

    __slots__ = ("_keys", "_made", "_make")

    def __init__(self, keys: Mapping[str, object], make: Callable[[str], Decision]) -> None:
        self._keys = keys
        self._make = make
        self._made: dict[str, Decision] = {}

    def __getitem__(self, action: str) -> Decision:
        try:
            return self._made[action]
        except KeyError:
            if action not in self._keys:
                raise
        # Two threads may make it at once: the first one stored is the one every read gets.
        return self._made.setdefault(action, self._make(action))

    def __contains__(self, action: object) -> bool:
        return action in self._keys

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


class _Restamped(_Lazily):
    """A compiled role's decisions (`origin`, complete) at another revision."""

    __slots__ = ("origin", "revision")

    def __init__(self, origin: Mapping[str, Decision], revision: int) -> None:
        super().__init__(origin, self._stamp)
        self.origin = origin
        self.revision = revision

    def _stamp(self, action: str) -> Decision:
        d = self.origin[action]
        return Decision(d.action, d.allowed, d.scope, d.reasons, self.revision, d.object_type, d.plan)


def _compile_role(schema: ProductSchema, features: frozenset[str], role: Role, revision: int) -> CompiledRole:
    states = resolve_permissions(schema, role.level, role.grants, features, system_role=role.is_system)
    effective = frozenset(k for k, s in states.items() if s.effective)
    bits: dict[str, int] = {}
    for key in effective:
        for g in schema.permissions[key].grants:
            if g.active(features):
                bits[g.action] = bits.get(g.action, 0) | g.scope.value
    granted = {a: Scope(v) for a, v in bits.items()}
    # One Reason per permission a role lacks, shared by every action it would grant.
    lacking: dict[str, Reason] = {}
    actions: dict[str, Decision] = {}
    for action, act in schema.actions.items():
        actions[action] = _decide(schema, features, role, states, granted, lacking, action, act.object_type, revision)
    decisions: dict[str, dict[str, FieldDecision]] = {}
    for okey, otype in schema.objects.items():
        decisions[okey] = {f: field_decision(schema, role, okey, f) for f in otype.fields}
    fields = {o: {f: d.access for f, d in per.items()} for o, per in decisions.items()}
    return CompiledRole(
        role=role,
        effective=effective,
        actions=MappingProxyType(actions),
        field_access=MappingProxyType({o: MappingProxyType(f) for o, f in fields.items()}),
        readable=MappingProxyType({o: frozenset(k for k, a in f.items() if a >= FieldAccess.READ) for o, f in fields.items()}),
        writable=MappingProxyType({o: frozenset(k for k, a in f.items() if a >= FieldAccess.WRITE) for o, f in fields.items()}),
        field_decisions=MappingProxyType({o: MappingProxyType(d) for o, d in decisions.items()}),
    )


def _decide(
    schema: ProductSchema,
    features: frozenset[str],
    role: Role,
    states: Mapping[str, PermissionState],
    granted: Mapping[str, Scope],
    lacking: dict[str, Reason],
    action: str,
    object_type: str | None,
    revision: int,
) -> Decision:
    own = granted.get(action, Scope.NONE)
    if own is Scope.NONE:
        return Decision(action, False, Scope.NONE, _denial_reasons(schema, features, role, states, lacking, action), revision, object_type)
    reasons = _grant_reasons(schema, features, role, states, action)
    if object_type is None:
        return Decision(action, True, own, reasons, revision, object_type)
    # Constraints by how many steps up the assignment carrier sits: the action's own
    # scope and its object's visibility share one carrier; each ancestor adds its own
    # visibility (C7). Intersect what lands on the same carrier.
    otype = schema.objects[object_type]
    constraints: dict[int, Scope] = {}
    own_kind: dict[int, bool] = {}
    denial: Reason | None = None

    def constrain(steps: int, scope: Scope, is_own: bool, failure: Reason) -> None:
        nonlocal denial
        depth = steps + (otype_at(steps).carrier_offset or 0)
        if otype_at(steps).carrier_offset is None:
            # No assignee anywhere above: only `all` can be granted (schema_build checks).
            if scope is Scope.NONE and denial is None:
                denial = failure
            return
        constraints[depth] = constraints.get(depth, Scope.ALL) & scope
        own_kind[depth] = own_kind.get(depth, False) or is_own
        if constraints[depth] is Scope.NONE and denial is None:
            denial = failure

    lineage = (object_type, *otype.ancestors)

    def otype_at(steps: int) -> ObjectType:
        return schema.objects[lineage[steps]]

    view = otype.view_action
    view_scope = granted.get(view, Scope.NONE) if view is not None and view != action else Scope.ALL
    constrain(0, own, True, Reason(ReasonCode.RECORD_OUT_OF_SCOPE, f"no record of {object_type!r} is in scope"))
    constrain(
        0,
        view_scope,
        True,
        Reason(ReasonCode.NOT_VISIBLE, f"{otype.label} records are not visible to this role: it needs {view!r}"),
    )
    for steps, anc in enumerate(otype.ancestors, start=1):
        atype = schema.objects[anc]
        if atype.view_action is None:
            continue
        constrain(
            steps,
            granted.get(atype.view_action, Scope.NONE),
            False,
            Reason(ReasonCode.PARENT_NOT_ACCESSIBLE, f"the parent {atype.label} is not accessible: it needs {atype.view_action!r}{schema.cite('record_parent')}", rule_id=schema.seed_rule("record_parent")),
        )
    if denial is not None:
        return Decision(action, False, Scope.NONE, (*reasons, denial), revision, object_type)
    own_depth = otype.carrier_offset
    scope = constraints.get(own_depth, Scope.ALL) if own_depth is not None else Scope.ALL
    plan = tuple(sorted((d, int(s), own_kind[d]) for d, s in constraints.items() if s is not Scope.ALL))
    if scope != own or any(not is_own for _d, _s, is_own in plan):
        # Say why the scope is narrower than the grant: visibility of the record (the
        # object's view action) and of its parents (C7) apply to every action on it.
        reasons = (*reasons, Reason(ReasonCode.NARROWED, f"only on records the member can see: {view or action!r} and the parents' view actions{schema.cite('record_parent')} apply; scope {scope.label}", rule_id=schema.seed_rule("record_parent") if otype.ancestors else None))
    return Decision(action, True, scope, reasons, revision, object_type, plan)


def _grant_reasons(
    schema: ProductSchema, features: frozenset[str], role: Role, states: Mapping[str, PermissionState], action: str
) -> tuple[Reason, ...]:
    out = []
    level = schema.levels[role.level]
    for key in schema.permissions_by_action.get(action, ()):
        st = states[key]
        if not st.effective:
            continue
        scope = Scope.NONE
        for g in schema.permissions[key].grants:
            if g.action == action and g.active(features):
                scope |= g.scope
        if scope is Scope.NONE:
            continue  # E4: the grant waits for its feature
        how = f"part of level {quoted(level.label)}" if st.from_floor else "granted by the role"
        out.append(Reason(ReasonCode.GRANTED, f"{quoted(schema.permissions[key].label)} ({how}) grants it, scope {scope.label}", key))
    return tuple(out)


_NO_PERMISSION = (Reason(ReasonCode.NO_PERMISSION, "no permission of the product grants this action"),)


def _denial_reasons(
    schema: ProductSchema,
    features: frozenset[str],
    role: Role,
    states: Mapping[str, PermissionState],
    lacking: dict[str, Reason],
    action: str,
) -> tuple[Reason, ...]:
    candidates = schema.permissions_by_action.get(action, ())
    if not candidates:
        return _NO_PERMISSION
    out = []
    for key in candidates:
        if states[key].effective:
            out.append(_grant_feature_off(schema, features, key, action))
            continue
        reason = lacking.get(key)
        if reason is None:
            reason = lacking[key] = _lacking_reason(schema, role, states[key])
        out.append(reason)
    return tuple(out)


def _grant_feature_off(schema: ProductSchema, features: frozenset[str], key: str, action: str) -> Reason:
    """E4: an effective permission grants `action` only with a feature that is off."""
    perm = schema.permissions[key]
    off = next(g.feature or "" for g in perm.grants if g.action == action and not g.active(features))
    feature = schema.features[off].label
    return Reason(ReasonCode.FEATURE_OFF, f"{perm.label!r} does this only with the feature {feature!r}, which is off in this workspace{schema.cite('feature_required')}", key, schema.seed_rule("feature_required"))


def _lacking_reason(schema: ProductSchema, role: Role, st: PermissionState) -> Reason:
    key = st.permission
    perm = schema.permissions[key]
    label = repr(perm.label)
    if st.status is PermissionStatus.ABOVE_CEILING:
        level = schema.levels[role.level]
        return Reason(ReasonCode.ABOVE_CEILING, f"{label} is above the ceiling of level {level.label!r}", key, level.rule)
    if st.status is PermissionStatus.SYSTEM_ONLY:
        return Reason(ReasonCode.NOT_GRANTED, f"{label} is held only by system roles{schema.cite('system_only_permission')}", key, schema.seed_rule("system_only_permission"))
    if st.status is PermissionStatus.FEATURE_OFF:
        feature = schema.features[perm.feature].label if perm.feature else "?"
        return Reason(ReasonCode.FEATURE_OFF, f"{label} needs the feature {feature!r}, which is off in this workspace{schema.cite('feature_off')}", key, schema.seed_rule("feature_off"))
    if st.status is PermissionStatus.REQUIREMENT_MISSING:
        missing = ", ".join(repr(schema.permissions[m].label) for m in st.missing)
        return Reason(ReasonCode.REQUIREMENT_MISSING, f"{label} needs {missing}, which is not effective{schema.cite('requirement_missing')}", key, schema.seed_rule("requirement_missing"))
    return Reason(ReasonCode.NOT_GRANTED, f"{label} is not granted to role {role.name!r}", key)
