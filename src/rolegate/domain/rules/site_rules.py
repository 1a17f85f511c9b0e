"""Sites (organizations) of several workspaces: their administrators (E1), copying a
role between them (E9) and editing an administrator record (E7), whose login is the
person's own.

A site spans workspaces of any product, so its own rules (E1) cite the default id
(`SITE_RULE`), not one product's."""

from __future__ import annotations

from collections.abc import Set

from rolegate.domain.schema import DEFAULT_RULE_IDS, ProductSchema
from rolegate.domain.violations import Violation

__all__ = ["SITE_RULE", "copy_target_violations", "last_administrator_violations", "record_edit_violations"]

SITE_RULE = DEFAULT_RULE_IDS["site_admin"]


def last_administrator_violations(admins: Set[str], user_id: str) -> list[Violation]:
    """E1 (inferred): a site keeps at least one administrator once it has had one."""
    if admins != {user_id}:
        return []
    return [Violation(SITE_RULE, "This is the site's last administrator.", "Name another site administrator first.")]


def copy_target_violations(
    schema: ProductSchema,
    *,
    source_preset: str,
    source_organization: str,
    target_name: str,
    target_preset: str,
    target_organization: str,
    administers_target: bool,
) -> list[Violation]:
    """E9: a role is copied (from a workspace of product `schema`) only to another workspace of the same site, of the same
    product (its permissions mean nothing in another preset), that the actor administers."""
    out: list[Violation] = []
    if target_organization != source_organization:
        # Named as not found elsewhere; here it is a plain refusal naming the rule.
        out.append(
            Violation(
                schema.rule("role_copy"), f"Workspace {target_name!r} belongs to another site.", "Copy only to workspaces of this site."
            )
        )
    elif target_preset != source_preset:
        out.append(
            Violation(
                schema.rule("role_copy"),
                f"Workspace {target_name!r} runs preset {target_preset!r}, not {source_preset!r}: its permissions differ.",
                "Create the role there by hand, from that product's permissions.",
            )
        )
    if not administers_target:
        out.append(
            Violation(
                schema.rule("role_copy"),
                f"You do not manage roles in workspace {target_name!r}.",
                "Ask an administrator of that workspace, or a site administrator.",
            )
        )
    return out


def record_edit_violations(
    *, email_now: str, email_asked: str | None, name: str, rule_id: str = DEFAULT_RULE_IDS["member_record"]
) -> list[Violation]:
    """E7: an account administrator edits the administrator records of their account:
    the name this workspace shows. The email is the person's login, which other
    workspaces and sites may share: only the person changes it, through a link sent to
    the new address, so a record edit that asks for another email is refused.
    `rule_id`: the product's (`schema.rule("member_record")`)."""
    out: list[Violation] = []
    if email_asked is not None and email_asked.strip().lower() != email_now:
        out.append(
            Violation(
                rule_id,
                f"The email address {email_now} is that person's login, so only they can change it.",
                "Ask them to change it from their account page (Rolegate sends a confirmation link to the new address). "
                "To give this seat to someone else, invite that person and disable this member.",
            )
        )
    if len(name.strip()) > 200:
        out.append(Violation(rule_id, "A name has at most 200 characters.", "Shorten the name."))
    return out
