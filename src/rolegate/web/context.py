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
from rolegate.services.logins import Membership, User, get_user, memberships
from rolegate.store.repositories import MemberInfo

if TYPE_CHECKING:
    from rolegate.web.app import WebUI
    from rolegate.web.session import Session

__all__ = ["LoginRequired", "NavItem", "Viewer", "WorkspaceContext", "open_workspace", "viewer"]


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

    @property
    def active_memberships(self) -> list[Membership]:
        return [m for m in self.memberships if m.member.member.status is MemberStatus.ACTIVE]


@dataclass
class WorkspaceContext:
    """A page of one workspace, seen by one member."""

    viewer: Viewer
    membership: Membership
    snapshot: Snapshot
    current: str = ""
    _rights: dict[AdminRight, bool] = field(default_factory=dict)

    @property
    def workspace(self) -> Workspace:
        return self.membership.workspace

    @property
    def member(self) -> MemberInfo:
        return self.membership.member

    @property
    def schema(self) -> ProductSchema:
        return self.snapshot.schema

    @property
    def actor(self) -> Actor:
        return Actor.member(self.member.member.id)

    @property
    def base(self) -> str:
        return f"/w/{self.workspace.id}"

    def can(self, right: AdminRight | str) -> bool:
        right = AdminRight(right)
        if right not in self._rights:
            self._rights[right] = self.snapshot.has_right(self.member.member.id, right).allowed
        return self._rights[right]

    @cached_property
    def role_name(self) -> str:
        role = self.snapshot.role_of(self.member.member.id)
        return role.name if role is not None else self.member.member.role

    @cached_property
    def nav(self) -> list[NavItem]:
        items = [NavItem("Home", f"{self.base}/", "home")]
        if self.can(AdminRight.VIEW_ROLES):
            items.append(NavItem("Roles & Permissions", f"{self.base}/roles", "roles"))
            items.append(NavItem("Permission matrix", f"{self.base}/matrix", "matrix"))
            items.append(NavItem("Team", f"{self.base}/team", "team"))
        if self.can(AdminRight.MANAGE_MEMBERS) and self.viewer.ui.rolegate.outbox is None:
            items.append(NavItem("Outbox (dev)", f"{self.base}/outbox", "outbox"))
        return items


def viewer(ui: WebUI, request: Request, session: Session) -> Viewer:
    """The logged-in user, else `LoginRequired`."""
    user_id = session.user_id
    if user_id is None:
        raise LoginRequired
    user = get_user(ui.rolegate.uow(), user_id)
    if user is None or session.session_version != str(user.session_version):
        # Removed since, or their password was reset (C8): every older session ends.
        session.logout()
        raise LoginRequired
    return Viewer(ui, request, session, user, memberships(ui.rolegate.uow(), user.id))


def open_workspace(ui: WebUI, request: Request, session: Session, workspace_id: str, *, current: str = "") -> WorkspaceContext:
    """The workspace page context; a workspace the user is not a member of is "not
    found", exactly like one that does not exist."""
    v = viewer(ui, request, session)
    membership = next((m for m in v.memberships if m.workspace.id == workspace_id), None)
    if membership is None:
        raise NotFoundError(f"no workspace {workspace_id!r}", decision=None, fix="Choose one of your workspaces.")
    return WorkspaceContext(v, membership, ui.rolegate.snapshots.get(workspace_id), current)
