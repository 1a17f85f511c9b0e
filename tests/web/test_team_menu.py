"""The Team page's actions (issue 15, items 1 and 5): one actions menu per member whose
items follow the member's state; what is impossible (disabling yourself, demoting or
disabling the only administrator: C5, C4, N12) is not offered; a role change shows, before
it is confirmed, what the member gains and loses by area and the seat they use afterwards
(N1, N2, K2), fetched by htmx into the dialog. No member id and no rule code in the text
a customer reads (rule codes stay behind "Why?")."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup, Tag

from rolegate.presets import PRESET_KEYS, load_preset
from tests.web.conftest import Web, form_fields, one, soup
from tests.web.demo import ADMIN_EMAIL, Demo

RULE_CODE = re.compile(r"\b[A-Z]{1,2}\d{1,2}\b")


def _team(admin: Web, demo: Demo, preset: str) -> BeautifulSoup:
    return soup(admin.get(f"/w/{demo.ws(preset)}/team"))


def _row(doc: BeautifulSoup, email: str) -> Tag:
    return one(doc, f'tr[data-email="{email}"]')


def _items(row: Tag) -> set[str]:
    """The menu's items by what they do (their class), e.g. {"role-link", "disable-button"}."""
    out = set()
    for item in row.select("details.row-menu .menu-item"):
        out |= {c for c in item.get("class") or [] if c.endswith(("-link", "-button"))}
    return out


def _customer_text(doc: BeautifulSoup | Tag) -> str:
    """The text a customer reads: without the "Why?" disclosures, which name the rule."""
    copy = BeautifulSoup(str(doc), "html.parser")
    for why in copy.select("details.why"):
        why.decompose()
    return copy.get_text(" ", strip=True)


def _member_ids(demo: Demo, preset: str) -> list[str]:
    with demo.rolegate.uow() as uow:
        return [info.member.id for info in uow.members.all(demo.ws(preset))]


@pytest.mark.parametrize("preset", PRESET_KEYS)
def test_one_actions_menu_per_member_and_no_ids_or_rule_codes_in_it(admin: Web, demo: Demo, preset: str) -> None:
    doc = _team(admin, demo, preset)
    rows = doc.select("table.team-table tbody tr")
    assert rows
    for row in rows:
        menus = row.select("details.row-menu")
        assert len(menus) == 1, row.get("data-email")
        summary = one(menus[0], "summary.menu-button")
        assert summary["aria-expanded"] == "false"
        assert one(menus[0], ".menu-panel")["id"] == summary["aria-controls"]
        # The button names whose actions they are, for a screen reader.
        name = one(row, ".member-name").get_text()
        assert summary.get_text() == f"Actions for {name}"
        assert not row.select("td.role select"), "the role is changed in the dialog, not in the row"
    text = _customer_text(one(doc, "table.team-table"))
    for mid in _member_ids(demo, preset):
        assert mid not in text
    assert RULE_CODE.findall(text) == []


def test_the_items_follow_the_members_state(admin: Web, demo: Demo) -> None:
    doc = _team(admin, demo, "natero")
    ann = _items(_row(doc, "ann@example.com"))  # active CSM with an account
    assert ann == {"role-link", "transfer-link", "reset-button", "disable-button", "ownership-link", "delete-link"}
    carol = _items(_row(doc, "carol@example.com"))  # invited
    assert carol == {"role-link", "resend-button", "revoke-button", "disable-button", "delete-link"}
    dan = _items(_row(doc, "dan@example.com"))  # disabled
    assert dan == {"role-link", "enable-button", "delete-link"}
    eve = _items(_row(doc, "eve@example.com"))  # active, nothing assigned: nothing to transfer
    assert "transfer-link" not in eve
    # Every confirmation names who is affected.
    for email, who in (("ann@example.com", "Ann Archer"), ("carol@example.com", "Carol Chen"), ("dan@example.com", "Dan Diaz")):
        for form in _row(doc, email).select("details.row-menu form[data-confirm]"):
            assert who in str(form["data-confirm-title"])
            assert who in str(form["data-confirm"]) or email in str(form["data-confirm"])


