"""Request and response bodies of the HTTP API (Pydantic), and their builders from
domain values. Strings bound for the database carry their column's length and refuse
NUL (PostgreSQL cannot store it), so bad input is a 422, never a database error."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, NotRequired

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, with_config
from typing_extensions import TypedDict

from rolegate.presets import PRESET_KEYS

__all__ = [
    "ActionOut",
    "AreaOut",
    "AuditEventOut",
    "AuditPage",
    "BatchCheckIn",
    "BatchCheckOut",
    "BatchItemIn",
    "BatchRecordIn",
    "BatchResultOut",
    "ChainOut",
    "CheckIn",
    "CheckOut",
    "CloneRoleIn",
    "FeatureOut",
    "FieldOut",
    "FieldsFilterIn",
    "FieldsFilterOut",
    "GrantOut",
    "InviteIn",
    "LandingPageOut",
    "LevelOut",
    "LookupIn",
    "LookupOut",
    "MatrixOut",
    "MatrixRoleOut",
    "MatrixRowOut",
    "MemberChangeIn",
    "MemberOut",
    "MemberWritten",
    "ObjectOut",
    "PermissionOut",
    "Problem",
    "ProblemError",
    "ProblemViolation",
    "ReasonOut",
    "RecordIn",
    "RecordOut",
    "RecordRefIn",
    "RecordWritten",
    "RevisionOut",
    "RoleCreateIn",
    "RoleListOut",
    "RoleOut",
    "RoleUpdateIn",
    "RoleWritten",
    "SchemaOut",
    "SeatOut",
    "SeatUsageOut",
    "WorkspaceCreateIn",
    "WorkspaceCreated",
    "WorkspaceOut",
    "NO_NUL",
    "MAX_REVISION",
]

NO_NUL = r"^[^\x00]*$"
MAX_REVISION = 2**62
"""Revisions and sequence numbers are 64-bit in the store; larger ones cannot exist."""


def text(max_length: int, *, min_length: int = 0) -> Any:
    return StringConstraints(min_length=min_length, max_length=max_length, pattern=NO_NUL)


Id = Annotated[str, text(36, min_length=1)]
Key = Annotated[str, text(64, min_length=1)]
RecordId = Annotated[str, text(200, min_length=1)]
Name = Annotated[str, text(200)]
Email = Annotated[str, text(320, min_length=1)]
Description = Annotated[str, text(2000)]
Access = Literal["none", "read", "write"]
FieldAccessIn = Annotated[dict[Key, Annotated[dict[Key, Access], Field(max_length=500)]], Field(max_length=100)]
Grants = Annotated[list[Annotated[str, text(200, min_length=1)]], Field(max_length=500)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- problems -----------------------------------------------------------------------------


class ProblemViolation(BaseModel):
    rule: str = Field(description="The seed rule id that refused, e.g. `N7`.")
    message: str
    fix: str = Field(description="What to do instead.")


class ProblemError(BaseModel):
    loc: list[str | int] = Field(description="Where: e.g. `[\"body\", \"checks\", 3, \"action\"]`.")
    msg: str
    hint: str = ""


class Problem(BaseModel):
    """An error (RFC 9457 problem details); `docs/errors.md` lists every `code`."""

    type: str = Field(description="`https://rolegate.dev/problems/<code>`: stable, match on it (or on `code`).")
    code: str = Field(description="The stable error code, e.g. `rule_violation`.")
    title: str
    status: int
    detail: str = Field(description="What went wrong and what to do.")
    rule: str | None = Field(default=None, description="The seed rule id when a rule refused, e.g. `N7`.")
    violations: list[ProblemViolation] = Field(default_factory=list)
    errors: list[ProblemError] = Field(default_factory=list)


# -- workspaces ---------------------------------------------------------------------------


class WorkspaceCreateIn(_In):
    preset: Key = Field(description="A shipped product preset.", json_schema_extra={"enum": list(PRESET_KEYS)})
    name: Annotated[str, text(200, min_length=1)]
    owner_email: Email = Field(description="The first member, active, with the role that keeps the team (C4, T11).")
    owner_name: Name = ""
    features: Annotated[list[Key], Field(max_length=200)] | None = Field(default=None, description="Features switched on; default: the preset's defaults.")
    seat_capacities: Annotated[dict[Key, Annotated[int, Field(ge=0, le=10**9)] | None], Field(max_length=50)] | None = Field(
        default=None, description="Seats per seat type; null or absent: unlimited."
    )


class SeatUsageOut(BaseModel):
    label: str
    used: int
    capacity: int | None


class WorkspaceSettingsIn(BaseModel):
    """Plan and billing settings; omitted keys stay as they are."""

    model_config = ConfigDict(extra="forbid")

    features: list[Annotated[str, Field(min_length=1, max_length=64)]] | None = Field(None, max_length=100)
    seat_capacities: dict[Annotated[str, Field(min_length=1, max_length=64)], Annotated[int, Field(ge=0, le=10_000_000)] | None] | None = None


class WorkspaceOut(BaseModel):
    id: str
    organization_id: str
    name: str
    preset: str
    schema_version: int
    features: list[str]
    seats: dict[str, SeatUsageOut]
    revision: int


class MemberOut(BaseModel):
    id: str
    email: str
    name: str
    role: str
    status: Literal["invited", "active", "disabled"]
    invited_at: datetime | None
    activated_at: datetime | None
    disabled_at: datetime | None


class WorkspaceCreated(BaseModel):
    workspace: WorkspaceOut
    owner: MemberOut
    revision: int


# -- schema (the resolved catalog) ------------------------------------------------------


class AreaOut(BaseModel):
    key: str
    label: str
    description: str


class GrantOut(BaseModel):
    action: str
    scope: str


class PermissionOut(BaseModel):
    key: str
    label: str
    description: str
    area: str
    grants: list[GrantOut]
    requires: list[str]
    feature: str | None
    pair: dict[str, str] | None = Field(description="T7: `{row, column}` when shown as a View/Manage pair.")
    system_only: bool


class LevelOut(BaseModel):
    key: str
    label: str
    description: str
    rank: int
    seat: str | None
    floor: list[str]
    ceiling: list[str]
    field_ceiling: Access


class SeatOut(BaseModel):
    key: str
    label: str
    description: str


class FeatureOut(BaseModel):
    key: str
    label: str
    description: str
    default: bool


class LandingPageOut(BaseModel):
    key: str
    label: str
    requires: str | None


class FieldOut(BaseModel):
    name: str
    label: str
    default: bool
    synced_from: str | None


class ObjectOut(BaseModel):
    key: str
    label: str
    parent: str | None
    assignable: bool
    view_action: str | None
    fields: list[FieldOut]


class ActionOut(BaseModel):
    key: str
    label: str
    object: str | None


class SchemaOut(BaseModel):
    key: str
    name: str
    description: str
    level_mode: Literal["chosen", "marker"]
    custom_roles_allowed: bool
    areas: list[AreaOut]
    permissions: list[PermissionOut]
    levels: list[LevelOut]
    seats: list[SeatOut]
    features: list[FeatureOut]
    landing_pages: list[LandingPageOut]
    objects: list[ObjectOut]
    actions: list[ActionOut]
    admin_actions: dict[str, str] = Field(description="Admin right -> the action that carries it (N12, C1, K13, T10, E7).")


# -- roles --------------------------------------------------------------------------------


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
    effective: list[str] = Field(description="Permissions in effect: floor and ceiling applied, features and requirements met.")
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


class RoleCreateIn(_In):
    name: Annotated[str, text(200, min_length=1)]
    level: Key | None = Field(default=None, description="Required where the product lets the level be chosen (K6, T5).")
    grants: Grants = Field(default_factory=list, description="Permission keys.")
    landing_page: Key | None = None
    description: Description = ""
    field_access: FieldAccessIn | None = Field(default=None, description="object -> field -> none/read/write (K6).")


class RoleUpdateIn(_In):
    name: Annotated[str, text(200, min_length=1)] | None = None
    level: Key | None = None
    grants: Grants | None = None
    landing_page: Key | None = None
    description: Description | None = None
    field_access: FieldAccessIn | None = None


class CloneRoleIn(_In):
    name: Annotated[str, text(200, min_length=1)] | None = None


class RoleWritten(BaseModel):
    role: RoleOut
    revision: int


class RevisionOut(BaseModel):
    revision: int = Field(description="The workspace revision after the change: pass it as `min_revision` to read your write.")


class MatrixRoleOut(BaseModel):
    id: str
    name: str


class MatrixRowOut(BaseModel):
    area: str
    permission: str
    label: str
    cells: list[Literal["on", "locked", "inert", "off", "unavailable"]] = Field(description="One per role, in the order of `roles`.")


class MatrixOut(BaseModel):
    roles: list[MatrixRoleOut]
    rows: list[MatrixRowOut]
    revision: int


# -- members ------------------------------------------------------------------------------


class InviteIn(_In):
    email: Email
    role: Id
    name: Name = ""


class MemberChangeIn(_In):
    role: Id


class MemberWritten(BaseModel):
    member: MemberOut
    revision: int


# -- records ------------------------------------------------------------------------------


class RecordRefIn(_In):
    type: Key
    id: RecordId


class RecordIn(_In):
    parent: RecordRefIn | None = Field(default=None, description="Required for child objects (C7).")
    assignee: Id | None = Field(default=None, description="The member the record is assigned to (N9).")


class RecordOut(BaseModel):
    type: str
    id: str
    parent: dict[str, str] | None
    assignee: str | None


class RecordWritten(BaseModel):
    record: RecordOut
    revision: int


# -- decisions ----------------------------------------------------------------------------


class ReasonOut(BaseModel):
    code: str
    message: str
    permission: str | None
    rule: str | None


class CheckIn(_In):
    member: Id
    action: Annotated[str, text(200, min_length=1)]
    record: RecordRefIn | None = None
    min_revision: Annotated[int, Field(ge=0, le=MAX_REVISION)] | None = Field(default=None, description="Decide at this revision or later (read your writes).")


class CheckOut(BaseModel):
    action: str
    allowed: bool
    scope: str = Field(description="Without a record: on which records it is granted (`all`, `assigned`, ...).")
    reasons: list[ReasonOut]
    revision: int


# A batch's checks are TypedDicts, not models: validating 10,000 of them into plain
# dicts costs a fraction of building 10,000 model instances.


@with_config(ConfigDict(extra="forbid"))
class BatchRecordIn(TypedDict):
    type: Key
    id: RecordId


@with_config(ConfigDict(extra="forbid"))
class BatchItemIn(TypedDict):
    member: Id
    action: Annotated[str, text(200, min_length=1)]
    record: NotRequired[BatchRecordIn | None]


class BatchCheckIn(_In):
    checks: Annotated[list[BatchItemIn], Field(max_length=10_000)]
    min_revision: Annotated[int, Field(ge=0, le=MAX_REVISION)] | None = None


class BatchResultOut(BaseModel):
    action: str
    allowed: bool
    scope: str
    reasons: list[ReasonOut]


class BatchCheckOut(BaseModel):
    results: list[BatchResultOut] = Field(description="One per check, in order; all decided on one snapshot.")
    revision: int


class FieldsFilterIn(_In):
    member: Id
    object: Key
    record: Annotated[dict[str, Any], Field(max_length=10_000)]
    min_revision: Annotated[int, Field(ge=0, le=MAX_REVISION)] | None = None


class FieldsFilterOut(BaseModel):
    record: dict[str, Any] = Field(description="The record without the fields the member may not read (K12).")
    revision: int


class LookupIn(_In):
    member: Id
    action: Annotated[str, text(200, min_length=1)]
    object: Key
    min_revision: Annotated[int, Field(ge=0, le=MAX_REVISION)] | None = None


class LookupOut(BaseModel):
    object: str
    filter: dict[str, Any] = Field(description="`{op: all|none|assignee|and, ...}`: apply it to your own database.")
    revision: int


# -- audit --------------------------------------------------------------------------------


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


class ChainOut(BaseModel):
    workspace_id: str
    events: int
    intact: bool
    first_broken_seq: int | None
    problem: str


# -- team: invitations, password reset, transfer, ownership (issue 5) ---------------------

Password = Annotated[str, text(1024)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_\-]+$")]

__all__ += [
    "AcceptIn",
    "AcceptedOut",
    "InvitationOut",
    "InvitationWritten",
    "OwnershipIn",
    "OwnershipOut",
    "PasswordResetIn",
    "PasswordResetRequestIn",
    "QueuedOut",
    "TransferIn",
    "TransferredOut",
]


class InvitationOut(BaseModel):
    id: str
    member: str
    email: str
    expires_at: datetime
    expired: bool
    sent_count: int


class InvitationWritten(BaseModel):
    invitation: InvitationOut
    member: MemberOut
    revision: int


class AcceptIn(_In):
    password: Password | None = Field(default=None, description="Required for a new user; an existing user keeps their password.")
    name: Name = ""


class AcceptedOut(BaseModel):
    workspace: str
    member: str
    email: str


class PasswordResetRequestIn(_In):
    email: Email


class PasswordResetIn(_In):
    password: Password


class QueuedOut(BaseModel):
    detail: str


class TransferIn(_In):
    to: Id = Field(description="The member who receives every record (and playbook task) of this member.")


class TransferredOut(BaseModel):
    records: dict[str, int]
    references: int
    revision: int


class OwnershipIn(_In):
    to: Id = Field(description="The active member who becomes owner.")
    new_role: Id = Field(description="The role the acting owner takes instead.")


class OwnershipOut(BaseModel):
    owner: MemberOut
    former_owner: MemberOut
    revision: int
