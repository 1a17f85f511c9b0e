"""Team: invitations, ownership transfer."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from rolegate.api.schemas.workspaces import MemberOut

__all__ = ["AcceptedOut", "InvitationListOut", "InvitationOut", "InvitationWritten", "OwnershipOut", "TransferredOut"]


class InvitationOut(BaseModel):
    id: str
    member: str
    email: str
    expires_at: datetime
    expired: bool
    sent_count: int


class InvitationListOut(BaseModel):
    """A page of the open invitations, the workspace revision they were read at, and
    `next_cursor`, set exactly when more follow (pass it back as `cursor`)."""

    invitations: list[InvitationOut]
    revision: int
    next_cursor: str | None = None


class InvitationWritten(BaseModel):
    invitation: InvitationOut
    member: MemberOut
    revision: int


class AcceptedOut(BaseModel):
    workspace: str
    member: str
    email: str


class TransferredOut(BaseModel):
    records: dict[str, int]
    references: int
    revision: int


class OwnershipOut(BaseModel):
    owner: MemberOut
    former_owner: MemberOut
    revision: int
