"""Following another process's writes from the audit log: the roles and members a
workspace's decisions are compiled from, moved from a revision this process holds to
a newer one by the audit events between them, instead of read again whole.

Each revision is made under the workspace's lock with audit events of its own, and an
event's `after` is the whole of what it changed for the kinds followed here; an
organization's webhook and single sign-on settings change nothing compiled. Any other
kind (a role created or deleted, a member added, features, the schema, the field
registry, ...) is not followed: the caller reads the workspace again, as before."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from rolegate.domain.roles import Member, Role
from rolegate.domain.schema import FieldAccess, frozen_map
from rolegate.domain.workspace import AuditEvent

RECORD_ONLY_ACTIONS = frozenset({"record.assign", "record.upsert", "record.delete", "records.upsert", "records.delete"})
"""Changes that write records only: a snapshot's roles and members stay as they were
(the records are read live, or through the record cache, which follows them itself)."""

ORGANIZATION_SETTINGS_ACTIONS = frozenset(
    {
        "webhook.create", "webhook.update", "webhook.delete", "webhook.rotate_secret",
        "sso.configure", "sso.claim_domain", "sso.verify_domain", "sso.remove_domain", "sso.jit",
    }
)  # fmt: skip
"""Changes of an organization's webhooks or single sign-on, recorded in each of its
workspaces (`context.audit_organization`): no decision is made from them, so nothing
compiled moves. Not followed, each such change made every process read every
workspace of the organization again."""

FOLLOWED_ACTIONS = frozenset({"role.update", "member.change_role"}) | RECORD_ONLY_ACTIONS | ORGANIZATION_SETTINGS_ACTIONS


def inputs_after(
    roles: Iterable[Role], members: Iterable[Member], events: Sequence[AuditEvent]
) -> tuple[tuple[Role, ...], tuple[Member, ...]] | None:
    """`roles` and `members` as `events` leave them, in chain order; None when an event
    is of a kind not followed, or does not say what it changed (then read them again)."""
    by_id = {r.id: r for r in roles}
    held = {m.id: m for m in members}
    for event in events:
        if event.action in RECORD_ONLY_ACTIONS or event.action in ORGANIZATION_SETTINGS_ACTIONS:
            continue
        if event.action == "role.update":
            role = by_id.get(event.target_id)
            after = None if role is None else _role_after(role, event.after)
            if after is None:
                return None
            by_id[after.id] = after
        elif event.action == "member.change_role":
            member = held.get(event.target_id)
            data = event.after
            if member is None or not isinstance(data, Mapping) or data.get("role") not in by_id:
                return None
            held[member.id] = Member(member.id, str(data["role"]), member.status)
        else:
            return None
    return tuple(by_id.values()), tuple(held.values())


def _role_after(role: Role, data: Any) -> Role | None:
    """The role as an update's audit `after` (`services.roles.role_json`) describes it.
    A role mirroring the integration owner (K5) stores no field access of its own: not
    followed."""
    if (
        role.mirror_integration
        or not isinstance(data, Mapping)
        or data.get("id") != role.id
        or data.get("kind") != role.kind.value
    ):
        return None
    try:
        fields = {
            (obj, name): FieldAccess.parse(label)
            for obj, per in data["field_access"].items()
            for name, label in per.items()
        }
        return replace(
            role,
            name=str(data["name"]),
            level=str(data["level"]),
            grants=frozenset(str(g) for g in data["grants"]),
            landing_page=data["landing_page"],
            description=str(data["description"]),
            field_access=frozen_map(fields),
        )
    except (KeyError, AttributeError, TypeError):
        return None
