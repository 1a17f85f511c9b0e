"""Concurrency invariants on SQLite and on PostgreSQL, with threads sharing one Rolegate
(each call its own unit of work): seats are never oversold, and a workspace never loses
its last administrator (owner) to two changes racing each other.

PostgreSQL serializes the changes of a workspace by locking its row (SELECT ... FOR
UPDATE); SQLite by taking the write lock at BEGIN (BEGIN IMMEDIATE, 30 s busy timeout).
Every thread waits at a barrier so the attempts really start together."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest

from rolegate.bootstrap import Rolegate
from rolegate.domain.errors import PermissionDeniedError, RuleViolationError
from rolegate.domain.roles import MemberStatus
from rolegate.domain.workspace import Actor
from rolegate.services import members, workspaces
from tests.integration.support import PLATFORM, Ws, email, open_workspace, rule_ids

ATTEMPTS = 50
FREE_SEATS = 10
ROUNDS = 20

Outcome = Exception | None
"""None for a success, else what the attempt raised."""


def race(app: Rolegate, calls: list[Callable[[], object]]) -> list[Outcome]:
    """Run every call in a thread of its own, all released together; return each outcome."""
    barrier = threading.Barrier(len(calls))

    def attempt(call: Callable[[], object]) -> Outcome:
        barrier.wait(timeout=30)
        try:
            call()
        except Exception as exc:  # collected and judged by the test, never lost in a thread
            return exc
        return None

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(attempt, calls))


def assert_only_refusals(outcomes: list[Outcome], rules: set[str], *, denied_ok: bool = False) -> None:
    """Every failure is a refusal by one of `rules` (or a permission denial, when the
    winner took the loser's right away): no lock timeout, deadlock or integrity error."""
    for outcome in outcomes:
        if outcome is None:
            continue
        if denied_ok and isinstance(outcome, PermissionDeniedError):
            continue
        assert isinstance(outcome, RuleViolationError), f"unexpected {outcome.__class__.__name__}: {outcome}"
        assert set(rule_ids(outcome)) <= rules, str(outcome)


def assert_history_consistent(ws: Ws, revision_before: int, successes: int) -> None:
    assert ws.revision() == revision_before + successes
    assert [e.seq for e in ws.events()] == list(range(1, ws.revision() + 1))
    assert ws.chain_intact()


# -- seats ----------------------------------------------------------------------------------


def test_N1_fifty_members_race_for_ten_csm_seats(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "natero")
    analysts = [ws.add("guest", tag=f"analyst{i}") for i in range(ATTEMPTS)]
    capacity = ws.seats_used()["csm"] + FREE_SEATS
    workspaces.set_seat_capacities(rolegate_app.uow(), actor=PLATFORM, workspace_id=ws.id, seat_capacities={"csm": capacity})
    revision = ws.revision()

    def promote(member_id: str) -> Callable[[], object]:
        return lambda: members.change_member_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=member_id, role_id="csm")

    outcomes = race(rolegate_app, [promote(m) for m in analysts])

    assert sum(o is None for o in outcomes) == FREE_SEATS
    assert_only_refusals(outcomes, {"N1"})
    assert ws.seats_used()["csm"] == capacity
    promoted = {m.id for m in ws.members() if m.role == "csm"}
    assert promoted == {m for m, o in zip(analysts, outcomes, strict=True) if o is None}
    assert_history_consistent(ws, revision, FREE_SEATS)


def test_N1_invite_add_change_and_enable_race_for_ten_csm_seats(rolegate_app: Rolegate) -> None:
    """Every path that takes a seat, at once: invitations reserve, additions, role
    changes and re-enabled members consume; together they get exactly the free seats."""
    ws = open_workspace(rolegate_app, "natero")
    quarter = ATTEMPTS // 4
    analysts = [ws.add("guest", tag=f"analyst{i}") for i in range(quarter)]
    disabled = [ws.add("csm", tag=f"former{i}") for i in range(quarter)]
    for member_id in disabled:
        members.disable_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=member_id)
    capacity = ws.seats_used()["csm"] + FREE_SEATS
    workspaces.set_seat_capacities(rolegate_app.uow(), actor=PLATFORM, workspace_id=ws.id, seat_capacities={"csm": capacity})
    revision = ws.revision()
    uow, owner = rolegate_app.uow, ws.owner

    change = partial(members.change_member_role, actor=owner, workspace_id=ws.id, role_id="csm")
    enable = partial(members.enable_member, actor=owner, workspace_id=ws.id)
    invite = partial(members.invite_member, actor=owner, workspace_id=ws.id, role_id="csm")
    add = partial(members.add_member, actor=owner, workspace_id=ws.id, role_id="csm_manager")
    calls: list[Callable[[], object]] = []
    for i in range(ATTEMPTS):
        kind, n = i % 4, i // 4
        if kind == 0 and n < len(analysts):
            calls.append(partial(lambda m: change(uow(), member_id=m), analysts[n]))
        elif kind == 1 and n < len(disabled):
            calls.append(partial(lambda m: enable(uow(), member_id=m), disabled[n]))
        elif kind == 2:
            calls.append(lambda: invite(uow(), email=email("invitee")))
        else:
            calls.append(lambda: add(uow(), email=email("new")))
    assert len(calls) == ATTEMPTS

    outcomes = race(rolegate_app, calls)

    assert sum(o is None for o in outcomes) == FREE_SEATS
    assert_only_refusals(outcomes, {"N1"})
    assert ws.seats_used()["csm"] == capacity
    assert_history_consistent(ws, revision, FREE_SEATS)


