"""Security tests (issue 12): each module proves one defense of docs/security.md, as an
attacker would try it, over the API and the web UI, on SQLite and PostgreSQL where
storage matters; cross-tenant tests drive two organizations.

Shared fixtures:
- `rolegate_db`: a Rolegate on SQLite (a fresh file, tables created) and on PostgreSQL
  (tests/pg.py's `pg_migrated_url`: one database per test session, built by the Alembic migrations, so the migrated
  tables are the ones exercised). Tests on the shared PostgreSQL database stay apart by
  working in workspaces of their own with unique emails.
- `two_org_apis`: two organizations over HTTP (SQLite), each with its own
  organization-wide API key (`Api` clients `a` and `b`); `demo_ui` and `web_ui`: the
  demo database and a browser without JavaScript on it.
- `two_orgs`: organization A with workspaces A1 and A2, organization B with B1 (all
  Natero), an owner with a password in each, and a site administrator of each
  organization (a member of no workspace).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import httpx
import pytest
from anyio.from_thread import start_blocking_portal

from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.services import sites, workspaces
from rolegate.services.api_keys import create_api_key
from rolegate.services.passwords import hash_password
from rolegate.services.workspaces import create_organization
from tests.api.conftest import Api
from tests.web.conftest import Web
from tests.web.demo import Demo, build_template, open_copy

BACKENDS = ("sqlite", "postgresql")
SECRET_KEY = "security-tests-secret"
PASSWORD = "correct horse battery staple"
PLATFORM = Actor.system("security-tests")


@pytest.fixture(params=BACKENDS)
def rolegate_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rolegate]:
    if request.param == "sqlite":
        rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path / 'rolegate.db'}", listen=False, secret_key=SECRET_KEY))
        rg.create_tables()
    else:
        url: str = request.getfixturevalue("pg_migrated_url")
        rg = bootstrap(Settings(database_url=url, listen=False, secret_key=SECRET_KEY))
    try:
        yield rg
    finally:
        rg.close()


def unique_email(who: str) -> str:
    return f"{who}-{uuid.uuid4().hex[:10]}@security.test"


@dataclass(frozen=True, slots=True)
class OrgWorkspace:
    id: str
    organization_id: str
    owner: str
    """The owner's member id."""
    owner_user: str
    owner_email: str


@dataclass(frozen=True, slots=True)
class SiteAdmin:
    user_id: str
    email: str

    @property
    def header(self) -> str:
        return f"site-admin:{self.user_id}"


@dataclass(frozen=True, slots=True)
class TwoOrgs:
    rolegate: Rolegate
    org_a: str
    org_b: str
    a1: OrgWorkspace
    a2: OrgWorkspace
    b1: OrgWorkspace
    site_admin_a: SiteAdmin
    site_admin_b: SiteAdmin

    @property
    def workspaces(self) -> tuple[OrgWorkspace, ...]:
        return (self.a1, self.a2, self.b1)


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def _give_password(rg: Rolegate, user_id: str) -> None:
    # One argon2 hash for every user of the session: hashing costs most of a second.
    with rg.uow() as uow:
        uow.team.set_password(user_id, _password_hash(), end_sessions=False)
        uow.commit()


def _workspace(rg: Rolegate, org: str, name: str) -> OrgWorkspace:
    email = unique_email("owner")
    created = workspaces.create_workspace(rg.uow(), actor=PLATFORM, preset="natero", name=name, owner_email=email, organization_id=org)
    _give_password(rg, created.owner.user_id)
    return OrgWorkspace(created.workspace.id, org, created.owner.member.id, created.owner.user_id, email)


def _site_admin(rg: Rolegate, org: str) -> SiteAdmin:
    email = unique_email("site-admin")
    user = sites.add_site_administrator(rg.uow(), actor=PLATFORM, organization_id=org, email=email, name="Site Admin")
    _give_password(rg, user)
    return SiteAdmin(user, email)


@pytest.fixture
def two_orgs(rolegate_db: Rolegate) -> TwoOrgs:
    rg = rolegate_db
    org_a = workspaces.create_organization(rg.uow(), actor=PLATFORM, name="Org A")
    org_b = workspaces.create_organization(rg.uow(), actor=PLATFORM, name="Org B")
    return TwoOrgs(
        rg,
        org_a,
        org_b,
        _workspace(rg, org_a, "A1"),
        _workspace(rg, org_a, "A2"),
        _workspace(rg, org_b, "B1"),
        _site_admin(rg, org_a),
        _site_admin(rg, org_b),
    )


@dataclass(frozen=True)
class TwoOrgApis:
    """Two tenants of one Rolegate over HTTP: organization A and organization B, each with
    its own organization-wide API key (both rights)."""

    rolegate: Rolegate
    a: Api
    b: Api
    org_a: str
    org_b: str


@pytest.fixture
def two_org_apis(tmp_path: Path) -> Iterator[TwoOrgApis]:
    rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/two.db", listen=False))
    rg.create_tables()
    platform = Actor.system("test")
    org_a = create_organization(rg.uow(), actor=platform, name="Org A")
    org_b = create_organization(rg.uow(), actor=platform, name="Org B")
    key_a = create_api_key(rg.uow(), organization_id=org_a, rights={"admin", "decide"}, name="a")
    key_b = create_api_key(rg.uow(), organization_id=org_b, rights={"admin", "decide"}, name="b")
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(rg)), base_url="http://rolegate.test")
        try:
            yield TwoOrgApis(rg, Api(portal, client, key_a), Api(portal, client, key_b), org_a, org_b)
        finally:
            portal.call(client.aclose)
            rg.close()


@pytest.fixture(scope="session")
def demo_ui_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "template.db"
    build_template(path)
    return path


@pytest.fixture
def demo_ui(demo_ui_template: Path, tmp_path: Path) -> Iterator[Demo]:
    """The demo database (`rolegate demo`, tests/web/demo.py), a fresh copy per test."""
    d = open_copy(demo_ui_template, tmp_path / "demo.db")
    yield d
    d.rolegate.close()


@pytest.fixture
def web_ui(demo_ui: Demo) -> Iterator[Web]:
    """A browser without JavaScript (tests/web/conftest.py's `Web`) on `demo_ui`."""
    with start_blocking_portal() as portal:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(demo_ui.rolegate)), base_url="http://rolegate.test")
        try:
            yield Web(portal, client)
        finally:
            portal.call(client.aclose)
