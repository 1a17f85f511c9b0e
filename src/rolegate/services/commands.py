"""What more than one door accepts, defined once: the input types (lengths of the
columns they are stored in, no NUL: PostgreSQL cannot store it, so bad input is refused
before a use case runs) and the input models the API and the admin UI both validate."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

__all__ = [
    "WebhookDescription",
    "WebhookEndpointIn",
    "WebhookEventTypes",
    "WebhookUrl",
    "AcceptIn",
    "Access",
    "ActionRef",
    "AssigneeIn",
    "Description",
    "Email",
    "EmailChangeIn",
    "FieldAccessIn",
    "Grants",
    "Id",
    "Instant",
    "InviteIn",
    "Key",
    "LoginIn",
    "MAX_REVISION",
    "MemberChangeIn",
    "MemberRecordIn",
    "MemberRef",
    "NO_NUL",
    "Name",
    "OwnershipIn",
    "Password",
    "PasswordResetIn",
    "PasswordResetRequestIn",
    "RecordId",
    "RetentionIn",
    "RoleCopyIn",
    "RoleCreateIn",
    "RoleUpdateIn",
    "Token",
    "TransferIn",
    "_In",
    "text",
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


def _iso_text(value: object) -> object:
    """A time is ISO 8601 text (the documented `date-time`): a number, or text that is
    only a number, would otherwise be read as seconds since 1970."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value.strip())):
        raise ValueError("a time is ISO 8601, e.g. 2026-01-31T12:00:00Z")
    return value


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

Instant = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_in_utc)]
"""A point in time from a request (a query's `since`, a form's date), in UTC."""


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


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


class InviteIn(_In):
    email: Email
    role: Id
    name: Name = ""


class MemberChangeIn(_In):
    role: Id


class RoleCopyIn(_In):
    targets: Annotated[list[Id], Field(min_length=1, max_length=100)] = Field(
        description="Workspaces of the same site."
    )
    dry_run: bool = Field(default=False, description="Preview only: what the copy would do in each target (E9).")


class MemberRecordIn(_In):
    name: Name
    email: Email | None = Field(
        default=None,
        description="The person's login: it may only be the current one (only the person changes it, `POST /v1/email-changes`).",
    )


class RetentionIn(_In):
    days: Annotated[int, Field(ge=1, le=36500)] | None = Field(
        description="Keep events this many days; null keeps them forever."
    )


class AssigneeIn(_In):
    assignee: Id | None = Field(description="The member to assign (N9), or null to unassign.")


Password = Annotated[str, text(1024)]


Token = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_\-]+$")]


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


class LoginIn(_In):
    """The admin UI's login form (no API route logs in: API keys do)."""

    email: Annotated[str, text(320)]
    password: Password


class PasswordResetRequestIn(_In):
    email: Email


class PasswordResetIn(_In):
    password: Password


class TransferIn(_In):
    to: Id = Field(description="The member who receives every record (and playbook task) of this member.")


class OwnershipIn(_In):
    to: Id = Field(description="The active member who becomes owner.")
    new_role: Id = Field(description="The role the acting owner takes instead.")


class AdministratorRecordIn(_In):
    """E7: a new administrator record; no role (the workspace's default one is given)."""

    email: Email
    name: Name = ""


# -- webhooks -------------------------------------------------------------------------

WebhookUrl = Annotated[str, Field(min_length=1, max_length=2000, pattern=NO_NUL, description="An http:// or https:// URL; a public address unless the operator allows private ones.")]
WebhookEventType = Annotated[str, Field(min_length=1, max_length=64, pattern=NO_NUL)]
WebhookEventTypes = Annotated[
    list[WebhookEventType],
    Field(max_length=50, description="Actions (`role.update`), families (`member.*`) or `*`; empty: every change."),
]
WebhookDescription = Annotated[str, Field(max_length=500, pattern=NO_NUL)]


class WebhookEndpointIn(_In):
    """A webhook endpoint to register: the API's body and the admin UI's form."""

    url: WebhookUrl
    event_types: WebhookEventTypes = Field(default_factory=list)
    description: WebhookDescription = ""
    enabled: bool = True
