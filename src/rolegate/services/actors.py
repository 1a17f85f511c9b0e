"""Who acts: the party a door names (over HTTP, the `Rolegate-Actor` header) is
checked against the workspace before any use case runs. Use cases trust the actor
they are given (many write without asking the engine for a right, e.g. a record sync
that moves no assignee), so a name that is not checked here would be audited as it
was claimed, a stranger's included.

Who may act in a workspace:
- a member of it, active or invited (an invited member accepts their own invitation,
  T4; the engine grants them nothing else);
- a site administrator of its organization (E1).
Refused (`ActorRefusedError`): a disabled member (they can do nothing until enabled),
a member of any other workspace, of this organization or another, an unknown id, a
site administrator of another organization, and the platform (a door never acts as
it through a claimed name). A member of another workspace and an id that exists
nowhere get the same answer, word for word, after the same single lookup keyed by
this workspace: the refusal never tells whether a name exists in another tenant.

A member is accepted without a read when the workspace's snapshot held in memory is
current (`acting_party_held`): as fresh as any decision (the staleness bound, and the
revisions this process committed or heard of), and the write authorizes them again
under the workspace's lock. A refusal is always read from the database.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rolegate.domain.errors import ActorRefusedError
from rolegate.domain.roles import MemberStatus
from rolegate.domain.workspace import Actor
from rolegate.services.schema_upgrade_versions import product_schema
from rolegate.store.uow import UnitOfWork

if TYPE_CHECKING:
    from rolegate.services.snapshots import SnapshotCache

__all__ = ["acting_party", "acting_party_held"]

_MAY_ACT = frozenset({MemberStatus.ACTIVE, MemberStatus.INVITED})

_NOT_HERE = (
    "The acting party is neither a member of this workspace nor a site administrator of its organization.",
    "Act as a member of this workspace (their member id; the members list gives it) or as a site administrator "
    "of its organization (`site-admin:<user id>`).",
)


def acting_party_held(snapshots: SnapshotCache, *, workspace_id: str, claimed: Actor) -> Actor | None:
    """`claimed`, a member, when the workspace's snapshot in memory may decide now
    (`SnapshotCache.fresh`: no newer revision heard of, within the staleness bound) and
    has them active or invited; no I/O. None: `acting_party` reads."""
    if claimed.member_id is None:
        return None
    snap = snapshots.fresh(workspace_id)
    if snap is None or snap.member_status(claimed.member_id) not in _MAY_ACT:
        return None
    return claimed


def acting_party(uow: UnitOfWork, *, workspace_id: str, claimed: Actor) -> Actor:
    """`claimed` if they may act in the workspace, else `ActorRefusedError`."""
    with uow:
        if claimed.member_id is not None:
            info = uow.members.get(workspace_id, claimed.member_id)
            if info is None:
                raise ActorRefusedError(_NOT_HERE[0], fix=_NOT_HERE[1])
            if info.member.status is MemberStatus.DISABLED:
                # Only a caller of this workspace reaches this line: saying "disabled" tells
                # them nothing about another tenant.
                raise ActorRefusedError(
                    f"Member {claimed.member_id!r} is disabled: a disabled member can do nothing.",
                    fix="Act as an active member of this workspace, or enable this member first.",
                )
            return claimed
        if claimed.site_user_id is not None:
            ws = uow.workspaces.get(workspace_id)
            if ws is None or not uow.sites.is_admin(ws.organization_id, claimed.site_user_id):
                # The workspace's own product cites the site rule (E1), or none: never
                # another product's id (and nothing about a workspace of another tenant).
                rule = product_schema(uow, ws.preset, ws.schema_version).seed_rule("site_admin") if ws is not None else None
                raise ActorRefusedError(_NOT_HERE[0], fix=_NOT_HERE[1], rule_id=rule)
            return claimed
        raise ActorRefusedError(_NOT_HERE[0], fix=_NOT_HERE[1])
