"""`rolegate keys create --rights scim`: the token an identity provider holds (issue 17)."""

from __future__ import annotations

import re

from rolegate.bootstrap import bootstrap
from rolegate.cli.main import app
from rolegate.config import Settings
from rolegate.services.api_keys import authenticate
from tests.cli.test_keys import KEY, _ok, runner


def test_a_scim_key_is_created_listed_and_carries_only_the_scim_right(sqlite_url: str) -> None:
    _ok("db", "upgrade", "--url", sqlite_url)
    org = re.search(r"^organization (\S+)$", _ok("org", "create", "Acme", "--url", sqlite_url), re.MULTILINE)
    assert org is not None
    created = KEY.search(_ok("keys", "create", "--org", org.group(1), "--right", "scim", "--name", "Okta", "--url", sqlite_url))
    assert created is not None
    rg = bootstrap(Settings(database_url=sqlite_url, listen=False))
    try:
        row = authenticate(rg.uow(), created.group(1))
    finally:
        rg.close()
    assert row is not None
    assert row.rights == frozenset({"scim"})
    listing = _ok("keys", "list", "--org", org.group(1), "--url", sqlite_url)
    assert re.search(rf"{created.group(2)}.*Okta.*scim", listing), listing
    refused = runner.invoke(app, ["keys", "create", "--org", org.group(1), "--rights", "sicm", "--url", sqlite_url])
    assert refused.exit_code != 0
    assert "unknown API key rights: sicm" in refused.output
    assert "'scim'" in refused.output
