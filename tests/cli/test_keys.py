"""`rolegate org create` and `rolegate keys create/list/revoke`: the operator's way to
the API (the printed key must authenticate, then stop authenticating once revoked)."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from rolegate.bootstrap import bootstrap
from rolegate.cli.main import app
from rolegate.config import Settings
from rolegate.services.api_keys import authenticate

runner = CliRunner()
KEY = re.compile(r"^(rg_([0-9a-f]{12})_\S+)$", re.MULTILINE)


def _ok(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _works(url: str, key: str) -> bool:
    """Whether the API would take this key (the API's own authentication)."""
    rg = bootstrap(Settings(database_url=url, listen=False))
    try:
        return authenticate(rg.uow(), key) is not None
    finally:
        rg.close()


@pytest.fixture
def migrated(sqlite_url: str) -> str:
    _ok("db", "upgrade", "--url", sqlite_url)
    return sqlite_url


def test_org_create_prints_an_organization_and_a_working_key(migrated: str) -> None:
    output = _ok("org", "create", "Acme", "--url", migrated)
    org = re.search(r"^organization (\S+)$", output, re.MULTILINE)
    key = KEY.search(output)
    assert org is not None, output
    assert key is not None, output
    assert "shown only this once" in output
    assert _works(migrated, key.group(1))
    assert not _works(migrated, key.group(1) + "x")


def test_keys_list_shows_no_secret_and_revoke_stops_the_key(migrated: str) -> None:
    output = _ok("org", "create", "Acme", "--url", migrated)
    org = re.search(r"^organization (\S+)$", output, re.MULTILINE)
    assert org is not None
    second = KEY.search(_ok("keys", "create", "--org", org.group(1), "--rights", "decide", "--name", "backend", "--url", migrated))
    assert second is not None
    listing = _ok("keys", "list", "--org", org.group(1), "--url", migrated)
    assert "backend" in listing
    assert second.group(2) in listing
    assert second.group(1) not in listing  # the secret is never shown again
    assert _works(migrated, second.group(1))
    assert "revoked API key" in _ok("keys", "revoke", second.group(2), "--org", org.group(1), "--url", migrated)
    assert not _works(migrated, second.group(1))
    assert re.search(rf"{second.group(2)}.*revoked", _ok("keys", "list", "--org", org.group(1), "--url", migrated))


def test_revoking_an_unknown_or_foreign_key_is_an_error_saying_what_to_do(migrated: str) -> None:
    first = _ok("org", "create", "Acme", "--url", migrated)
    other = _ok("org", "create", "Globex", "--url", migrated)
    acme = re.search(r"^organization (\S+)$", first, re.MULTILINE)
    globex_key = KEY.search(other)
    assert acme is not None
    assert globex_key is not None
    result = runner.invoke(app, ["keys", "revoke", globex_key.group(2), "--org", acme.group(1), "--url", migrated])
    assert result.exit_code == 2
    assert "rolegate keys list" in result.output
    assert _works(migrated, globex_key.group(1))  # untouched


def test_keys_create_refuses_unknown_rights_and_an_unknown_organization(migrated: str) -> None:
    result = runner.invoke(app, ["keys", "create", "--org", "nope", "--rights", "decide", "--url", migrated])
    assert result.exit_code == 2
    assert "no organization" in result.output
    output = _ok("org", "create", "Acme", "--url", migrated)
    org = re.search(r"^organization (\S+)$", output, re.MULTILINE)
    assert org is not None
    result = runner.invoke(app, ["keys", "create", "--org", org.group(1), "--rights", "root", "--url", migrated])
    assert result.exit_code == 2
    assert "unknown API key rights: root" in result.output
