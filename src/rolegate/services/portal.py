"""The embeddable portal (issue 15): a SaaS puts the admin pages inside its product.

Its backend asks for a link (`create_portal_link`: an admin API key and the acting
member); the link is single use and short-lived, and its first use
(`open_portal_link`) starts a server-side session of that member's user, bound to the
link's workspace: `portal_scope` tells every page that this session may see that one
workspace, as that one member, and nothing else (no other workspace, no site, no
account page). The organization's settings (`PortalSettings`) say which origins may
frame the pages (`frame-ancestors`) and how they look (brand color, logo, font).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from rolegate.domain.errors import ForbiddenError, InvalidInputError, NotFoundError, TokenInvalidError
from rolegate.domain.roles import MemberStatus
from rolegate.domain.schema import AdminRight
from rolegate.domain.workspace import Actor
from rolegate.services.context import authorize, load_state
from rolegate.services.login_protection import security_event
from rolegate.services.tokens import hash_token, new_token
from rolegate.services.web_sessions import SessionPolicy
from rolegate.store.repositories import utcnow
from rolegate.store.repositories_portal import PortalLinkRow, PortalSettingsRow
from rolegate.store.uow import UnitOfWork

__all__ = [
    "LINK_TTL",
    "PORTAL_PAGES",
    "PortalEntry",
    "PortalLink",
    "PortalScope",
    "PortalSettings",
    "check_origin",
    "create_portal_link",
    "open_portal_link",
    "portal_scope",
    "portal_settings",
    "save_portal_settings",
]

LINK_TTL = timedelta(minutes=5)
"""Long enough for the host page to load the frame, short enough that a link read
from a log later is dead (it is single use anyway)."""

PORTAL_PAGES = ("home", "team", "roles", "matrix", "audit", "explain")
"""Where a link may open; `home` is the workspace's start page."""

MAX_ORIGINS = 20
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
# A font-family list only: names, spaces, commas, quotes and hyphens; nothing that
# could end the CSS declaration it is written into.
_FONT = re.compile(r"[A-Za-z0-9 ,'\"-]{1,200}")


@dataclass(frozen=True, slots=True)
class PortalSettings:
    frame_origins: tuple[str, ...] = ()
    brand_color: str | None = None
    logo_url: str | None = None
    font: str | None = None

    @property
    def logo_origin(self) -> str | None:
        if not self.logo_url:
            return None
        parts = urlsplit(self.logo_url)
        return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True, slots=True)
class PortalLink:
    token: str
    workspace_id: str
    page: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PortalEntry:
    """A link just used: the new session's id (for the cookie) and where to go."""

    session_id: str
    session_version: int
    workspace_id: str
    page: str


@dataclass(frozen=True, slots=True)
class PortalScope:
    """What a portal session may reach: one workspace, as one member."""

    workspace_id: str
    member_id: str
    organization_id: str
    parent_origin: str | None
    settings: PortalSettings


def check_origin(origin: str) -> str:
    """An origin as a browser sends it (`https://host[:port]`, or `http://` for local
    development), lower-cased; anything else (a path, a wildcard, `*`) is refused."""
    value = origin.strip().lower()
    parts = urlsplit(value)
    if (
        parts.scheme not in ("https", "http")
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username
        or "*" in value
        or f"{parts.scheme}://{parts.netloc}" != value
    ):
        raise InvalidInputError(
            f"{origin!r} is not an origin.",
            fix="Give the scheme, host and port only, e.g. https://app.example.com (no path, no wildcard).",
        )
    return value


def _settings(row: PortalSettingsRow | None) -> PortalSettings:
    if row is None:
        return PortalSettings()
    return PortalSettings(row.frame_origins, row.brand_color, row.logo_url, row.font)


def portal_settings(uow: UnitOfWork, *, organization_id: str) -> PortalSettings:
    with uow:
        return _settings(uow.portal.settings(organization_id))


def save_portal_settings(
    uow: UnitOfWork,
    *,
    organization_id: str,
    frame_origins: list[str],
    brand_color: str | None = None,
    logo_url: str | None = None,
    font: str | None = None,
    now: datetime | None = None,
) -> PortalSettings:
    """Replace the organization's portal settings (the API key is the organization's:
    the door checked it). Values are checked here, where they are written into headers
    and a stylesheet."""
    origins = tuple(dict.fromkeys(check_origin(o) for o in frame_origins))
    if len(origins) > MAX_ORIGINS:
        raise InvalidInputError(f"{len(origins)} frame origins.", fix=f"List at most {MAX_ORIGINS}.")
    if brand_color is not None and not _COLOR.fullmatch(brand_color):
        raise InvalidInputError(f"{brand_color!r} is not a color.", fix="Give it as #rrggbb, e.g. #0b7285.")
    if font is not None and not _FONT.fullmatch(font):
        raise InvalidInputError(
            "The font is not a list of font names.", fix="Use names, spaces, commas and quotes, e.g. 'Inter, sans-serif'."
        )
    if logo_url is not None:
        parts = urlsplit(logo_url)
        if parts.scheme != "https" or not parts.hostname or len(logo_url) > 500 or any(c in logo_url for c in "\"'() \\"):
            raise InvalidInputError("The logo is not an https URL.", fix="Give the full https:// address of the image.")
    with uow:
        if not uow.workspaces.organization_exists(organization_id):
            raise NotFoundError(f"no organization {organization_id!r}", decision=None, fix="Check the organization id.")
        row = PortalSettingsRow(organization_id, origins, brand_color and brand_color.lower(), logo_url, font)
        uow.portal.save_settings(row, now or utcnow())
        uow.commit()
    return _settings(row)


