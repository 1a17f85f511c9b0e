"""No escalation through fields (issue 12, item 3): a member who may manage roles but
cannot read or write some fields themselves (a High "Delegate" role in Catalyst, K13)
tries to hand that access out, by every path that writes a role's field permissions:
creating a role, editing it, the Field permissions tab, cloning, copying it to another
workspace of the site (E9) and applying roles as code; by every path that gives a person
a role: inviting, adding, changing a member's role, taking a role on ownership transfer
(T11); and by raising a synced field's integration access (K9). Each is refused with the
escalation rule (K13 in Catalyst) and writes nothing, exactly as for permissions; a site
administrator stays unrestricted, as for permissions.

The services run on SQLite and PostgreSQL; the doors (API, admin UI) on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from anyio.from_thread import start_blocking_portal

from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.schema import FieldAccess
from rolegate.domain.workspace import Actor
from rolegate.services import fields, invitations, members, role_copy, roles, roles_code, sites, team
from rolegate.services.api_keys import create_api_key
from rolegate.services.workspaces import create_organization, create_workspace
from tests import pg
from tests.api.conftest import Api, assert_problem
from tests.integration.support import PLATFORM, Ws, email, one_change, refused
from tests.web.conftest import Web, form_fields, one, soup, violations

ESCALATION = "K13"
"""Catalyst's id for "nobody hands out more than they hold" (its `rule_ids.escalation`)."""
DELEGATE_FIELDS = {"account": {"arr": "read", "health_notes": "none"}}
"""The delegate may read ARR but not write it, and may not see Health notes; every other
field they get from the High level (write, K8) or its caps (K7, K9)."""
PASSWORD = "delegate's own password"


# -- backends ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pg_tables() -> Iterator[str]:
    """One PostgreSQL database for this module; tests stay apart in their own workspaces."""
    with pg.postgres_url() as url:
        app = bootstrap(Settings(database_url=url, listen=False))
        try:
            app.create_tables()
        finally:
            app.close()
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rolegate]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'rolegate.db'}"
        rg = bootstrap(Settings(database_url=url, listen=False))
        rg.create_tables()
    else:
        rg = bootstrap(Settings(database_url=request.getfixturevalue("pg_tables"), listen=False))
    try:
        yield rg
    finally:
        rg.close()


@dataclass(frozen=True)
class Site:
    """An organization with a Catalyst workspace where the attacker is only a Delegate
    (`ws`, owned by someone else), and one they own outright (`own`)."""

    app: Rolegate
    org: str
    ws: Ws
    own: Ws
    delegate: str
    """The attacker's member id in `ws`."""
    delegate_role: str
    delegate_email: str
    owner_in_own: str

    @property
    def as_delegate(self) -> Actor:
        return Actor.member(self.delegate)


def make_site(app: Rolegate) -> Site:
    org = create_organization(app.uow(), actor=PLATFORM, name="Fields Inc")
    attacker = email("delegate")

    def workspace(owner: str, password: str | None = None) -> Ws:
        made = create_workspace(app.uow(), actor=PLATFORM, preset="catalyst", name="Catalyst", owner_email=owner, owner_password=password, organization_id=org)
        return Ws(app, made.workspace.id, "catalyst", made.owner.member.id)

    ws = workspace(email("owner"))
    own = workspace(attacker, PASSWORD)
    role = roles.create_role(app.uow(), actor=ws.owner, workspace_id=ws.id, name="Delegate", level="high", field_access=DELEGATE_FIELDS)
    delegate = members.add_member(app.uow(), actor=PLATFORM, workspace_id=ws.id, email=attacker, role_id=role.id, password=PASSWORD).member.id
    return Site(app, org, ws, own, delegate, role.id, attacker, own.owner_id)


@pytest.fixture
def site(app: Rolegate) -> Site:
    return make_site(app)


def writer_role(site: Site, ws: Ws | None = None, name: str = "Writer") -> str:
    """A role with write on ARR and read on Health notes, made by the workspace's owner."""
    w = ws or site.ws
    return roles.create_role(
        site.app.uow(), actor=w.owner, workspace_id=w.id, name=name, level="standard", field_access={"account": {"arr": "write", "health_notes": "read"}}
    ).id


# -- the services, on both databases -----------------------------------------------------


