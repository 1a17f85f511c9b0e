"""Why may (or may not) a member do an action, and who may: the read use cases behind
every explain door (`POST .../explain`, `rolegate explain`, the admin UI's Explain page
and its "who has access" view).

The decision and its chain of reasons are the engine's own (`Snapshot.explain`), from
the same snapshot that answers `/check`: an explanation never disagrees with a check.
The admin UI and the CLI name an acting party, authorized with the view-roles right
(the product's admin right: N12, C1, K13, T10, E7); the API's explain is a decision
call (a `decide` key), like `/check`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rolegate.domain.errors import NotFoundError
from rolegate.domain.schema import AdminRight
from rolegate.domain.workspace import Actor
from rolegate.engine import Decision, RecordRef, Snapshot
from rolegate.services.context import WorkspaceState, authorize, load_state
from rolegate.store.repositories import MemberInfo
from rolegate.store.uow import UnitOfWork

__all__ = [
    "AccessHolder",
    "AccessList",
    "ActionChoice",
    "ExplainPage",
    "Explained",
    "ExplainedReason",
    "MemberChoice",
    "ObjectChoice",
    "explain_decision",
    "explain_member",
    "explain_page",
    "who_has_access",
]


@dataclass(frozen=True, slots=True)
class ExplainedReason:
    """One link of the chain: in words, and as codes (the reason's code, the seed rule
    that decided, the permission it is about)."""

    code: str
    message: str
    permission: str | None = None
    rule: str | None = None


@dataclass(frozen=True, slots=True)
class Explained:
    """A decision and the chain of reasons that led to it."""

    member_id: str
    action: str
    record: RecordRef | None
    allowed: bool
    scope: str
    role_id: str | None
    role_name: str | None
    level: str | None
    reasons: tuple[ExplainedReason, ...]
    lines: tuple[str, ...]
    """The engine's explanation, line by line (verdict first)."""
    revision: int


@dataclass(frozen=True, slots=True)
class MemberChoice:
    id: str
    name: str
    email: str
    status: str


@dataclass(frozen=True, slots=True)
class ActionChoice:
    key: str
    label: str
    object_type: str | None


@dataclass(frozen=True, slots=True)
class ObjectChoice:
    key: str
    label: str


@dataclass(frozen=True, slots=True)
class ExplainPage:
    """What the Explain page shows: the choices, and the answer once asked."""

    members: tuple[MemberChoice, ...]
    actions: tuple[ActionChoice, ...]
    objects: tuple[ObjectChoice, ...]
    member: MemberChoice | None
    explained: Explained | None
    revision: int


@dataclass(frozen=True, slots=True)
class AccessHolder:
    member: MemberChoice
    role_name: str | None
    scope: str


@dataclass(frozen=True, slots=True)
class AccessList:
    """The members who may do `action` (on `record`), each with the scope they hold it in."""

    action: ActionChoice
    record: RecordRef | None
    holders: tuple[AccessHolder, ...]
    revision: int


def _reasons(decision: Decision) -> tuple[ExplainedReason, ...]:
    return tuple(ExplainedReason(r.code.value, r.message, r.permission, r.rule_id) for r in decision.reasons)


def explain_decision(snapshot: Snapshot, member_id: str, action: str, record: RecordRef | None = None) -> Explained:
    """The engine's explanation of one decision (raises UnknownActionError or
    InvalidRecordError like `check`)."""
    explanation = snapshot.explain(member_id, action, record)
    decision = explanation.decision
    role = snapshot.role_of(member_id) if explanation.role is not None else None
    return Explained(
        member_id=member_id,
        action=action,
        record=record,
        allowed=decision.allowed,
        scope=decision.scope.label,
        role_id=explanation.role,
        role_name=role.name if role is not None else None,
        level=explanation.level,
        reasons=_reasons(decision),
        lines=explanation.lines,
        revision=decision.revision,
    )


def _choice(info: MemberInfo) -> MemberChoice:
    return MemberChoice(info.member.id, info.name or info.email, info.email, info.member.status.value)


def _find_member(infos: list[MemberInfo], member: str) -> MemberChoice:
    """A member by id, or by email address (any case)."""
    wanted = member.strip().lower()
    for info in infos:
        if info.member.id == member or ("@" in wanted and info.email.lower() == wanted):
            return _choice(info)
    raise NotFoundError(
        f"no member {member!r} in this workspace",
        decision=None,
        fix="Choose a member of this workspace (their id or email).",
    )


def _load(uow: UnitOfWork, actor: Actor, workspace_id: str) -> tuple[WorkspaceState, list[MemberInfo]]:
    state = load_state(uow, workspace_id, lock=False)
    authorize(state, actor, AdminRight.VIEW_ROLES)
    return state, uow.members.all(workspace_id)


def explain_member(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, member: str, action: str, record: RecordRef | None = None
) -> Explained:
    """Why may (or may not) `member` (id or email) do `action` (on `record`)?"""
    with uow:
        state, infos = _load(uow, actor, workspace_id)
        return explain_decision(state.snapshot, _find_member(infos, member).id, action, record)


def explain_page(
    uow: UnitOfWork,
    *,
    actor: Actor,
    workspace_id: str,
    member: str | None = None,
    action: str | None = None,
    record: RecordRef | None = None,
) -> ExplainPage:
    """The Explain page: members, actions and record types to choose from; with a
    member and an action, the decision and its reasons."""
    with uow:
        state, infos = _load(uow, actor, workspace_id)
        chosen = _find_member(infos, member) if member else None
        explained = (
            explain_decision(state.snapshot, chosen.id, action, record) if chosen is not None and action else None
        )
    schema = state.schema
    return ExplainPage(
        members=tuple(_choice(i) for i in infos),
        actions=tuple(ActionChoice(a.key, a.label, a.object_type) for a in schema.actions.values()),
        objects=tuple(ObjectChoice(o.key, o.label) for o in schema.objects.values()),
        member=chosen,
        explained=explained,
        revision=state.workspace.revision,
    )


def who_has_access(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, action: str, record: RecordRef | None = None
) -> AccessList:
    """Every member who may do `action` (on `record`), with the scope of their grant:
    one decision per member of the workspace, from the same snapshot as `/check`."""
    with uow:
        state, infos = _load(uow, actor, workspace_id)
        snap = state.snapshot
        snap.check("", action)  # an unknown action is refused (with a suggestion) even in a workspace without members
        holders: list[AccessHolder] = []
        for info in infos:
            decision = snap.check(info.member.id, action, record)
            if decision.allowed:
                role = snap.role_of(info.member.id)
                holders.append(
                    AccessHolder(_choice(info), role.name if role is not None else None, decision.scope.label)
                )
    found = state.schema.actions[action]
    return AccessList(
        ActionChoice(found.key, found.label, found.object_type), record, tuple(holders), state.workspace.revision
    )
