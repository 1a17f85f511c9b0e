"""Schema upgrades: plan a new version of a product schema, read an upgrade run."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from rolegate.services.commands import _In

__all__ = ["UpgradePlanIn", "UpgradePlanOut", "UpgradeStatusOut", "UpgradeStatusesOut"]


class UpgradePlanIn(_In):
    schema_text: Annotated[str, Field(min_length=1, max_length=1_000_000)] = Field(
        alias="schema", description="The new version of a product schema, as YAML (or JSON) text."
    )


class UpgradePlanOut(BaseModel):
    product: str
    version: int
    changes: dict[str, Any] = Field(description="What the version adds, removes, renames and splits.")
    summary: dict[str, int] = Field(description="Across the workspaces: ready, blocked, members gaining and losing ...")
    workspaces: list[dict[str, Any]] = Field(
        description="Per workspace of the caller's organization on an older version: ok, blockers, roles, members, "
        "seat overflow, K8."
    )


class BlockedOut(BaseModel):
    workspace_id: str
    blockers: list[str]


class UpgradeStatusOut(BaseModel):
    id: str
    product: str
    version: int
    status: str = Field(description="`running` (or killed: the next `rolegate schema apply` resumes it) or `finished`.")
    migrated: int
    blocked: int
    started_at: str
    finished_at: str | None
    blocked_workspaces: list[BlockedOut]


class UpgradeStatusesOut(BaseModel):
    items: list[UpgradeStatusOut]