# -- the last administrator / owner ------------------------------------------------------------

# (preset, guardian role, the role a demotion moves to, rule)
GUARDED = {
    "customersuccessbox": ("administrator", "super_manager", "C4"),
    "telephony": ("owner", "administrator", "T11"),
}
MODES = ("each demotes self", "each demotes the other", "each disables the other", "one demotes self, one disables the other")


def _demote(ws: Ws, role_id: str, actor: str, member: str) -> Callable[[], object]:
    return lambda: members.change_member_role(ws.app.uow(), actor=Actor.member(actor), workspace_id=ws.id, member_id=member, role_id=role_id)


def _disable(ws: Ws, actor: str, member: str) -> Callable[[], object]:
    return lambda: members.disable_member(ws.app.uow(), actor=Actor.member(actor), workspace_id=ws.id, member_id=member)


def test_C4_two_administrators_removing_each_other_at_once_leave_one(rolegate_app: Rolegate) -> None:
    race_guardians(rolegate_app, "customersuccessbox")


def test_T11_two_owners_removing_each_other_at_once_leave_one(rolegate_app: Rolegate) -> None:
    race_guardians(rolegate_app, "telephony")


def race_guardians(rolegate_app: Rolegate, preset: str) -> None:
    """At least one administrator / owner always remains, whatever two of them do to
    each other at the same moment, round after round."""
    guardian, lower, rule = GUARDED[preset]
    for round_ in range(ROUNDS):
        ws = open_workspace(rolegate_app, preset)
        a, b = ws.owner_id, ws.add(guardian, actor=ws.owner)
        revision = ws.revision()
        mode = MODES[round_ % len(MODES)]
        demote = partial(_demote, ws, lower)
        disable = partial(_disable, ws)
        calls = {
            "each demotes self": [demote(a, a), demote(b, b)],
            "each demotes the other": [demote(a, b), demote(b, a)],
            "each disables the other": [disable(a, b), disable(b, a)],
            "one demotes self, one disables the other": [demote(a, a), disable(b, a)],
        }[mode]

        outcomes = race(rolegate_app, calls)

        remaining = [m for m in ws.members() if m.status is MemberStatus.ACTIVE and m.role == guardian]
        assert len(remaining) >= 1, f"round {round_} ({mode}): no {guardian} left; outcomes {outcomes}"
        successes = sum(o is None for o in outcomes)
        # Only a demoted member may still be disabled; every other pair leaves one of the two undone.
        expected = {1, 2} if mode == "one demotes self, one disables the other" else {1}
        assert successes in expected, f"round {round_} ({mode}): outcomes {outcomes}"
        assert_only_refusals(outcomes, {rule}, denied_ok=True)
        assert_history_consistent(ws, revision, successes)


# -- users shared by workspaces ------------------------------------------------------------


def _invite(ws: Ws, address: str) -> Callable[[], object]:
    return lambda: members.invite_member(ws.app.uow(), actor=PLATFORM, workspace_id=ws.id, email=address, role_id="analyst")


def test_one_new_user_invited_to_many_workspaces_at_once(rolegate_app: Rolegate, request: pytest.FixtureRequest) -> None:
    """A login (user) is global: the same new email invited by several workspaces at the
    same moment becomes one user with a membership in each."""
    spaces = [open_workspace(rolegate_app, "telephony") for _ in range(4)]
    for round_ in range(5):
        address = email(f"shared{round_}")
        outcomes = race(rolegate_app, [_invite(w, address) for w in spaces])
        assert outcomes == [None] * len(spaces), f"round {round_}: {outcomes}"
        with rolegate_app.uow() as uow:
            user = uow.users.by_email(address)
            assert user is not None
            assert all(uow.members.by_user(w.id, str(user.id)) is not None for w in spaces)
