"""Team management through the real services, on SQLite and PostgreSQL, by rule id:
invitations (T3, T4, seat reservation N1/K2, C1, C2), password reset (C8), transfer of
assigned records (N9, C6), ownership transfer (T11), the members list's filters, and
the outbox written in the same transaction as the change that sends mail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rolegate.bootstrap import Rolegate
from rolegate.domain.errors import LoginRequiredError, PermissionDeniedError, RolegateError, TokenInvalidError
from rolegate.domain.roles import MemberStatus
from rolegate.domain.workspace import Actor
from rolegate.services import invitations, members, password_reset, team, workspaces
from rolegate.services.logins import authenticate_user, get_user
from rolegate.services.mail import MailPolicy
from rolegate.store.repositories_team import OutboxRow
from tests.integration.support import PLATFORM, Ws, email, one_change, open_workspace, refused

POLICY = MailPolicy(public_url="http://rolegate.test")
T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
PASSWORD = "a long enough password"


def outbox(app: Rolegate) -> list[OutboxRow]:
    with app.uow() as uow:
        return uow.outbox.all()


def sent_to(app: Rolegate, address: str) -> list[OutboxRow]:
    return [m for m in outbox(app) if m.to_addr == address.lower()]


def invite(ws: Ws, role: str, *, address: str | None = None, actor: Actor | None = None, now: datetime = T0) -> invitations.Invited:
    return invitations.invite(
        ws.app.uow(), actor=actor or ws.owner, workspace_id=ws.id, email=address or email("invitee"), role_id=role, policy=POLICY, now=now
    )


# -- invitations ----------------------------------------------------------------------------


def test_T4_an_invitation_email_link_accepts_once_and_makes_the_member_active(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "customersuccessbox")
    address = email("ines")
    with one_change(ws, "member.invite"):
        sent = invite(ws, "csm", address=address)
    assert ws.status(sent.member.member.id) is MemberStatus.INVITED
    [mail] = sent_to(rolegate_app, address)
    assert mail.kind == "invitation"
    assert f"http://rolegate.test/invitations/{sent.token}" in mail.text_body
    assert f"http://rolegate.test/invitations/{sent.token}" in mail.html_body
    assert "Customer Success Manager" in mail.text_body
    with rolegate_app.uow() as uow:  # only the hash is stored
        row = uow.invitations.get(ws.id, sent.invitation.id)
    assert row is not None
    assert sent.token not in row.token_hash
    assert row.expires_at == T0 + timedelta(days=7)

    with one_change(ws, "member.activate"):
        accepted = invitations.accept_invitation(rolegate_app.uow(), token=sent.token, password=PASSWORD, now=T0 + timedelta(days=6))
    assert accepted.member_id == sent.member.member.id
    assert ws.status(accepted.member_id) is MemberStatus.ACTIVE
    assert authenticate_user(rolegate_app.uow(), email=address, password=PASSWORD) is not None

    with pytest.raises(TokenInvalidError, match="already accepted"):
        invitations.accept_invitation(rolegate_app.uow(), token=sent.token, password="another password!", now=T0)
    assert authenticate_user(rolegate_app.uow(), email=address, password="another password!") is None


def test_T4_an_expired_invitation_cannot_be_accepted(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "customersuccessbox")
    sent = invite(ws, "developer")
    revision = ws.revision()
    with pytest.raises(TokenInvalidError, match="expired"):
        invitations.accept_invitation(rolegate_app.uow(), token=sent.token, password=PASSWORD, now=T0 + timedelta(days=7))
    with pytest.raises(TokenInvalidError, match="expired"):
        invitations.preview_invitation(rolegate_app.uow(), token=sent.token, now=T0 + timedelta(days=8))
    assert ws.status(sent.member.member.id) is MemberStatus.INVITED
    assert ws.revision() == revision
    # Resending gives a new link with a new expiry; the old link stays dead.
    later = T0 + timedelta(days=10)
    with one_change(ws, "invitation.resend"):
        again = invitations.resend_invitation(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, invitation_id=sent.invitation.id, policy=POLICY, now=later)
    assert again.token != sent.token
    assert len(sent_to(rolegate_app, sent.member.email)) == 2
    with pytest.raises(TokenInvalidError, match="not valid"):
        invitations.accept_invitation(rolegate_app.uow(), token=sent.token, password=PASSWORD, now=later)
    invitations.accept_invitation(rolegate_app.uow(), token=again.token, password=PASSWORD, now=later + timedelta(days=1))
    assert ws.status(sent.member.member.id) is MemberStatus.ACTIVE


def test_T4_a_weak_password_is_refused_and_nothing_is_accepted(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    sent = invite(ws, "analyst")
    with pytest.raises(RolegateError, match="at least 10 characters"):
        invitations.accept_invitation(rolegate_app.uow(), token=sent.token, password="short", now=T0)
    assert ws.status(sent.member.member.id) is MemberStatus.INVITED
    invitations.accept_invitation(rolegate_app.uow(), token=sent.token, password=PASSWORD, now=T0)


def test_T4_an_existing_user_of_another_workspace_is_linked_and_keeps_their_password(rolegate_app: Rolegate) -> None:
    first = open_workspace(rolegate_app, "telephony")
    second = open_workspace(rolegate_app, "telephony")
    address = email("shared")
    invitations.accept_invitation(rolegate_app.uow(), token=invite(first, "analyst", address=address).token, password=PASSWORD, now=T0)
    sent = invite(second, "administrator", address=address)
    preview = invitations.preview_invitation(rolegate_app.uow(), token=sent.token, now=T0)
    assert not preview.needs_password
    # The link alone is not that person (issue 12): neither linked nor given a password.
    with pytest.raises(LoginRequiredError):
        invitations.accept_invitation(rolegate_app.uow(), token=sent.token, password="another password!", now=T0)
    assert second.status(sent.member.member.id) is MemberStatus.INVITED
    accepted = invitations.accept_invitation(rolegate_app.uow(), token=sent.token, as_user=preview.user_id, now=T0)
    assert second.status(accepted.member_id) is MemberStatus.ACTIVE
    assert authenticate_user(rolegate_app.uow(), email=address, password=PASSWORD) is not None


def test_N1_an_invitation_reserves_a_seat_and_is_refused_with_the_seat_type_and_counts(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "natero")
    capacity = ws.seats_used()["csm"] + 1
    workspaces.set_seat_capacities(rolegate_app.uow(), actor=PLATFORM, workspace_id=ws.id, seat_capacities={"csm": capacity})
    sent = invite(ws, "csm")
    assert ws.seats_used()["csm"] == capacity  # reserved at once, before acceptance
    mails = len(outbox(rolegate_app))
    with refused(ws, "N1") as info:
        invite(ws, "csm")
    assert f"CSM seat: {capacity} of {capacity} in use" in str(info.value)
    assert len(outbox(rolegate_app)) == mails  # the refused invitation queued no email
    # T3: revoking frees the seat; the link dies with it.
    with one_change(ws, "invitation.revoke"):
        invitations.revoke_invitation(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, invitation_id=sent.invitation.id)
    assert ws.seats_used()["csm"] == capacity - 1
    assert sent.member.member.id not in {m.id for m in ws.members()}
    with pytest.raises(TokenInvalidError, match="revoked"):
        invitations.accept_invitation(rolegate_app.uow(), token=sent.token, password=PASSWORD, now=T0)
    with refused(ws, "invitation"):
        invitations.revoke_invitation(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, invitation_id=sent.invitation.id)
    invite(ws, "csm")


def test_T3_invited_members_are_counted_apart_from_active_ones(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "natero")
    before = {s.key: s for s in team.team_view(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id).seats}
    invite(ws, "csm")
    invite(ws, "csm")
    accepted = invite(ws, "guest")
    invitations.accept_invitation(rolegate_app.uow(), token=accepted.token, password=PASSWORD, now=T0)
    after = {s.key: s for s in team.team_view(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id).seats}
    assert (after["csm"].active, after["csm"].invited) == (before["csm"].active, before["csm"].invited + 2)
    assert (after["analyst"].active, after["analyst"].invited) == (before["analyst"].active + 1, before["analyst"].invited)


def test_C1_only_administrators_invite_resend_and_revoke(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "customersuccessbox")
    csm = Actor.member(ws.add("csm"))
    with pytest.raises(PermissionDeniedError) as denied:
        invite(ws, "csm", actor=csm)
    assert denied.value.rule_id == "C1"
    sent = invite(ws, "developer")
    with pytest.raises(PermissionDeniedError):
        invitations.resend_invitation(rolegate_app.uow(), actor=csm, workspace_id=ws.id, invitation_id=sent.invitation.id, policy=POLICY)
    with pytest.raises(PermissionDeniedError):
        invitations.revoke_invitation(rolegate_app.uow(), actor=csm, workspace_id=ws.id, invitation_id=sent.invitation.id)
    assert ws.status(sent.member.member.id) is MemberStatus.INVITED


def test_C2_inviting_someone_already_in_the_team_is_refused(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "customersuccessbox")
    address = email("twice")
    invite(ws, "csm", address=address)
    with refused(ws, "membership"):
        invite(ws, "developer", address=address.upper())


# -- password reset (C8) -------------------------------------------------------------------


def _active(ws: Ws, role: str) -> tuple[str, str]:
    address = email("member")
    accepted = invitations.accept_invitation(ws.app.uow(), token=invite(ws, role, address=address).token, password=PASSWORD, now=T0)
    return accepted.member_id, address


def test_C8_a_member_resets_their_password_once_and_every_session_ends(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "customersuccessbox")
    _, address = _active(ws, "csm")
    user = authenticate_user(rolegate_app.uow(), email=address, password=PASSWORD)
    assert user is not None
    token = password_reset.request_password_reset(rolegate_app.uow(), email=address, policy=POLICY, now=T0)
    assert token is not None
    [mail] = [m for m in sent_to(rolegate_app, address) if m.kind == "password_reset"]
    assert f"http://rolegate.test/password-reset/{token}" in mail.text_body

    password_reset.reset_password(rolegate_app.uow(), token=token, password="a brand new password", now=T0 + timedelta(minutes=29))
    after = get_user(rolegate_app.uow(), user.id)
    assert after is not None
    assert after.session_version == user.session_version + 1  # sessions signed before no longer count
    assert authenticate_user(rolegate_app.uow(), email=address, password=PASSWORD) is None
    assert authenticate_user(rolegate_app.uow(), email=address, password="a brand new password") is not None
    with pytest.raises(TokenInvalidError, match="already used"):
        password_reset.reset_password(rolegate_app.uow(), token=token, password="yet another password", now=T0)


def test_C8_a_reset_link_expires_quickly_and_a_new_one_spends_the_old(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "customersuccessbox")
    _, address = _active(ws, "csm")
    old = password_reset.request_password_reset(rolegate_app.uow(), email=address, policy=POLICY, now=T0)
    assert old is not None
    with pytest.raises(TokenInvalidError, match="expired"):
        password_reset.reset_password(rolegate_app.uow(), token=old, password="a brand new password", now=T0 + timedelta(minutes=30))
    first = password_reset.request_password_reset(rolegate_app.uow(), email=address, policy=POLICY, now=T0)
    second = password_reset.request_password_reset(rolegate_app.uow(), email=address, policy=POLICY, now=T0)
    assert first is not None
    assert second is not None
    password_reset.reset_password(rolegate_app.uow(), token=second, password="a brand new password", now=T0)
    with pytest.raises(TokenInvalidError, match="already used"):
        password_reset.reset_password(rolegate_app.uow(), token=first, password="a brand new password!", now=T0)


def test_C8_an_unknown_email_gets_no_link_and_the_same_answer(rolegate_app: Rolegate) -> None:
    before = len(outbox(rolegate_app))
    assert password_reset.request_password_reset(rolegate_app.uow(), email=email("nobody"), policy=POLICY, now=T0) is None
    assert len(outbox(rolegate_app)) == before
    with pytest.raises(TokenInvalidError, match="not valid"):
        password_reset.reset_password(rolegate_app.uow(), token="made-up-token", password="a brand new password", now=T0)


def test_C8_an_administrator_sends_a_reset_email_C1_nobody_else(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "customersuccessbox")
    member, address = _active(ws, "csm")
    other = Actor.member(_active(ws, "super_manager")[0])
    with pytest.raises(PermissionDeniedError) as denied:
        password_reset.send_password_reset(rolegate_app.uow(), actor=other, workspace_id=ws.id, member_id=member, policy=POLICY)
    assert denied.value.rule_id == "C1"
    with one_change(ws, "member.password_reset"):
        token = password_reset.send_password_reset(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=member, policy=POLICY, now=T0)
    mails = [m for m in sent_to(rolegate_app, address) if m.kind == "password_reset"]
    assert len(mails) == 1
    assert mails[0].workspace_id == ws.id
    password_reset.reset_password(rolegate_app.uow(), token=token, password="chosen by the member", now=T0)
    assert authenticate_user(rolegate_app.uow(), email=address, password="chosen by the member") is not None
    # An invited member gets their invitation again instead.
    invited = invite(ws, "developer")
    with refused(ws, "C8"):
        password_reset.send_password_reset(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=invited.member.member.id, policy=POLICY)


def test_T11_an_administrator_cannot_reset_an_owners_password(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    admin = Actor.member(_active(ws, "administrator")[0])
    with refused(ws, "T11"):
        password_reset.send_password_reset(rolegate_app.uow(), actor=admin, workspace_id=ws.id, member_id=ws.owner_id, policy=POLICY)


# -- members: C4, C5, C6 with transfer (N9), ownership (T11), filters -----------------------


def test_C6_transfer_the_accounts_then_the_member_can_be_disabled(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "customersuccessbox")
    leaving = ws.add("csm", actor=ws.owner)
    successor = ws.add("csm", actor=ws.owner)
    for account in ("acc-1", "acc-2", "acc-3"):
        ws.assign_account(leaving, account, actor=ws.owner)
    ws.set_reference("playbook-1/task-1", leaving, "Renewal playbook: QBR")
    with refused(ws, "C6"):
        members.disable_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=leaving)

    with one_change(ws, "member.transfer"):
        moved = team.transfer_records(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, from_member=leaving, to_member=successor)
    assert moved.records == {"account": 3}
    assert moved.references == 1
    with rolegate_app.uow() as uow:
        assert uow.records.assigned_count(ws.id, successor) == 3
        assert uow.records.assigned_count(ws.id, leaving) == 0
        assert uow.members.references(ws.id, successor) == ["Renewal playbook: QBR"]
    with one_change(ws, "member.disable"):
        members.disable_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=leaving)


def test_N9_records_go_only_to_an_active_member_who_may_hold_them(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "customersuccessbox")
    csm = ws.add("csm", actor=ws.owner)
    ws.assign_account(csm, "acc-1", actor=ws.owner)
    developer = ws.add("developer", actor=ws.owner)  # cannot be a CSM of accounts
    invited = ws.add("csm", invited=True, actor=ws.owner)
    for target in (developer, invited, csm):
        with refused(ws, "C6"):
            team.transfer_records(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, from_member=csm, to_member=target)
    with rolegate_app.uow() as uow:
        assert uow.records.assigned_count(ws.id, csm) == 1


def test_C5_and_C4_through_the_team_service_the_administrator_reads_why(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "customersuccessbox")
    with refused(ws, "C5") as info:
        members.disable_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=ws.owner_id)
    assert "You cannot disable yourself" in str(info.value)
    with refused(ws, "C4") as info:
        members.change_member_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=ws.owner_id, role_id="csm")
    assert "only Administrator" in str(info.value)


def test_T11_ownership_is_transferred_in_one_change(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    admin = ws.add("administrator", actor=ws.owner)
    analyst = ws.add("analyst", actor=ws.owner)
    with pytest.raises(RolegateError) as info:  # only an owner hands ownership over
        team.transfer_ownership(rolegate_app.uow(), actor=Actor.member(admin), workspace_id=ws.id, to_member=admin, new_role="administrator")
    assert "T11" in str(info.value)
    invited = ws.add("analyst", invited=True, actor=ws.owner)
    with refused(ws, "T11"):
        team.transfer_ownership(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, to_member=invited, new_role="administrator")
    with one_change(ws, "workspace.transfer_ownership"):
        done = team.transfer_ownership(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, to_member=analyst, new_role="administrator")
    assert (done.owner.member.role, done.former_owner.member.role) == ("owner", "administrator")
    assert done.revision == ws.revision()
    assert ws.member(analyst).role == "owner"
    assert ws.member(ws.owner_id).role == "administrator"
    # The former owner is no owner any more: they cannot take it back.
    with pytest.raises(RolegateError):
        team.transfer_ownership(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, to_member=ws.owner_id, new_role="analyst")


def test_the_members_list_filters_by_status_role_and_seat(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "natero")
    csm = ws.add("csm", actor=ws.owner)
    invite(ws, "csm")
    ws.add("guest", actor=ws.owner)
    members.disable_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=csm)

    def ids(**filters: str) -> set[str]:
        return {i.member.id for i in team.list_members(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, **filters).members}  # type: ignore[arg-type]

    everyone = {m.id for m in ws.members()}
    assert ids() == everyone
    assert ids(status="disabled") == {csm}
    assert ids(status="invited") == {m.id for m in ws.members() if m.status is MemberStatus.INVITED}
    assert ids(role="guest") == {m.id for m in ws.members() if m.role == "guest"}
    csm_seat = ids(seat="csm")
    assert csm in csm_seat
    assert csm_seat.isdisjoint(ids(seat="analyst"))
    assert csm_seat | ids(seat="analyst") == everyone
    assert ids(status="active", seat="csm") == {m.id for m in ws.members() if m.status is MemberStatus.ACTIVE and m.id in csm_seat}


def test_the_outbox_row_commits_with_the_change_or_not_at_all(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    before = len(outbox(rolegate_app))
    with pytest.raises(PermissionDeniedError):
        invite(ws, "owner", actor=Actor.member(ws.add("analyst")))
    assert len(outbox(rolegate_app)) == before
    invite(ws, "analyst")
    assert len(outbox(rolegate_app)) == before + 1
