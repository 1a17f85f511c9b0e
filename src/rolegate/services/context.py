"""What every use case starts with: the workspace, locked, with its schema, roles,
members and a snapshot (compiled when first asked for) to authorize the actor through
the same engine as decisions;
and what every change ends with: an audit event and a new revision."""

from __future__ import annotations

import os
import threading
import uuid
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import Any

from rolegate.domain.errors import NotFoundError, PermissionDeniedError
from rolegate.domain.field_registry import apply_registry
from rolegate.domain.fields import role_field_access
from rolegate.domain.permissions import privileges, role_permissions
from rolegate.domain.roles import Member, Role
from rolegate.domain.rules.team_rules import escalation_violations, field_escalation_violations
from rolegate.domain.schema import AdminRight, FieldAccess, ProductSchema
from rolegate.domain.violations import Violation, raise_if
from rolegate.domain.words import quoted
from rolegate.domain.workspace import GENESIS_HASH, Actor, AuditEvent, Workspace, event_hash
from rolegate.engine import Record, RecordRef, Snapshot, compile_snapshot
from rolegate.services.inputs_follow import inputs_after
from rolegate.services.schema_upgrade_versions import product_schema
from rolegate.store import Engine
from rolegate.store.repositories import MemberInfo, RecordRepository, utcnow
from rolegate.store.uow import UnitOfWork  # re-exported: the doors pass one to each use case
from rolegate.store.write_batches import Batch

__all__ = [
    "StateInputs",
    "StoreRecordIndex",
    "UnitOfWork",
    "WorkspaceState",
    "actor_field_access",
    "actor_permissions",
    "admin_escalation",
    "audit_organization",
    "authorize",
    "escalation",
    "followed_inputs",
    "load_state",
    "lock_organization",
    "member_name",
    "member_with_role",
    "known_as",
    "with_role",
    "new_id",
    "new_ids",
    "next_revision",
    "prepare_next",
    "raise_if",
    "record_change",
    "remember_compiled",
    "remember_inputs",
    "remembered_at",
    "role_escalation",
    "workspace_schema",
]


def new_id() -> str:
    """Time-ordered UUID (v7 layout): no shared sequence across tenants, index friendly."""
    ms = int(utcnow().timestamp() * 1000)
    rand = uuid.uuid4().int & ((1 << 74) - 1)
    value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


