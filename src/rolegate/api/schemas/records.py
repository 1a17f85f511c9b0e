"""Records, assignments, bulk writes and pages of visible records."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from rolegate.services.commands import MAX_REVISION, Id, Key, RecordId, _In, text

__all__ = [
    "BulkDeleteIn",
    "BulkDeleteOut",
    "BulkRecordIn",
    "BulkUpsertIn",
    "BulkUpsertOut",
    "RecordIn",
    "RecordOut",
    "RecordRefIn",
    "RecordWritten",
    "VisibleIn",
    "VisibleOut",
]


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


class BulkRecordIn(_In):
    type: Key
    id: RecordId
    parent: RecordRefIn | None = Field(
        default=None, description="Required for child objects (C7); may be upserted in the same call."
    )
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


class VisibleIn(_In):
    member: Id
    action: Annotated[str, text(200, min_length=1)]
    object: Key
    limit: Annotated[int, Field(ge=1, le=1000)] = 100
    cursor: Annotated[str, text(2000, min_length=1)] | None = Field(
        default=None, description="`next_cursor` of the previous page."
    )
    min_revision: Annotated[int, Field(ge=0, le=MAX_REVISION)] | None = None


class VisibleOut(BaseModel):
    ids: list[str] = Field(description="Ids of the record index, in id order.")
    next_cursor: str | None = Field(description="Present exactly when more ids follow; pass it back for the next page.")
