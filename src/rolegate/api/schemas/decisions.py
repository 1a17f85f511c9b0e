"""Decisions: check, batch, lookup, fields filter, explain."""

from __future__ import annotations

from typing import Annotated, Any, NotRequired

from pydantic import BaseModel, ConfigDict, Field, model_validator, with_config
from typing_extensions import TypedDict

from rolegate.api.schemas.records import RecordRefIn
from rolegate.services.commands import MAX_REVISION, ActionRef, Id, Key, MemberRef, RecordId, _In, text

__all__ = [
    "BatchCheckIn",
    "BatchCheckOut",
    "BatchItemIn",
    "BatchRecordIn",
    "BatchResultOut",
    "CheckIn",
    "CheckOut",
    "ExplainIn",
    "ExplainOut",
    "FieldsFilterIn",
    "FieldsFilterOut",
    "LookupIn",
    "LookupOut",
    "ReasonOut",
]


class ReasonOut(BaseModel):
    code: str
    message: str
    permission: str | None
    rule: str | None


class CheckIn(_In):
    member: MemberRef
    action: ActionRef
    record: RecordRefIn | None = None
    min_revision: Annotated[int, Field(ge=0, le=MAX_REVISION)] | None = Field(
        default=None, description="Decide at this revision or later (read your writes)."
    )


class CheckOut(BaseModel):
    action: str
    allowed: bool
    scope: str = Field(description="Without a record: on which records it is granted (`all`, `assigned`, ...).")
    reasons: list[ReasonOut]
    revision: int


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
    records: Annotated[list[Annotated[dict[str, Any], Field(max_length=10_000)]], Field(max_length=10_000)] | None = (
        Field(default=None, description="A page of records instead of one (K12).")
    )
    min_revision: Annotated[int, Field(ge=0, le=MAX_REVISION)] | None = None

    @model_validator(mode="after")
    def _one(self) -> FieldsFilterIn:
        if (self.record is None) == (self.records is None):
            raise ValueError("give exactly one of `record` or `records`")
        return self


class FieldsFilterOut(BaseModel):
    record: dict[str, Any] | None = Field(
        default=None, description="The record without the fields the member may not read (K12)."
    )
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


class ExplainIn(CheckIn):
    """The same question as `/check`; the answer says why."""


class ExplainOut(CheckOut):
    member: str
    role: str | None = Field(description="The id of the member's role (null: no such member).")
    role_name: str | None
    level: str | None = Field(description="The role's level (e.g. `admin`).")
    lines: list[str] = Field(
        description="The engine's explanation in words, verdict first, one link of the chain per line."
    )
