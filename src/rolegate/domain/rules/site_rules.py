"""Sites (organizations) of several workspaces: copying a role between them (E9) and
editing an administrator record that several workspaces share (E7, E9)."""

from __future__ import annotations

from collections.abc import Sequence

from rolegate.domain.violations import Violation

__all__ = ["copy_target_violations", "record_edit_violations"]


def copy_target_violations(
    *,
    source_preset: str,
    source_organization: str,
    target_name: str,
    target_preset: str,
    target_organization: str,
    administers_target: bool,
) -> list[Violation]:
    """E9: a role is copied only to another workspace of the same site, of the same
    product (its permissions mean nothing in another preset), that the actor administers."""
    out: list[Violation] = []
    if target_organization != source_organization:
        # Named as not found elsewhere; here it is a plain refusal naming the rule.
        out.append(Violation("E9", f"Workspace {target_name!r} belongs to another site.", "Copy only to workspaces of this site."))
    elif target_preset != source_preset:
        out.append(
            Violation(
                "E9",
                f"Workspace {target_name!r} runs preset {target_preset!r}, not {source_preset!r}: its permissions differ.",
                "Create the role there by hand, from that product's permissions.",
            )
        )
    if not administers_target:
        out.append(Violation("E9", f"You do not manage roles in workspace {target_name!r}.", "Ask an administrator of that workspace, or a site administrator."))
    return out


def record_edit_violations(*, email_taken: bool, email: str, unmanaged_workspaces: Sequence[str]) -> list[Violation]:
    """E7: an account administrator edits administrator records of their account. A
    person with access to several accounts (E9) has one record (their login): it is
    edited only by someone who manages every account it reaches."""
    out: list[Violation] = []
    if "@" not in email or len(email) > 320 or not email.strip():
        out.append(Violation("E7", f"{email!r} is not an email address.", "Enter the administrator's email address."))
    elif email_taken:
        out.append(Violation("E7", f"{email.strip().lower()} is already someone else's login.", "Use another address."))
    if unmanaged_workspaces:
        names = ", ".join(sorted(unmanaged_workspaces))
        out.append(
            Violation(
                "E9",
                f"This person also has access to {names}, which you do not administer; their record is shared.",
                "Ask a site administrator of those workspaces to edit it.",
            )
        )
    return out
