"""Field-level security (K5-K12): objects, fields, write checks, visible fields."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from rolegate.services.commands import MAX_REVISION, Access, FieldAccessIn, Id, Key, Name, _In, text

__all__ = [
    "FieldCheckWriteIn",
    "FieldDefOut",
    "FieldRefusalOut",
    "FieldRegistryOut",
    "FieldUseIn",
    "FieldUseOut",
    "FieldVisibleIn",
    "FieldVisibleOut",
    "FieldWrittenOut",
    "IntegrationAccessIn",
    "MinRevision",
    "NewFieldIn",
    "NewObjectIn",
    "ObjectFieldsOut",
    "ObjectWrittenOut",
    "RoleFieldsIn",
    "SyncFieldIn",
    "UsageKindIn",
    "WriteCheckOut",
]


MinRevision = Annotated[int, Field(ge=0, le=MAX_REVISION)] | None


UsageKindIn = Literal["record_view", "filter", "segment", "layout", "note", "dashboard_module"]


class FieldCheckWriteIn(_In):
    member: Id
    object: Key
    changes: Annotated[dict[str, Any], Field(max_length=10_000)] | None = Field(
        default=None, description="The change: field -> new value (values are not read)."
    )
    fields: Annotated[list[Annotated[str, text(200)]], Field(max_length=10_000)] | None = Field(
        default=None, description="Or only the names of the fields to write."
    )
    min_revision: MinRevision = None

    @model_validator(mode="after")
    def _one(self) -> FieldCheckWriteIn:
        if (self.changes is None) == (self.fields is None):
            raise ValueError("give exactly one of `changes` or `fields`")
        return self


class FieldRefusalOut(BaseModel):
    field: str
    access: Access = Field(description="What the member has on the field.")
    rule: str = Field(description="The seed rule that keeps it from write: K8, K9, K11, K1, K12.")
    message: str


class WriteCheckOut(BaseModel):
    object: str
    allowed: bool = Field(description="True when every field of the change may be written.")
    writable: list[str]
    refused: list[FieldRefusalOut] = Field(description="Every field the change may not touch, with its rule.")
    revision: int


class FieldUseIn(_In):
    kind: UsageKindIn
    id: Annotated[str, text(200, min_length=1)]
    fields: Annotated[list[Annotated[str, text(200)]], Field(max_length=1_000)]


class FieldVisibleIn(_In):
    member: Id
    object: Key
    uses: Annotated[list[FieldUseIn], Field(max_length=1_000)] = Field(
        default_factory=list, description="Filters, segments, layouts, notes, dashboard modules to judge (K12)."
    )
    min_revision: MinRevision = None


class FieldUseOut(BaseModel):
    kind: str
    id: str
    visible: bool = Field(description="False: hidden from the member as a whole (K12).")
    flagged: bool = Field(description="Shown without `hidden_fields` (redacted).")
    hidden_fields: list[str]
    read_only_fields: list[str]
    editable_fields: list[str]
    reason: str
    rule: str


class FieldVisibleOut(BaseModel):
    object: str
    readable: list[str]
    writable: list[str]
    read_only: list[str]
    fields: dict[str, Access] = Field(description="Every declared field of the object and the member's access.")
    uses: list[FieldUseOut]
    revision: int


class NewObjectIn(_In):
    key: Key
    label: Name


class NewFieldIn(_In):
    name: Key
    label: Name
    synced_from: Key | None = Field(default=None, description="The integration it is synced from (K9); none: local.")
    integration_access: Access | None = Field(default=None, description="The integration user's permission on it (K9).")


class SyncFieldIn(_In):
    integration: Key


class IntegrationAccessIn(_In):
    access: Access


class RoleFieldsIn(_In):
    fields: FieldAccessIn = Field(
        description="object -> field -> none/read/write; fields not named keep their permission."
    )


class FieldDefOut(BaseModel):
    name: str
    label: str
    default: bool = Field(description="K7: read cannot be removed.")
    synced_from: str | None
    integration_access: Access | None = Field(description="The integration user's permission, caps every role (K9).")
    added: bool = Field(description="Added by the host (K8).")


class ObjectFieldsOut(BaseModel):
    key: str
    label: str
    added: bool
    fields: list[FieldDefOut]


class FieldRegistryOut(BaseModel):
    objects: list[ObjectFieldsOut]
    revision: int


class ObjectWrittenOut(BaseModel):
    object: ObjectFieldsOut
    revision: int


class FieldWrittenOut(BaseModel):
    object: str
    field: FieldDefOut
    revision: int
