"""The role editor's permission grid (issue 15, item 3): one aligned table per role, a
row group per product area, the product's own columns (View/Manage where it pairs
permissions, one box otherwise), a bulk toggle per area through the preview, the
feedback of a box (E5, E6, K1, N2, T5) in the box's own row with the rule code only
behind "Why?", validation after interaction only, field permissions in the create flow."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup, Tag

from rolegate.domain.schema import SEED_RULE_PATTERN
from rolegate.presets import load_preset
from rolegate.services.members import add_member
from rolegate.services.workspaces import set_features
from tests.web.conftest import Web, form_fields, one, soup
from tests.web.demo import Demo
from tests.web.test_roles import PLATFORM, box, custom_role

# preset -> (an editor page, the columns of its grid)
EDITORS = {
    "telephony": ("/roles/administrator", ["Permission", "View", "Manage"]),
    "natero": ("/roles/new", ["Permission", "Granted"]),
    "catalyst": ("/roles/new", ["Permission", "Granted"]),
    "email_marketing": ("/roles/new", ["Permission", "Granted"]),
    "customersuccessbox": ("/roles/csm", ["Permission", "Granted"]),
}
CODE = re.compile(r"\b(" + SEED_RULE_PATTERN.pattern.strip("^$") + r")\b")


def grid(doc: BeautifulSoup | Tag) -> Tag:
    return one(doc, "fieldset.permissions table#perm-grid")


def width(tr: Tag) -> int:
    return sum(int(str(c.get("colspan", "1"))) for c in tr.find_all(["th", "td"], recursive=False))


def row_of(doc: BeautifulSoup | Tag, permission: str) -> Tag:
    tr = box(doc, permission).find_parent("tr")
    assert tr is not None
    return tr


def area_rows(table: Tag, area: str) -> Tag:
    return one(table, f"tbody.area[data-area={area}]")


@pytest.mark.parametrize("preset", sorted(EDITORS))
def test_one_table_per_role_with_a_row_group_per_area_and_the_products_columns(
    admin: Web, demo: Demo, preset: str
) -> None:
    path, columns = EDITORS[preset]
    doc = soup(admin.get(f"/w/{demo.ws(preset)}{path}"))
    schema = load_preset(preset)
    assert len(doc.select("fieldset.permissions table")) == 1  # one table, not one per area
    table = grid(doc)
    assert [th.get_text() for th in table.select("thead th")] == columns
    assert all(th["scope"] == "col" for th in table.select("thead th"))
    areas = [a.key for a in schema.areas.values() if any(p.area == a.key for p in schema.permissions.values())]
    assert [str(tb["data-area"]) for tb in table.select("tbody.area")] == areas
    for tbody in table.select("tbody.area"):
        head = tbody.select("tr")[0]
        header = one(head, "th")
        assert header["scope"] == "rowgroup"
        assert one(header, ".area-name").get_text() == schema.areas[str(tbody["data-area"])].label
        for tr in tbody.select("tr"):  # every row spans the same columns: they stay aligned
            assert width(tr) == len(columns)
    # every permission once, in its area's row group
    for key, perm in schema.permissions.items():
        assert row_of(table, key).find_parent("tbody")["data-area"] == perm.area  # type: ignore[index]


def test_T7_paired_permissions_share_a_row_under_view_and_manage(admin: Web, demo: Demo) -> None:
    doc = soup(admin.get(f"/w/{demo.ws('telephony')}/roles/administrator"))
    numbers = row_of(doc, "numbers.view")
    assert one(numbers, "th[scope=row]").get_text() == "Numbers"
    cells = numbers.select("td")
    assert [c.select_one("input")["value"] for c in cells] == ["numbers.view", "numbers.manage"]  # type: ignore[index]
    assert len(numbers.select("details.why")) == 1  # the same lock on both: one "Why?", one Tab stop
    billing = row_of(doc, "account.billing")  # no pair: the permission's label, one box across
    assert one(billing, "th[scope=row]").get_text() == "Billing"
    assert one(billing, "td")["colspan"] == "2"


def test_the_bulk_toggle_ticks_what_the_role_may_change_with_what_it_needs(admin: Web, demo: Demo) -> None:
    ws = demo.ws("email_marketing")
    doc = soup(admin.get(f"/w/{ws}/roles/new"))
    toggle = one(doc, "#bulk-contacts")
    assert toggle["value"] == "contacts:on"
    assert toggle["aria-pressed"] == "false"
    assert toggle["hx-post"] == f"/w/{ws}/roles/new/preview?part=bulk"
    fields = [*form_fields(one(doc, "form#role-form")), ("name", "Bulk"), ("bulk", "contacts:on")]
    live = soup(admin.post(f"/w/{ws}/roles/new/preview?part=bulk", fields, htmx=True))
    assert live.html is None  # the boxes and the preview, not the page
    contacts = [str(b["value"]) for b in live.select("tbody.area[data-area=contacts] input[name=grants]")]
    assert contacts
    assert all(box(live, k).has_attr("checked") for k in contacts)
    assert box(live, "campaigns.view").has_attr("checked")  # E6: Suppression lists needs it
    notice = one(live, "#bulk-notice-contacts")  # said beside the toggle that caused it
    view_campaigns = load_preset("email_marketing").permissions["campaigns.view"].label
    assert notice.get_text() == f"Also ticked {view_campaigns}: Contacts needs it."
    assert one(live, "#bulk-contacts")["aria-describedby"] == "bulk-notice-contacts"
    assert one(live, "#bulk-notice-segments").get_text() == ""
    assert not box(live, "campaigns.edit").has_attr("checked")  # nothing else of another area
    assert one(live, "#bulk-contacts")["value"] == "contacts:off"
    assert one(live, "#bulk-contacts")["aria-pressed"] == "true"
    assert one(live, "#preview-ok")  # through the same preview
    # the bulk toggle off unticks the area only
    fields = [*form_fields(one(live, "#editor-live")), ("name", "Bulk"), ("level", "account_administrator"), ("bulk", "contacts:off")]
    live = soup(admin.post(f"/w/{ws}/roles/new/preview?part=bulk", fields, htmx=True))
    assert not any(box(live, k).has_attr("checked") for k in contacts)
    assert box(live, "campaigns.view").has_attr("checked")


def test_T7_the_bulk_toggle_leaves_locked_boxes_as_they_are(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    role = custom_role(demo, "telephony", "Ops", "administrator")
    doc = soup(admin.get(f"/w/{ws}/roles/{role}"))
    assert doc.select("#bulk-numbers") == []  # every box of Numbers is locked: nothing to toggle
    fields = [*form_fields(one(doc, "form#role-form")), ("bulk", "reports:on")]
    # without JavaScript: the button posts the form to the preview page
    page = soup(admin.post(f"/w/{ws}/roles/{role}/preview", fields))
    assert page.html is not None
    assert box(page, "reports.manage").has_attr("checked")
    assert one(page, "#impact-gained").get_text(strip=True).endswith("Manage reports")
    fields = [*form_fields(one(page, "form#role-form")), ("bulk", "reports:off")]
    page = soup(admin.post(f"/w/{ws}/roles/{role}/preview", fields))
    assert not box(page, "reports.manage").has_attr("checked")
    locked = box(page, "reports.view")  # the Administrator license's floor stays on
    assert locked.has_attr("checked")
    assert locked.has_attr("disabled")


def _feedback(doc: BeautifulSoup | Tag, permission: str) -> tuple[Tag, Tag]:
    """The note of a box and its cell, checking the box names the note."""
    checkbox = box(doc, permission)
    note = one(doc, f"#note-{permission.replace('.', chr(92) + '.')}")
    assert note.find_parent("tr") is row_of(doc, permission)  # in the row of its box
    assert f"note-{permission}" in str(checkbox["aria-describedby"]).split()
    assert f"dep-{permission}" in str(checkbox["aria-describedby"]).split()  # E6 notices (script)
    cell = checkbox.find_parent("td")
    assert cell is not None
    one(cell, f"[id='dep-{permission}'][role=status]")
    return note, cell


def test_E6_a_missing_requirement_is_said_in_the_row_of_the_box_that_needs_it(admin: Web, demo: Demo) -> None:
    ws = demo.ws("email_marketing")
    fields = [("name", "Media"), ("level", "account_administrator"), ("grants", "assets.manage_media")]
    page = soup(admin.post(f"/w/{ws}/roles/new/preview", fields))
    note, cell = _feedback(page, "assets.manage_media")
    assert one(note, ".note").get_text() == "needs View Media"
    assert one(cell, "details.why .rule").get_text() == "E6"
    # with htmx, each tick re-sends the notes beside the boxes, out of band
    live = soup(admin.post(f"/w/{ws}/roles/new/preview?part=preview", fields, htmx=True))
    oob = one(live, "[id='note-assets.manage_media'][hx-swap-oob=true]")
    assert oob["data-state"] == "inert"
    assert one(oob, ".note").get_text() == "needs View Media"
    assert live.select("input[name=grants]") == []  # the boxes themselves are not replaced
    fields.append(("grants", "assets.view_media"))
    live = soup(admin.post(f"/w/{ws}/roles/new/preview?part=preview", fields, htmx=True))
    oob = one(live, "[id='note-assets.manage_media'][hx-swap-oob=true]")
    assert oob["data-state"] == "on"
    assert oob.select(".note") == []


def test_E5_K1_N2_the_plan_the_level_and_the_seat_are_said_in_the_row_of_the_box(admin: Web, demo: Demo) -> None:
    ws = demo.ws("email_marketing")
    set_features(demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, features=["basic_crm"])  # SMS off
    note, cell = _feedback(soup(admin.get(f"/w/{ws}/roles/new")), "settings.text_messaging")
    assert one(note, ".note").get_text() == "needs SMS"
    assert one(cell, "details.why .rule").get_text() == "E5"
    note, cell = _feedback(soup(admin.get(f"/w/{demo.ws('catalyst')}/roles/new")), "members.invite")
    assert one(note, ".note").get_text() == "not in Limited"
    assert "Above the Limited access level" in note.get_text()
    assert one(cell, "details.why .rule").get_text() == "K1"
    note, cell = _feedback(soup(admin.get(f"/w/{demo.ws('natero')}/roles/new")), "accounts.csm_seat")
    assert one(note, ".note").get_text() == "takes a CSM seat"
    assert "without it, an Analyst seat" in note.get_text()
    assert one(cell, "details.why .rule").get_text() == "N2"


@pytest.mark.parametrize("preset", sorted(EDITORS))
def test_no_rule_code_in_the_grids_own_words(admin: Web, demo: Demo, preset: str) -> None:
    """Notes, their explanations (tooltips, screen readers), headers, toggles and the
    legend say it in words; the code is only behind "Why?". (Area and permission
    descriptions are the preset's text, outside the grid's words.)"""
    path, _ = EDITORS[preset]
    doc = soup(admin.get(f"/w/{demo.ws(preset)}{path}"))
    live = one(doc, "#editor-live")
    for why in live.select("details.why"):
        why.decompose()
    for description in live.select(".area-description"):
        description.decompose()
    said = re.compile("locked|unavailable|inert|gated")  # a plain box's explanation is its preset description
    texts = [t.get_text(" ") for t in live.select(".note, thead, tr.area-head, p.legend, #preview-live, #new-role-fields")]
    texts += [t.get_text(" ") for t in live.select(".cell-note") if said.fullmatch(str(t["data-state"]))]
    texts += [str(s["title"]) for s in live.select("span.perm[title]") if s.find("input", attrs={"data-state": said})]
    assert len(texts) > 5
    offending = [t for t in texts if CODE.search(t)]
    assert offending == []


def test_validation_shows_after_interaction_only(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    doc = soup(admin.get(f"/w/{ws}/roles/new"))
    assert doc.select("#refused, #preview-refusal, li.violation") == []  # first load: nothing to correct yet
    fields = form_fields(one(doc, "form#role-form"))
    assert ("touched", "") in fields
    # a box ticked before the name was typed in: the preview, not "name required"
    live = soup(admin.post(f"/w/{ws}/roles/new/preview?part=preview", [*fields, ("grants", "reports.manage")], htmx=True))
    assert live.select("li.violation") == []
    assert one(live, "#impact-new").get_text().startswith("A new role: it grants")  # the impact, previewed
    # the name typed in, then emptied: now it is said
    touched = [(k, "name" if k == "touched" else v) for k, v in fields]
    r = admin.post(f"/w/{ws}/roles/new/preview?part=preview", [*touched, ("grants", "reports.manage")], htmx=True)
    assert r.status_code == 422
    assert one(soup(r), "#preview-refusal li.violation")
    # without JavaScript, a bulk toggle is no request to check the name either ...
    page = soup(admin.post(f"/w/{ws}/roles/new/preview", [*fields, ("bulk", "reports:on")]))
    assert page.select("#refused") == []
    assert box(page, "reports.manage").has_attr("checked")
    # ... "Preview changes" is
    r = admin.post(f"/w/{ws}/roles/new/preview", fields)
    assert r.status_code == 422
    assert one(soup(r), "#refused li.violation")
    # saving checks everything
    r = admin.post(f"/w/{ws}/roles", [*fields, ("grants", "reports.manage")])
    assert r.status_code == 422
    assert one(soup(r), "#refused li.violation")


def test_K6_the_create_flow_sets_field_permissions_in_one_aligned_table(admin: Web, demo: Demo) -> None:
    ws = demo.ws("catalyst")
    doc = soup(admin.get(f"/w/{ws}/roles/new"))
    table = one(doc, "#role-form #new-role-fields table#new-field-grid")
    assert [th.get_text() for th in table.select("thead th")] == ["Field", "Read", "Write"]
    assert [str(tb["data-object"]) for tb in table.select("tbody.object-fields")] == ["account", "contact", "opportunity", "custom_object"]
    assert all(width(tr) == 3 for tr in table.select("tbody tr"))
    locked = one(table, "#read-account\\.name")  # K7: the reason beside the box, the code behind Why?
    cell = locked.find_parent("td")
    assert cell is not None
    reason = one(cell, f"#{locked['aria-describedby']}".replace(".", "\\."))
    assert "cannot be removed" in reason.get_text()
    assert not CODE.search(reason.get_text())
    assert one(cell, "details.why .rule").get_text() == "K7"
    # a bulk toggle keeps the field choices (a level change starts them over, K8)
    fields = [*form_fields(one(doc, "form#role-form")), ("name", "Notes"), ("read:custom_object.name", "1"), ("bulk", "notes:on")]
    live = soup(admin.post(f"/w/{ws}/roles/new/preview?part=bulk", fields, htmx=True))
    assert one(live, "#read-custom_object\\.name").has_attr("checked")
    # created in one go: grants and field permissions
    fields = [*form_fields(one(doc, "form#role-form")), ("name", "Notes"), ("level", "standard"), ("read:custom_object.name", "1"), ("write:custom_object.name", "1")]
    r = admin.post(f"/w/{ws}/roles", [(k, v) for k, v in fields if k != "level"] + [("level", "standard")])
    assert r.status_code == 303, r.text
    with demo.rolegate.uow() as uow:
        role = next(i.role for i in uow.roles.all(ws) if i.role.name == "Notes")
    assert role.field_access[("custom_object", "name")].label == "write"


def test_N1_N2_a_full_seat_is_said_in_the_row_of_the_box_that_takes_it(admin: Web, demo: Demo) -> None:
    ws = demo.ws("natero")
    field_csm = custom_role(demo, "natero", "Field CSM", grants=("accounts.csm_seat",), landing="my_accounts")
    add_member(demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, email="ivy@example.com", role_id=field_csm)  # 5 of 5 CSM seats
    form = one(soup(admin.get(f"/w/{ws}/roles/guest")), "form#role-form")
    fields = [*form_fields(form), ("grants", "accounts.csm_seat")]  # the invited Guest would take a sixth
    live = soup(admin.post(f"/w/{ws}/roles/guest/preview?part=preview", fields, htmx=True))
    note = one(live, "[id='note-accounts.csm_seat'][hx-swap-oob=true]")
    refusal = one(note, ".cell-refusal")
    assert refusal["data-rule"] == "N1"
    assert refusal.get_text(" ", strip=True).startswith("No free CSM seat")
    assert not CODE.search(refusal.get_text())
    assert live.select("[id='note-accounts.view_all'] .cell-refusal") == []  # only at the box that caused it
    page = soup(admin.post(f"/w/{ws}/roles/guest/preview", fields))  # without JavaScript, the same row
    assert "No free CSM seat" in one(row_of(page, "accounts.csm_seat"), ".cell-refusal").get_text()
