"""Who turns a workspace's features on and off (E4, E5).

A feature is part of the customer's plan: "Availability of features vary depending on
your license. Please reach out to our Client Success team" (seed 003). So the SaaS
operator (the platform: an organization API key, the CLI) changes them, and so does a
site administrator of the workspace's organization, who holds what account
administrators do not (E1). A member of the workspace, whatever their role, sees
them and asks a site administrator."""

from __future__ import annotations

from collections.abc import Set

from rolegate.domain.schema import ProductSchema
from rolegate.domain.violations import Violation
from rolegate.domain.workspace import Actor

__all__ = ["feature_change_violations", "may_change_features"]


def may_change_features(actor: Actor, site_admins: Set[str]) -> bool:
    """The platform, or a site administrator of this workspace's organization (E1)."""
    if actor.is_platform:
        return True
    return actor.site_user_id is not None and actor.site_user_id in site_admins


def feature_change_violations(schema: ProductSchema, actor: Actor, site_admins: Set[str]) -> list[Violation]:
    """E4 (inferred): a member turns no feature on or off, whatever their role; cited
    as the product's site rule (E1), the right a site administrator holds above them."""
    if may_change_features(actor, site_admins):
        return []
    return [
        Violation(
            schema.rule("site_admin"),
            "Features come with this workspace's plan: only a site administrator of its organization, "
            "who manages all of its workspaces, turns them on or off.",
            "Ask a site administrator of your organization.",
        )
    ]
