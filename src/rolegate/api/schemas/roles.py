"""Roles, the permission matrix and role copy."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from rolegate.services.commands import Access, _In, text

__all__ = [
    "CloneRoleIn",
    "CopyPreviewOut",
    "DeleteRoleIn",
    "MatrixOut",
    "MatrixRoleOut",
    "MatrixRowOut",
    "RevisionOut",
    "RoleCopyOut",
    "RoleListOut",
    "RoleOut",
    "RoleWritten",
    "ViolationOut",
]


class RoleOut(BaseModel):
    """T3: type, level (license), description, active and invited members, dates."""

    id: str
    name: str
    type: Literal["system", "custom"]
    level: str
    level_label: str
    seat: str | None
    description: str
    landing_page: str | None
    grants: list[str]
    effective: list[str] = Field(
        description="Permissions in effect: floor and ceiling applied, features and requirements met."
    )
    field_access: dict[str, dict[str, Access]]
    editable: bool
    deletable: bool
    active_members: int
    invited_members: int
    created_at: datetime
    updated_at: datetime


class RoleListOut(BaseModel):
    roles: list[RoleOut]
    revision: int
    next_cursor: str | None = None
    """Set exactly when more roles follow: pass it back as `cursor`."""


class CloneRoleIn(_In):
    name: Annotated[str, text(200, min_length=1)] | None = None


class RoleWritten(BaseModel):
    role: RoleOut
    revision: int


class RevisionOut(BaseModel):
    revision: int = Field(
        description="The workspace revision after the change: pass it as `min_revision` to read your write."
    )


class MatrixRoleOut(BaseModel):
    id: str
    name: str


class MatrixRowOut(BaseModel):
    area: str
    permission: str
    label: str
    cells: list[Literal["on", "locked", "inert", "off", "unavailable"]] = Field(
        description="One per role, in the order of `roles`."
    )


class MatrixOut(BaseModel):
    roles: list[MatrixRoleOut]
    rows: list[MatrixRowOut]
    revision: int


class ViolationOut(BaseModel):
    rule: str
    message: str
    fix: str


class CopyPreviewOut(BaseModel):
    workspace_id: str
    workspace_name: str
    action: Literal["create", "update", "unchanged", "refused"]
    level: str
    level_before: str | None
    inert: list[str] = Field(
        description="Granted permissions whose feature is off in the target: no effect there (E5)."
    )
    gained: list[str]
    lost: list[str]
    holders: int
    seat: str | None
    seat_impact: str
    violations: list[ViolationOut]


class RoleCopyOut(BaseModel):
    previews: list[CopyPreviewOut]
    copied: dict[str, str] = Field(description="Target workspace id -> id of the role created or updated there.")


class DeleteRoleIn(_In):
    """N7: where the product allows deleting a role still held, the role its holders move to."""

    replacement: Annotated[str, text(36, min_length=1)] | None = Field(
        None, description="The role the holders move to (N7); refused where the product forbids it (T9)."
    )
