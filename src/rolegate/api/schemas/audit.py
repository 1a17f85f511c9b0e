"""The audit log: pages, chain verification, retention."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

__all__ = ["AuditEventOut", "AuditPage", "ChainOut", "RetentionOut"]


class AuditEventOut(BaseModel):
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
    hash: str


class AuditPage(BaseModel):
    events: list[AuditEventOut]
    next_after_seq: int | None = Field(description="Pass as `after_seq` for the next page; null on the last page.")
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page (as in every list)."
    )
    revision: int = Field(description="The workspace revision the page was read at.")


class ChainOut(BaseModel):
    workspace_id: str
    events: int
    intact: bool
    first_broken_seq: int | None
    problem: str
    last_seq: int = Field(default=0, description="The chain is intact up to this event.")
    pruned_through: int = Field(default=0, description="Events up to this one were removed by retention.")


class RetentionOut(BaseModel):
    days: int | None
    pruned_through_seq: int = Field(
        description="Events up to this one were removed by retention; the chain is verified from there."
    )