def test_C5_C4_disabling_or_demoting_the_only_administrator_is_not_offered(admin: Web, demo: Demo) -> None:
    doc = _team(admin, demo, "customersuccessbox")
    me = _row(doc, ADMIN_EMAIL)
    assert _items(me) == {"reset-button"}  # no disable, delete or profile change
    note = one(me, ".sole-guardian").get_text()
    assert note.startswith("You are this workspace's only active Administrator")
    assert one(me, "details.why .rule").get_text() == "C4"  # the rule, behind "Why?"
    # Another member of the same workspace is offered all of it.
    assert {"role-link", "disable-button", "delete-link"} <= _items(_row(doc, "ann@example.com"))


def test_N12_the_only_administrator_by_right_is_offered_the_roles_that_keep_them_one(admin: Web, demo: Demo) -> None:
    doc = _team(admin, demo, "natero")
    me = _row(doc, ADMIN_EMAIL)
    assert "disable-button" not in _items(me)
    assert "delete-link" not in _items(me)
    assert "role-link" in _items(me)
    dialog = soup(admin.get(str(one(me, "a.role-link")["href"]), htmx=True))
    offered = [o.get_text() for o in dialog.select("#member-role-select option")]
    assert offered == ["CSM Manager (now)", "Analyst"]  # both manage the team; CSM, Executive and Guest do not


def _seat(doc: BeautifulSoup, key: str) -> tuple[int, int]:
    seat = one(doc, f'li.seat[data-seat="{key}"]')
    return int(one(seat, ".used").get_text()), int(one(seat, ".capacity").get_text())


@pytest.mark.parametrize("htmx", [False, True])
def test_N2_a_csm_made_analyst_previews_gains_losses_and_an_analyst_seat(admin: Web, demo: Demo, htmx: bool) -> None:
    doc = _team(admin, demo, "natero")
    used, capacity = _seat(doc, "analyst")
    ann = _row(doc, "ann@example.com")
    url = str(one(ann, "a.role-link")["href"])
    dialog = soup(admin.get(url, htmx=htmx))
    assert bool(dialog.select("header.topbar")) is not htmx  # a page without JavaScript, the dialog's content with it
    assert one(dialog, "#dialog-title").get_text() == "Change the role of Ann Archer"
    select = one(dialog, "#member-role-select")
    assert select["hx-get"] == f"{url}/preview"
    assert "Choose another role" in one(dialog, "#preview-none").get_text()

    preview = soup(admin.get(f"{url}/preview?role=analyst", htmx=True))
    gained = {one(a, "dt").get_text(): one(a, "dd").get_text() for a in preview.select("#preview-gained .impact-area")}
    lost = {one(a, "dt").get_text(): one(a, "dd").get_text() for a in preview.select("#preview-lost .impact-area")}
    assert gained["Users"] == "Configure users"
    assert "View all accounts" in gained["Accounts"]
    assert lost == {"Accounts": "Customer Success Manager Seat"}
    assert one(preview, "#preview-seat").get_text() == f"Ann Archer uses an Analyst seat instead of a CSM seat: {used + 1} of {capacity} in use."
    # N9: she still holds an account, which an Analyst cannot: the dry run says so, by her name.
    refusal = one(preview, "#preview-refusal")
    assert "Ann Archer is assigned 1 account, which the Analyst role cannot hold." in refusal.get_text()
    assert one(preview, "#confirm-role").has_attr("disabled")  # what the rules refuse cannot be confirmed
    # Without JavaScript the page itself shows the preview of `?role=`.
    page = soup(admin.get(f"{url}?role=analyst"))
    assert one(page, "#preview-seat").get_text() == one(preview, "#preview-seat").get_text()
    text = _customer_text(preview)
    for mid in _member_ids(demo, "natero"):
        assert mid not in text
    assert RULE_CODE.findall(text) == []


def test_K2_a_catalyst_member_made_viewer_previews_the_viewer_license(admin: Web, demo: Demo) -> None:
    doc = _team(admin, demo, "catalyst")
    used, capacity = _seat(doc, "viewer")
    url = str(one(_row(doc, "ann@example.com"), "a.role-link")["href"])
    preview = soup(admin.get(f"{url}/preview?role=viewer", htmx=True))
    assert preview.select("#preview-gained") == []
    lost_areas = [one(a, "dt").get_text() for a in preview.select("#preview-lost .impact-area")]
    assert lost_areas
    order = [a.label for a in load_preset("catalyst").areas.values()]
    assert lost_areas == [a for a in order if a in lost_areas]  # the areas in the schema's order
    assert one(preview, "#preview-seat").get_text() == f"Ann Archer uses a Viewer license instead of an Editor license: {used + 1} of {capacity} in use."
    assert preview.select("#preview-refusal") == []
    assert not one(preview, "#confirm-role").has_attr("disabled")
    # Confirming gives the role the preview showed.
    assert admin.post(url, {"role": "viewer"}).status_code == 303
    doc = _team(admin, demo, "catalyst")
    assert one(doc, ".flash").get_text() == "Ann Archer has a new role."
    assert one(_row(doc, "ann@example.com"), ".member-role").get_text() == "Viewer"
    assert _seat(doc, "viewer") == (used + 1, capacity)


