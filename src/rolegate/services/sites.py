"""Sites (organizations) of several workspaces: their administrators (E1), the
workspaces a user may enter, and who acts for a user in a given workspace."""

from __future__ import annotations

from dataclasses import dataclass

from rolegate.domain.errors import NotFoundError, PermissionDeniedError
from rolegate.domain.roles import MemberStatus
from rolegate.domain.rules.site_rules import SITE_RULE, last_administrator_violations
from rolegate.domain.workspace import Actor, Workspace
from rolegate.services.context import raise_if, record_change
from rolegate.services.logins import Membership
from rolegate.services.mail import MailPolicy
from rolegate.services.members import ensure_user
from rolegate.services.password_reset import set_password_if_none_locked
from rolegate.store.repositories import MemberInfo
from rolegate.store.uow import UnitOfWork

__all__ = [
    "SiteWorkspace",
    "UserWorkspaces",
    "actor_for_user",
    "add_site_administrator",
    "remove_site_administrator",
    "site_administrators",
    "user_of_actor",
    "user_workspaces",
    "user_workspaces_in",
    "workspaces_of_user",
]


@dataclass(frozen=True, slots=True)
class SiteWorkspace:
    """A workspace a user may enter: as a member (`member` set), as an administrator of
    its site (`site_admin`), or both."""

    workspace: Workspace
    member: MemberInfo | None
    site_admin: bool

    @property
    def enterable(self) -> bool:
        return self.site_admin or (self.member is not None and self.member.member.status is MemberStatus.ACTIVE)

    def actor(self, user_id: str) -> Actor:
        """The site administrator acts as such (every admin right, E1) even where they
        are also a member; a member acts through their role."""
        if self.site_admin:
            return Actor.site_admin(user_id)
        assert self.member is not None
        return Actor.member(self.member.member.id)


def _require_site_admin_or_platform(uow: UnitOfWork, actor: Actor, organization_id: str) -> None:
    if actor.member_id is not None or (
        actor.site_user_id is not None and not uow.sites.is_admin(organization_id, actor.site_user_id)
    ):
        raise PermissionDeniedError(
            f"[{SITE_RULE}] only the platform or a site administrator names site administrators",
            decision=None,
            fix="Ask a site administrator of this organization.",
            rule_id=SITE_RULE,
        )


def add_site_administrator(
    uow: UnitOfWork,
    *,
    actor: Actor,
    organization_id: str,
    email: str,
    name: str = "",
    password: str | None = None,
    policy: MailPolicy | None = None,
) -> str:
    """Make the user with `email` (created if new) an administrator of every workspace
    of the site (E1). Returns their user id. Audited in every workspace of the site.
    With a mail `policy`, a new administrator without a password is emailed a link to
    choose one, at their own address (E1: every person can log in)."""
    with uow:
        if not uow.workspaces.organization_exists(organization_id):
            raise NotFoundError(f"no organization {organization_id!r}", decision=None, fix="Check the organization id.")
        _require_site_admin_or_platform(uow, actor, organization_id)
        user_id = ensure_user(uow, email, name, password)
        if uow.sites.add_admin(organization_id, user_id, name.strip()):
            for ws in uow.workspaces.all(organization_id):
                uow.workspaces.lock(ws.id)
                record_change(
                    uow,
                    ws.id,
                    actor,
                    "site.add_administrator",
                    "user",
                    user_id,
                    None,
                    {"email": email.strip().lower(), "organization": organization_id},
                )
            if policy is not None:
                set_password_if_none_locked(uow, user_id=user_id, policy=policy)
        uow.commit()
        return user_id


def remove_site_administrator(uow: UnitOfWork, *, actor: Actor, organization_id: str, user_id: str) -> None:
    """E1 (inferred): a site keeps at least one administrator once it has had one."""
    with uow:
        _require_site_admin_or_platform(uow, actor, organization_id)
        admins = uow.sites.admins(organization_id)
        if user_id not in admins:
            return
        raise_if(last_administrator_violations(admins, user_id))
        uow.sites.remove_admin(organization_id, user_id)
        for ws in uow.workspaces.all(organization_id):
            uow.workspaces.lock(ws.id)
            record_change(
                uow, ws.id, actor, "site.remove_administrator", "user", user_id, {"organization": organization_id}, None
            )
        uow.commit()


def site_administrators(uow: UnitOfWork, *, organization_id: str) -> list[tuple[str, str, str]]:
    with uow:
        return uow.sites.admin_list(organization_id)


def workspaces_of_user(
    uow: UnitOfWork, user_id: str, *, organization_id: str | None = None, workspace_id: str | None = None
) -> list[SiteWorkspace]:
    """Every workspace the user may see in the switcher, in creation order; only those
    of `organization_id` (and only `workspace_id`) when given: an API key never learns
    about another tenant's."""
    with uow:
        return [
            s
            for s in user_workspaces_in(uow, user_id).sites
            if (organization_id is None or s.workspace.organization_id == organization_id)
            and (workspace_id is None or s.workspace.id == workspace_id)
        ]


@dataclass(frozen=True, slots=True)
class UserWorkspaces:
    """Where a user belongs: their memberships (any status) and every workspace they
    may enter, incl. those of the sites they administer (E1)."""

    memberships: tuple[Membership, ...]
    sites: tuple[SiteWorkspace, ...]


def user_workspaces(uow: UnitOfWork, user_id: str) -> UserWorkspaces:
    """The user's memberships and workspaces in three queries, however many workspaces
    the database holds."""
    with uow:
        return user_workspaces_in(uow, user_id)


def user_workspaces_in(uow: UnitOfWork, user_id: str) -> UserWorkspaces:
    """`user_workspaces`, read in the caller's open transaction."""
    administered = set(uow.sites.organizations_administered(user_id))
    infos = dict(uow.members.of_user(user_id))
    found = tuple(
        SiteWorkspace(ws, infos.get(ws.id), ws.organization_id in administered)
        for ws in uow.sites.workspaces_of_user(user_id)
    )
    return UserWorkspaces(tuple(Membership(s.workspace, s.member) for s in found if s.member is not None), found)


def user_of_actor(uow: UnitOfWork, workspace_id: str, actor: Actor) -> str | None:
    """The user behind an actor (None for the platform). Call inside a unit of work."""
    if actor.site_user_id is not None:
        return actor.site_user_id
    if actor.member_id is not None:
        info = uow.members.get(workspace_id, actor.member_id)
        if info is None:
            raise NotFoundError(
                f"no member {actor.member_id!r} in this workspace",
                decision=None,
                fix="Name a member of this workspace.",
            )
        return info.user_id
    return None


def actor_for_user(uow: UnitOfWork, workspace: Workspace, user_id: str | None, *, fallback: Actor) -> Actor | None:
    """Who `user_id` is in `workspace`: its site administrator, an active member, or no
    one (None). The platform (user None) stays the platform. Inside a unit of work."""
    if user_id is None:
        return fallback
    if uow.sites.is_admin(workspace.organization_id, user_id):
        return Actor.site_admin(user_id)
    info = uow.members.by_user(workspace.id, user_id)
    if info is not None and info.member.status is MemberStatus.ACTIVE:
        return Actor.member(info.member.id)
    return None
