"""A change of the change feed: one committed audit event, without its before/after.

The feed (`GET /v1/workspaces/{ws}/changes`) tells a consumer *that* something
changed, at which revision, by whom and on what; the consumer reads what it needs
(or downloads the snapshot). The audit log keeps the details."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["Change"]


@dataclass(frozen=True, slots=True)
class Change:
    workspace_id: str
    revision: int
    seq: int
    id: str
    action: str
    target_type: str
    target_id: str
    actor: str
    at: datetime

    def as_json(self, *, with_workspace: bool = False) -> dict[str, Any]:
        """The feed's JSON of the change; an organization's feed adds its workspace."""
        out: dict[str, Any] = {
            "revision": self.revision,
            "seq": self.seq,
            "id": self.id,
            "action": self.action,
            "target": {"type": self.target_type, "id": self.target_id},
            "actor": self.actor,
            "at": self.at.astimezone(UTC).isoformat(),
        }
        if with_workspace:
            out["workspace_id"] = self.workspace_id
        return out
