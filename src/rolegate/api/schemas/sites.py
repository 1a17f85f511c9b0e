"""Sites: administrators and the workspaces of a user."""

from __future__ import annotations

from pydantic import BaseModel, Field

from rolegate.services.commands import Email, Name, _In

__all__ = [
    "SiteAdministratorIn",
    "SiteAdministratorOut",
    "SiteAdministratorsOut",
    "UserWorkspaceOut",
    "UserWorkspacesOut",
]


class SiteAdministratorIn(_In):
    email: Email
    name: Name = ""


class SiteAdministratorOut(BaseModel):
    user_id: str
    email: str
    name: str


class SiteAdministratorsOut(BaseModel):
    organization_id: str
    administrators: list[SiteAdministratorOut]


class UserWorkspaceOut(BaseModel):
    """A workspace the user may enter, and how to act there (E1, E9)."""

    workspace_id: str
    name: str
    preset: str
    organization_id: str
    site_admin: bool
    member_id: str | None
    member_status: str | None
    actor: str | None = Field(
        description="The `Rolegate-Actor` header to act as this user there; null where they cannot act (invited, disabled)."
    )


class UserWorkspacesOut(BaseModel):
    user_id: str
    workspaces: list[UserWorkspaceOut]
