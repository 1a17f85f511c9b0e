"""Who is looking: the logged-in user, their memberships, and the workspace they are in.

What the member may use is decided by the engine (`Snapshot.has_right`), never here:
navigation and buttons ask `WorkspaceContext.can(right)`, and every change goes
through a service that authorizes the member again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from starlette.requests import Request

from rolegate.domain.errors import NotFoundError
from rolegate.domain.roles import MemberStatus
from rolegate.domain.schema import AdminRight, ProductSchema
from rolegate.domain.workspace import Actor, Workspace
from rolegate.engine import Snapshot
from rolegate.services.logins import MemberInfo, Membership, User
from rolegate.services.portal import PortalScope, portal_scope
from rolegate.services.sites import SiteWorkspace, user_workspaces
from rolegate.services.web_sessions import end_session, resume_session, start_session

if TYPE_CHECKING:
    from rolegate.web.app import WebUI
    from rolegate.web.session import Session

__all__ = [
    "LoginRequired",
    "NavItem",
    "Viewer",
    "WorkspaceContext",
    "current_user",
    "log_in_as",
    "log_out",
    "open_workspace",
    "viewer",
]


class LoginRequired(Exception):
    """No valid session: the page sends the visitor to the login form."""


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    href: str
    key: str


@dataclass
class Viewer:
    """A logged-in user and the workspaces they belong to."""

    ui: WebUI
    request: Request
    session: Session
    user: User
    memberships: list[Membership]
    sites: list[SiteWorkspace] = field(default_factory=list)
    """Every workspace the user may enter, incl. those of the sites they administer (E1)."""
    portal: PortalScope | None = None
    """A portal session (issue 15): one workspace, as one member, framed by the host."""

    @property
    def active_memberships(self) -> list[Membership]:
        return [m for m in self.memberships if m.member.member.status is MemberStatus.ACTIVE]

    @property
    def switchable(self) -> list[Workspace]:
        """The workspace switcher's choices: active memberships and administered sites' workspaces."""
        return [s.workspace for s in self.sites if s.enterable]

    def site_admin_of(self, workspace_id: str) -> bool:
        return any(s.workspace.id == workspace_id and s.site_admin for s in self.sites)


@dataclass
class WorkspaceContext:
    """A page of one workspace, seen by one member."""

    viewer: Viewer
    membership: Membership | None
    snapshot: Snapshot
    current: str = ""
    _rights: dict[AdminRight, bool] = field(default_factory=dict)
    site_admin: bool = False
    """The user administers this workspace's site (E1): every admin right, acting as such."""
    site_workspace: Workspace | None = None

    @property
    def workspace(self) -> Workspace:
        if self.membership is not None:
            return self.membership.workspace
        assert self.site_workspace is not None  # a context has a membership or a site
        return self.site_workspace

    @property
    def member(self) -> MemberInfo:
        """The viewer's membership (pages that need one check `membership` first)."""
        assert self.membership is not None, "a site administrator without membership has no member"
        return self.membership.member

    @property
    def schema(self) -> ProductSchema:
        return self.snapshot.schema

    @property
    def actor(self) -> Actor:
        if self.site_admin:
            return Actor.site_admin(self.viewer.user.id)
        return Actor.member(self.member.member.id)

    @property
    def base(self) -> str:
        return f"/w/{self.workspace.id}"

    def can(self, right: AdminRight | str) -> bool:
        right = AdminRight(right)
        if self.site_admin:
            return True  # the services authorize a site administrator the same way (E1)
        if right not in self._rights:
            self._rights[right] = self.snapshot.has_right(self.member.member.id, right).allowed
        return self._rights[right]

    @cached_property
    def role_name(self) -> str:
        if self.site_admin:
            return "Site administrator"
        role = self.snapshot.role_of(self.member.member.id)
        return role.name if role is not None else self.member.member.role

    @cached_property
    def nav(self) -> list[NavItem]:
        items = [NavItem("Home", f"{self.base}/", "home")]
        if self.can(AdminRight.VIEW_ROLES):
            items.append(NavItem(self.schema.words.roles_page, f"{self.base}/roles", "roles"))
            items.append(NavItem("Permission matrix", f"{self.base}/matrix", "matrix"))
            items.append(NavItem("Team", f"{self.base}/team", "team"))
            items.append(NavItem("Explain", f"{self.base}/explain", "explain"))
        # Accounts: the assignable top-level records, for members who may view some.
        assignable = next(
            (o for o in self.schema.objects.values() if o.assignable and o.parent is None and o.view_action), None
        )
        if (
            assignable is not None
            and assignable.view_action is not None
            and self.membership is not None
            and self.snapshot.check(self.member.member.id, assignable.view_action).allowed
        ):
            items.append(NavItem(f"{assignable.label}s", f"{self.base}/accounts", "accounts"))
        if self.can(AdminRight.MANAGE_MEMBERS):
            items.append(NavItem("Administrator records", f"{self.base}/records", "records"))
        if self.can(AdminRight.VIEW_AUDIT):
            items.append(NavItem("Audit log", f"{self.base}/audit", "audit"))
        if self.site_admin:
            items.append(NavItem("Webhooks", f"{self.base}/webhooks", "webhooks"))  # the organization's (issue 16)
        if self.viewer.ui.rolegate.settings.dev_outbox:
            items.append(NavItem("Outbox (dev)", f"{self.base}/outbox", "outbox"))
        return items