def create_portal_link(
    uow: UnitOfWork,
    *,
    actor: Actor,
    workspace_id: str,
    page: str = "home",
    parent_origin: str | None = None,
    now: datetime | None = None,
) -> PortalLink:
    """A single-use link that opens `page` of the workspace as the acting member. The
    door resolved the actor (`acting_party`): a member of this workspace. Only an
    active member who holds an admin right may open pages; `parent_origin`, the host page that frames them and
    receives their messages, must be one the organization allows."""
    if page not in PORTAL_PAGES:
        raise InvalidInputError(f"There is no portal page {page!r}.", fix=f"Use one of: {', '.join(PORTAL_PAGES)}.")
    if actor.member_id is None:
        raise ForbiddenError(
            "A portal opens the pages as a member of the workspace.", fix="Name a member in Rolegate-Actor."
        )
    at = now or utcnow()
    with uow:
        state = load_state(uow, workspace_id, lock=False)
        ws = state.workspace
        info = uow.members.get(workspace_id, actor.member_id)
        if info is None:
            raise NotFoundError(f"no workspace {workspace_id!r}", decision=None, fix="Check the workspace id.")
        if info.member.status is not MemberStatus.ACTIVE:
            raise ForbiddenError(
                f"{info.name or info.email} has not joined this workspace yet.",
                fix="Open the portal for an active member; an invited member accepts the invitation first.",
            )
        # The portal is the admin pages: a member who holds no admin right would open
        # nothing of them, so they are refused as on every admin route (N12 ...).
        if not any(state.snapshot.has_right(info.member.id, right).allowed for right in AdminRight):
            authorize(state, actor, AdminRight.VIEW_ROLES)
        origin = None
        if parent_origin is not None:
            origin = check_origin(parent_origin)
            allowed = _settings(uow.portal.settings(ws.organization_id)).frame_origins
            if origin not in allowed:
                raise InvalidInputError(
                    f"{origin} may not frame this organization's pages.",
                    fix="Add it to the organization's frame origins (PUT /v1/organizations/{id}/portal) first.",
                )
        token, digest = new_token()
        expires = at + LINK_TTL
        uow.portal.add_link(
            PortalLinkRow(digest, workspace_id, info.member.id, info.user_id, origin, page, expires, None, None), at
        )
        uow.commit()
    return PortalLink(token, workspace_id, page, expires)


def open_portal_link(
    uow: UnitOfWork, *, token: str, policy: SessionPolicy, ip: str = "", now: datetime | None = None
) -> PortalEntry:
    """Use a link: a new session of the member's user, bound to the link's workspace.
    Unknown, used, expired, or the member no longer active: `TokenInvalidError`, the
    same for each (a guessed token learns nothing)."""
    at = now or utcnow()
    digest = hash_token(token)
    refused = TokenInvalidError(
        "This portal link is not valid: links work once, for a few minutes.",
        fix="Reload the page that showed it, to get a new one.",
    )
    with uow:
        link = uow.portal.link(digest)
        if link is None or link.used_at is not None or link.expires_at <= at:
            raise refused
        info = uow.members.get(link.workspace_id, link.member_id)
        user = uow.users.get(link.user_id)
        if info is None or user is None or info.member.status is not MemberStatus.ACTIVE or info.user_id != link.user_id:
            raise refused
        session_id, session_hash = new_token()
        if not uow.portal.use_link(digest, session_hash, at):
            raise refused
        uow.web_sessions.add(session_hash, link.user_id, at)
        security_event(uow, "portal_login", user_id=link.user_id, ip=ip, detail=link.workspace_id, now=at)
        uow.commit()
    return PortalEntry(session_id, int(user.session_version), link.workspace_id, link.page)


def portal_scope(uow: UnitOfWork, *, session_id: str) -> PortalScope | None:
    """The workspace and member a portal session is bound to; None for a session of a
    Rolegate login (which `web_sessions.resume_session` checks itself)."""
    with uow:
        link = uow.portal.by_session(hash_token(session_id))
        if link is None:
            return None
        ws = uow.workspaces.get(link.workspace_id)
        organization_id = ws.organization_id if ws is not None else ""
        settings = _settings(uow.portal.settings(organization_id)) if ws is not None else PortalSettings()
    return PortalScope(link.workspace_id, link.member_id, organization_id, link.parent_origin, settings)