def new_ids(n: int) -> list[str]:
    """`n` ids as `new_id` makes them (one clock reading, one call for the random bits):
    a bulk call's audit events."""
    ms = int(utcnow().timestamp() * 1000)
    randoms = os.urandom(10 * n)
    out: list[str] = []
    for k in range(0, 10 * n, 10):
        rand = int.from_bytes(randoms[k : k + 10]) & ((1 << 74) - 1)
        value = (ms << 80) | (0x7 << 76) | ((rand >> 62) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
        h = f"{value:032x}"
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out


class StoreRecordIndex:
    """The engine's RecordIndex over the store, for one workspace."""

    __slots__ = ("_repo", "_workspace_id")

    def __init__(self, repo: RecordRepository, workspace_id: str) -> None:
        self._repo = repo
        self._workspace_id = workspace_id

    def get(self, ref: RecordRef) -> Record | None:
        return self._repo.get(self._workspace_id, RecordRef(ref[0], ref[1]))


@dataclass(frozen=True, slots=True)
class WorkspaceState:
    workspace: Workspace
    schema: ProductSchema
    roles: dict[str, Role]
    members: list[Member]
    compile_snapshot: Callable[[], Snapshot] = field(repr=False, compare=False)
    read_site_admins: Callable[[], frozenset[str]] = field(default=frozenset, repr=False, compare=False)
    """Reads the user ids of the administrators of the workspace's site (organization),
    E1, in the caller's transaction; only a site administrator's call needs them."""
    audit_head: tuple[int, str] | None = field(default=None, repr=False, compare=False)
    """(seq, hash) of the newest audit event at the loaded revision, (0, GENESIS_HASH)
    for none, when known without reading it (the write that made the revision said
    it); None: `record_change` reads it."""
    base: Snapshot | None = field(default=None, repr=False, compare=False)
    """An earlier snapshot of the workspace (the one the write before worked with):
    the acting member's snapshot reuses its compiled role when that role is unchanged."""
    role_created: Mapping[str, datetime] = field(default_factory=dict, repr=False, compare=False)
    """When each role was created, for the roles whose date the inputs know (a role's
    never changes, and its id is never given again): a role edit answers with it
    without reading the role's row."""
    _compiled: list[Snapshot] = field(default_factory=list, repr=False, compare=False)
    _for_member: dict[str, Snapshot] = field(default_factory=dict, repr=False, compare=False)
    _site_admins: list[frozenset[str]] = field(default_factory=list, repr=False, compare=False)

    @property
    def site_admins(self) -> frozenset[str]:
        """User ids of the administrators of the workspace's site, read on first use: a
        member's write does not pay a round trip for them while it holds the lock."""
        if not self._site_admins:
            self._site_admins.append(self.read_site_admins())
        return self._site_admins[0]

    def changed(self, *, role: Role | None = None, member: Member | None = None) -> WorkspaceState:
        """The state as the write that locked it leaves it: `role` and `member` (new, or
        in place of the one with their id) applied to the roles and members. Passed to
        `record_change`, it lets the next write and this process's snapshot start from
        it instead of reading and compiling the workspace again."""
        roles = self.roles if role is None else {**self.roles, role.id: role}
        members = self.members
        if member is not None:
            members = [member if m.id == member.id else m for m in self.members]
            if all(m.id != member.id for m in self.members):
                members.append(member)
        return _state(self.workspace, self.schema, roles, members, None, self.read_site_admins, self.audit_head, self.newest_compiled, self.role_created)

    @property
    def snapshot(self) -> Snapshot:
        """The workspace's snapshot at the loaded revision, compiled on first use: a
        call that authorizes nobody through it (the platform acting, a bulk record sync)
        does not pay for compiling every member (2,000 in a large workspace)."""
        if not self._compiled:
            self._compiled.append(self.compile_snapshot())
        return self._compiled[0]

    @property
    def newest_compiled(self) -> Snapshot | None:
        """The newest snapshot of the workspace this state compiled or started from."""
        if self._compiled:
            return self._compiled[0]
        return next(iter(self._for_member.values()), self.base)

    def member_snapshot(self, member_id: str) -> Snapshot:
        """A snapshot that decides for `member_id` alone, as the whole one would: what
        the acting member holds (rights, permissions, field access) depends on their
        role only, so a write compiles one role, not all of them, while it holds the
        workspace's lock. The whole snapshot when it is already there."""
        if self._compiled:
            return self._compiled[0]
        held = self._for_member.get(member_id)
        if held is None:
            member = next((m for m in self.members if m.id == member_id), None)
            held = compile_snapshot(
                self.schema,
                features=self.workspace.features,
                roles=[self.roles[member.role]] if member is not None else [],
                members=[member] if member is not None else [],
                revision=self.workspace.revision,
                previous=self.base,
            )
            self._for_member[member_id] = held
        return held

    def role(self, role_id: str) -> Role:
        role = self.roles.get(role_id)
        if role is None:
            raise NotFoundError(
                f"no role {role_id!r} in this workspace", decision=None, fix="List the roles to find its id."
            )
        return role

    def member(self, member_id: str) -> Member:
        for m in self.members:
            if m.id == member_id:
                return m
        raise NotFoundError(
            f"no member {member_id!r} in this workspace", decision=None, fix="List the members to find their id."
        )


@dataclass(frozen=True, slots=True)
class StateInputs:
    """What a workspace's decisions are compiled from, at one committed revision, and
    the snapshot the snapshot cache compiled from it (its record index reads outside
    any transaction: good for rights and permissions, which read no record); None
    while only the write that made the revision has worked the inputs out."""

    revision: int
    preset: str
    schema: ProductSchema
    roles: tuple[Role, ...]
    members: tuple[Member, ...]
    snapshot: Snapshot | None
    features: frozenset[str] | None = None
    """The workspace's features at that revision, when known (a write's own account)."""
    audit_head: tuple[int, str] | None = None
    """(seq, hash) of the revision's newest audit event, when known (a write's own
    account: every audit event is appended with a revision of its own, under the
    workspace's lock, so the revision decides the head)."""
    base: Snapshot | None = None
    """An earlier snapshot of the workspace, when `snapshot` is None: its unchanged
    roles are reused by the compile of the acting member's snapshot."""
    changes: tuple[tuple[str, str, str], ...] = ()
    """(action, target type, target id) of the revision's audit events, in order, the
    last one `audit_head`, when known (a write's own account): the record cache
    follows them without reading them back."""
    role_created: Mapping[str, datetime] = field(default_factory=dict)
    """When each role was created, where known (`WorkspaceState.role_created`)."""
    changes_after: int | None = None
    """When `changes` are those of every revision after this one up to `revision` (the
    writes of a batch since its first, `store.write_batches`): the record cache follows
    them at once, as the batch commits them at once. None: `revision`'s own."""


class _Prepared:
    """The inputs of the revision a write is committing, worked out by the write (the
    state it locked with its change applied): `settled` is set once the commit has
    succeeded (`ok`) or will not happen."""

    __slots__ = ("batch", "inputs", "ok", "settled", "withdrawn")

    def __init__(self, inputs: StateInputs, batch: Batch | None = None) -> None:
        self.inputs = inputs
        self.batch = batch
        """The batch of writes whose transaction the write is in (`store.write_batches`):
        the next write of the batch works from these inputs before the commit."""
        self.ok = False
        self.withdrawn = False
        """The unit changed the workspace again: its commit makes another revision."""
        self.settled = threading.Event()


_inputs: weakref.WeakKeyDictionary[Engine, dict[str, StateInputs]] = weakref.WeakKeyDictionary()
_prepared: weakref.WeakKeyDictionary[Engine, dict[str, _Prepared]] = weakref.WeakKeyDictionary()
_inputs_lock = threading.Lock()

PREPARED_WAIT = 5.0
"""Seconds a write waits for the commit of the write before it to settle (it takes a
round trip) before reading the workspace itself instead."""


def remember_inputs(engine: Engine, ws: Workspace, inputs: StateInputs) -> None:
    """Keep the newest committed inputs of the workspace (one entry per workspace).
    Only callers that read committed data outside a write (the snapshot cache's loads)
    remember: a write's own reads may include its uncommitted changes. A compiled
    snapshot replaces inputs of the same revision that had none."""
    _remember(engine, ws.id, inputs)


def remember_compiled(engine: Engine, workspace_id: str, inputs: StateInputs) -> None:
    """The snapshot cache compiled the inputs a write of this process worked out."""
    _remember(engine, workspace_id, inputs)


def _remember(engine: Engine, workspace_id: str, inputs: StateInputs) -> None:
    with _inputs_lock:
        _remember_locked(engine, workspace_id, inputs)


def _remember_locked(engine: Engine, workspace_id: str, inputs: StateInputs) -> None:
    per = _inputs.setdefault(engine, {})
    held = per.get(workspace_id)
    if held is None or held.revision < inputs.revision:
        if inputs.snapshot is None and inputs.base is None and held is not None:
            inputs = replace(inputs, base=held.snapshot or held.base)
        per[workspace_id] = inputs
    elif held.revision == inputs.revision and held.snapshot is None and inputs.snapshot is not None:
        per[workspace_id] = replace(
            inputs, audit_head=inputs.audit_head or held.audit_head, features=inputs.features or held.features, changes=inputs.changes or held.changes,
            base=None,
        )


def remembered_at(engine: Engine, workspace_id: str, revision: int) -> StateInputs | None:
    """The committed inputs of the workspace at exactly `revision`, if this process
    holds them (the snapshot cache compiles a write's revision from them)."""
    held = _inputs.get(engine, {}).get(workspace_id)
    return held if held is not None and held.revision == revision else None


def _remembered(engine: Engine, ws: Workspace, batch: Batch | None = None) -> StateInputs | None:
    held = _inputs.get(engine, {}).get(ws.id)
    if held is None or held.revision != ws.revision:
        prepared = _prepared.get(engine, {}).get(ws.id)
        if prepared is None or prepared.inputs.revision != ws.revision:
            return None
        # The write before this one may have committed this revision and not yet said
        # so (its commit returned a moment ago): wait for it to settle, a round trip.
        # In the same batch, it is this very transaction: no wait.
        own = batch is not None and prepared.batch is batch
        if not own and (not prepared.settled.wait(PREPARED_WAIT) or not prepared.ok):
            return None
        held = prepared.inputs
    if held.preset != ws.preset or held.schema.version != ws.schema_version:
        return None
    if held.features is not None and held.features != ws.features:
        return None
    return held


def _prepare(
    uow: UnitOfWork, revision: int, state: WorkspaceState | None, head: tuple[int, str], changes: tuple[tuple[str, str, str], ...]
) -> None:
    """The write moved the workspace to `revision`, leaving it as `state` says (None:
    unknown). Only a unit that changes the workspace once, and says how, is trusted;
    its inputs count once its commit succeeds."""
    engine, workspace_id = uow.engine, state.workspace.id if state is not None else None
    if state is None or workspace_id is None:
        return
    ws = state.workspace
    changes_after = None
    before = _prepared.get(engine, {}).get(workspace_id)
    if uow.batch is not None and before is not None and before.batch is uow.batch and before.inputs.revision == revision - 1:
        # The write before in this batch: its revision commits with this one, so the
        # record cache will stand before both, and follows their changes together.
        changes = before.inputs.changes + changes
        changes_after = before.inputs.changes_after if before.inputs.changes_after is not None else revision - 2
    inputs = StateInputs(
        revision,
        ws.preset,
        state.schema,
        tuple(state.roles.values()),
        tuple(state.members),
        None,
        ws.features,
        head,
        state.newest_compiled,
        changes,
        {role_id: at for role_id, at in state.role_created.items() if role_id in state.roles},
        changes_after,
    )
    prepared = _Prepared(inputs, uow.batch)
    with _inputs_lock:
        _prepared.setdefault(engine, {})[workspace_id] = prepared

    def settle(ok: bool) -> None:
        with _inputs_lock:
            per = _prepared.get(engine, {})
            if per.get(workspace_id) is prepared:
                del per[workspace_id]
            if prepared.withdrawn:
                return  # settled (not ok) when it was withdrawn
            if ok:
                _remember_locked(engine, workspace_id, inputs)
            prepared.ok = ok
        prepared.settled.set()

    uow.after_commit(partial(settle, True))
    uow.after_rollback(partial(settle, False))


def load_state(uow: UnitOfWork, workspace_id: str, *, lock: bool = True) -> WorkspaceState:
    ws = uow.lock(workspace_id) if lock else uow.workspaces.get(workspace_id)
    if ws is None:
        raise NotFoundError(f"no workspace {workspace_id!r}", decision=None, fix="Check the workspace id.")
    site_admins = partial(uow.sites.admins, ws.organization_id)
    # A write of a batch after the first reads the batch's own changes, not committed
    # yet: what it follows from them is not remembered as committed.
    following = uow.batch is not None and bool(uow.batch.members)
    held = _remembered(uow.engine, ws, uow.batch) or followed_inputs(uow, ws, remember=not following)
    if held is not None:
        # Every change of the schema, a role or a member bumps the revision, so the inputs
        # the snapshot cache loaded at this revision (or the write that made it worked
        # out) are this transaction's too: the write reads three tables fewer and, when
        # the snapshot is there, compiles nothing while it holds the lock.
        roles = {r.id: r for r in held.roles}
        members = list(held.members)
        if held.snapshot is not None:
            snap = held.snapshot
            # Already compiled: authorizing the actor through it compiles nothing.
            return WorkspaceState(ws, held.schema, roles, members, lambda: snap, site_admins, held.audit_head, role_created=held.role_created, _compiled=[snap])
        return _state(ws, held.schema, roles, members, StoreRecordIndex(uow.records, ws.id), site_admins, held.audit_head, held.base, held.role_created)
    schema = workspace_schema(uow, ws)
    infos = uow.roles.all(ws.id)
    roles = {info.role.id: info.role for info in infos}
    members = uow.members.members(ws.id)
    # Another process wrote the revision: what this process compiled last for the
    # workspace still spares compiling the acting member's role if it is unchanged
    # (`compile_snapshot` reuses a role only when its schema, features and role match).
    created = {info.role.id: info.created_at for info in infos}
    return _state(ws, schema, roles, members, StoreRecordIndex(uow.records, ws.id), site_admins, None, _newest_compiled(uow.engine, ws.id), created)


FOLLOW_REVISIONS = 64
"""At most this many revisions behind, the inputs this process holds are moved
forward by the audit events between (`followed_inputs`); further behind, read again."""


def followed_inputs(uow: UnitOfWork, ws: Workspace, engine: Engine | None = None, *, remember: bool = True) -> StateInputs | None:
    """The workspace's inputs at `ws.revision`, made by another process, from the older
    ones this process holds and the audit events after them (`inputs_follow`): one
    query instead of the roles, the members and the schema. Remembered, as committed
    data (`ws` is the committed row, read before any change of the caller's). None:
    nothing held, too far behind, or a change not followed (the caller reads all).
    `engine`: the database whose inputs this process holds, when `uow` reads a replica
    of it. `remember`: False when `ws` is not committed (a batch's own changes)."""
    engine = engine or uow.engine
    held = _inputs.get(engine, {}).get(ws.id)
    if held is None or not 0 < ws.revision - held.revision <= FOLLOW_REVISIONS:
        return None
    if held.preset != ws.preset or held.schema.version != ws.schema_version:
        return None
    events = uow.audit.between_revisions(ws.id, held.revision, ws.revision, limit=FOLLOW_REVISIONS * 4)
    # Every revision in between must be there, made by events that say what they changed.
    if len(events) >= FOLLOW_REVISIONS * 4 or {e.revision for e in events} != set(range(held.revision + 1, ws.revision + 1)):
        return None
    moved = inputs_after(held.roles, held.members, events)
    if moved is None:
        return None
    roles, members = moved
    last = events[-1]
    # A role an event touched may have been deleted and made again: its date is read.
    touched = {e.target_id for e in events if e.target_type == "role"}
    ids = {r.id for r in roles}
    created = {role_id: at for role_id, at in held.role_created.items() if role_id in ids and role_id not in touched}
    inputs = StateInputs(
        ws.revision, ws.preset, held.schema, roles, members, None, ws.features, (last.seq, last.hash), held.snapshot or held.base, role_created=created
    )
    if remember:
        _remember(engine, ws.id, inputs)
    return inputs


def _newest_compiled(engine: Engine, workspace_id: str) -> Snapshot | None:
    held = _inputs.get(engine, {}).get(workspace_id)
    return None if held is None else held.snapshot or held.base


def _state(
    ws: Workspace,
    schema: ProductSchema,
    roles: dict[str, Role],
    members: list[Member],
    index: StoreRecordIndex | None,
    site_admins: Callable[[], frozenset[str]],
    audit_head: tuple[int, str] | None = None,
    base: Snapshot | None = None,
    role_created: Mapping[str, datetime] | None = None,
) -> WorkspaceState:
    def snapshot() -> Snapshot:
        return compile_snapshot(
            schema, features=ws.features, roles=roles.values(), members=members, records=index, revision=ws.revision
        )

    return WorkspaceState(ws, schema, roles, members, snapshot, site_admins, audit_head, base, role_created or {})


def workspace_schema(uow: UnitOfWork, ws: Workspace) -> ProductSchema:
    """The product schema at the workspace's version (the preset, or a stored upgrade)
    with the workspace's own objects and fields (K6, K8-K10)."""
    return apply_registry(product_schema(uow, ws.preset, ws.schema_version), uow.fields.registry(ws.id))


def authorize(state: WorkspaceState, actor: Actor, right: AdminRight) -> None:
    """The acting member must hold the admin right through their own role (N12, C1,
    K13, T10, E7): the admin service cannot do what the member may not. A site
    administrator holds every admin right in every workspace of their site, and in no
    other (E1)."""
    if actor.site_user_id is not None:
        if actor.site_user_id in state.site_admins:
            return
        site_rule = state.schema.rule("site_admin")
        raise PermissionDeniedError(
            f"[{site_rule}] user {actor.site_user_id!r} is not an administrator of this workspace's site",
            decision=None,
            fix="Act as a member of this workspace, or ask a site administrator of its organization.",
            rule_id=site_rule,
        )
    if actor.member_id is None:
        return  # the platform (an organization API key, the operator's CLI)
    decision = state.member_snapshot(actor.member_id).has_right(actor.member_id, right)
    if not decision.allowed:
        # E8: a product that names a rule for its audit log cites it when the log is refused.
        audit_rule = state.schema.rule_ids.get("audit_log") if right is AdminRight.VIEW_AUDIT else None
        rule = audit_rule or state.schema.rule("admin_right")
        why = "; ".join(r.message for r in decision.reasons)
        raise PermissionDeniedError(
            f"[{rule}] member {actor.member_id!r} may not {right.value.replace('_', ' ')}: {why}",
            decision=decision,
            fix="Ask a member whose role has that right.",
            rule_id=rule,
        )


def actor_permissions(state: WorkspaceState, actor: Actor) -> frozenset[str] | None:
    """What the acting member effectively holds; None for the platform (no ceiling)."""
    if actor.member_id is None:
        return None
    return state.member_snapshot(actor.member_id).effective_permissions(actor.member_id)


def escalation(state: WorkspaceState, actor: Actor, target: frozenset[str], what: str) -> list[Violation]:
    """Handing out `target` (a role to give, permissions to add) needs holding all of it,
    seats aside (N12: a seat is not a privilege)."""
    held = actor_permissions(state, actor)
    if held is None:
        return []
    target = privileges(state.schema, target)
    return escalation_violations(state.schema, actor_permissions=held, target_permissions=target, what=what)


def actor_field_access(state: WorkspaceState, actor: Actor) -> dict[tuple[str, str], FieldAccess] | None:
    """What the acting member ends up with on every field; None for the platform and a
    site administrator (no ceiling, as for permissions)."""
    if actor.member_id is None:
        return None
    member = actor.member_id
    snap = state.member_snapshot(member)
    return {(o, f): snap.field_access(member, o, f) for o, otype in state.schema.objects.items() for f in otype.fields}


def role_escalation(
    state: WorkspaceState, actor: Actor, role: Role, what: str, *, before: Role | None = None
) -> list[Violation]:
    """Saving `role` hands out its permissions and its field access (create, clone,
    copy, apply), or on a change of `before`, what the change adds; so does giving
    `role` to a person (invite, add, change of role, ownership transfer). The actor
    must hold all of it. The one check of every path that writes or assigns a role."""
    schema, feats = state.schema, state.workspace.features
    perms = role_permissions(schema, role, feats)
    fields = role_field_access(schema, role)
    if before is not None:
        perms -= role_permissions(schema, before, feats)
        was = role_field_access(schema, before)
        fields = {key: access for key, access in fields.items() if access > was.get(key, FieldAccess.NONE)}
    out = escalation(state, actor, perms, what)
    held = actor_field_access(state, actor)
    if held is not None and fields:
        out += field_escalation_violations(schema, actor_fields=held, target_fields=fields, what=what)
    return out


def member_name(uow: UnitOfWork, workspace_id: str, member_id: str) -> str:
    """How a refusal names a member: as the team knows them (their name, else their
    email), never by their id, which the customer never reads (issue 15)."""
    info = uow.members.get(workspace_id, member_id)
    return known_as(info) if info is not None else "This member"


def known_as(info: MemberInfo) -> str:
    """`member_name` of a member whose row is read already."""
    return info.name or info.email


def member_with_role(uow: UnitOfWork, state: WorkspaceState, member_id: str) -> str:
    """A member and the role they hold, for escalation refusals: Ann Archer (role “CSM”)."""
    return with_role(member_name(uow, state.workspace.id, member_id), state.roles[state.member(member_id).role])


def with_role(who: str, role: Role) -> str:
    """`member_with_role` of a member named already."""
    return f"{who} (role {quoted(role.name)})"


def admin_escalation(
    state: WorkspaceState, actor: Actor, target: frozenset[str], what: str | Callable[[], str]
) -> list[Violation]:
    """Acting on a member (disable, enable, change their role) needs holding every admin
    right they hold: an account administrator cannot disable a site administrator (E7),
    an Administrator cannot disable an Owner (T11). Other permissions do not count:
    managing members is the point of the right. `what` may be a function: the member's
    name is then looked up only for a refusal, not on every change that passes."""
    admin_actions = set(state.schema.admin_actions.values())
    guarded = frozenset(p for p in target if any(g.action in admin_actions for g in state.schema.permissions[p].grants))
    if isinstance(what, str):
        return escalation(state, actor, guarded, what)
    found = escalation(state, actor, guarded, "")
    return escalation(state, actor, guarded, what()) if found else found


def record_change(
    uow: UnitOfWork,
    workspace_id: str,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str,
    before: Any,
    after: Any,
    *,
    state: WorkspaceState | None = None,
    with_commit: bool = False,
) -> int:
    """Bump the workspace revision and append the audit event chained to the last one.
    Called inside the transaction that makes the change, while the workspace is locked.
    `state`: the workspace as the change leaves it (`WorkspaceState.changed`), when the
    caller knows; the first change of a unit that says so spares the next write and
    this process's snapshot a reload (`_prepare`). `with_commit`: the caller commits
    next, reading neither the revision nor the audit log before (`UnitOfWork.advance_to`)."""
    revision, last, known = next_revision(uow, workspace_id, state)
    seq, prev = last
    event = AuditEvent(
        workspace_id=workspace_id,
        seq=seq + 1,
        id=new_id(),
        at=utcnow(),
        actor=actor.label,
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
        revision=revision,
        prev_hash=prev,
    )
    event = replace(event, hash=event_hash(event))
    row = {**event.payload(), "at": event.at, "hash": event.hash}
    if known:
        uow.advance_to(workspace_id, revision, [row], with_commit=with_commit)
    else:
        uow.audit.append(event)
    prepare_next(uow, workspace_id, revision, state, (event.seq, event.hash), ((action, target_type, target_id),))
    return revision


def lock_organization(uow: UnitOfWork, organization_id: str) -> list[str]:
    """Lock every workspace of the organization, in creation order (as every unit that
    locks several does, so two never wait on each other crosswise): their ids. A unit
    that also writes rows another may wait for while it holds a share of one of these
    workspaces (webhook endpoints: a delivery row references its workspace) calls this
    first, before touching them."""
    ids = [ws.id for ws in uow.workspaces.all(organization_id)]
    for workspace_id in ids:
        uow.workspaces.lock(workspace_id)
    return ids


def audit_organization(
    uow: UnitOfWork,
    organization_id: str,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str,
    before: Any,
    after: Any,
    *,
    locked: Sequence[str] | None = None,
) -> None:
    """An organization-wide setting changed (SSO, webhooks): the same audit event in
    every workspace of the organization, each locked (`lock_organization`, unless the
    caller passes the ones it `locked` already), in the transaction of the change."""
    for workspace_id in lock_organization(uow, organization_id) if locked is None else locked:
        record_change(uow, workspace_id, actor, action, target_type, target_id, before, after)


def next_revision(uow: UnitOfWork, workspace_id: str, state: WorkspaceState | None) -> tuple[int, tuple[int, str], bool]:
    """The revision the unit's change makes, the audit chain's head its events follow,
    (seq, hash) or (0, GENESIS_HASH), and whether they are known without a read (True:
    the caller then writes the revision with its events, `UnitOfWork.advance_to`; False:
    the revision is bumped and the head read now, in one round trip on PostgreSQL)."""
    if state is not None and state.audit_head is not None and not uow.has_changed(workspace_id) and state.workspace.id == workspace_id:
        return state.workspace.revision + 1, state.audit_head, True
    revision, last = uow.next_revision(workspace_id)
    return revision, last or (0, GENESIS_HASH), False


def prepare_next(
    uow: UnitOfWork,
    workspace_id: str,
    revision: int,
    state: WorkspaceState | None,
    head: tuple[int, str],
    changes: tuple[tuple[str, str, str], ...],
) -> None:
    """Say how the unit's change to `revision` leaves the workspace (None: unknown),
    the audit event it ended with (`head`) and what its events were (`changes`:
    action, target type, target id); see `record_change`. Only the unit's first
    change of the workspace counts: a second one withdraws it."""
    first = uow.revisions_made(workspace_id) == 1
    if state is not None and first and state.workspace.id == workspace_id and state.workspace.revision + 1 == revision:
        _prepare(uow, revision, state, head, changes)
        uow.prepared_workspace = replace(state.workspace, revision=revision)
    else:
        _forget_prepared(uow.engine, workspace_id)
        uow.prepared_workspace = None


def _forget_prepared(engine: Engine, workspace_id: str) -> None:
    """A unit changes the workspace again, or without saying how: the inputs it said
    for its first change are not what its commit makes."""
    with _inputs_lock:
        prepared = _prepared.get(engine, {}).pop(workspace_id, None)
        if prepared is None or prepared.settled.is_set():
            return
        prepared.withdrawn = True
        prepared.ok = False
    prepared.settled.set()
