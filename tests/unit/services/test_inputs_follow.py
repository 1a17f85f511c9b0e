"""Issue 18 (many processes): another process's writes followed from their audit
events (`services.inputs_follow`), without I/O. What the writes' own audit JSON says
(`role_json`, `member_json`) must give back the role and member they wrote."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rolegate import services
from rolegate.domain.roles import Member, MemberStatus, Role, RoleKind
from rolegate.domain.schema import FieldAccess
from rolegate.domain.workspace import GENESIS_HASH, AuditEvent
from rolegate.services.inputs_follow import (
    FOLLOWED_ACTIONS,
    ORGANIZATION_SETTINGS_ACTIONS,
    RECORD_ONLY_ACTIONS,
    inputs_after,
)
from rolegate.services.members import member_json
from rolegate.services.roles import role_json

ROLE = Role(id="r1", name="Bench", kind=RoleKind.CUSTOM, level="analyst", grants=frozenset({"accounts.view_all"}), landing_page="dashboard")
OTHER = Role(id="r2", name="Other", kind=RoleKind.CUSTOM, level="analyst", grants=frozenset())
ANA = Member("m1", "r1", MemberStatus.ACTIVE)
BOB = Member("m2", "r2", MemberStatus.INVITED)


def _event(action: str, target_type: str, target_id: str, after: Any, revision: int = 2) -> AuditEvent:
    return AuditEvent(
        workspace_id="w",
        seq=revision,
        id=f"e{revision}",
        at=datetime(2026, 1, 1, tzinfo=UTC),
        actor="a",
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=None,
        after=after,
        revision=revision,
        prev_hash=GENESIS_HASH,
    )


def test_a_role_update_gives_the_role_it_wrote_field_access_included() -> None:
    wrote = ROLE.with_changes(
        name="Renamed",
        grants=["accounts.view_all", "accounts.update"],
        description="now with updates",
        field_access={("account", "arr"): FieldAccess.WRITE, ("account", "notes"): FieldAccess.NONE},
    )
    moved = inputs_after([ROLE, OTHER], [ANA, BOB], [_event("role.update", "role", ROLE.id, role_json(wrote))])
    assert moved is not None
    roles, members = moved
    assert {r.id: r for r in roles} == {ROLE.id: wrote, OTHER.id: OTHER}
    assert members == (ANA, BOB)


def test_a_role_change_of_a_member_moves_that_member_only_and_keeps_their_status() -> None:
    moved = inputs_after([ROLE, OTHER], [ANA, BOB], [_event("member.change_role", "member", BOB.id, member_json(Member(BOB.id, ROLE.id, BOB.status)))])
    assert moved is not None
    assert moved[1] == (ANA, Member(BOB.id, ROLE.id, MemberStatus.INVITED))


def test_events_apply_in_chain_order() -> None:
    first = ROLE.with_changes(grants=["accounts.update"])
    then = first.with_changes(grants=["accounts.view_all"])
    events = [_event("role.update", "role", ROLE.id, role_json(first), 2), _event("role.update", "role", ROLE.id, role_json(then), 3)]
    moved = inputs_after([ROLE], [], events)
    assert moved is not None
    assert moved[0] == (then,)


@pytest.mark.parametrize("action", sorted(RECORD_ONLY_ACTIONS))
def test_a_change_of_records_only_leaves_roles_and_members_as_they_were(action: str) -> None:
    assert inputs_after([ROLE], [ANA], [_event(action, "account", "acc-1", {"assignee": None})]) == ((ROLE,), (ANA,))


@pytest.mark.parametrize("action", sorted(ORGANIZATION_SETTINGS_ACTIONS))
def test_a_change_of_the_organization_s_webhooks_or_sso_leaves_roles_and_members_as_they_were(action: str) -> None:
    target = "webhook_endpoint" if action.startswith("webhook.") else "workspace"
    events = [_event(action, target, "x", {"url": "https://hooks.example.com"}), _event("role.update", "role", ROLE.id, role_json(ROLE.with_changes(name="Then")), 3)]
    moved = inputs_after([ROLE], [ANA], events)
    assert moved is not None
    assert ([r.name for r in moved[0]], moved[1]) == (["Then"], (ANA,))


def test_every_webhook_and_sso_action_the_services_record_is_one_followed() -> None:
    """A new kind of organization-wide event is either listed as moving nothing, or
    knowingly not followed: this lists what the services record today."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in Path(services.__file__).parent.glob("*.py"))
    recorded = set(re.findall(r'"((?:webhook|sso)\.[a-z_]+)"', source))
    assert recorded == set(ORGANIZATION_SETTINGS_ACTIONS)


@pytest.mark.parametrize("action", ["role.create", "role.delete", "member.add", "member.disable", "workspace.features", "workspace.schema_upgrade", "field.add", "audit.prune"])
def test_a_change_not_followed_says_read_again(action: str) -> None:
    assert action not in FOLLOWED_ACTIONS
    assert inputs_after([ROLE], [ANA], [_event("record.assign", "account", "a", {}), _event(action, "role", ROLE.id, role_json(ROLE), 3)]) is None


@pytest.mark.parametrize(
    ("action", "target", "after"),
    [
        ("role.update", "nope", role_json(ROLE)),  # a role this process does not hold
        ("role.update", ROLE.id, None),  # says nothing
        ("role.update", ROLE.id, {**role_json(ROLE), "id": "r2"}),  # says another role
        ("role.update", ROLE.id, {**role_json(ROLE), "kind": "system"}),  # a kind no update makes
        ("role.update", ROLE.id, {k: v for k, v in role_json(ROLE).items() if k != "grants"}),
        ("role.update", ROLE.id, {**role_json(ROLE), "field_access": {"account": {"arr": "everything"}}}),
        ("member.change_role", "nobody", {"role": ROLE.id}),
        ("member.change_role", ANA.id, {"role": "no-such-role"}),
        ("member.change_role", ANA.id, ["r1"]),
    ],
)
def test_an_event_that_does_not_say_what_it_changed_says_read_again(action: str, target: str, after: Any) -> None:
    assert inputs_after([ROLE, OTHER], [ANA], [_event(action, "role" if action.startswith("role") else "member", target, after)]) is None


def test_a_role_mirroring_the_integration_owner_is_not_followed() -> None:
    """K5: its field access is the integration owner's, not what the role stores."""
    mirror = Role(id="int", name="Integration", kind=RoleKind.SYSTEM, level="admin", grants=frozenset(), mirror_integration=True)
    assert inputs_after([mirror], [], [_event("role.update", "role", mirror.id, role_json(mirror))]) is None
