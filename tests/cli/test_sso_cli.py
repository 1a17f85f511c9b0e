"""`rolegate sso ...`: the operator claims and proves a domain, configures the provider
(the secret from an environment variable, never shown again), turns on just-in-time
membership, and reads it all back."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from rolegate.bootstrap import bootstrap
from rolegate.cli.main import app
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.services.workspaces import create_organization, create_workspace

runner = CliRunner()


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.output


@pytest.fixture
def org_ws(sqlite_url: str) -> tuple[str, str, str]:
    assert _run("db", "upgrade", "--url", sqlite_url)[0] == 0
    rg = bootstrap(Settings(database_url=sqlite_url, listen=False))
    try:
        org = create_organization(rg.uow(), actor=Actor.system("test"), name="Acme")
        ws = create_workspace(rg.uow(), actor=Actor.system("test"), preset="natero", name="CS", owner_email="o@acme.test", organization_id=org).workspace.id
    finally:
        rg.close()
    return sqlite_url, org, ws


def test_the_operator_sets_up_sso(org_ws: tuple[str, str, str]) -> None:
    url, org, ws = org_ws
    code, out = _run("sso", "claim-domain", org, "Acme.test", "--url", url)
    assert code == 0
    domain, kind, record = out.split()
    assert (domain, kind) == ("acme.test", "TXT")
    assert record.startswith("rolegate-verification=")
    # A record that is not the claim's proves nothing.
    code, out = _run("sso", "verify-domain", org, "acme.test", "--txt", "rolegate-verification=guess", "--url", url)
    assert code == 2
    assert "no TXT record" in out
    assert _run("sso", "verify-domain", org, "acme.test", "--txt", record, "--url", url) == (0, "acme.test verified\n")
    code, out = _run(
        "sso", "configure", org, "--issuer", "https://acme.okta.com", "--client-id", "0oa1", "--client-secret-env", "IDP_SECRET", "--required", "--url", url,
        env={"IDP_SECRET": "very-secret-value", "ROLEGATE_SECRET_KEY": "k"},
    )
    assert code == 0, out
    assert "stored (never shown)" in out
    assert "sso required  yes" in out
    assert "very-secret-value" not in out
    assert _run("sso", "jit", ws, "--role", "csm", "--url", url)[1].endswith("role csm\n")
    code, out = _run("sso", "show", org, "--url", url)
    assert code == 0
    assert "acme.test  verified" in out
    assert f"jit           {ws}  csm" in out
    assert "very-secret-value" not in out
    assert _run("sso", "jit", ws, "--off", "--url", url)[1].endswith("no just-in-time membership\n")
    assert _run("sso", "remove-domain", org, "acme.test", "--url", url)[1] == "acme.test removed\n"


def test_the_secret_never_comes_from_the_command_line(org_ws: tuple[str, str, str]) -> None:
    url, org, _ = org_ws
    code, out = _run("sso", "configure", org, "--issuer", "https://acme.okta.com", "--client-id", "c", "--client-secret-env", "UNSET_VAR", "--url", url, env={"UNSET_VAR": ""})
    assert code == 2
    assert "UNSET_VAR is not set" in out
    code, out = _run("sso", "configure", org, "--issuer", "http://acme.okta.com", "--url", url)
    assert code == 2
    assert "no issuer URL" in out
    assert _run("sso", "show", "no-such-org", "--url", url)[0] == 2
