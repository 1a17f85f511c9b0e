"""The permission matrix (T6): every role x every permission, grouped by area, with
locked/inert marks, and its CSV export."""

from __future__ import annotations

import csv
import io

from rolegate.domain.workspace import Actor
from rolegate.presets import load_preset
from rolegate.services.roles import create_role
from tests.web.conftest import Web, one, soup
from tests.web.demo import Demo


def test_T6_the_matrix_shows_every_permission_of_every_role(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    create_role(demo.rolegate.uow(), actor=Actor.system("test"), workspace_id=ws, name="Support", level="analyst", grants=["numbers.view"])
    doc = soup(admin.get(f"/w/{ws}/matrix"))
    roles = [th.get_text() for th in doc.select("thead th.role-col")]
    assert roles == ["Owner", "Administrator", "Analyst", "Support"]
    schema = load_preset("telephony")
    rows = doc.select("tbody tr[data-permission]")
    assert [str(tr["data-permission"]) for tr in rows] == [p for a in schema.areas for p, perm in schema.permissions.items() if perm.area == a]
    assert all(len(tr.select("td")) == 4 for tr in rows)
    assert [th.get_text() for th in doc.select("tr.area-row th")] == [a.label for a in schema.areas.values()]
    numbers = [td["data-cell"] for td in one(doc, 'tr[data-permission="numbers.view"]').select("td")]
    assert numbers == ["locked", "locked", "off", "on"]
    billing = [td["data-cell"] for td in one(doc, 'tr[data-permission="account.billing"]').select("td")]
    assert billing == ["locked", "unavailable", "unavailable", "unavailable"]
    assert one(doc, 'tr[data-permission="numbers.view"] td.cell-locked:first-of-type .visually-hidden').get_text() == "locked on by the license"  # T5: telephony says license
    assert one(doc, "#export-csv")["href"] == f"/w/{ws}/matrix.csv"


def test_T6_inert_marks_for_permissions_without_their_feature(admin: Web, demo: Demo) -> None:
    doc = soup(admin.get(f"/w/{demo.ws('email_marketing')}/matrix"))
    names = [th.get_text() for th in doc.select("thead th.role-col")]
    analyst = names.index("Analyst")
    purchase = one(doc, 'tr[data-permission="analytics.purchase_reports"]').select("td")
    assert purchase[analyst]["data-cell"] == "inert"  # E5: no clickstream integration in the demo


def test_T6_the_matrix_as_a_fragment(admin: Web, demo: Demo) -> None:
    doc = soup(admin.get(f"/w/{demo.ws('natero')}/matrix", htmx=True))
    assert doc.html is None
    assert doc.select("header, nav") == []
    assert len(doc.select("thead th.role-col")) == 5


def test_T6_the_matrix_as_csv(admin: Web, demo: Demo) -> None:
    r = admin.get(f"/w/{demo.ws('telephony')}/matrix.csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == 'attachment; filename="permission-matrix-telephony.csv"'
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["area", "permission", "label", "Owner", "Administrator", "Analyst"]
    assert rows[1] == ["Numbers", "numbers.view", "View numbers", "locked", "locked", "off"]
    assert len(rows) == 1 + len(load_preset("telephony").permissions) + 2  # + each role's type and license (T3)


def test_T6_csv_keeps_role_names_as_text(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    create_role(demo.rolegate.uow(), actor=Actor.system("test"), workspace_id=ws, name="=cmd()", level="analyst")
    header = next(csv.reader(io.StringIO(admin.get(f"/w/{ws}/matrix.csv").text)))
    assert header[-1] == "'=cmd()"
