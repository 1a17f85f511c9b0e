"""Members and their workspace-local records."""

from __future__ import annotations

from pydantic import BaseModel

from rolegate.api.schemas.workspaces import MemberOut

__all__ = ["MemberDeletedOut", "MemberListOut", "MemberRecordCreatedOut", "MemberRecordOut", "MemberRecordsOut", "MemberWritten"]


class MemberWritten(BaseModel):
    member: MemberOut
    revision: int


class MemberListOut(BaseModel):
    """A page of the members the filters keep, the workspace revision they were read at,
    and `next_cursor`, set exactly when more follow (pass it back as `cursor`)."""

    members: list[MemberOut]
    revision: int
    next_cursor: str | None = None


class MemberRecordOut(BaseModel):
    """E7: an administrator record; the role is shown, and assignable only by those who may assign roles."""

    member_id: str
    user_id: str
    name: str
    email: str
    status: str
    role: str
    role_name: str
    may_assign_roles: bool


class MemberDeletedOut(BaseModel):
    """N12, E7: the member as they were when deleted; the person's login (`user_id`) stays."""

    member: MemberOut
    user_id: str
    revision: int


class MemberRecordsOut(BaseModel):
    """E7: the administrator records, as the admin UI's list shows them."""

    items: list[MemberRecordOut]
    revision: int


class MemberRecordCreatedOut(BaseModel):
    record: MemberRecordOut
    revision: int
