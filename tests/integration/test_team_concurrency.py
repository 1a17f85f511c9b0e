"""Invitations racing for seats, on SQLite and PostgreSQL: 50 invitations (each with
its token and email) for 10 free CSM seats give exactly 10 invited members, 10
invitations and 10 queued emails; every other attempt is refused by N1 and leaves
nothing behind. A link clicked twice at once accepts once (T4)."""

from __future__ import annotations

from collections.abc import Callable

from rolegate.bootstrap import Rolegate
from rolegate.domain.errors import TokenInvalidError
from rolegate.domain.roles import MemberStatus
from rolegate.services import invitations, workspaces
from rolegate.services.mail import MailPolicy
from tests.integration.support import PLATFORM, email, open_workspace
from tests.integration.test_concurrency import (
    ATTEMPTS,
    FREE_SEATS,
    assert_history_consistent,
    assert_only_refusals,
    race,
)

POLICY = MailPolicy(public_url="http://rolegate.test")


def test_N1_fifty_invitations_race_for_ten_seats(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "natero")
    capacity = ws.seats_used()["csm"] + FREE_SEATS
    workspaces.set_seat_capacities(rolegate_app.uow(), actor=PLATFORM, workspace_id=ws.id, seat_capacities={"csm": capacity})
    revision = ws.revision()
    addresses = [email(f"racer{i}") for i in range(ATTEMPTS)]

    def attempt(address: str) -> Callable[[], object]:
        return lambda: invitations.invite(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, email=address, role_id="csm", policy=POLICY)

    outcomes = race(rolegate_app, [attempt(a) for a in addresses])

    assert sum(o is None for o in outcomes) == FREE_SEATS
    assert_only_refusals(outcomes, {"N1"})
    assert ws.seats_used()["csm"] == capacity
    winners = {a for a, o in zip(addresses, outcomes, strict=True) if o is None}
    with rolegate_app.uow() as uow:
        open_invitations = uow.invitations.all(ws.id, open_only=True)
        mail = uow.outbox.all(workspace_id=ws.id)
    assert {i.email for i in open_invitations} == winners
    assert {m.to_addr for m in mail if m.kind == "invitation"} == winners
    assert sum(m.status is MemberStatus.INVITED for m in ws.members()) == FREE_SEATS
    assert_history_consistent(ws, revision, FREE_SEATS)


def test_T4_one_link_clicked_many_times_at_once_accepts_once(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    sent = invitations.invite(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, email=email("clicker"), role_id="analyst", policy=POLICY)
    revision = ws.revision()

    def accept() -> object:
        return invitations.accept_invitation(rolegate_app.uow(), token=sent.token, password="a long enough password")

    outcomes = race(rolegate_app, [accept for _ in range(8)])

    assert sum(o is None for o in outcomes) == 1
    assert all(isinstance(o, TokenInvalidError) for o in outcomes if o is not None), outcomes
    assert ws.status(sent.member.member.id) is MemberStatus.ACTIVE
    assert_history_consistent(ws, revision, 1)