def test_creating_a_role_with_field_access_the_actor_lacks_is_refused(site: Site) -> None:
    s = site.app.snapshots.get(site.ws.id)  # the premise, through the snapshot the rule reads
    assert [s.field_access(site.delegate, "account", f) for f in ("arr", "health_notes", "renewal_risk")] == [FieldAccess.READ, FieldAccess.NONE, FieldAccess.WRITE]
    for wanted in ({"account": {"arr": "write"}}, {"account": {"health_notes": "read"}}):
        with refused(site.ws, ESCALATION) as info:
            roles.create_role(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, name="Sneaky", level="standard", field_access=wanted)
    message = str(info.value)
    assert "Account: Health notes (read)" in message
    assert "K13" not in info.value.violations[0].message  # customers read the words, not the rule id
    # What they hold themselves they may hand out.
    with one_change(site.ws, "role.create"):
        roles.create_role(
            site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, name="Fair", level="standard", field_access={"account": {"arr": "read", "renewal_risk": "write"}}
        )


def test_a_field_the_new_role_does_not_mention_counts_with_what_its_level_gives(site: Site) -> None:
    """K8: a High role that names no field writes every field; the delegate cannot make one
    (as a level's floor counts for permissions), but may make a Standard one (none)."""
    with refused(site.ws, ESCALATION) as info:
        roles.create_role(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, name="Wide", level="high")
    assert "Account: ARR (write)" in str(info.value)
    with one_change(site.ws, "role.create"):
        roles.create_role(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, name="Narrow", level="standard")


def test_the_field_permissions_tab_cannot_raise_a_field_beyond_the_actor(site: Site) -> None:
    role = roles.create_role(site.app.uow(), actor=site.ws.owner, workspace_id=site.ws.id, name="CSM", level="standard", field_access={"account": {"renewal_risk": "read"}}).id
    for change in ({"account": {"arr": "write"}}, {"account": {"health_notes": "read"}}):
        with refused(site.ws, ESCALATION):
            fields.set_role_field_access(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, role_id=role, changes=change)
    with refused(site.ws, ESCALATION):  # the same through a whole edit of the role
        roles.update_role(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, role_id=role, field_access={"account": {"arr": "write"}})
    with one_change(site.ws, "role.update"):
        fields.set_role_field_access(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, role_id=role, changes={"account": {"renewal_risk": "write"}})


def test_an_edit_is_checked_only_on_the_fields_it_raises(site: Site) -> None:
    """As for permissions: a role that already has more than the delegate can still be
    renamed or narrowed by them; only what a change adds must be held."""
    role = writer_role(site)
    with one_change(site.ws, "role.update"):
        roles.update_role(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, role_id=role, name="Writer (renamed)")
    with one_change(site.ws, "role.update"):
        fields.set_role_field_access(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, role_id=role, changes={"account": {"arr": "read"}})
    with refused(site.ws, ESCALATION):  # and raising it back is theirs to hand out again
        fields.set_role_field_access(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, role_id=role, changes={"account": {"arr": "write"}})


def test_cloning_a_role_with_field_access_the_actor_lacks_is_refused(site: Site) -> None:
    role = writer_role(site)
    with refused(site.ws, ESCALATION):
        roles.clone_role(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, role_id=role, name="Writer 2")
    narrow = roles.create_role(site.app.uow(), actor=site.ws.owner, workspace_id=site.ws.id, name="Reader", level="standard", field_access={"account": {"arr": "read"}}).id
    with one_change(site.ws, "role.clone"):
        roles.clone_role(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, role_id=narrow)


def test_copying_a_role_to_a_workspace_where_the_user_holds_less_is_refused_everywhere(site: Site) -> None:
    """E9: the attacker owns `own` and copies its Writer role to `ws`, where they are only
    a Delegate. The copy is written as they are in each target; and since one target
    refuses, no target gets it (not even `third`, which they also own)."""
    third_id = create_workspace(
        site.app.uow(), actor=PLATFORM, preset="catalyst", name="Third", owner_email=site.delegate_email, organization_id=site.org
    ).workspace.id
    third = Ws(site.app, third_id, "catalyst", "")
    role = writer_role(site, site.own)
    as_owner = Actor.member(site.owner_in_own)
    before_third = third.roles()
    with refused(site.ws, ESCALATION):
        role_copy.copy_role(site.app.uow(), actor=as_owner, workspace_id=site.own.id, role_id=role, targets=[third.id, site.ws.id])
    assert third.roles() == before_third
    (preview,) = role_copy.preview_copy(site.app.uow(), actor=as_owner, workspace_id=site.own.id, role_id=role, targets=[site.ws.id])
    assert [v.rule_id for v in preview.violations] == [ESCALATION]
    # Updating a same-named role there is checked too: only what the copy raises.
    writer_role(site, site.ws, name="Writer")
    roles.update_role(site.app.uow(), actor=site.ws.owner, workspace_id=site.ws.id, role_id=_role_named(site.ws, "Writer"), field_access={"account": {"arr": "read"}})
    with refused(site.ws, ESCALATION):
        role_copy.copy_role(site.app.uow(), actor=as_owner, workspace_id=site.own.id, role_id=role, targets=[site.ws.id])
    result = role_copy.copy_role(site.app.uow(), actor=as_owner, workspace_id=site.own.id, role_id=role, targets=[third.id])
    assert set(result.roles) == {third.id}


