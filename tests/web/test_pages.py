"""Every page, with and without `HX-Request`: the whole page with its layout, or its
content only (fief's habit); the same content either way."""

from __future__ import annotations

import pytest

from rolegate.domain.workspace import Actor
from rolegate.engine import Record
from rolegate.services.landing import LANDING_ROWS
from rolegate.services.records import upsert_record
from rolegate.store.repositories import MemberRepository, RecordRepository
from tests.statements import other_tenants, statements
from tests.web.conftest import Web, soup
from tests.web.demo import CSM_EMAIL, CSM_PASSWORD, Demo

PLATFORM = Actor.system("test")

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
    "features (E4, E5)": ("email_marketing", "/w/{ws}/features", "Features"),
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


MEASURED = ("/workspaces", "/w/{ws}/home", "/w/{ws}/roles", "/w/{ws}/audit", "/w/{ws}/pages/all_accounts")


def test_the_statements_a_page_runs_do_not_grow_with_the_workspaces_of_the_database(admin: Web, demo: Demo) -> None:
    # Before, the viewer's memberships were found by asking every workspace of the
    # database in turn (one query each): 20 more tenants were 20 more queries per page.
    rg = demo.rolegate
    urls = [u.format(ws=demo.ws("natero")) for u in MEASURED]

    def measure() -> dict[str, int]:
        out = {}
        for url in urls:
            admin.get(url)  # the snapshot cache and the session are warm for the measured request
            with statements(rg) as seen:
                assert admin.get(url).status_code == 200, url
            out[url] = len(seen)
        return out

    other_tenants(rg, 1)
    few = measure()
    other_tenants(rg, 20)
    assert measure() == few


def test_the_landing_page_reads_only_the_records_the_member_may_view(
    web: Web, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before, the page loaded every record and every member of the workspace and
    # filtered them in Python.
    rg, natero = demo.rolegate, demo.ws("natero")
    for i in range(30):
        upsert_record(rg.uow(), actor=PLATFORM, workspace_id=natero, record=Record("account", f"other-{i:02}"))

    def everything(*args: object, **kwargs: object) -> None:
        raise AssertionError("the landing page read every row of the workspace")

    monkeypatch.setattr(RecordRepository, "all", everything)
    monkeypatch.setattr(MemberRepository, "all", everything)
    web.login(CSM_EMAIL, CSM_PASSWORD)
    doc = soup(web.get(f"/w/{natero}/pages/my_accounts"))
    assert [[td.get_text() for td in tr.select("td")] for tr in doc.select("main tbody tr")] == [
        ["umbrella", "Nina Novak"]
    ]


def test_the_landing_page_shows_the_first_records_and_says_more_follow(admin: Web, demo: Demo) -> None:
    rg, natero = demo.rolegate, demo.ws("natero")
    for i in range(LANDING_ROWS):
        upsert_record(rg.uow(), actor=PLATFORM, workspace_id=natero, record=Record("account", f"zz-{i:03}"))
    doc = soup(admin.get(f"/w/{natero}/pages/all_accounts"))
    ids = [tr.select_one("td").get_text() for tr in doc.select("main tbody tr")]  # type: ignore[union-attr]
    assert len(ids) == LANDING_ROWS
    assert ids == sorted(ids)
    assert ids[:4] == ["acme", "globex", "initech", "umbrella"]
    assert "lists them all" in doc.select_one("main").get_text()  # type: ignore[union-attr]
