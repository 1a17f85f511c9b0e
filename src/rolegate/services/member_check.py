"""`rolegate check`'s use case: one decision for a member named by id or by email,
explained, from the same cached snapshot the API decides with."""

from __future__ import annotations

from dataclasses import dataclass

from rolegate.domain.errors import NotFoundError
from rolegate.engine import Explanation, RecordRef
from rolegate.services.snapshots import SnapshotCache
from rolegate.store.uow import UnitOfWork

__all__ = ["MemberCheck", "check_member"]


@dataclass(frozen=True, slots=True)
class MemberCheck:
    member_id: str
    by_email: bool
    """The member was named by their email (`member_id` is who that is)."""
    explanation: Explanation


def check_member(
    uow: UnitOfWork,
    snapshots: SnapshotCache,
    *,
    workspace_id: str,
    member: str,
    action: str,
    record: RecordRef | None = None,
) -> MemberCheck:
    """May `member` (an id, or an email address) do `action` (on `record`), and why."""
    member_id = _member_by_email(uow, workspace_id, member) if "@" in member else member
    return MemberCheck(member_id, member_id != member, snapshots.get(workspace_id).explain(member_id, action, record))


def _member_by_email(uow: UnitOfWork, workspace_id: str, email: str) -> str:
    with uow:
        if uow.workspaces.get(workspace_id) is None:
            raise NotFoundError(
                f"no workspace {workspace_id!r}",
                decision=None,
                fix="Check the workspace id (`rolegate demo` prints the demo's).",
            )
        user = uow.users.by_email(email)
        found = uow.members.by_user(workspace_id, str(user.id)) if user is not None else None
    if found is None:
        raise NotFoundError(
            f"no member with email {email!r} in workspace {workspace_id!r}",
            decision=None,
            fix="Check the email, or pass the member id.",
        )
    return found.member.id
