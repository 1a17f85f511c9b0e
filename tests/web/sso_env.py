"""Two organizations with single sign-on against a real OpenID provider started by the
test (`oidc-provider-mock`, a Flask server in a thread): Acme (org A, domain acme.test
proved, just-in-time membership in its Natero workspace) and Beta (org B, beta.test
proved, its own workspace). Shared by the in-process tests and the browser tests."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.services.sites import add_site_administrator
from rolegate.services.sso import claim_domain, configure_sso, set_jit_workspace, verify_domain
from rolegate.services.workspaces import create_organization, create_workspace

with warnings.catch_warnings():
    # The mock provider imports authlib's deprecated `authlib.jose` and httpx client
    # (Rolegate uses neither: joserfc and plain httpx, services/sso_oidc.py).
    warnings.simplefilter("ignore", DeprecationWarning)
    from oidc_provider_mock import run_server_in_thread

MOCK_WARNINGS = "ignore:get_jwt_config:DeprecationWarning"
"""The mock provider's own use of authlib's deprecated API, warned in its server thread
while a test runs (`pytestmark = pytest.mark.filterwarnings(MOCK_WARNINGS)`)."""

__all__ = ["MOCK_WARNINGS", "PLATFORM", "SECRET_KEY", "SsoEnv", "idp_server", "set_idp_user", "sso_env"]

PLATFORM = Actor.system("sso-test")
SECRET_KEY = "sso-test-secret"
CLIENT_SECRET = "acme-client-secret"
ADMIN_A = ("root@acme.test", "acme-admin-password")
OWNER_A = "owner@acme.test"
OWNER_B = "owner@beta.test"


@contextmanager
def idp_server() -> Iterator[str]:
    """A real OpenID provider on a free port; its issuer is `http://localhost:<port>`."""
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


def set_idp_user(issuer: str, sub: str, **claims: object) -> None:
    """The claims the provider will put in this subject's ID token."""
    r = httpx.put(f"{issuer}/users/{sub}", json=claims, timeout=10)
    assert r.status_code == 204, r.text


@dataclass
class SsoEnv:
    rolegate: Rolegate
    issuer: str
    org_a: str
    org_b: str
    ws_a: str
    ws_b: str
    admin_a: str
    """The user id of Acme's site administrator."""

    def txt(self, organization_id: str, domain: str) -> dict[str, list[str]]:
        claimed = claim_domain(self.rolegate.uow(), actor=PLATFORM, organization_id=organization_id, domain=domain)
        return {claimed.domain: [claimed.record]}


def sso_env(where: Path | str, issuer: str, *, public_url: str = "http://rolegate.test", break_glass: bool = False) -> SsoEnv:
    """`where`: a SQLite file, or a PostgreSQL URL (an empty database, tests/pg.py)."""
    url = where if isinstance(where, str) else f"sqlite:///{where}"
    rg = bootstrap(Settings(database_url=url, listen=False, secret_key=SECRET_KEY, public_url=public_url, sso_break_glass=break_glass))
    rg.create_tables()
    org_a = create_organization(rg.uow(), actor=PLATFORM, name="Acme")
    org_b = create_organization(rg.uow(), actor=PLATFORM, name="Beta")
    ws_a = create_workspace(rg.uow(), actor=PLATFORM, preset="natero", name="Acme CS", owner_email=OWNER_A, organization_id=org_a).workspace.id
    ws_b = create_workspace(rg.uow(), actor=PLATFORM, preset="natero", name="Beta CS", owner_email=OWNER_B, organization_id=org_b).workspace.id
    admin_a = add_site_administrator(rg.uow(), actor=PLATFORM, organization_id=org_a, email=ADMIN_A[0], password=ADMIN_A[1])
    env = SsoEnv(rg, issuer, org_a, org_b, ws_a, ws_b, admin_a)
    for org, domain in ((org_a, "acme.test"), (org_b, "beta.test")):
        records = env.txt(org, domain)
        verify_domain(rg.uow(), actor=PLATFORM, organization_id=org, domain=domain, lookup=lambda d, r=records: r.get(d, []))  # type: ignore[misc]
    configure_sso(rg.uow(), actor=PLATFORM, organization_id=org_a, issuer=issuer, client_id="rolegate-acme", client_secret=CLIENT_SECRET, secret_key=SECRET_KEY)
    configure_sso(rg.uow(), actor=PLATFORM, organization_id=org_b, issuer=issuer, client_id="rolegate-beta", client_secret="beta-secret", secret_key=SECRET_KEY)
    set_jit_workspace(rg.uow(), actor=PLATFORM, workspace_id=ws_a, enabled=True)
    set_jit_workspace(rg.uow(), actor=PLATFORM, workspace_id=ws_b, enabled=True)
    return env