def _role_named(ws: Ws, name: str) -> str:
    return next(r.id for r in ws.roles().values() if r.name == name)


def test_applying_roles_as_code_cannot_hand_out_field_access_the_actor_lacks(site: Site) -> None:
    doc = roles_code.export_document(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id)
    doc["roles"].append({"name": "From code", "level": "standard", "field_access": {"account": {"arr": "write"}}})
    with refused(site.ws, ESCALATION):
        roles_code.apply_document(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, document=doc)
    doc["roles"][-1]["field_access"] = {"account": {"arr": "read"}}
    with one_change(site.ws, "role.create"):
        roles_code.apply_document(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, document=doc)


def test_a_site_administrator_may_hand_out_any_field_access(site: Site) -> None:
    """E1, mirrored from permissions: the site's administrators have no ceiling, when they
    write a role, give one, or raise an integration cap."""
    admin = Actor.site_admin(sites.add_site_administrator(site.app.uow(), actor=PLATFORM, organization_id=site.org, email=email("site-admin")))
    with one_change(site.ws, "role.create"):
        roles.create_role(
            site.app.uow(), actor=admin, workspace_id=site.ws.id, name="By the site", level="high", field_access={"account": {"health_notes": "write"}}
        )
    with one_change(site.ws, "member.invite"):
        members.invite_member(site.app.uow(), actor=admin, workspace_id=site.ws.id, email=email("by-site"), role_id="admin")
    fields.set_integration_access(site.app.uow(), actor=PLATFORM, workspace_id=site.ws.id, object_type="account", name="arr", access="none")
    with one_change(site.ws, "field.integration_access"):
        fields.set_integration_access(site.app.uow(), actor=admin, workspace_id=site.ws.id, object_type="account", name="arr", access="write")


# -- giving a role: invite, add, change of role, ownership transfer ----------------------


def reader_role(site: Site, name: str = "Reader") -> str:
    """A role within the delegate's own field access (read on ARR, nothing on Health notes)."""
    return roles.create_role(site.app.uow(), actor=site.ws.owner, workspace_id=site.ws.id, name=name, level="standard", field_access={"account": {"arr": "read"}}).id


def test_inviting_or_adding_a_member_with_field_access_the_actor_lacks_is_refused(site: Site) -> None:
    """The delegate holds every permission of Writer and of Admin (High's floor), so only
    the field check stands between them and handing out write on ARR."""
    writer = writer_role(site)
    for role in (writer, "admin"):  # a custom role, and a system role mirroring the integration owner (K5)
        with refused(site.ws, ESCALATION) as info:
            members.invite_member(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, email=email("invitee"), role_id=role)
        assert "Account: ARR (write)" in str(info.value)
        assert "K13" not in info.value.violations[0].message
        with refused(site.ws, ESCALATION):
            members.add_member(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, email=email("added"), role_id=role)
        with refused(site.ws, ESCALATION):  # the invitation with its email, as the API and the Team page send it
            invitations.invite(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, email=email("mailed"), role_id=role, policy=site.app.mail_policy)
    reader = reader_role(site)
    with one_change(site.ws, "member.invite"):
        members.invite_member(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, email=email("fair"), role_id=reader)


def test_changing_a_members_role_to_one_with_field_access_the_actor_lacks_is_refused(site: Site) -> None:
    reader = reader_role(site)
    other = site.ws.add(reader, tag="colleague")
    for role in (writer_role(site), "admin"):
        with refused(site.ws, ESCALATION) as info:
            members.change_member_role(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, member_id=other, role_id=role)
        assert "Account: ARR (write)" in str(info.value)
    fair = reader_role(site, "Reader 2")
    with one_change(site.ws, "member.change_role"):
        members.change_member_role(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, member_id=other, role_id=fair)


