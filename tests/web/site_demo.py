"""A site of two email-marketing workspaces (seed 003) added to a demo database, for the
issue-8 HTML and browser tests: a site administrator who is a member of neither, an
account administrator in A (the "Account Administrators" and "Web Access Log"
permissions, E7, E8), a member of A whose record they edit, and a custom role in B."""

from __future__ import annotations

from dataclasses import dataclass

from rolegate.bootstrap import Rolegate
from rolegate.domain.workspace import Actor
from rolegate.services import members, roles, sites, workspaces

__all__ = ["ACCT_EMAIL", "ACCT_PASSWORD", "SITE_ADMIN_EMAIL", "SITE_ADMIN_PASSWORD", "SiteDemo", "build_site"]

SITE_ADMIN_EMAIL = "sam@acme-site.test"
SITE_ADMIN_PASSWORD = "sam-runs-the-site"
ACCT_EMAIL = "ava@acme-site.test"
ACCT_PASSWORD = "ava-keeps-records"
TARGET_EMAIL = "tom@acme-site.test"
PLATFORM = Actor.system("test")


@dataclass(frozen=True)
class SiteDemo:
    organization_id: str
    a: str
    b: str
    site_admin_user: str
    acct_member: str
    target_member: str
    role_b: str


def build_site(rg: Rolegate) -> SiteDemo:
    org = workspaces.create_organization(rg.uow(), actor=PLATFORM, name="Acme site")
    a = workspaces.create_workspace(rg.uow(), actor=PLATFORM, preset="email_marketing", name="Acme Newsletters", owner_email="owner-a@acme-site.test", organization_id=org)
    b = workspaces.create_workspace(rg.uow(), actor=PLATFORM, preset="email_marketing", name="Acme Promotions", owner_email="owner-b@acme-site.test", organization_id=org)
    a_id, b_id = a.workspace.id, b.workspace.id
    user = sites.add_site_administrator(rg.uow(), actor=PLATFORM, organization_id=org, email=SITE_ADMIN_EMAIL, name="Sam Site", password=SITE_ADMIN_PASSWORD)
    acct_role = roles.create_role(
        rg.uow(),
        actor=PLATFORM,
        workspace_id=a_id,
        name="Records keeper",
        level="account_administrator",
        grants=["settings.view", "settings.account_administrators", "settings.web_access_log"],
    )
    acct = members.add_member(rg.uow(), actor=PLATFORM, workspace_id=a_id, email=ACCT_EMAIL, role_id=acct_role.id, name="Ava Account", password=ACCT_PASSWORD)
    target = members.add_member(rg.uow(), actor=PLATFORM, workspace_id=a_id, email=TARGET_EMAIL, role_id="analyst", name="Tom Target")
    role_b = roles.create_role(rg.uow(), actor=PLATFORM, workspace_id=b_id, name="Campaign reviewer", level="account_administrator", grants=["campaigns.view"])
    return SiteDemo(org, a_id, b_id, user, acct.member.id, target.member.id, role_b.id)
