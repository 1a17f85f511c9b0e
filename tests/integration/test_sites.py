"""Sites of several workspaces (issue 8, seed 003): site administrators (E1), account
administrators who manage records but do not assign roles (E7), the audit log (E8) and
copying roles across a site's workspaces (E9). Every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from rolegate.bootstrap import Rolegate
from rolegate.domain.errors import NotFoundError, PermissionDeniedError, RuleViolationError
from rolegate.domain.permissions import role_permissions
from rolegate.domain.workspace import Actor
from rolegate.presets import load_preset
from rolegate.services import audit, member_record, members, role_copy, roles, sites
from rolegate.services.audit_export import to_csv, to_jsonl
from rolegate.store import tables
from rolegate.store.repositories import utcnow
from tests.integration.site_support import ACCOUNT_ADMIN_GRANTS, open_site, other_workspace
from tests.integration.support import one_change, refused, rule_ids

SCHEMA = load_preset("email_marketing")


# -- E1: site administrators --------------------------------------------------------------


def test_E1_site_administrator_edits_roles_in_every_workspace_of_the_site(rolegate_app: Rolegate) -> None:
    site = open_site(rolegate_app)
    for ws in (site.a, site.b):
        with one_change(ws, "role.create"):
            role = roles.create_role(rolegate_app.uow(), actor=site.admin, workspace_id=ws.id, name="Reporter", level="account_administrator", grants=["analytics.mailing_reports"])
        with one_change(ws, "role.update"):
            roles.update_role(rolegate_app.uow(), actor=site.admin, workspace_id=ws.id, role_id=role.id, grants=["analytics.mailing_reports", "campaigns.view"])
        assert ws.events()[-1].actor == f"site-admin:{site.admin_user}"
        # and assigns roles (E7: only site administrators do)
        member = ws.add("analyst")
        with one_change(ws, "member.change_role"):
            members.change_member_role(rolegate_app.uow(), actor=site.admin, workspace_id=ws.id, member_id=member, role_id=role.id)


def test_E1_site_administrator_has_no_rights_in_another_site(rolegate_app: Rolegate) -> None:
    site = open_site(rolegate_app)
    elsewhere = other_workspace(rolegate_app, site, "Other co", same_site=False)
    revision = elsewhere.revision()
    with pytest.raises(PermissionDeniedError) as info:
        roles.create_role(rolegate_app.uow(), actor=site.admin, workspace_id=elsewhere.id, name="Nope", level="account_administrator", grants=[])
    assert info.value.rule_id == "E1"
    assert elsewhere.revision() == revision


def test_E1_adding_a_site_administrator_is_audited_in_every_workspace_and_the_last_stays(rolegate_app: Rolegate) -> None:
    site = open_site(rolegate_app)
    for ws in (site.a, site.b):
        assert [e.action for e in ws.events()][-1] == "site.add_administrator"
    with pytest.raises(RuleViolationError) as info:
        sites.remove_site_administrator(rolegate_app.uow(), actor=site.admin, organization_id=site.organization_id, user_id=site.admin_user)
    assert rule_ids(info.value) == ["E1"]
    # a workspace member may not name site administrators
    with pytest.raises(PermissionDeniedError):
        sites.add_site_administrator(rolegate_app.uow(), actor=site.a.owner, organization_id=site.organization_id, email="x@example.com")


def test_E1_user_switches_between_the_workspaces_they_may_enter(rolegate_app: Rolegate) -> None:
    site = open_site(rolegate_app)
    entered = sites.workspaces_of_user(rolegate_app.uow(), site.admin_user)
    assert [(w.workspace.id, w.site_admin, w.member) for w in entered] == [(site.a.id, True, None), (site.b.id, True, None)]
    assert all(w.enterable and w.actor(site.admin_user) == site.admin for w in entered)
    # a plain member of A only
    with rolegate_app.uow() as uow:
        owner_user = uow.members.get(site.a.id, site.a.owner_id)
    assert owner_user is not None
    mine = sites.workspaces_of_user(rolegate_app.uow(), owner_user.user_id)
    assert [w.workspace.id for w in mine] == [site.a.id]
    assert mine[0].actor(owner_user.user_id) == Actor.member(site.a.owner_id)


# -- E7: account administrators -----------------------------------------------------------


def test_E7_account_administrator_edits_records_but_cannot_assign_roles(rolegate_app: Rolegate) -> None:
    site = open_site(rolegate_app)
    ws = site.a
    account_admin_role = site.custom_role(ws, "Account admin", ACCOUNT_ADMIN_GRANTS)
    account_admin = Actor.member(ws.add(account_admin_role, tag="acct"))
    target = ws.add("analyst", tag="target")
    record = member_record.get_member_record(rolegate_app.uow(), actor=account_admin, workspace_id=ws.id, member_id=target)
    assert (record.may_assign_roles, record.assignable_roles) == (False, ())
    email_now = member_record.get_member_record(rolegate_app.uow(), actor=account_admin, workspace_id=ws.id, member_id=target).info.email
    with one_change(ws, "member.update_record"):
        info = member_record.update_member_record(rolegate_app.uow(), actor=account_admin, workspace_id=ws.id, member_id=target, name="Tina Target", email=email_now.upper())
    assert (info.name, info.email) == ("Tina Target", email_now)
    event = ws.events()[-1]
    assert event.after == {"name": "Tina Target", "email": email_now}
    # the email is the person's login: only they change it (issue 12)
    with refused(ws, "E7"):
        member_record.update_member_record(rolegate_app.uow(), actor=account_admin, workspace_id=ws.id, member_id=target, name="Tina", email="tina.target@example.com")
    with pytest.raises(PermissionDeniedError) as info_denied:
        members.change_member_role(rolegate_app.uow(), actor=account_admin, workspace_id=ws.id, member_id=target, role_id="content_editor")
    assert info_denied.value.rule_id == "E7"
    # the site administrator sees the role control and may use it
    record = member_record.get_member_record(rolegate_app.uow(), actor=site.admin, workspace_id=ws.id, member_id=target)
    assert record.may_assign_roles
    assert "content_editor" in [r.id for r in record.assignable_roles]


def test_E7_account_administrator_cannot_edit_a_site_administrators_record(rolegate_app: Rolegate) -> None:
    site = open_site(rolegate_app)
    ws = site.a
    account_admin = Actor.member(ws.add(site.custom_role(ws, "Account admin", ACCOUNT_ADMIN_GRANTS)))
    with refused(ws, "E7"):
        member_record.update_member_record(rolegate_app.uow(), actor=account_admin, workspace_id=ws.id, member_id=ws.owner_id, name="Hijack", email="hijack@example.com")


def test_E7_member_without_the_permission_cannot_open_a_record(rolegate_app: Rolegate) -> None:
    site = open_site(rolegate_app)
    analyst = Actor.member(site.a.add("analyst"))
    with pytest.raises(PermissionDeniedError) as info:
        member_record.get_member_record(rolegate_app.uow(), actor=analyst, workspace_id=site.a.id, member_id=site.a.owner_id)
    assert info.value.rule_id == "E7"


def test_E7_E9_a_login_shared_with_another_workspace_keeps_its_name_there_and_its_email(rolegate_app: Rolegate) -> None:
    site = open_site(rolegate_app)
    account_admin = Actor.member(site.a.add(site.custom_role(site.a, "Account admin", ACCOUNT_ADMIN_GRANTS)))
    shared_email = "shared-person@example.com"
    in_a = members.add_member(rolegate_app.uow(), actor=site.admin, workspace_id=site.a.id, email=shared_email, role_id="analyst", name="Pat").member.id
    in_b = members.add_member(rolegate_app.uow(), actor=site.admin, workspace_id=site.b.id, email=shared_email, role_id="analyst", name="Pat").member.id
    # the name is each workspace's own: editing it in A leaves B's (and the person's login) as it is
    with one_change(site.a, "member.update_record"):
        member_record.update_member_record(rolegate_app.uow(), actor=account_admin, workspace_id=site.a.id, member_id=in_a, name="Pat (A)", email=shared_email)
    with rolegate_app.uow() as uow:
        b_record = uow.members.get(site.b.id, in_b)
        login = uow.users.by_email(shared_email)
    assert b_record is not None
    assert login is not None
    assert (b_record.name, login.name) == ("Pat", "Pat")
    # the email is nobody's to edit but the person's, not even the site administrator's
    with refused(site.a, "E7"):
        member_record.update_member_record(rolegate_app.uow(), actor=site.admin, workspace_id=site.a.id, member_id=in_a, name="Pat", email="elsewhere@example.com")


def test_E7_email_of_another_login_is_refused(rolegate_app: Rolegate) -> None:
    site = open_site(rolegate_app)
    target = site.a.add("analyst")
    with refused(site.a, "E7"):
        member_record.update_member_record(rolegate_app.uow(), actor=site.admin, workspace_id=site.a.id, member_id=target, name="", email=site.admin_email)
    with refused(site.a, "E7"):
        member_record.update_member_record(rolegate_app.uow(), actor=site.admin, workspace_id=site.a.id, member_id=target, name="", email="not an email")


# -- E8: the audit log --------------------------------------------------------------------


def test_E8_web_access_log_shows_every_administrators_changes_with_filters(rolegate_app: Rolegate) -> None:
    site = open_site(rolegate_app)
    ws = site.a
    viewer = Actor.member(ws.add(site.custom_role(ws, "Auditor", ["settings.web_access_log"])))
    role = roles.create_role(rolegate_app.uow(), actor=site.admin, workspace_id=ws.id, name="Ops", level="account_administrator", grants=["campaigns.view"])
    roles.update_role(rolegate_app.uow(), actor=site.admin, workspace_id=ws.id, role_id=role.id, grants=["campaigns.view", "campaigns.edit"])
    every = audit.list_events(rolegate_app.uow(), actor=viewer, workspace_id=ws.id, limit=None)
    assert [e.seq for e in every] == list(range(1, len(every) + 1))
    by_admin = audit.list_events(rolegate_app.uow(), actor=viewer, workspace_id=ws.id, actor_filter=f"site-admin:{site.admin_user}")
    assert [e.action for e in by_admin] == ["role.create", "role.update"]
    family = audit.list_events(rolegate_app.uow(), actor=viewer, workspace_id=ws.id, action="role")
    assert [e.action for e in family] == ["role.create", "role.create", "role.update"]  # the Auditor role too
    on_target = audit.list_events(rolegate_app.uow(), actor=viewer, workspace_id=ws.id, target_type="role", target_id=role.id, newest_first=True)
    assert [e.action for e in on_target] == ["role.update", "role.create"]
    now = utcnow()
    assert audit.list_events(rolegate_app.uow(), actor=viewer, workspace_id=ws.id, since=now + timedelta(minutes=1)) == []
    assert len(audit.list_events(rolegate_app.uow(), actor=viewer, workspace_id=ws.id, since=now - timedelta(hours=1), until=now + timedelta(minutes=1), limit=None)) == len(every)
    names = audit.actor_names(rolegate_app.uow(), workspace_id=ws.id)
    assert names[f"site-admin:{site.admin_user}"] == f"Sam Site <{site.admin_email}> (site administrator)"
    csv_text = to_csv(on_target, names)
    assert "grants: + 'campaigns.edit'" in csv_text
    assert site.admin_email in csv_text
    lines = to_jsonl(on_target, names).splitlines()
    assert len(lines) == 2
    assert '"changes": ["grants: + \'campaigns.edit\'"]' in lines[0]


def test_E8_without_the_web_access_log_permission_the_log_is_closed(rolegate_app: Rolegate) -> None:
    site = open_site(rolegate_app)
    analyst = Actor.member(site.a.add("analyst"))
    with pytest.raises(PermissionDeniedError):
        audit.list_events(rolegate_app.uow(), actor=analyst, workspace_id=site.a.id)


def test_E8_retention_prunes_old_events_and_the_chain_stays_verifiable(rolegate_app: Rolegate) -> None:
    site = open_site(rolegate_app)
    ws = site.a
    for i in range(3):
        roles.create_role(rolegate_app.uow(), actor=site.admin, workspace_id=ws.id, name=f"R{i}", level="account_administrator", grants=[])
    with one_change(ws, "audit.retention"):
        audit.set_retention(rolegate_app.uow(), actor=site.admin, workspace_id=ws.id, days=30)
    with refused(ws, "E8"):
        audit.set_retention(rolegate_app.uow(), actor=site.admin, workspace_id=ws.id, days=0)
    # age the first four events
    events = tables.audit_events
    old = utcnow() - timedelta(days=40)
    total = len(ws.events())
    with rolegate_app.engine.begin() as conn:
        conn.execute(update(events).where(events.c.workspace_id == ws.id, events.c.seq <= 4).values(at=old))
    # `at` is hashed, so aging them is tampering: the chain says so
    assert audit.verify_chain(rolegate_app.uow(), workspace_id=ws.id).first_broken_seq == 1
    removed = audit.prune_events(rolegate_app.uow(), actor=site.admin, workspace_id=ws.id)
    assert removed == 4
    seqs = [e.seq for e in ws.events()]
    assert seqs == list(range(5, total + 2))  # the rest, and the prune event itself
    report = audit.verify_chain(rolegate_app.uow(), workspace_id=ws.id)
    assert (report.intact, report.pruned_through, report.last_seq) == (True, 4, total + 1)
    assert str(report).endswith(f"chain intact up to event {total + 1}, {total - 3} events")
    assert audit.prune_events(rolegate_app.uow(), actor=site.admin, workspace_id=ws.id) == 0


def test_E8_tampering_names_the_first_broken_event(rolegate_app: Rolegate) -> None:
    site = open_site(rolegate_app)
    ws = site.b
    role = roles.create_role(rolegate_app.uow(), actor=site.admin, workspace_id=ws.id, name="T", level="account_administrator", grants=[])
    roles.update_role(rolegate_app.uow(), actor=site.admin, workspace_id=ws.id, role_id=role.id, grants=["campaigns.view"])
    target = next(e for e in ws.events() if e.action == "role.create")
    events = tables.audit_events
    with rolegate_app.engine.begin() as conn:
        conn.execute(update(events).where(events.c.workspace_id == ws.id, events.c.seq == target.seq).values(actor="member:someone-else"))
    report = audit.verify_chain(rolegate_app.uow(), workspace_id=ws.id)
    assert (report.intact, report.first_broken_seq, report.last_seq) == (False, target.seq, target.seq - 1)


# -- E9: copying roles across the site ----------------------------------------------------


def test_E9_copy_a_role_to_another_workspace_with_a_preview(rolegate_app: Rolegate) -> None:
    site = open_site(rolegate_app)  # B has no features
    grants = ["contacts.view", "contacts_sms.view", "analytics.sms_reports", "analytics.mailing_reports", "campaigns.view"]
    role_id = site.custom_role(site.a, "SMS analyst", grants, actor=site.admin)
    preview = role_copy.preview_copy(rolegate_app.uow(), actor=site.admin, workspace_id=site.a.id, role_id=role_id, targets=[site.b.id])
    assert len(preview) == 1
    p = preview[0]
    assert (p.action, p.level, p.refused) == ("create", "account_administrator", False)
    assert p.inert == ("analytics.sms_reports", "contacts_sms.view")  # E5: SMS is off in B
    assert p.seat_impact == "takes no seat"
    revision = site.b.revision()
    with one_change(site.b, "role.create"):
        result = role_copy.copy_role(rolegate_app.uow(), actor=site.admin, workspace_id=site.a.id, role_id=role_id, targets=[site.b.id])
    assert site.b.revision() == revision + 1
    copied = result.roles[site.b.id]
    assert copied.grants == frozenset(grants)
    assert role_permissions(SCHEMA, copied, frozenset()) == frozenset({"contacts.view", "analytics.mailing_reports", "campaigns.view"})
    # copying again, unchanged: nothing to do
    again = role_copy.preview_copy(rolegate_app.uow(), actor=site.admin, workspace_id=site.a.id, role_id=role_id, targets=[site.b.id])
    assert again[0].action == "unchanged"
    # after an edit in A, copying updates B's role and says what its holders gain
    holder = site.b.add(copied.id)
    roles.update_role(rolegate_app.uow(), actor=site.admin, workspace_id=site.a.id, role_id=role_id, grants=[*grants, "segments.view"])
    p = role_copy.preview_copy(rolegate_app.uow(), actor=site.admin, workspace_id=site.a.id, role_id=role_id, targets=[site.b.id])[0]
    assert (p.action, p.gained, p.lost, p.holders) == ("update", ("segments.view",), (), 1)
    with one_change(site.b, "role.update"):
        role_copy.copy_role(rolegate_app.uow(), actor=site.admin, workspace_id=site.a.id, role_id=role_id, targets=[site.b.id])
    assert site.b.member(holder).role == copied.id


def test_E9_copy_refused_where_the_preset_differs_or_the_actor_does_not_administer(rolegate_app: Rolegate) -> None:
    site = open_site(rolegate_app)
    role_id = site.custom_role(site.a, "Reader", ["campaigns.view"])
    natero = other_workspace(rolegate_app, site, "Acme CS", "natero")
    elsewhere = other_workspace(rolegate_app, site, "Other co", same_site=False)
    previews = role_copy.preview_copy(rolegate_app.uow(), actor=site.admin, workspace_id=site.a.id, role_id=role_id, targets=[natero.id, elsewhere.id, site.b.id])
    assert [(p.workspace_id, p.action) for p in previews] == [(natero.id, "refused"), (elsewhere.id, "refused"), (site.b.id, "create")]
    assert "runs preset 'natero'" in previews[0].violations[0].message
    assert "another site" in previews[1].violations[0].message
    # all or nothing: B gets nothing either
    natero_revision = natero.revision()
    with refused(site.b, "E9"):
        role_copy.copy_role(rolegate_app.uow(), actor=site.admin, workspace_id=site.a.id, role_id=role_id, targets=[natero.id, site.b.id])
    assert natero.revision() == natero_revision
    # A's owner is a member of A only: B is not theirs to change
    with refused(site.b, "E9"):
        role_copy.copy_role(rolegate_app.uow(), actor=site.a.owner, workspace_id=site.a.id, role_id=role_id, targets=[site.b.id])


def test_E9_a_member_of_two_workspaces_copies_as_their_membership_there(rolegate_app: Rolegate) -> None:
    site = open_site(rolegate_app)
    person = "two-accounts@example.com"
    in_a = members.add_member(rolegate_app.uow(), actor=site.admin, workspace_id=site.a.id, email=person, role_id="site_administrator").member.id
    in_b = members.add_member(rolegate_app.uow(), actor=site.admin, workspace_id=site.b.id, email=person, role_id="site_administrator").member.id
    role_id = site.custom_role(site.a, "Reader", ["campaigns.view"])
    with one_change(site.b, "role.create"):
        role_copy.copy_role(rolegate_app.uow(), actor=Actor.member(in_a), workspace_id=site.a.id, role_id=role_id, targets=[site.b.id])
    assert site.b.events()[-1].actor == f"member:{in_b}"
    with pytest.raises(RuleViolationError) as info:
        role_copy.copy_role(rolegate_app.uow(), actor=Actor.member(in_a), workspace_id=site.a.id, role_id="analyst", targets=[site.b.id])
    assert rule_ids(info.value) == ["E9"]  # a system role is in every workspace already
    with pytest.raises(NotFoundError):
        role_copy.preview_copy(rolegate_app.uow(), actor=Actor.member(in_a), workspace_id=site.a.id, role_id=role_id, targets=["no-such-workspace"])
