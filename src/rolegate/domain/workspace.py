"""A workspace (one customer tenant), the actor of a change, and audit events."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii as _js
from typing import Any, NamedTuple

__all__ = ["GENESIS_HASH", "Actor", "AuditEvent", "SealedEvent", "Workspace", "event_hash", "sealed_json"]

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


_COMPACT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)
"""`json.dumps` with these options builds an encoder per call; one serves them all."""


def _compact(value: Any) -> str:
    return _COMPACT.encode(value)


def sealed_json(event: AuditEvent, at: str | None = None) -> tuple[str, str | None, str | None]:
    """The event's hash and its `before` and `after` as JSON, serialized once: a bulk
    writer stores the very texts it hashed (None for a JSON null). The canonical text
    is `event_hash`'s, assembled from its parts in its sorted key order; `at`, the
    event's time as `payload()` writes it, may be passed when many events share it."""
    before = None if event.before is None else _compact(event.before)
    after = None if event.after is None else _compact(event.after)
    canonical = (
        f'{{"action":{_js(event.action)},"actor":{_js(event.actor)},"after":{after or "null"},'
        f'"at":{_js(at or event.at.astimezone(UTC).isoformat())},"before":{before or "null"},"id":{_js(event.id)},'
        f'"prev_hash":{_js(event.prev_hash)},"revision":{int(event.revision)},"seq":{int(event.seq)},'
        f'"target_id":{_js(event.target_id)},"target_type":{_js(event.target_type)},"workspace_id":{_js(event.workspace_id)}}}'
    )
    return hashlib.sha256(canonical.encode()).hexdigest(), before, after


class SealedEvent(NamedTuple):
    """An event ready to store: `event` (its `hash` field left empty), its hash, and its
    `before` and `after` as the JSON texts that were hashed."""

    event: AuditEvent
    hash: str
    before_json: str | None
    after_json: str | None
