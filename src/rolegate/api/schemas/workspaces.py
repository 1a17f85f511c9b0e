"""Workspaces: create, read, settings."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from rolegate.presets import PRESET_KEYS
from rolegate.services.commands import Email, Key, Name, _In, text

__all__ = ["MemberOut", "SeatUsageOut", "WorkspaceCreateIn", "WorkspaceCreated", "WorkspaceOut", "WorkspaceSettingsIn"]


class WorkspaceCreateIn(_In):
    preset: Key = Field(
        description=f"The product: a shipped preset ({', '.join(PRESET_KEYS)}) or a product registered with `rolegate schema register`."
    )
    name: Annotated[str, text(200, min_length=1)]
    owner_email: Email = Field(description="The first member, active, with the role that keeps the team (C4, T11).")
    owner_name: Name = ""
    features: Annotated[list[Key], Field(max_length=200)] | None = Field(
        default=None, description="Features switched on; default: the preset's defaults."
    )
    seat_capacities: Annotated[dict[Key, Annotated[int, Field(ge=0, le=10**9)] | None], Field(max_length=50)] | None = (
        Field(default=None, description="Seats per seat type; null or absent: unlimited.")
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
    seat_capacities: (
        dict[Annotated[str, Field(min_length=1, max_length=64)], Annotated[int, Field(ge=0, le=10_000_000)] | None]
        | None
    ) = None


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
