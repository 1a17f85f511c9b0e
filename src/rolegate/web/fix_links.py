"""Where a refusal's "What to do" is done (issue 15, item 2: "refusals that say what to
do next, with the link to do it"). A refusal carries the code its product cites
(`Violation.rule_id`: a seed rule of that product, or a product-neutral name); the
product's schema says which neutral rule that is, and each neutral rule whose remedy
is on another page of the workspace names that page here. Navigation only: the rules
themselves stay in the domain."""

from __future__ import annotations

from dataclasses import dataclass

from rolegate.domain.schema import DEFAULT_RULE_IDS, ProductSchema

__all__ = ["FixLink", "fix_link"]


@dataclass(frozen=True, slots=True)
class FixLink:
    href: str
    label: str


_TEAM = ("/team", "Open the Team page")
_PAGES: dict[str, tuple[str, str]] = {
    "member_in_use": ("/team", "Transfer their work on the Team page"),
    "assignee": _TEAM,
    "seat_capacity": ("/team", "Free a seat on the Team page"),
    "seat_held": ("/team", "Free a seat on the Team page"),
    "role_in_use": ("/team", "See who holds it on the Team page"),
    "role_delete_assigned": ("/team", "See who holds it on the Team page"),
    "role_seat_in_use": ("/team", "See who holds it on the Team page"),
    "self_change": _TEAM,
    "feature_off": ("/features", "See the workspace's features"),
    "feature_required": ("/features", "See the workspace's features"),
    "system_role_create": ("/roles", "Back to the roles"),
    "system_role_delete": ("/roles", "Back to the roles"),
    "custom_roles_off": ("/roles", "Back to the roles"),
}
"""Product-neutral rule -> (path under the workspace, link text)."""


def fix_link(schema: ProductSchema, base: str, rule_id: str, *, current: str = "") -> FixLink | None:
    """The page of workspace `base` (`/w/<id>`) where the refusal cited as `rule_id` in
    `schema`'s product is remedied; None when there is none, or when it is the page the
    refusal is shown on (`current`: that page's path) or one the product lacks."""
    name = _neutral(schema, rule_id)
    if name is None or name not in _PAGES:
        return None
    path, label = _PAGES[name]
    if path == "/features" and not schema.features:
        return None
    href = base + path
    return None if current.rstrip("/") == href else FixLink(href, label)


def _neutral(schema: ProductSchema, rule_id: str) -> str | None:
    """The product-neutral rule this product cites as `rule_id` (its own seed id, or the
    neutral name itself where it maps none); the first in the table's order when it
    cites one seed id for several."""
    for name in DEFAULT_RULE_IDS:
        if schema.rule(name) == rule_id:
            return name
    return None
