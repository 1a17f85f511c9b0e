"""Which record facts a committed change can have changed, read from its audit event.

A record's facts (its parent and its assignee, and whether it is in the index at all)
change only in writes that bump the workspace revision and append audit events in
the same transaction. A process that keeps records in memory reads the events of the
revisions it has not seen yet and forgets what they may have changed: the record a
single upsert or assignment names, or everything for a change that touches records
it does not name (a delete takes or orphans the children, a bulk call or a transfer
moves many). An action not listed here is taken to change every record: a new kind of
write costs a cache its contents until it is listed, never a stale answer.
"""

from __future__ import annotations

from typing import Final

__all__ = ["EVERY_RECORD", "NO_RECORD_ACTIONS", "ONE_RECORD_ACTIONS", "RecordEffect", "record_effect"]

EVERY_RECORD: Final = "*"
"""`record_effect`'s answer for a change that may have changed any record."""

RecordEffect = tuple[str, str] | str | None
"""None: no record changed; `(type, id)`: that record's own facts only; `EVERY_RECORD`."""

ONE_RECORD_ACTIONS: Final = frozenset({"record.upsert", "record.assign"})
"""Changes of one record's own facts; the event's target is the record. Its children
keep theirs (each names its parent by reference)."""

NO_RECORD_ACTIONS: Final = frozenset(
    {
        "audit.prune",
        "audit.retention",
        "directory.group_create",
        "directory.group_delete",
        "directory.group_role",
        "directory.group_update",
        "field.add",
        "field.integration_access",
        "field.sync",
        "invitation.resend",
        "invitation.revoke",
        "member.activate",
        "member.add",
        "member.change_role",
        "member.delete",
        "member.disable",
        "member.enable",
        "member.invite",
        "member.password_reset",
        "member.provision",
        "member.suspend",
        "member.update",
        "member.update_record",
        "object.add",
        "references.put",
        "role.clone",
        "role.create",
        "role.delete",
        "role.update",
        "site.add_administrator",
        "site.remove_administrator",
        "sso.claim_domain",
        "sso.configure",
        "sso.jit",
        "sso.remove_domain",
        "sso.verify_domain",
        "webhook.create",
        "webhook.delete",
        "webhook.rotate_secret",
        "webhook.update",
        "workspace.create",
        "workspace.features",
        "workspace.schema_upgrade",
        "workspace.seats",
        "workspace.transfer_ownership",
    }
)
"""Changes that write no record (members, roles, the directory, settings, webhook
endpoints). A member with records assigned is never deleted (N9: transfer them first,
`member.transfer`, which is not listed: it moves every record of the member)."""


def record_effect(action: str, target_type: str, target_id: str) -> RecordEffect:
    """What the audit event's change may have changed among the records."""
    if action in NO_RECORD_ACTIONS:
        return None
    if action in ONE_RECORD_ACTIONS:
        return (target_type, target_id)
    return EVERY_RECORD
