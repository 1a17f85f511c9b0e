"""References to members in the host product (C6)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from rolegate.services.commands import NO_NUL
from rolegate.services.references import MAX_REFERENCES

__all__ = ["ReferenceIn", "ReferenceOut", "ReferencesIn", "ReferencesOut", "ReferencesWrittenOut"]


class ReferenceIn(BaseModel):
    model_config = {"extra": "forbid"}

    id: Annotated[str, Field(min_length=1, max_length=200, pattern=NO_NUL)] = Field(
        description="The reference's id in your product, e.g. `playbook-7/task-2`."
    )
    kind: Annotated[str, Field(min_length=1, max_length=64, pattern=NO_NUL)] = Field(
        description="What names the member, e.g. `playbook_task`."
    )
    label: Annotated[str, Field(min_length=1, max_length=300, pattern=NO_NUL)] = Field(
        description="What administrators read, e.g. `Onboarding playbook: kickoff call`."
    )
    member: Annotated[str, Field(min_length=1, max_length=36, pattern=NO_NUL)] | None = Field(
        description="The member named, or null to remove the reference."
    )


class ReferencesIn(BaseModel):
    model_config = {"extra": "forbid"}

    references: Annotated[list[ReferenceIn], Field(min_length=1, max_length=MAX_REFERENCES)]


class ReferenceOut(BaseModel):
    id: str
    kind: str
    label: str
    member: str


class ReferencesOut(BaseModel):
    items: list[ReferenceOut]
    revision: int


class ReferencesWrittenOut(BaseModel):
    saved: int = Field(description="References created or changed.")
    removed: int
    revision: int
