"""The resolved catalog of a workspace's product schema."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from rolegate.services.commands import Access

__all__ = [
    "ActionOut",
    "AreaOut",
    "FeatureOut",
    "FieldOut",
    "GrantOut",
    "LandingPageOut",
    "LevelOut",
    "ObjectOut",
    "PermissionOut",
    "SchemaOut",
    "SeatOut",
]


class AreaOut(BaseModel):
    key: str
    label: str
    description: str


class GrantOut(BaseModel):
    action: str
    scope: str
    feature: str | None = Field(None, description="E4: the grant takes effect only while this feature is on.")


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
    admin_actions: dict[str, str] = Field(
        description="Admin right -> the action that carries it (N12, C1, K13, T10, E7)."
    )
    words: dict[str, str] = Field(
        description="The product's own words for Rolegate's notions, as the admin UI and the CSV "
        "exports write them: `role`, `roles`, `roles_page`, `role_type`, `system_role`, `system_roles`, "
        "`custom_role`, `custom_roles`, `level`, `seat`, `seats` (e.g. a product may call a role a "
        "profile and a level a license)."
    )
    role_delete_with_members: Literal["replace", "refuse"] = Field(
        "refuse",
        description="Deleting a custom role still held: `replace` takes a replacement role for its "
        "holders (N7), `refuse` waits until nobody holds it (T9).",
    )
