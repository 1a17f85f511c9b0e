"""Security tests (issue 12): each module proves one defense of docs/security.md, as an
attacker would try it, over the API and the web UI, on SQLite and PostgreSQL where
storage matters; cross-tenant tests drive two organizations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from anyio.from_thread import start_blocking_portal

from rolegate.api import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.services.api_keys import create_api_key
from rolegate.services.workspaces import create_organization
from tests.api.conftest import Api
from tests.web.conftest import Web
from tests.web.demo import Demo, build_template, open_copy


@dataclass(frozen=True)
class TwoOrgs:
    """Two tenants of one Rolegate over HTTP: organization A and organization B, each with
    its own organization-wide API key (both rights)."""

    rolegate: Rolegate
    a: Api
    b: Api
    org_a: str
    org_b: str


@pytest.fixture
def two_orgs(tmp_path: Path) -> Iterator[TwoOrgs]:
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
            yield TwoOrgs(rg, Api(portal, client, key_a), Api(portal, client, key_b), org_a, org_b)
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
