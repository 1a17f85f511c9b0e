"""Every service rule, through the real services on SQLite and on PostgreSQL, by rule id
(SEED_RULES.md). A refusal names its rule and writes nothing; a success writes exactly one
audit event and one revision, and the audit chain stays intact (see support.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from rolegate.bootstrap import Rolegate
from rolegate.domain.errors import PermissionDeniedError, RuleViolationError
from rolegate.domain.roles import MemberStatus
from rolegate.domain.workspace import Actor
from rolegate.presets import load_preset
from rolegate.services import audit, members, roles, workspaces
from rolegate.store import tables
from tests.integration.support import PLATFORM, email, one_change, open_workspace, refused, rule_ids

CSM_SEAT = "accounts.csm_seat"


# -- Natero -------------------------------------------------------------------------------


def test_N6_csm_seat_permission_cannot_be_turned_off_while_holder_has_accounts(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "natero")
    with one_change(ws, "role.create"):
        renewals = roles.create_role(
            rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, name="Renewals", grants=[CSM_SEAT, "accounts.update"], landing_page="dashboard"
        )
    holder = ws.add(renewals.id)
    with one_change(ws, "record.upsert"):
        ws.assign_account(holder, actor=ws.owner)

    with refused(ws, "N6") as info:
        roles.update_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=renewals.id, grants=["accounts.update"])
    assert rule_ids(info.value) == ["N6"]
    assert "Customer Success Manager Seat" in str(info.value)

    # Other edits of the role stay possible while the accounts are assigned (N5).
    with one_change(ws, "role.update"):
        roles.update_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=renewals.id, grants=[CSM_SEAT])

    # Once the account is unassigned the permission can go (and the role moves to the Analyst seat, N2).
    with one_change(ws, "record.upsert"):
        ws.assign_account(None, actor=ws.owner)
    with one_change(ws, "role.update"):
        after = roles.update_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=renewals.id, grants=["accounts.update"])
    assert CSM_SEAT not in after.grants
    assert after.level == "analyst"


def test_N6_system_csm_role_keeps_its_seat_permission_while_accounts_are_assigned(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "natero")
    csm = ws.add("csm")
    ws.assign_account(csm)
    with refused(ws, "N6"):
        roles.update_role(
            rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id="csm", grants=["accounts.update"], landing_page="dashboard"
        )
    role = ws.role("csm")
    assert role is not None
    assert CSM_SEAT in role.grants


def test_N7_custom_role_whose_holder_has_accounts_cannot_be_deleted(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "natero")
    renewals = roles.create_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, name="Renewals", grants=[CSM_SEAT], landing_page="my_accounts")
    holder = ws.add(renewals.id)
    ws.assign_account(holder, "acc-1")
    ws.assign_account(holder, "acc-2")

    with refused(ws, "N7") as info:
        roles.delete_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=renewals.id)
    assert rule_ids(info.value)[0] == "N7"

    # Switching the accounts to another member is not enough while the member still holds the role ...
    other = ws.add("csm")
    ws.assign_account(other, "acc-1")
    ws.assign_account(other, "acc-2")
    role_in_use = load_preset("natero").rule("role_in_use")
    with refused(ws, role_in_use) as info:
        roles.delete_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=renewals.id)
    assert "N7" not in rule_ids(info.value)

    # ... once they hold another role, the role goes.
    members.change_member_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=holder, role_id="csm")
    with one_change(ws, "role.delete"):
        roles.delete_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=renewals.id)
    assert ws.role(renewals.id) is None



def test_N12_last_user_administrators_cannot_edit_configure_users_off_their_role(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "natero")  # the owner is the only CSM Manager; nobody holds Analyst
    with refused(ws, "N12"):
        roles.update_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id="csm_manager", grants=[CSM_SEAT, "accounts.view_all"])


# -- seats (N1, N2, K2) --------------------------------------------------------------------


def test_N1_every_path_that_takes_a_csm_seat_respects_capacity(rolegate_app: Rolegate) -> None:
    # The owner (CSM Manager) takes one of the two CSM seats.
    ws = open_workspace(rolegate_app, "natero", seat_capacities={"csm": 2})
    assert ws.seats_used()["csm"] == 1
    csm = ws.add("csm", actor=ws.owner)
    analyst = ws.add("analyst", actor=ws.owner)
    assert ws.seats_used() == {"csm": 2, "analyst": 1}

    with refused(ws, "N1"):
        members.invite_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, email=email(), role_id="csm")
    with refused(ws, "N1"):
        members.add_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, email=email(), role_id="csm_manager")
    with refused(ws, "N1"):
        members.change_member_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=analyst, role_id="csm")
    # Moving within the CSM seat takes no new seat.
    with one_change(ws, "member.change_role"):
        members.change_member_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=csm, role_id="csm_manager")
    # A role that gains the CSM seat permission (N2) moves its holders to CSM seats.
    with refused(ws, "N1"):
        roles.update_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id="analyst", grants=[CSM_SEAT, "users.configure"])
    # Capacity cannot shrink below what is in use.
    with refused(ws, "N1"):
        workspaces.set_seat_capacities(rolegate_app.uow(), actor=PLATFORM, workspace_id=ws.id, seat_capacities={"csm": 1})

    # Disabling frees a seat; an invitation reserves it; enabling needs one.
    with one_change(ws, "member.disable"):
        members.disable_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=csm)
    assert ws.seats_used()["csm"] == 1
    with one_change(ws, "member.invite"):
        invited = members.invite_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, email=email(), role_id="csm").member.id
    assert ws.seats_used()["csm"] == 2
    with refused(ws, "N1"):
        members.enable_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=csm)
    # Accepting the invitation uses the reserved seat: no new one is needed.
    with one_change(ws, "member.activate"):
        members.activate_member(rolegate_app.uow(), actor=Actor.member(invited), workspace_id=ws.id, member_id=invited)
    assert ws.seats_used()["csm"] == 2

    # More capacity (billing: the platform) lets the disabled member back in.
    with one_change(ws, "workspace.seats"):
        workspaces.set_seat_capacities(rolegate_app.uow(), actor=PLATFORM, workspace_id=ws.id, seat_capacities={"csm": 3})
    with one_change(ws, "member.enable"):
        members.enable_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=csm)
    assert ws.status(csm) is MemberStatus.ACTIVE
    assert ws.seats_used()["csm"] == 3 == ws.capacities()["csm"]


def test_N1_analyst_seat_capacity_is_separate_from_csm_seats(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "natero", seat_capacities={"analyst": 1})
    ws.add("guest")
    with refused(ws, "N1"):
        ws.add("executive")
    with one_change(ws, "member.add"):
        ws.add("csm")  # a CSM seat: unlimited here


def test_K2_editor_and_viewer_licenses_are_counted_apart(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "catalyst", seat_capacities={"editor": 2, "viewer": 1})
    viewer = ws.add("viewer")
    ws.add("member")
    with refused(ws, "K2"):
        ws.add("viewer")
    with refused(ws, "K2"):
        ws.add("member")  # the Admin owner and the Member hold both Editor licenses
    with refused(ws, "K2"):
        members.change_member_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=viewer, role_id="member")


# -- CustomerSuccessBox --------------------------------------------------------------------


def test_C2_a_member_has_exactly_one_profile(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "customersuccessbox")
    address = email("csm")
    member = members.add_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, email=address, role_id="csm").member.id

    for role_id, same_address in (("developer", address), ("csm", address.upper()), ("super_manager", f"  {address}  ")):
        with refused(ws, "membership"):
            members.invite_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, email=same_address, role_id=role_id)
        with refused(ws, "membership"):
            members.add_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, email=same_address, role_id=role_id)

    # Changing the profile replaces it: still one membership, one profile.
    with one_change(ws, "member.change_role"):
        members.change_member_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=member, role_id="developer")
    with rolegate_app.uow() as uow:
        mine = [info for info in uow.members.all(ws.id) if info.email == address]
    assert [info.member.role for info in mine] == ["developer"]


def test_C4_only_administrator_cannot_downgrade_themselves(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "customersuccessbox")
    with refused(ws, "C4") as info:
        members.change_member_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=ws.owner_id, role_id="super_manager")
    assert rule_ids(info.value) == ["C4"]
    # Not through the platform either: the workspace would have no Administrator.
    with refused(ws, "C4"):
        members.change_member_role(rolegate_app.uow(), actor=PLATFORM, workspace_id=ws.id, member_id=ws.owner_id, role_id="csm")

    second = ws.add("administrator", actor=ws.owner)
    with one_change(ws, "member.change_role"):
        members.change_member_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=ws.owner_id, role_id="super_manager")
    assert ws.member(ws.owner_id).role == "super_manager"
    # Now the second is the only one.
    with refused(ws, "C4"):
        members.change_member_role(rolegate_app.uow(), actor=Actor.member(second), workspace_id=ws.id, member_id=second, role_id="developer")


def test_C4_an_invited_administrator_does_not_count(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "customersuccessbox")
    ws.add("administrator", invited=True)
    with refused(ws, "C4"):
        members.change_member_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=ws.owner_id, role_id="csm")


def test_C5_a_member_cannot_disable_themselves(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "customersuccessbox")
    second = ws.add("administrator", actor=ws.owner)
    with refused(ws, "C5") as info:
        members.disable_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=ws.owner_id)
    assert rule_ids(info.value) == ["C5"]
    # Another administrator can.
    with one_change(ws, "member.disable"):
        members.disable_member(rolegate_app.uow(), actor=Actor.member(second), workspace_id=ws.id, member_id=ws.owner_id)
    assert ws.status(ws.owner_id) is MemberStatus.DISABLED


def test_C6_member_with_accounts_or_named_in_a_playbook_cannot_be_disabled(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "customersuccessbox")
    csm = ws.add("csm", actor=ws.owner)
    ws.assign_account(csm, "acc-1", actor=ws.owner)
    ws.set_reference("playbook-7/task-2", csm, "Onboarding playbook: kickoff call")

    with refused(ws, "C6") as info:
        members.disable_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=csm)
    assert rule_ids(info.value) == ["C6", "C6"]  # both reasons are listed
    assert "1 account" in str(info.value)
    assert "Onboarding playbook: kickoff call" in str(info.value)

    ws.assign_account(None, "acc-1", actor=ws.owner)
    with refused(ws, "C6") as info:
        members.disable_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=csm)
    assert "playbook" in str(info.value)

    ws.set_reference("playbook-7/task-2", None)
    with one_change(ws, "member.disable"):
        members.disable_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=csm)
    assert ws.status(csm) is MemberStatus.DISABLED


# -- Catalyst ------------------------------------------------------------------------------


@pytest.mark.parametrize("system_role", ["admin", "member", "viewer"])
def test_K4_catalyst_system_roles_cannot_be_edited_or_deleted(rolegate_app: Rolegate, system_role: str) -> None:
    ws = open_workspace(rolegate_app, "catalyst")
    edits: list[dict[str, object]] = [
        {"name": "Renamed"},
        {"description": "changed"},
        {"field_access": {"account": {"health_notes": "read"}}},
    ]
    for edit in edits:
        with refused(ws, "K4"):
            roles.update_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=system_role, **edit)  # type: ignore[arg-type]  # one keyword each
    with refused(ws, "K4") as info:
        roles.delete_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=system_role)
    assert rule_ids(info.value) == ["K4"]
    # Cloning is the way to a changed copy.
    with one_change(ws, "role.clone"):
        clone = roles.clone_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=system_role, name=f"My {system_role}")
    assert not clone.is_system


def test_K6_saved_custom_role_keeps_its_access_level(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "catalyst")
    with one_change(ws, "role.create"):
        analysts = roles.create_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, name="Analysts", level="standard")
    for other in ("high", "limited"):
        with refused(ws, "K6") as info:
            roles.update_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=analysts.id, level=other)
        assert rule_ids(info.value)[0] == "K6"
    # Its name and field permissions can change.
    with one_change(ws, "role.update"):
        after = roles.update_role(
            rolegate_app.uow(),
            actor=ws.owner,
            workspace_id=ws.id,
            role_id=analysts.id,
            name="Revenue analysts",
            field_access={"account": {"health_notes": "write", "renewal_risk": "read"}},
        )
    assert after.level == "standard"
    assert after.name == "Revenue analysts"


# -- Telephony -----------------------------------------------------------------------------


def test_T8_standard_roles_cannot_be_deleted(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    for standard in ("owner", "administrator", "analyst"):
        with refused(ws, "T8") as info:
            roles.delete_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=standard)
        assert rule_ids(info.value) == ["T8"]
    support = roles.create_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, name="Support", level="analyst")
    with one_change(ws, "role.delete"):
        roles.delete_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=support.id)
    assert set(ws.roles()) == {"owner", "administrator", "analyst"}


@pytest.mark.parametrize("holder", ["active", "invited", "disabled"])
def test_T9_custom_role_with_a_user_cannot_be_deleted(rolegate_app: Rolegate, holder: str) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    support = roles.create_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, name="Support", level="analyst")
    member = ws.add(support.id, invited=holder == "invited")
    if holder == "disabled":
        members.disable_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=member)

    with refused(ws, "T9"):
        roles.delete_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=support.id)

    members.change_member_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=member, role_id="analyst")
    with one_change(ws, "role.delete"):
        roles.delete_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=support.id)
    assert ws.role(support.id) is None


def test_T11_last_owner_cannot_be_demoted_or_disabled(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    admin = ws.add("administrator", actor=ws.owner)
    admin_actor = Actor.member(admin)

    with refused(ws, "T11"):
        members.change_member_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=ws.owner_id, role_id="administrator")
    with refused(ws, "T11"):
        members.change_member_role(rolegate_app.uow(), actor=admin_actor, workspace_id=ws.id, member_id=ws.owner_id, role_id="analyst")
    with refused(ws, "T11") as info:
        members.disable_member(rolegate_app.uow(), actor=admin_actor, workspace_id=ws.id, member_id=ws.owner_id)
    # Two reasons, both T11: the last Owner, and an Administrator acting on an Owner.
    assert rule_ids(info.value) == ["T11", "T11"]
    with refused(ws, "T11"):
        members.disable_member(rolegate_app.uow(), actor=PLATFORM, workspace_id=ws.id, member_id=ws.owner_id)
    # A custom role with the Owner license makes its holder an owner too: moving to it is no demotion.
    deputies = roles.create_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, name="Deputy owners", level="owner")
    with one_change(ws, "member.change_role"):
        members.change_member_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=ws.owner_id, role_id=deputies.id)

    # Ownership transferred: a second Owner, then the first may step down.
    with one_change(ws, "member.change_role"):
        members.change_member_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=admin, role_id="owner")
    with one_change(ws, "member.change_role"):
        members.change_member_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=ws.owner_id, role_id="administrator")
    # The new owner is now the last one.
    with refused(ws, "T11"):
        members.change_member_role(rolegate_app.uow(), actor=admin_actor, workspace_id=ws.id, member_id=admin, role_id="administrator")
    with refused(ws, "T11"):
        members.disable_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=admin)



def test_T11_last_owner_is_not_demoted_by_editing_their_role(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    deputies = roles.create_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, name="Deputy owners", level="owner")
    members.change_member_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=ws.owner_id, role_id=deputies.id)
    administrator_license = sorted(load_preset("telephony").levels["administrator"].floor)
    with refused(ws, "T11"):
        roles.update_role(
            rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=deputies.id, level="administrator", grants=administrator_license
        )



def test_T11_only_an_owner_can_make_someone_owner(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    admin = ws.add("administrator")
    with pytest.raises((PermissionDeniedError, RuleViolationError)):
        members.change_member_role(rolegate_app.uow(), actor=Actor.member(admin), workspace_id=ws.id, member_id=admin, role_id="owner")
    assert ws.member(admin).role == "administrator"
    with pytest.raises((PermissionDeniedError, RuleViolationError)):
        members.invite_member(rolegate_app.uow(), actor=Actor.member(admin), workspace_id=ws.id, email=email(), role_id="owner")


def test_T4_an_invited_user_becomes_active_by_accepting(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    invited = ws.add("analyst", invited=True, actor=ws.owner)
    assert ws.status(invited) is MemberStatus.INVITED
    with refused(ws, "T4"):  # only once
        members.activate_member(rolegate_app.uow(), actor=Actor.member(ws.owner_id), workspace_id=ws.id, member_id=ws.owner_id)
    with pytest.raises(PermissionDeniedError):  # nor for someone else, without the right
        members.activate_member(rolegate_app.uow(), actor=Actor.member(ws.add("analyst")), workspace_id=ws.id, member_id=invited)
    with one_change(ws, "member.activate"):
        members.activate_member(rolegate_app.uow(), actor=Actor.member(invited), workspace_id=ws.id, member_id=invited)
    assert ws.status(invited) is MemberStatus.ACTIVE


def test_T4_re_enabling_a_disabled_invitation_does_not_accept_it(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    invited = ws.add("analyst", invited=True, actor=ws.owner)
    members.disable_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=invited)
    members.enable_member(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=invited)
    assert ws.status(invited) is MemberStatus.INVITED


# -- email marketing -----------------------------------------------------------------------


def test_E7_account_administrators_permission_does_not_assign_roles(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "email_marketing")
    site_admin = ws.owner
    # E6: managing account administrators is a settings page, so Settings View comes with it.
    team_leads = roles.create_role(
        rolegate_app.uow(), actor=site_admin, workspace_id=ws.id, name="Team leads", level="account_administrator",
        grants=["settings.account_administrators", "settings.view"],
    )
    lead = Actor.member(ws.add(team_leads.id))
    other = ws.add("analyst")

    revision = ws.revision()
    with pytest.raises(PermissionDeniedError, match="may not assign roles"):
        members.change_member_role(rolegate_app.uow(), actor=lead, workspace_id=ws.id, member_id=other, role_id="content_editor")
    with pytest.raises(PermissionDeniedError, match="may not assign roles"):
        members.change_member_role(rolegate_app.uow(), actor=lead, workspace_id=ws.id, member_id=lead.member_id or "", role_id="site_administrator")
    # An invitation gives the new member a role, so it needs the right to assign roles too.
    with pytest.raises(PermissionDeniedError, match="may not assign roles"):
        members.invite_member(rolegate_app.uow(), actor=lead, workspace_id=ws.id, email=email(), role_id="analyst")
    assert ws.revision() == revision
    assert ws.member(other).role == "analyst"

    # What the permission does give: editing the account administrator records (here, disabling one).
    with one_change(ws, "member.disable"):
        members.disable_member(rolegate_app.uow(), actor=lead, workspace_id=ws.id, member_id=other)
    with one_change(ws, "member.enable"):
        members.enable_member(rolegate_app.uow(), actor=lead, workspace_id=ws.id, member_id=other)
    # The site administrator assigns roles.
    with one_change(ws, "member.change_role"):
        members.change_member_role(rolegate_app.uow(), actor=site_admin, workspace_id=ws.id, member_id=other, role_id="content_editor")
    assert ws.member(other).role == "content_editor"


def test_E7_custom_role_cannot_hold_the_site_administration_permission(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "email_marketing")
    with refused(ws, "E7"):
        roles.create_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, name="Shadow admins", level="site_administrator", grants=["site.administer"])


# -- authorization, audit and revisions ----------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "plain_role", "level", "rule"),
    [
        ("natero", "guest", None, "N12"),
        ("customersuccessbox", "csm", None, "C1"),
        ("catalyst", "member", "standard", "K13"),
        ("telephony", "analyst", "analyst", "T10"),
        ("email_marketing", "campaign_manager", "account_administrator", None),
    ],
)
def test_member_without_the_admin_right_cannot_create_roles(
    rolegate_app: Rolegate, preset: str, plain_role: str, level: str | None, rule: str | None
) -> None:
    ws = open_workspace(rolegate_app, preset)
    plain = Actor.member(ws.add(plain_role))
    revision, roles_before = ws.revision(), ws.roles()
    with pytest.raises(PermissionDeniedError, match="may not manage roles") as info:
        roles.create_role(rolegate_app.uow(), actor=plain, workspace_id=ws.id, name="Mine", level=level, landing_page="dashboard" if preset == "natero" else None)
    if rule is not None:
        assert str(info.value).startswith(f"[{rule}]")
    assert info.value.decision is not None
    assert (ws.revision(), ws.roles()) == (revision, roles_before)
    # Nor hand themselves more (assigning roles is an admin right of its own).
    with pytest.raises(PermissionDeniedError):
        members.change_member_role(rolegate_app.uow(), actor=plain, workspace_id=ws.id, member_id=plain.member_id or "", role_id=ws.member(ws.owner_id).role)
    # The same call by the workspace's first administrator works (CustomerSuccessBox has only its profiles, C3).
    if preset != "customersuccessbox":
        with one_change(ws, "role.create"):
            roles.create_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, name="Mine", level=level, landing_page="dashboard" if preset == "natero" else None)


def test_every_change_appends_one_audit_event_and_bumps_the_revision(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "natero", seat_capacities={"csm": 10})
    assert ws.revision() == 2
    assert [e.action for e in ws.events()] == ["workspace.create", "member.add"]
    uow, owner = rolegate_app.uow, ws.owner
    with one_change(ws, "role.create"):
        role = roles.create_role(uow(), actor=owner, workspace_id=ws.id, name="Renewals", grants=[CSM_SEAT], landing_page="my_accounts")
    with one_change(ws, "role.update"):
        roles.update_role(uow(), actor=owner, workspace_id=ws.id, role_id=role.id, description="Renewal desk")
    with one_change(ws, "role.clone"):
        clone = roles.clone_role(uow(), actor=owner, workspace_id=ws.id, role_id=role.id)
    with one_change(ws, "member.invite"):
        member = members.invite_member(uow(), actor=owner, workspace_id=ws.id, email=email(), role_id=role.id).member.id
    with one_change(ws, "member.activate"):
        members.activate_member(uow(), actor=Actor.member(member), workspace_id=ws.id, member_id=member)
    with one_change(ws, "member.change_role"):
        members.change_member_role(uow(), actor=owner, workspace_id=ws.id, member_id=member, role_id=clone.id)
    with one_change(ws, "record.upsert"):
        ws.assign_account(member, actor=owner)
    with one_change(ws, "record.upsert"):
        ws.assign_account(None, actor=owner)
    with one_change(ws, "member.disable"):
        members.disable_member(uow(), actor=owner, workspace_id=ws.id, member_id=member)
    with one_change(ws, "member.enable"):
        members.enable_member(uow(), actor=owner, workspace_id=ws.id, member_id=member)
    with one_change(ws, "role.delete"):
        roles.delete_role(uow(), actor=owner, workspace_id=ws.id, role_id=role.id)
    with one_change(ws, "workspace.seats"):
        workspaces.set_seat_capacities(uow(), actor=PLATFORM, workspace_id=ws.id, seat_capacities={"csm": 20})

    events = ws.events()
    assert [e.revision for e in events] == list(range(1, ws.revision() + 1))
    assert {e.actor for e in events} == {"platform:test", f"member:{ws.owner_id}", f"member:{member}"}
    change = next(e for e in events if e.action == "member.change_role")
    assert (change.before["role"], change.after["role"]) == (role.id, clone.id)
    listed = audit.list_events(uow(), actor=owner, workspace_id=ws.id, action="member.change_role")
    assert [e.seq for e in listed] == [change.seq]

    # A call that changes nothing writes nothing.
    revision = ws.revision()
    members.change_member_role(uow(), actor=owner, workspace_id=ws.id, member_id=member, role_id=clone.id)
    members.enable_member(uow(), actor=owner, workspace_id=ws.id, member_id=member)
    assert ws.revision() == revision
    assert len(ws.events()) == len(events)


def test_audit_chain_detects_an_altered_or_removed_event(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "telephony")
    ws.add("analyst")
    ws.add("administrator")
    assert audit.verify_chain(rolegate_app.uow(), workspace_id=ws.id).intact
    events = tables.audit_events
    with rolegate_app.engine.begin() as conn:
        conn.execute(
            update(events).where(events.c.workspace_id == ws.id, events.c.seq == 3).values(after={"role": "owner", "status": "active"})
        )
    report = audit.verify_chain(rolegate_app.uow(), workspace_id=ws.id)
    assert (report.intact, report.first_broken_seq) == (False, 3)
    assert "altered" in report.problem
    with rolegate_app.engine.begin() as conn:
        conn.execute(events.delete().where(events.c.workspace_id == ws.id, events.c.seq == 3))
    report = audit.verify_chain(rolegate_app.uow(), workspace_id=ws.id)
    assert (report.intact, report.first_broken_seq) == (False, 4)
    assert "removed" in report.problem


def test_N9_a_member_with_accounts_keeps_a_role_that_may_hold_them(rolegate_app: Rolegate) -> None:
    """The role change reads the member's assigned accounts in the statement it reads
    their row with (`MemberRepository.role_change_facts`): the refusal counts them and
    names the person, never their id."""
    ws = open_workspace(rolegate_app, "natero")
    csm = ws.add("csm", tag="kept")
    with one_change(ws, "record.upsert"):
        ws.assign_account(csm, actor=ws.owner)
    with one_change(ws, "record.upsert"):
        ws.assign_account(csm, "acc-2", actor=ws.owner)
    with refused(ws, "N9") as info:
        members.change_member_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=csm, role_id="guest")
    assert rule_ids(info.value) == ["N9"]
    text = str(info.value)
    assert "kept-" in text  # their email: they have no name
    assert "2 " in text
    assert csm not in text
    for account in ("acc-1", "acc-2"):
        with one_change(ws, "record.upsert"):
            ws.assign_account(None, account, actor=ws.owner)
    with one_change(ws, "member.change_role"):
        members.change_member_role(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=csm, role_id="guest")
    assert ws.member(csm).role == "guest"
