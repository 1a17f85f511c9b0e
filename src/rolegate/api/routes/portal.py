"""The embeddable portal: a SaaS backend asks for a short-lived, single-use link that
opens the admin pages as one member of one workspace (the host page frames it), and
sets which origins may frame its organization's pages and how they look."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from rolegate.api.deps import AdminAccess, PlatformAccess
from rolegate.api.limits import ApiRoute
from rolegate.api.schemas.portal import BrandOut, PortalSessionIn, PortalSessionOut, PortalSettingsIn, PortalSettingsOut
from rolegate.domain.errors import NotFoundError
from rolegate.services import portal
from rolegate.services.commands import NO_NUL

__all__ = ["PORTAL_PATH", "router"]

router = APIRouter(tags=["portal"], route_class=ApiRoute)

PORTAL_PATH = "/portal/"
"""Where a link opens (the admin UI's `/portal/{token}`)."""

IdPath = Annotated[str, Path(min_length=1, max_length=36, pattern=NO_NUL)]


@router.post(
    "/v1/workspaces/{workspace_id}/portal-sessions",
    status_code=201,
    response_model=PortalSessionOut,
    summary="Open the admin pages as a member (embeddable portal)",
)
def create_portal_session(ctx: AdminAccess, body: PortalSessionIn) -> PortalSessionOut:
    """A link that opens the admin pages as the acting member (`Rolegate-Actor`, an
    active member) without a Rolegate login: single use, valid for 5 minutes. The
    session it starts reaches this workspace only. Put it in an iframe of a page
    whose origin is `parent_origin` (one of the organization's frame origins)."""
    link = portal.create_portal_link(
        ctx.uow(), actor=ctx.actor, workspace_id=ctx.workspace_id, page=body.page, parent_origin=body.parent_origin
    )
    path = f"{PORTAL_PATH}{link.token}"
    return PortalSessionOut(
        url=ctx.rolegate.settings.public_url.rstrip("/") + path,
        path=path,
        workspace_id=link.workspace_id,
        expires_at=link.expires_at,
    )


def _own_organization(platform: PlatformAccess, organization_id: str) -> None:
    if platform.key.organization_id != organization_id:
        raise NotFoundError(f"no organization {organization_id!r}", decision=None, fix="Use an API key of that organization.")


def _out(organization_id: str, s: portal.PortalSettings) -> PortalSettingsOut:
    return PortalSettingsOut(
        organization_id=organization_id,
        frame_origins=list(s.frame_origins),
        brand=BrandOut(color=s.brand_color, logo_url=s.logo_url, font=s.font),
    )


@router.get("/v1/organizations/{organization_id}/portal", response_model=PortalSettingsOut, summary="Read the portal settings")
def read_portal_settings(platform: PlatformAccess, organization_id: IdPath) -> PortalSettingsOut:
    _own_organization(platform, organization_id)
    return _out(organization_id, portal.portal_settings(platform.rolegate.reader(), organization_id=organization_id))


@router.put("/v1/organizations/{organization_id}/portal", response_model=PortalSettingsOut, summary="Set the portal settings")
def put_portal_settings(platform: PlatformAccess, organization_id: IdPath, body: PortalSettingsIn) -> PortalSettingsOut:
    """The origins allowed to frame the organization's portal pages, and its brand
    (color, logo, font) that themes them. Replaces the previous settings."""
    _own_organization(platform, organization_id)
    saved = portal.save_portal_settings(
        platform.rolegate.uow(),
        organization_id=organization_id,
        frame_origins=list(body.frame_origins),
        brand_color=body.brand.color,
        logo_url=body.brand.logo_url,
        font=body.brand.font,
    )
    return _out(organization_id, saved)
