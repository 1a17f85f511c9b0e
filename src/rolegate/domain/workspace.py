"""A workspace (one customer tenant), the actor of a change, and audit events."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["GENESIS_HASH", "Actor", "AuditEvent", "Workspace", "event_hash"]

GENESIS_HASH = "0" * 64


@dataclass(frozen=True, slots=True)
class Workspace:
    id: str
    organization_id: str
    name: str
    preset: str
    schema_version: int
    features: frozenset[str]
    seat_capacities: Mapping[str, int | None]
    revision: int


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change: a member of the workspace, the platform itself (an
    operator or an API key with organization rights, e.g. creating a workspace), or a
    site administrator (a user who administers every workspace of an organization, E1)."""

    member_id: str | None = None
    platform: str | None = None
    site_user_id: str | None = None

    @classmethod
    def member(cls, member_id: str) -> Actor:
        return cls(member_id=member_id)

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(platform=name)

    @classmethod
    def site_admin(cls, user_id: str) -> Actor:
        return cls(site_user_id=user_id)

    @property
    def is_platform(self) -> bool:
        return self.member_id is None and self.site_user_id is None

    @property
    def label(self) -> str:
        if self.member_id is not None:
            return f"member:{self.member_id}"
        if self.site_user_id is not None:
            return f"site-admin:{self.site_user_id}"
        return f"platform:{self.platform}"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    workspace_id: str
    seq: int
    id: str
    at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    before: Any
    after: Any
    revision: int
    prev_hash: str
    hash: str = field(default="")

    def payload(self) -> dict[str, Any]:
        return {
            "workspace_id": self.workspace_id,
            "seq": self.seq,
            "id": self.id,
            "at": self.at.astimezone(UTC).isoformat(),
            "actor": self.actor,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "before": self.before,
            "after": self.after,
            "revision": self.revision,
            "prev_hash": self.prev_hash,
        }


def event_hash(event: AuditEvent) -> str:
    """The event's hash covers its content and the previous event's hash, so changing
    or removing any event breaks every hash after it."""
    canonical = json.dumps(event.payload(), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
