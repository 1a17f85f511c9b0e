"""Sites over HTTP (issue 8, seed 003), on SQLite and PostgreSQL: a site administrator
acts in every workspace of the site with `Rolegate-Actor: site-admin:<user id>` (E1);
an account administrator edits administrator records but cannot assign roles (E7);
the audit log filters, exports and verifies (E8); a role is copied across the site with
a preview and refused where the preset differs (E9)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from anyio.from_thread import start_blocking_portal

from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.services.api_keys import create_api_key
from rolegate.services.workspaces import create_organization
from rolegate.store import tables
from tests import pg
from tests.api.conftest import Api, assert_problem


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rolegate]:
    if request.param == "sqlite":
        rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/t.db", listen=False))
        rg.create_tables()
        yield rg
        rg.close()
    else:
        with pg.postgres_url() as url:
            rg = bootstrap(Settings(database_url=url, listen=False))
            rg.create_tables()
            try:
                yield rg
            finally:
                rg.close()


@dataclass(frozen=True)
class SiteApi:
    rolegate: Rolegate
    api: Api
    org: str
    a: str
    b: str
    owner_a: str
    admin_user: str

    @property
    def admin(self) -> Api:
        return self.api.as_(actor=f"site-admin:{self.admin_user}")

    def url(self, ws: str, path: str = "") -> str:
        return f"/v1/workspaces/{ws}{path}"


def _workspace(api: Api, name: str, preset: str = "email_marketing", features: list[str] | None = None) -> tuple[str, str]:
    body: dict[str, object] = {"preset": preset, "name": name, "owner_email": f"owner-{name.replace(' ', '-').lower()}@acme.test"}
    if features is not None:
        body["features"] = features
    r = api.post("/v1/workspaces", json=body)
    assert r.status_code == 201, r.text
    return r.json()["workspace"]["id"], r.json()["owner"]["id"]


@pytest.fixture
def site(backend: Rolegate) -> Iterator[SiteApi]:
    org = create_organization(backend.uow(), actor=Actor.system("test"), name="Acme site")
    key = create_api_key(backend.uow(), organization_id=org, rights={"admin", "decide"}, name="site key")
    app = create_app(backend)
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rolegate.test")
        try:
            api = Api(portal, client, key)
            a, owner_a = _workspace(api, "Acme A", features=["sms", "basic_crm"])
            b, _ = _workspace(api, "Acme B", features=[])
            r = api.post(f"/v1/organizations/{org}/site-administrators", json={"email": "sam@acme.test", "name": "Sam Site"})
            assert r.status_code == 201, r.text
            yield SiteApi(backend, api, org, a, b, owner_a, r.json()["user_id"])
        finally:
            portal.call(client.aclose)


def _role(s: SiteApi, ws: str, name: str, grants: list[str], *, as_: Api | None = None) -> str:
    r = (as_ or s.admin).post(s.url(ws, "/roles"), json={"name": name, "level": "account_administrator", "grants": grants})
    assert r.status_code == 201, r.text
    role_id: str = r.json()["role"]["id"]
    return role_id


def _member(s: SiteApi, ws: str, email: str, role: str) -> str:
    r = s.admin.post(s.url(ws, "/members"), json={"email": email, "role": role})
    assert r.status_code == 201, r.text
    member: str = r.json()["member"]["id"]
    r = s.admin.post(s.url(ws, f"/members/{member}/activate"))
    assert r.status_code == 200, r.text
    return member


def test_E1_site_administrator_acts_in_every_workspace_and_switches_between_them(site: SiteApi) -> None:
    r = site.api.get(f"/v1/users/{site.admin_user}/workspaces")
    assert r.status_code == 200, r.text
    listed = r.json()["workspaces"]
    assert [(w["workspace_id"], w["site_admin"], w["actor"]) for w in listed] == [
        (site.a, True, f"site-admin:{site.admin_user}"),
        (site.b, True, f"site-admin:{site.admin_user}"),
    ]
    for w in listed:  # switch: the same user, acting in each workspace with the header it was given
        role = _role(site, w["workspace_id"], "Reporter", ["analytics.mailing_reports"], as_=site.api.as_(actor=w["actor"]))
        r = site.api.as_(actor=w["actor"]).patch(site.url(w["workspace_id"], f"/roles/{role}"), json={"grants": ["analytics.mailing_reports", "campaigns.view"]})
        assert r.status_code == 200, r.text
    events = site.admin.get(site.url(site.b, "/audit"), params={"actor": f"site-admin:{site.admin_user}"}).json()["events"]
    assert [e["action"] for e in events] == ["role.create", "role.update"]
    # another site's workspace: E1 does not reach it, and another org's key cannot even see it
    other_org = create_organization(site.rolegate.uow(), actor=Actor.system("test"), name="Other")
    other_key = create_api_key(site.rolegate.uow(), organization_id=other_org, rights={"admin"}, name="other")
    other = site.api.as_(key=other_key)
    other_ws, _ = _workspace(other, "Other co")
    assert_problem(other.as_(actor=f"site-admin:{site.admin_user}").post(f"/v1/workspaces/{other_ws}/roles", json={"name": "X", "level": "account_administrator"}), 403, "actor_refused", rule="E1")
    assert other.get(f"/v1/users/{site.admin_user}/workspaces").json()["workspaces"] == []
    assert_problem(other.post(f"/v1/organizations/{site.org}/site-administrators", json={"email": "x@acme.test"}), 404, "not_found")


def test_E7_account_administrator_edits_a_record_but_cannot_assign_roles(site: SiteApi) -> None:
    acct_role = _role(site, site.a, "Account admin", ["settings.view", "settings.account_administrators"])
    acct = _member(site, site.a, "acct@acme.test", acct_role)
    target = _member(site, site.a, "target@acme.test", "analyst")
    as_acct = site.api.as_(actor=acct)
    r = as_acct.get(site.url(site.a, f"/members/{target}/record"))
    assert r.status_code == 200, r.text
    assert (r.json()["email"], r.json()["role"], r.json()["may_assign_roles"]) == ("target@acme.test", "analyst", False)
    r = as_acct.patch(site.url(site.a, f"/members/{target}/record"), json={"name": "Tina Target"})
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["email"]) == ("Tina Target", "target@acme.test")
    # the email is the person's login: only they change it (issue 12)
    assert_problem(as_acct.patch(site.url(site.a, f"/members/{target}/record"), json={"name": "Tina", "email": "tina@acme.test"}), 409, "rule_violation", rule="E7")
    assert_problem(as_acct.patch(site.url(site.a, f"/members/{target}"), json={"role": "content_editor"}), 403, "permission_denied", rule="E7")
    assert_problem(as_acct.patch(site.url(site.a, f"/members/{site.owner_a}/record"), json={"name": "X", "email": "x@acme.test"}), 409, "rule_violation", rule="E7")
    assert site.admin.get(site.url(site.a, f"/members/{target}/record")).json()["may_assign_roles"] is True
    analyst = _member(site, site.a, "plain@acme.test", "analyst")
    assert_problem(site.api.as_(actor=analyst).get(site.url(site.a, f"/members/{target}/record")), 403, "permission_denied", rule="E7")


def test_E8_audit_filters_exports_and_verifies(site: SiteApi) -> None:
    role = _role(site, site.a, "Ops", ["campaigns.view"])
    site.admin.patch(site.url(site.a, f"/roles/{role}"), json={"grants": ["campaigns.view", "campaigns.edit"]})
    auditor = _member(site, site.a, "auditor@acme.test", _role(site, site.a, "Auditor", ["settings.web_access_log"]))
    as_auditor = site.api.as_(actor=auditor)
    events = as_auditor.get(site.url(site.a, "/audit"), params={"target_type": "role", "target_id": role}).json()["events"]
    assert [e["action"] for e in events] == ["role.create", "role.update"]
    assert as_auditor.get(site.url(site.a, "/audit"), params={"since": "2999-01-01T00:00:00Z"}).json()["events"] == []
    r = as_auditor.get(site.url(site.a, "/audit/export"), params={"format": "csv", "action": "role.update"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 1
    assert (rows[0]["action"], rows[0]["changes"], rows[0]["actor_name"]) == ("role.update", "grants: + 'campaigns.edit'", "Sam Site <sam@acme.test> (site administrator)")
    r = as_auditor.get(site.url(site.a, "/audit/export"), params={"format": "jsonl", "target_id": role})
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert [line["action"] for line in lines] == ["role.create", "role.update"]
    assert lines[1]["prev_hash"] == lines[0]["hash"]
    # retention: site administrators set it; the auditor may read it but not change it
    assert site.admin.put(site.url(site.a, "/audit/retention"), json={"days": 90}).json() == {"days": 90, "pruned_through_seq": 0}
    assert as_auditor.get(site.url(site.a, "/audit/retention")).json()["days"] == 90
    assert_problem(as_auditor.put(site.url(site.a, "/audit/retention"), json={"days": 1}), 403, "permission_denied", rule="E7")
    report = as_auditor.get(site.url(site.a, "/audit/verify")).json()
    assert (report["intact"], report["last_seq"]) == (True, report["events"])
    a = tables.audit_events
    with site.rolegate.engine.begin() as conn:
        conn.execute(a.update().where((a.c.workspace_id == site.a) & (a.c.seq == 5)).values(action="role.delete"))
    report = as_auditor.get(site.url(site.a, "/audit/verify")).json()
    assert (report["intact"], report["first_broken_seq"], report["last_seq"]) == (False, 5, 4)
    analyst = _member(site, site.a, "noaudit@acme.test", "content_editor")
    assert_problem(site.api.as_(actor=analyst).get(site.url(site.a, "/audit/export")), 403, "permission_denied", rule="E8")


def test_E9_copy_a_role_across_the_site_with_a_preview(site: SiteApi) -> None:
    role = _role(site, site.a, "SMS reader", ["contacts.view", "contacts_sms.view", "campaigns.view"])
    r = site.admin.post(site.url(site.a, f"/roles/{role}/copy"), json={"targets": [site.b], "dry_run": True})
    assert r.status_code == 200, r.text
    (preview,) = r.json()["previews"]
    assert (preview["action"], preview["inert"], preview["seat_impact"], r.json()["copied"]) == ("create", ["contacts_sms.view"], "takes no seat", {})
    assert [x["name"] for x in site.admin.get(site.url(site.b, "/roles")).json()["roles"]].count("SMS reader") == 0
    r = site.admin.post(site.url(site.a, f"/roles/{role}/copy"), json={"targets": [site.b]})
    assert r.status_code == 200, r.text
    copied = r.json()["copied"][site.b]
    got = site.admin.get(site.url(site.b, f"/roles/{copied}")).json()
    assert (got["name"], sorted(got["grants"]), sorted(got["effective"])) == (
        "SMS reader",
        ["campaigns.view", "contacts.view", "contacts_sms.view"],
        ["campaigns.view", "contacts.view"],
    )
    natero, _ = _workspace(site.api, "Acme CS", preset="natero")
    r = site.admin.post(site.url(site.a, f"/roles/{role}/copy"), json={"targets": [natero], "dry_run": True})
    assert r.json()["previews"][0]["action"] == "refused"
    assert r.json()["previews"][0]["violations"][0]["rule"] == "E9"
    assert_problem(site.admin.post(site.url(site.a, f"/roles/{role}/copy"), json={"targets": [natero]}), 409, "rule_violation", rule="E9")
    # A's owner is not a member of B: refused; a workspace-scoped key cannot even name B
    assert_problem(site.api.as_(actor=site.owner_a).post(site.url(site.a, f"/roles/{role}/copy"), json={"targets": [site.b]}), 409, "rule_violation", rule="E9")
    scoped = create_api_key(site.rolegate.uow(), organization_id=site.org, workspace_id=site.a, rights={"admin"}, name="a only")
    assert_problem(site.admin.as_(key=scoped).post(site.url(site.a, f"/roles/{role}/copy"), json={"targets": [site.b]}), 404, "not_found")
