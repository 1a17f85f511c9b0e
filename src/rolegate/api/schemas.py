"""Request and response bodies of the HTTP API (Pydantic), and their builders from
domain values. Strings bound for the database carry their column's length and refuse
NUL (PostgreSQL cannot store it), so bad input is a 422, never a database error."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal, NotRequired

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator, with_config
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
    "Instant",
    "MAX_REVISION",
    "CopyPreviewOut",
    "MemberRecordIn",
    "MemberRecordOut",
    "RetentionIn",
    "RetentionOut",
    "RoleCopyIn",
    "RoleCopyOut",
    "SiteAdministratorIn",
    "SiteAdministratorOut",
    "SiteAdministratorsOut",
    "UserWorkspaceOut",
    "UserWorkspacesOut",
    "ViolationOut",
]

NO_NUL = r"^[^\x00]*$"
MAX_REVISION = 2**62
"""Revisions and sequence numbers are 64-bit in the store; larger ones cannot exist."""


def text(max_length: int, *, min_length: int = 0) -> Any:
    return StringConstraints(min_length=min_length, max_length=max_length, pattern=NO_NUL)


Id = Annotated[str, text(36, min_length=1)]
# A member id or action named in a decision is only looked up in the compiled snapshot,
# never stored or sent to the database, so a NUL there just matches nothing; skipping
# the NUL pattern saves a fifth of a batch's validation.
MemberRef = Annotated[str, StringConstraints(min_length=1, max_length=36)]
ActionRef = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Key = Annotated[str, text(64, min_length=1)]
RecordId = Annotated[str, text(200, min_length=1)]
Name = Annotated[str, text(200)]
Email = Annotated[str, text(320, min_length=1)]
Description = Annotated[str, text(2000)]
Access = Literal["none", "read", "write"]
FieldAccessIn = Annotated[dict[Key, Annotated[dict[Key, Access], Field(max_length=500)]], Field(max_length=100)]
Grants = Annotated[list[Annotated[str, text(200, min_length=1)]], Field(max_length=500)]


def _in_utc(value: datetime) -> datetime:
    """Times are compared in UTC (a time without a zone is UTC); one that has no UTC
    equivalent (year 1 east of Greenwich, year 9999 west of it) is refused here rather
    than overflowing in a service."""
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is outside the years 1 to 9999 in UTC") from None


Instant = Annotated[datetime, AfterValidator(_in_utc)]
"""A point in time from a request (a query's `since`, a form's date), in UTC."""


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
    used: int = Field(description="Seats held: active plus invited members (an invitation reserves its seat).")
    active: int = Field(description="Active members holding this seat type (T3: counted apart from invited ones).")
    invited: int = Field(description="Invited members holding a reserved seat of this type (T3).")
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
    member: MemberRef
    action: ActionRef
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
    member: MemberRef
    action: ActionRef
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
    record: Annotated[dict[str, Any], Field(max_length=10_000)] | None = None
    records: Annotated[list[Annotated[dict[str, Any], Field(max_length=10_000)]], Field(max_length=10_000)] | None = Field(
        default=None, description="A page of records instead of one (K12)."
    )
    min_revision: Annotated[int, Field(ge=0, le=MAX_REVISION)] | None = None

    @model_validator(mode="after")
    def _one(self) -> FieldsFilterIn:
        if (self.record is None) == (self.records is None):
            raise ValueError("give exactly one of `record` or `records`")
        return self


class FieldsFilterOut(BaseModel):
    record: dict[str, Any] | None = Field(default=None, description="The record without the fields the member may not read (K12).")
    records: list[dict[str, Any]] | None = Field(default=None, description="The page, each record filtered (K12).")
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
    last_seq: int = Field(default=0, description="The chain is intact up to this event.")
    pruned_through: int = Field(default=0, description="Events up to this one were removed by retention.")


# -- sites, role copy, administrator records, audit export (issue 8) ----------------------


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
    actor: str | None = Field(description="The `Rolegate-Actor` header to act as this user there; null where they cannot act (invited, disabled).")


class UserWorkspacesOut(BaseModel):
    user_id: str
    workspaces: list[UserWorkspaceOut]


class RoleCopyIn(_In):
    targets: Annotated[list[Id], Field(min_length=1, max_length=100)] = Field(description="Workspaces of the same site.")
    dry_run: bool = Field(default=False, description="Preview only: what the copy would do in each target (E9).")


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
    inert: list[str] = Field(description="Granted permissions whose feature is off in the target: no effect there (E5).")
    gained: list[str]
    lost: list[str]
    holders: int
    seat: str | None
    seat_impact: str
    violations: list[ViolationOut]


class RoleCopyOut(BaseModel):
    previews: list[CopyPreviewOut]
    copied: dict[str, str] = Field(description="Target workspace id -> id of the role created or updated there.")


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


class MemberRecordIn(_In):
    name: Name
    email: Email | None = Field(
        default=None, description="The person's login: it may only be the current one (only the person changes it, `POST /v1/email-changes`)."
    )


class RetentionIn(_In):
    days: Annotated[int, Field(ge=1, le=36500)] | None = Field(description="Keep events this many days; null keeps them forever.")


class RetentionOut(BaseModel):
    days: int | None
    pruned_through_seq: int = Field(description="Events up to this one were removed by retention; the chain is verified from there.")


# -- records in bulk, assignments, pages of visible records (issue 6) ---------------------


class BulkRecordIn(_In):
    type: Key
    id: RecordId
    parent: RecordRefIn | None = Field(default=None, description="Required for child objects (C7); may be upserted in the same call.")
    assignee: Id | None = Field(default=None, description="The member the record is assigned to (N9).")


class BulkUpsertIn(_In):
    records: Annotated[list[BulkRecordIn], Field(min_length=1, max_length=10_000)]


class BulkUpsertOut(BaseModel):
    created: int
    updated: int
    unchanged: int
    assignments: int = Field(description="Records whose assignee changed (each one an audit event).")
    revision: int


class BulkDeleteIn(_In):
    records: Annotated[list[RecordRefIn], Field(min_length=1, max_length=10_000)]


class BulkDeleteOut(BaseModel):
    deleted: int = Field(description="Records deleted, children deleted with their parent included.")
    orphaned: int = Field(description="Children kept without a parent (`on_parent_delete: orphan`).")
    revision: int


class AssigneeIn(_In):
    assignee: Id | None = Field(description="The member to assign (N9), or null to unassign.")


class VisibleIn(_In):
    member: Id
    action: Annotated[str, text(200, min_length=1)]
    object: Key
    limit: Annotated[int, Field(ge=1, le=1000)] = 100
    cursor: Annotated[str, text(2000, min_length=1)] | None = Field(default=None, description="`next_cursor` of the previous page.")
    min_revision: Annotated[int, Field(ge=0, le=MAX_REVISION)] | None = None


class VisibleOut(BaseModel):
    ids: list[str] = Field(description="Ids of the record index, in id order.")
    next_cursor: str | None = Field(description="Present exactly when more ids follow; pass it back for the next page.")



# -- team: invitations, password reset, transfer, ownership (issue 5) ---------------------

Password = Annotated[str, text(1024)]
Token = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_\-]+$")]

__all__ += [
    "AcceptIn",
    "AcceptedOut",
    "EmailChangeIn",
    "EmailChangedOut",
    "LoginIn",
    "SetPasswordEmailIn",
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
    password: Password | None = Field(
        default=None,
        description="Required for a new login. An invitation for an existing login is refused here (`login_required`): that person accepts it in the admin UI, logged in.",
    )
    name: Name = ""


class EmailChangeIn(_In):
    email: Email = Field(description="The login's current email.")
    password: Password
    new_email: Email


class EmailChangedOut(BaseModel):
    email: str


class SetPasswordEmailIn(_In):
    email: Email = Field(description="A person of this organization without a password (an owner created over the API, a site administrator).")


class AcceptedOut(BaseModel):
    workspace: str
    member: str
    email: str


class LoginIn(_In):
    """The admin UI's login form (no API route logs in: API keys do)."""

    email: Annotated[str, text(320)]
    password: Password


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


# -- explain ---------------------------------------------------------------------------


class ExplainIn(CheckIn):
    """The same question as `/check`; the answer says why."""


class ExplainOut(CheckOut):
    member: str
    role: str | None = Field(description="The id of the member's role (null: no such member).")
    role_name: str | None
    level: str | None = Field(description="The role's level (e.g. `admin`).")
    lines: list[str] = Field(description="The engine's explanation in words, verdict first, one link of the chain per line.")