def current_user(ui: WebUI, session: Session) -> User:
    """The user of the cookie's server-side session, else `LoginRequired`: no session,
    or one logged out, idle too long, too old, of a removed user, or of an older session
    generation (C8: a password reset ends every session of the user)."""
    session_id = session.session_id
    if session_id is None:
        raise LoginRequired
    user = resume_session(ui.rolegate.uow(), token=session_id, policy=ui.rolegate.session_policy)
    if user is None or session.session_version != str(user.session_version):
        session.logout()  # the cookie forgets the dead session: no lookup on the next request
        raise LoginRequired
    return user


def log_in_as(ui: WebUI, session: Session, user: User) -> None:
    """The browser is now `user`'s, who just proved who they are: a new server-side
    session (the browser's previous one is revoked) and a new CSRF token, so nothing
    of the session before carries over (no session fixation)."""
    rg = ui.rolegate
    session_id = start_session(rg.uow(), user_id=user.id, policy=rg.session_policy, replaces=session.session_id)
    session.login(session_id, user.session_version)


def log_out(ui: WebUI, request: Request, session: Session) -> None:
    """End the browser's session server-side (a copy of the cookie stops working too)
    and give the browser a fresh, anonymous one."""
    session_id = session.session_id
    if session_id is not None:
        ip = request.client.host if request.client is not None else ""
        end_session(ui.rolegate.uow(), token=session_id, ip=ip)
    session.logout()


def viewer(ui: WebUI, request: Request, session: Session) -> Viewer:
    """The logged-in user, else `LoginRequired`. A portal session sees its one
    workspace as its one member: no other membership, no site it administers (E1
    would give every admin right), whatever the user holds elsewhere."""
    user = current_user(ui, session)
    found = user_workspaces(ui.rolegate.reader(), user.id)
    assert session.session_id is not None  # current_user returned a user
    scope = portal_scope(ui.rolegate.reader(), session_id=session.session_id)
    if scope is None and session.portal_workspace is not None:
        session.logout()  # a portal cookie whose link is gone: never a full login
        raise LoginRequired
    if scope is None:
        return Viewer(ui, request, session, user, list(found.memberships), list(found.sites))
    request.state.portal = scope
    memberships = [
        m for m in found.memberships if m.workspace.id == scope.workspace_id and m.member.member.id == scope.member_id
    ]
    sites = [
        SiteWorkspace(s.workspace, s.member, site_admin=False)
        for s in found.sites
        if s.workspace.id == scope.workspace_id and s.member is not None and s.member.member.id == scope.member_id
    ]
    return Viewer(ui, request, session, user, memberships, sites, scope)


def open_workspace(
    ui: WebUI, request: Request, session: Session, workspace_id: str, *, current: str = ""
) -> WorkspaceContext:
    """The workspace page context; a workspace the user is not a member of is "not
    found", exactly like one that does not exist."""
    v = viewer(ui, request, session)
    membership = next((m for m in v.memberships if m.workspace.id == workspace_id), None)
    site = next((s for s in v.sites if s.workspace.id == workspace_id and s.site_admin), None)
    if membership is None and site is None:
        raise NotFoundError(f"no workspace {workspace_id!r}", decision=None, fix="Choose one of your workspaces.")
    return WorkspaceContext(
        v,
        membership,
        ui.rolegate.snapshots.get(workspace_id),
        current,
        site_admin=site is not None,
        site_workspace=site.workspace if site is not None else None,
    )
