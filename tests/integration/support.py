"""What the integration tests share: a workspace handle over the real services, and
two context managers that say what a call must do to the store: `one_change` (exactly
one audit event, one revision, chain intact) and `refused` (a rule violation with the
given rule id, and nothing written)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from rolegate.bootstrap import Rolegate
from rolegate.domain.errors import RuleViolationError
from rolegate.domain.roles import Member, MemberStatus, Role
from rolegate.domain.seats import seat_usage
from rolegate.domain.workspace import Actor, AuditEvent
from rolegate.engine import Record
from rolegate.presets import load_preset
from rolegate.services import audit, members, records, workspaces

__all__ = ["PLATFORM", "Ws", "email", "one_change", "open_workspace", "refused", "rule_ids"]

PLATFORM = Actor.system("test")
"""The platform (an organization API key, the operator): authorized by nothing."""


def email(tag: str = "member") -> str:
    """Users are global (one login per email), so every test uses fresh addresses."""
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.com"


def rule_ids(error: RuleViolationError) -> list[str]:
    return [v.rule_id for v in error.violations]


@dataclass(frozen=True, slots=True)
class Ws:
    """One workspace of one preset, and its first member (owner / administrator)."""

    app: Rolegate
    id: str
    preset: str
    owner_id: str

    @property
    def owner(self) -> Actor:
        return Actor.member(self.owner_id)

    def add(self, role_id: str, *, tag: str = "member", invited: bool = False, actor: Actor = PLATFORM) -> str:
        """A new member holding `role_id` (active, or invited); returns their id."""
        use = members.invite_member if invited else members.add_member
        return use(self.app.uow(), actor=actor, workspace_id=self.id, email=email(tag), role_id=role_id).member.id

    def assign_account(self, member_id: str | None, account_id: str = "acc-1", *, actor: Actor = PLATFORM) -> None:
        """Make (or unassign, with None) `member_id` the assignee of an account record."""
        records.upsert_record(self.app.uow(), actor=actor, workspace_id=self.id, record=Record("account", account_id, None, member_id))

    def set_reference(self, ref_id: str, member_id: str | None, label: str = "Onboarding playbook: kickoff call") -> None:
        """C6: name (or stop naming, with None) a member in a playbook task."""
        with self.app.uow() as uow:
            uow.members.set_reference(self.id, ref_id, member_id=member_id, kind="playbook_task", label=label)
            uow.commit()

    def revision(self) -> int:
        with self.app.uow() as uow:
            rev = uow.workspaces.revision(self.id)
        assert rev is not None
        return rev

    def events(self) -> list[AuditEvent]:
        with self.app.uow() as uow:
            return uow.audit.all(self.id)

    def members(self) -> list[Member]:
        with self.app.uow() as uow:
            return uow.members.members(self.id)

    def member(self, member_id: str) -> Member:
        found = [m for m in self.members() if m.id == member_id]
        assert len(found) == 1, f"member {member_id} appears {len(found)} times"
        return found[0]

    def role(self, role_id: str) -> Role | None:
        with self.app.uow() as uow:
            return uow.roles.get(self.id, role_id)

    def roles(self) -> dict[str, Role]:
        with self.app.uow() as uow:
            return {info.role.id: info.role for info in uow.roles.all(self.id)}

    def seats_used(self) -> dict[str, int]:
        return seat_usage(load_preset(self.preset), self.roles(), self.members())

    def capacities(self) -> Mapping[str, int | None]:
        with self.app.uow() as uow:
            ws = uow.workspaces.get(self.id)
        assert ws is not None
        return ws.seat_capacities

    def status(self, member_id: str) -> MemberStatus:
        return self.member(member_id).status

    def chain_intact(self) -> bool:
        report = audit.verify_chain(self.app.uow(), workspace_id=self.id)
        return report.intact and report.events == len(self.events())


def open_workspace(app: Rolegate, preset: str, *, seat_capacities: Mapping[str, int | None] | None = None) -> Ws:
    created = workspaces.create_workspace(
        app.uow(), actor=PLATFORM, preset=preset, name=f"{preset} test", owner_email=email("owner"), seat_capacities=seat_capacities
    )
    return Ws(app, created.workspace.id, preset, created.owner.member.id)


@contextmanager
def one_change(ws: Ws, action: str) -> Iterator[None]:
    """The block makes one change: the revision moves by one and one audit event with
    `action`, carrying that revision, is appended to an intact chain."""
    revision, events = ws.revision(), ws.events()
    yield
    after = ws.events()
    assert ws.revision() == revision + 1, "a successful change bumps the workspace revision once"
    assert len(after) == len(events) + 1, "a successful change appends exactly one audit event"
    assert after[:-1] == events, "the audit log is append-only"
    assert (after[-1].action, after[-1].revision, after[-1].seq) == (action, revision + 1, len(after))
    assert ws.chain_intact()


@contextmanager
def refused(ws: Ws, rule_id: str) -> Iterator[pytest.ExceptionInfo[RuleViolationError]]:
    """The block is refused by a violation of `rule_id`, and nothing is written: no
    revision, no audit event, no member, role or record changed."""
    revision, events, roles, members_before = ws.revision(), ws.events(), ws.roles(), sorted(ws.members(), key=lambda m: m.id)
    with pytest.raises(RuleViolationError) as info:
        yield info
    assert rule_id in rule_ids(info.value), f"expected a {rule_id} violation, got {info.value}"
    assert ws.revision() == revision
    assert ws.events() == events
    assert ws.roles() == roles
    assert sorted(ws.members(), key=lambda m: m.id) == members_before
