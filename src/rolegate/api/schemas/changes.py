"""The change feed and the snapshot download: what they answer (documentation: the
routes render the bodies themselves, from the services' JSON)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["ChangeOut", "ChangeTargetOut", "ChangesOut", "OrganizationChangeOut", "OrganizationChangesOut", "SnapshotDocumentOut"]


class ChangeTargetOut(BaseModel):
    type: str
    id: str


class ChangeOut(BaseModel):
    revision: int = Field(description="The workspace revision the change made (several changes may share one: a bulk call).")
    seq: int = Field(description="The change's position in the workspace's audit log.")
    id: str
    action: str = Field(description="What happened, e.g. `role.update`, `member.invite`, `record.assign`.")
    target: ChangeTargetOut
    actor: str = Field(description="Who did it: `member:<id>`, `site-admin:<user id>` or `platform:<name>`.")
    at: str = Field(description="When (ISO 8601, UTC).")


class ChangesOut(BaseModel):
    changes: list[ChangeOut]
    revision: int = Field(description="The workspace's revision when the page was read.")
    next_after: int | None = Field(description="The revision of the last change returned: the next page's `after`; null when the page is empty (keep your cursor).")


class OrganizationChangeOut(ChangeOut):
    workspace_id: str


class OrganizationChangesOut(BaseModel):
    changes: list[OrganizationChangeOut]
    next_after: str = Field(description="The cursor after this page: base64url JSON of {workspace id: revision}; pass it as the next `after`.")


class SnapshotDocumentOut(BaseModel):
    """The snapshot document, format `rolegate.snapshot/1` (see `rolegate.engine.document`)."""

    format: str
    workspace_id: str
    revision: int
    schema_: dict[str, Any] = Field(alias="schema", description="`key`, `version`, `hash` (SHA-256 of the canonical source) and `source`: the product schema as its YAML reads.")
    registry: dict[str, Any] = Field(description="The workspace's additional objects and fields (K6, K8-K10).")
    features: list[str]
    roles: list[dict[str, Any]]
    members: list[dict[str, Any]]
