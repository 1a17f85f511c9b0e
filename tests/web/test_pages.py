"""Every page, with and without `HX-Request`: the whole page with its layout, or its
content only (fief's habit); the same content either way."""

from __future__ import annotations

import pytest

from tests.web.conftest import Web, soup
from tests.web.demo import Demo

PAGES = {
    "workspaces": ("natero", "/workspaces", "Your workspaces"),
    "landing page (N4)": ("natero", "/w/{ws}/pages/all_accounts", "All accounts"),
    "home": ("telephony", "/w/{ws}/home", "Telephony platform demo"),
    "roles (T3)": ("telephony", "/w/{ws}/roles", "Roles & Permissions"),
    "new role": ("telephony", "/w/{ws}/roles/new", "New role"),
    "role editor (T7)": ("telephony", "/w/{ws}/roles/administrator", "Role Administrator"),
    "read-only role (K4)": ("catalyst", "/w/{ws}/roles/admin", "Role Admin"),
    "delete confirmation (T9)": ("telephony", "/w/{ws}/roles/analyst/delete", "Delete role Analyst?"),
    "matrix (T6)": ("email_marketing", "/w/{ws}/matrix", "Permission matrix"),
    "not found": ("telephony", "/w/{ws}/nowhere", "Not found"),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_in_full_and_as_a_fragment(admin: Web, demo: Demo, name: str) -> None:
    preset, path, heading = PAGES[name]
    url = path.format(ws=demo.ws(preset))
    full = soup(admin.get(url))
    assert full.html is not None
    assert full.title is not None
    assert full.select_one("header.topbar") is not None
    main = full.select_one("main#main")
    assert main is not None
    h1 = main.select_one("h1")
    assert h1 is not None
    assert h1.get_text() == heading
    if url.startswith("/w/") and name != "not found":  # an error page has no workspace to navigate
        assert full.select_one("nav.mainnav") is not None
    fragment = soup(admin.get(url, htmx=True))
    assert fragment.html is None
    assert fragment.select("header, nav.mainnav, main, dialog") == []
    assert [h.get_text() for h in fragment.select("h1")] == [heading]
    assert str(main.select_one("h1")) in str(fragment)