def test_an_owner_cannot_take_a_role_beyond_their_own_field_access_by_transferring_ownership(site: Site) -> None:
    """T11 with K13: the delegate is High, so one of the workspace's owners; handing their
    role to a colleague and taking Admin in exchange would give them write on ARR."""
    other = site.ws.add(reader_role(site), tag="colleague")
    with refused(site.ws, ESCALATION) as info:
        team.transfer_ownership(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, to_member=other, new_role="admin")
    assert "Role “Admin” gives field access you do not hold" in str(info.value)
    fair = reader_role(site, "Reader 2")
    with one_change(site.ws, "workspace.transfer_ownership"):
        team.transfer_ownership(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, to_member=other, new_role=fair)


# -- raising a synced field's integration access (K9) -----------------------------------


def test_raising_the_integration_access_of_a_synced_field_needs_holding_it(site: Site) -> None:
    """K9: the Salesforce user's access caps every role on ARR. The delegate stores read on
    ARR: raising the cap from none to read hands out nothing they lack, from read to write
    lets every role that stores write (Admin, Writer) write it, which they cannot."""
    writer_role(site)
    fields.set_integration_access(site.app.uow(), actor=site.ws.owner, workspace_id=site.ws.id, object_type="account", name="arr", access="none")
    with one_change(site.ws, "field.integration_access"):
        fields.set_integration_access(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, object_type="account", name="arr", access="read")
    with refused(site.ws, ESCALATION) as info:
        fields.set_integration_access(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, object_type="account", name="arr", access="write")
    (v,) = info.value.violations
    assert v.message == (
        "Raising what the Salesforce integration user may do on Account: ARR from read to write would let roles write it, and you can only read it yourself."
    )
    assert "K13" not in v.message
    assert site.app.snapshots.get(site.ws.id).field_access(site.ws.owner_id, "account", "arr") is FieldAccess.READ  # still capped
    # Lowering is theirs; so is raising a field they write themselves once it is raised
    # (Contract Value, read for the integration user in the preset; High gives them write, K8).
    with one_change(site.ws, "field.integration_access"):
        fields.set_integration_access(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, object_type="account", name="arr", access="none")
    with one_change(site.ws, "field.integration_access"):
        fields.set_integration_access(site.app.uow(), actor=site.as_delegate, workspace_id=site.ws.id, object_type="account", name="contract_value", access="write")
    # The workspace's owner (Admin: the integration owner's access, K5) may raise ARR.
    with one_change(site.ws, "field.integration_access"):
        fields.set_integration_access(site.app.uow(), actor=site.ws.owner, workspace_id=site.ws.id, object_type="account", name="arr", access="write")


# -- the doors, on SQLite ----------------------------------------------------------------


@dataclass(frozen=True)
class Doors:
    site: Site
    api: Api
    web: Web


@pytest.fixture
def doors(tmp_path: Path) -> Iterator[Doors]:
    rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path / 'doors.db'}", listen=False, secret_key="field-escalation"))
    rg.create_tables()
    s = make_site(rg)
    key = create_api_key(rg.uow(), organization_id=s.org, rights={"admin"}, name="fields test")
    app = create_app(rg)
    with start_blocking_portal() as portal:
        api_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rolegate.test")
        web_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rolegate.test")
        try:
            yield Doors(s, Api(portal, api_client, key, s.delegate), Web(portal, web_client))
        finally:
            portal.call(api_client.aclose)
            portal.call(web_client.aclose)
            rg.close()


def test_over_the_api_every_path_that_writes_field_access_refuses_escalation(doors: Doors) -> None:
    site, api = doors.site, doors.api
    base = f"/v1/workspaces/{site.ws.id}"
    role = writer_role(site)
    r = api.post(f"{base}/roles", json={"name": "Sneaky", "level": "standard", "field_access": {"account": {"arr": "write"}}})
    body = assert_problem(r, 409, "rule_violation", rule=ESCALATION)
    assert "Account: ARR (write)" in body["detail"]
    narrow = roles.create_role(site.app.uow(), actor=site.ws.owner, workspace_id=site.ws.id, name="Narrow", level="standard").id
    revision = site.ws.revision()
    assert_problem(api.patch(f"{base}/roles/{narrow}/fields", json={"fields": {"account": {"health_notes": "read"}}}), 409, "rule_violation", rule=ESCALATION)
    assert_problem(api.patch(f"{base}/roles/{narrow}", json={"field_access": {"account": {"arr": "write"}}}), 409, "rule_violation", rule=ESCALATION)
    assert_problem(api.post(f"{base}/roles/{role}/clone", json={"name": "Writer 2"}), 409, "rule_violation", rule=ESCALATION)
    own_role = writer_role(site, site.own, name="Own writer")
    as_owner = api.as_(actor=site.owner_in_own)
    r = as_owner.post(f"/v1/workspaces/{site.own.id}/roles/{own_role}/copy", json={"targets": [site.ws.id]})
    assert_problem(r, 409, "rule_violation", rule=ESCALATION)
    assert site.ws.revision() == revision  # nothing written by any of them


