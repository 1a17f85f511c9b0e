"""The operator's audit commands over one workspace or every one: verify each hash
chain (naming the first broken event), prune each log to its retention setting.
One workspace's work is `services.audit`'s; this picks the workspaces."""

from __future__ import annotations

from dataclasses import dataclass

from rolegate.domain.errors import NotFoundError
from rolegate.domain.workspace import Actor, AuditEvent, Workspace
from rolegate.services.audit import ChainReport, prune_events, verify_chain
from rolegate.store.uow import UnitOfWork

__all__ = ["WorkspaceChain", "prune_workspaces", "verify_workspaces"]


@dataclass(frozen=True, slots=True)
class WorkspaceChain:
    workspace: Workspace
    report: ChainReport
    broken_event: AuditEvent | None = None
    """The first event that breaks the chain, when it is still there to show."""


def verify_workspaces(uow: UnitOfWork, *, workspace_id: str | None = None) -> list[WorkspaceChain]:
    """Every workspace's chain (or `workspace_id`'s), each checked in its own transaction."""
    with uow:
        found = uow.workspaces.all() if workspace_id is None else [uow.workspaces.get(workspace_id)]
    targets = [ws for ws in found if ws is not None]
    if len(targets) < len(found):
        raise NotFoundError(
            f"no workspace {workspace_id!r}", decision=None, fix="Check the workspace id, or verify them all."
        )
    return [_verified(uow, ws) for ws in targets]


def _verified(uow: UnitOfWork, workspace: Workspace) -> WorkspaceChain:
    report = verify_chain(uow, workspace_id=workspace.id)
    if report.intact:
        return WorkspaceChain(workspace, report)
    with uow:
        found = uow.audit.all(workspace.id, after_seq=(report.first_broken_seq or 1) - 1, limit=1)
    return WorkspaceChain(workspace, report, found[0] if found else None)


def prune_workspaces(uow: UnitOfWork, *, actor: Actor, workspace_id: str | None = None) -> dict[str, int]:
    """Prune every workspace's log (or `workspace_id`'s), one transaction each: how many
    events went, by workspace id."""
    with uow:
        targets = [workspace_id] if workspace_id is not None else [ws.id for ws in uow.workspaces.all()]
    return {ws_id: prune_events(uow, actor=actor, workspace_id=ws_id) for ws_id in targets}