def test_the_preview_of_a_seatless_product_has_no_seat_line_and_a_same_role_changes_nothing(admin: Web, demo: Demo) -> None:
    doc = _team(admin, demo, "telephony")
    url = str(one(_row(doc, "bob@example.com"), "a.role-link")["href"])
    preview = soup(admin.get(f"{url}/preview?role=administrator", htmx=True))
    assert preview.select("#preview-gained .impact-area")
    assert preview.select("#preview-lost") == []
    assert preview.select("#preview-seat") == []
    same = soup(admin.get(f"{url}/preview?role=analyst", htmx=True))
    assert "Choose another role to see what Bob Baker gains and loses." in same.get_text()
    assert admin.get(f"{url}/preview?role=no-such-role", htmx=True).status_code == 404


def test_a_disabled_member_previews_no_seat_until_enabled(admin: Web, demo: Demo) -> None:
    doc = _team(admin, demo, "natero")
    url = str(one(_row(doc, "dan@example.com"), "a.role-link")["href"])
    preview = soup(admin.get(f"{url}/preview?role=csm", htmx=True))
    assert one(preview, "#preview-seat").get_text() == "Dan Diaz is disabled and holds no seat; once enabled, they take a CSM seat."


def test_plurals_in_the_products_word(admin: Web, demo: Demo) -> None:
    doc = _team(admin, demo, "customersuccessbox")
    assert one(doc, "table.team-table thead th.records-col").get_text() == "Accounts"
    assert "Seat" not in [th.get_text() for th in doc.select("table.team-table thead th")]  # a product without seats
    catalyst = _team(admin, demo, "catalyst")  # no object assigned to members: "records"
    assert one(catalyst, "table.team-table thead th.records-col").get_text() == "Records"
    ann = _row(doc, "ann@example.com")
    assert one(ann, "a.transfer-link").get_text() == "Transfer accounts"
    base = f"/w/{demo.ws('customersuccessbox')}"
    bob = demo.member("customersuccessbox", "bob@example.com")
    ann_id = demo.member("customersuccessbox", "ann@example.com")
    assert admin.post(f"{base}/team/{bob}/transfer", {"to": ann_id}).status_code == 303
    assert one(_team(admin, demo, "customersuccessbox"), ".flash").get_text() == "Transferred 1 account to Ann Archer."
    dialog = soup(admin.get(f"{base}/team/{ann_id}/transfer", htmx=True))
    assert one(dialog, "#transfer-what").get_text() == "2 accounts of Ann Archer go to the member you choose."


def test_T11_ownership_to_a_member_from_their_menu(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    doc = _team(admin, demo, "telephony")
    assert "ownership-link" not in _items(_row(doc, "carol@example.com"))  # invited: not yet
    assert "ownership-link" not in _items(_row(doc, ADMIN_EMAIL))  # not to oneself
    url = str(one(_row(doc, "bob@example.com"), "a.ownership-link")["href"])
    dialog = soup(admin.get(url, htmx=True))
    assert one(dialog, "#dialog-title").get_text() == "Transfer ownership to Bob Baker?"
    assert "Bob Baker becomes the owner of this workspace" in one(dialog, "#ownership-what").get_text()
    assert one(dialog, "#ownership-role option[selected]")["value"] == load_preset("telephony").default_role
    fields = dict(form_fields(one(dialog, "#ownership-dialog-form")))
    assert fields["to"] == demo.member("telephony", "bob@example.com")
    assert admin.get(f"/w/{ws}/team/ownership?to=nobody").status_code == 404
    assert admin.post(f"/w/{ws}/team/ownership", fields).status_code == 303
    with demo.rolegate.uow() as uow:
        roles = {info.email: info.member.role for info in uow.members.all(ws)}
    assert (roles["bob@example.com"], roles[ADMIN_EMAIL]) == ("owner", "analyst")