def test_in_the_admin_ui_the_field_tab_refuses_escalation_and_stores_nothing(doors: Doors) -> None:
    site, web = doors.site, doors.web
    role = roles.create_role(site.app.uow(), actor=site.ws.owner, workspace_id=site.ws.id, name="Narrow", level="standard").id
    web.login(site.delegate_email, PASSWORD)
    url = f"/w/{site.ws.id}/roles/{role}/fields"
    form = one(soup(web.get(url)), "form#fields-form")
    r = web.post(url, [*form_fields(form), ("read:account.arr", "1"), ("write:account.arr", "1")])
    assert r.status_code == 409, r.text
    refusal = one(soup(r), "#refused")
    assert violations(refusal) == [ESCALATION]
    assert "Account: ARR (write)" in refusal.get_text()
    assert ("account", "arr") not in site.ws.roles()[role].field_access



def test_over_the_api_giving_a_role_or_raising_a_cap_beyond_the_actor_is_refused(doors: Doors) -> None:
    site, api = doors.site, doors.api
    base = f"/v1/workspaces/{site.ws.id}"
    writer = writer_role(site)
    other = site.ws.add(reader_role(site), tag="colleague")
    fields.set_integration_access(site.app.uow(), actor=site.ws.owner, workspace_id=site.ws.id, object_type="account", name="arr", access="read")
    revision = site.ws.revision()
    body = assert_problem(api.post(f"{base}/members", json={"email": email("invitee"), "role": writer}), 409, "rule_violation", rule=ESCALATION)
    assert "Account: Health notes (read)" in body["detail"]  # ARR: Writer stores write, but the cap (read) is what it hands out
    assert_problem(api.post(f"{base}/invitations", json={"email": email("mailed"), "role": "admin"}), 409, "rule_violation", rule=ESCALATION)
    assert_problem(api.patch(f"{base}/members/{other}", json={"role": writer}), 409, "rule_violation", rule=ESCALATION)
    assert_problem(api.post(f"{base}/ownership", json={"to": other, "new_role": "admin"}), 409, "rule_violation", rule=ESCALATION)
    r = api.put(f"{base}/objects/account/fields/arr/integration-access", json={"access": "write"})
    body = assert_problem(r, 409, "rule_violation", rule=ESCALATION)
    assert "Account: ARR from read to write" in body["detail"]
    assert site.ws.revision() == revision  # nothing written by any of them


def test_on_the_team_page_inviting_or_changing_to_a_role_beyond_the_actor_is_refused(doors: Doors) -> None:
    """The Team page offers invite, change of role and ownership transfer to the delegate;
    each refusal is shown with its rule and nothing is stored."""
    site, web = doors.site, doors.web
    writer = writer_role(site)
    other = site.ws.add(reader_role(site), tag="colleague")
    web.login(site.delegate_email, PASSWORD)
    base = f"/w/{site.ws.id}/team"
    page = soup(web.get(base))
    assert {str(o["value"]) for o in one(page, "#invite-role").select("option")} >= {writer, "admin"}  # offered, then refused
    revision = site.ws.revision()
    for url, form in (
        (f"{base}/invite", {"email": email("invitee"), "name": "Invitee", "role": writer}),
        (f"{base}/{other}/role", {"role": writer}),
        (f"{base}/ownership", {"to": other, "new_role": "admin"}),
    ):
        r = web.post(url, form)
        assert r.status_code == 409, (url, r.text)
        refusal = one(soup(r), "#refusal")
        # The transfer is refused by escalation first; taking Admin while handing over the
        # owner's role would also leave two owners, refused by the product's guardian rule.
        assert violations(refusal)[0] == ESCALATION, url
        assert len(violations(refusal)) == (2 if url.endswith("/ownership") else 1), url
        assert "gives field access you do not hold" in refusal.get_text(), url
    assert site.ws.revision() == revision
