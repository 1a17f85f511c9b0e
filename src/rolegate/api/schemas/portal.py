"""The embeddable portal: a link that opens the admin pages as a member, and an
organization's portal settings (frame origins, brand)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from rolegate.services.commands import NO_NUL

__all__ = ["BrandIn", "BrandOut", "PortalSessionIn", "PortalSessionOut", "PortalSettingsIn", "PortalSettingsOut"]

Origin = Annotated[str, Field(min_length=1, max_length=300, pattern=NO_NUL, examples=["https://app.example.com"])]


class PortalSessionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page: Literal["home", "team", "roles", "matrix", "audit", "explain"] = Field(
        default="home", description="The page the link opens."
    )
    parent_origin: Origin | None = Field(
        default=None,
        description=(
            "The origin of the host page that frames the portal: one of the organization's frame origins. "
            "The pages send their messages (postMessage) to it and to nothing else; without it they send none."
        ),
    )


class PortalSessionOut(BaseModel):
    url: str = Field(description="Open it once, within `expires_at` (an iframe's src, or a new tab).")
    path: str = Field(description="The same link relative to Rolegate's address.")
    workspace_id: str
    expires_at: datetime


class BrandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    color: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$", examples=["#0b7285"])] | None = None
    logo_url: Annotated[str, Field(max_length=500, pattern=r"^https://[^\s\"'()\\]+$")] | None = None
    font: Annotated[str, Field(max_length=200, pattern=r"^[A-Za-z0-9 ,'\"-]+$", examples=["Inter, sans-serif"])] | None = None


class BrandOut(BaseModel):
    color: str | None
    logo_url: str | None
    font: str | None


class PortalSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    frame_origins: list[Origin] = Field(
        default_factory=list,
        max_length=20,
        description="Origins allowed to frame the portal pages (Content-Security-Policy frame-ancestors). Empty: none.",
    )
    brand: BrandIn = Field(default_factory=BrandIn)


class PortalSettingsOut(BaseModel):
    organization_id: str
    frame_origins: list[str]
    brand: BrandOut
