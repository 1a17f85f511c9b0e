"""References to members in the host product (C6): a playbook task, a report owner, any
place of the product that names a member. The host registers them (in bulk, like the
record index); a referenced member is neither disabled nor deleted until the references
go to someone else (`team.transfer_records` moves them), and the Team page lists them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rolegate.domain.errors import InvalidInputError
from rolegate.domain.schema import AdminRight
from rolegate.domain.workspace import Actor
from rolegate.services.context import authorize, load_state, record_change
from rolegate.store.repositories_team import ReferenceRow
from rolegate.store.uow import UnitOfWork

__all__ = [
    "MAX_REFERENCES",
    "ReferenceList",
    "ReferenceWrite",
    "ReferencesWritten",
    "ReferenceRow",
    "list_references",
    "put_references",
]

MAX_REFERENCES = 10_000


@dataclass(frozen=True, slots=True)
class ReferenceWrite:
    """One reference as the host sends it: `member` None stops naming anyone (removes it)."""

    id: str
    kind: str
    label: str
    member: str | None


@dataclass(frozen=True, slots=True)
class ReferencesWritten:
    saved: int
    removed: int
    revision: int
    """The workspace's revision after the call (the current one when nothing changed)."""


@dataclass(frozen=True, slots=True)
class ReferenceList:
    references: tuple[ReferenceRow, ...]
    revision: int


def list_references(uow: UnitOfWork, *, actor: Actor, workspace_id: str, member: str | None = None) -> ReferenceList:
    """Every reference of the workspace, or those naming `member`; needs the view-roles right, as the team does."""
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        authorize(state, actor, AdminRight.VIEW_ROLES)
        if member is not None:
            state.member(member)  # not found otherwise
        rows = uow.team.references(workspace_id, member)
    return ReferenceList(tuple(rows), state.workspace.revision)


def put_references(
    uow: UnitOfWork, *, actor: Actor, workspace_id: str, references: Sequence[ReferenceWrite]
) -> ReferencesWritten:
    """All or nothing, one revision, one audit event: each reference names a member of
    the workspace (or none: removed). Repeating an id in the call: the last one wins.
    Needs the assign-records right, like assigning records."""
    last = {r.id: r for r in references}
    with uow:
        state = load_state(uow, workspace_id)
        authorize(state, actor, AdminRight.ASSIGN_RECORDS)
        known = {m.id for m in state.members}
        unknown = sorted({r.member for r in last.values() if r.member is not None and r.member not in known})
        if unknown:
            raise InvalidInputError(
                f"No member {unknown[0]!r} in this workspace"
                + (f" (and {len(unknown) - 1} more)." if len(unknown) > 1 else "."),
                fix="Name a member of the workspace, or null to remove the reference.",
            )
        before = {r.id: r for r in uow.team.references(workspace_id)}
        rows = [ReferenceRow(r.id, r.kind, r.label, r.member) for r in last.values() if r.member is not None]
        changed = [r for r in rows if before.get(r.id) != r]
        gone = [i for i, r in last.items() if r.member is None and i in before]
        if not changed and not gone:
            return ReferencesWritten(0, 0, state.workspace.revision)
        uow.team.remove_references(workspace_id, [r.id for r in changed] + gone)
        uow.team.add_references(workspace_id, changed)
        revision = record_change(
            uow, workspace_id, actor, "references.put", "workspace", workspace_id,
            {"references": {i: before[i].member_id for i in [r.id for r in changed] + gone if i in before}},
            {"references": {r.id: r.member_id for r in changed} | dict.fromkeys(gone)},
        )  # fmt: skip
        uow.commit()
    return ReferencesWritten(len(changed), len(gone), revision)
