"""Each product's own words (issue 14, item 2): the roles list, the navigation, the team
page, the matrix and its CSV say what the product's article says ("Profiles" in
CustomerSuccessBox, Type Standard/Custom and "License" in telephony, "System default" and
"Access level" in Catalyst, seats in Natero); products that declare none keep
Rolegate's words."""

from __future__ import annotations

import csv
import io

from tests.web.conftest import Web, one, soup
from tests.web.demo import Demo


def _headers(admin: Web, ws: str) -> list[str]:
    doc = soup(admin.get(f"/w/{ws}/roles"))
    return [th.get_text() for th in doc.select("table.roles-table thead th")]


def _types(admin: Web, ws: str) -> set[str]:
    doc = soup(admin.get(f"/w/{ws}/roles"))
    return {td.select("td")[0].get_text(strip=True) for td in doc.select("table.roles-table tbody tr")}


def test_T3_the_telephony_roles_list_reads_type_standard_or_custom_and_license(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    assert _headers(admin, ws)[:4] == ["Role", "Type", "License", "Seat"]
    assert _types(admin, ws) == {"Standard"}
    text = one(soup(admin.get(f"/w/{ws}/roles")), "main").get_text()
    assert "Level" not in text
    assert "level" not in text
    assert "System" not in text


def test_T3_the_telephony_matrix_csv_says_type_and_license_per_role(admin: Web, demo: Demo) -> None:
    rows = list(csv.reader(io.StringIO(admin.get(f"/w/{demo.ws('telephony')}/matrix.csv").text)))
    assert rows[0] == ["area", "permission", "label", "Owner", "Administrator", "Analyst"]
    assert rows[-2] == ["", "", "Type", "Standard", "Standard", "Standard"]
    assert rows[-1] == ["", "", "License", "Owner", "Administrator", "Analyst"]


def test_C2_customersuccessbox_calls_roles_profiles(admin: Web, demo: Demo) -> None:
    ws = demo.ws("customersuccessbox")
    doc = soup(admin.get(f"/w/{ws}/roles"))
    assert one(doc, "h1").get_text() == "Team Profiles"
    assert [a.get_text() for a in doc.select("nav.mainnav a")][1] == "Team Profiles"
    assert _headers(admin, ws)[0] == "Profile"
    team = soup(admin.get(f"/w/{ws}/team"))
    assert [th.get_text() for th in team.select("table.team-table thead th")][1] == "Profile"
    assert "Change profile" in team.get_text()
    assert "Change role" not in team.get_text()


def test_K1_catalyst_says_system_default_roles_and_access_level(admin: Web, demo: Demo) -> None:
    ws = demo.ws("catalyst")
    assert _headers(admin, ws)[:3] == ["Role", "Type", "Access level"]
    assert "System default" in _types(admin, ws)
    rows = list(csv.reader(io.StringIO(admin.get(f"/w/{ws}/matrix.csv").text)))
    assert rows[-1][2] == "Access level"
