"""A site (organization) of several email-marketing workspaces for the issue-8 tests."""

from __future__ import annotations

from dataclasses import dataclass

from rolegate.bootstrap import Rolegate
from rolegate.domain.workspace import Actor
from rolegate.services import roles, sites, workspaces
from tests.integration.support import PLATFORM, Ws, email

__all__ = ["ACCOUNT_ADMIN_GRANTS", "Site", "open_site"]

ACCOUNT_ADMIN_GRANTS = ["settings.view", "settings.account_administrators"]
"""E7: a role with the "Account Administrators" permission (and Settings View, E6)."""


@dataclass(frozen=True, slots=True)
class Site:
    app: Rolegate
    organization_id: str
    a: Ws
    b: Ws
    admin_user: str
    admin_email: str

    @property
    def admin(self) -> Actor:
        return Actor.site_admin(self.admin_user)

    def custom_role(self, ws: Ws, name: str, grants: list[str], *, actor: Actor = PLATFORM) -> str:
        return roles.create_role(self.app.uow(), actor=actor, workspace_id=ws.id, name=name, level="account_administrator", grants=grants).id


def _workspace(app: Rolegate, org: str, name: str, preset: str = "email_marketing", features: list[str] | None = None) -> Ws:
    created = workspaces.create_workspace(
        app.uow(), actor=PLATFORM, preset=preset, name=name, owner_email=email("owner"), organization_id=org, features=features
    )
    return Ws(app, created.workspace.id, preset, created.owner.member.id)


def open_site(app: Rolegate, *, b_features: list[str] | None = None) -> Site:
    """Workspaces A (every feature) and B (`b_features`, default none) of one site, and a
    site administrator who is a member of neither."""
    org = workspaces.create_organization(app.uow(), actor=PLATFORM, name="Acme site")
    from rolegate.presets import load_preset

    every = sorted(load_preset("email_marketing").features)
    a = _workspace(app, org, "Acme A", features=every)
    b = _workspace(app, org, "Acme B", features=b_features or [])
    admin_email = email("site-admin")
    user = sites.add_site_administrator(app.uow(), actor=PLATFORM, organization_id=org, email=admin_email, name="Sam Site", password="correct horse battery")
    return Site(app, org, a, b, user, admin_email)


def other_workspace(app: Rolegate, site: Site, name: str, preset: str = "email_marketing", *, same_site: bool = True) -> Ws:
    org = site.organization_id if same_site else workspaces.create_organization(app.uow(), actor=PLATFORM, name="Other site")
    return _workspace(app, org, name, preset)
