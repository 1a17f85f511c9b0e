"""Ownership transfer (T11, or the product's guardian rule): an owner hands their role to
another active member and takes another one, and the workspace keeps an owner before,
during and after. Pure functions; the service feeds them the members and their roles.
"""

from __future__ import annotations

from rolegate.domain.roles import Member
from rolegate.domain.schema import ProductSchema
from rolegate.domain.violations import Violation

__all__ = ["ownership_giver_violations", "ownership_kept_violations", "ownership_receiver_violations"]


def ownership_giver_violations(schema: ProductSchema, *, giver: Member | None, giver_is_owner: bool) -> list[Violation]:
    """Only an active owner hands ownership over; `giver` is None when no member acts
    (the platform, a site administrator)."""
    rule = schema.guardian.rule_id
    if giver is None:
        return [Violation(rule, "Ownership is transferred by an owner.", "Act as the owner who hands it over.")]
    if not (giver.is_active and giver_is_owner):
        return [Violation(rule, "Only an owner can transfer ownership.", "Ask an owner of the workspace to do it.")]
    return []


def ownership_receiver_violations(
    schema: ProductSchema, *, giver: Member, receiver: Member, who: str = "This member"
) -> list[Violation]:
    """Ownership goes to another member, who is active; `who`: the receiver as the
    team knows them (name or email)."""
    rule = schema.guardian.rule_id
    out: list[Violation] = []
    if receiver.id == giver.id:
        out.append(Violation(rule, "You cannot transfer ownership to yourself.", "Choose another active member."))
    if not receiver.is_active:
        out.append(
            Violation(
                rule,
                f"{who} is {receiver.status.value}: ownership goes to an active member.",
                "Choose an active member.",
            )
        )
    return out


def ownership_kept_violations(schema: ProductSchema, *, owners_before: int, owners_after: int) -> list[Violation]:
    """The workspace has an owner after the exchange, and ownership stays single: a
    transfer never leaves more owners than before (the former owner gives the owner's role
    up) unless the schema allows several (`team.owners: several`)."""
    rule = schema.guardian.rule_id
    if not owners_after:
        return [Violation(rule, "This would leave the workspace without an owner.", "Choose a member who can hold the owner's role.")]
    if owners_after > owners_before and not schema.guardian.several_owners:
        return [
            Violation(
                rule,
                f"This would leave {owners_after} owners: a transfer hands ownership over, it does not share it.",
                "Take a role that is not the owner's in exchange.",
            )
        ]
    return []
