"""Roles & Permissions pages: the list (T3, seats N1/K2), the editor (T5, T7, K4, K6,
N2, N4, E4/E5, E6), saving through the services (N6 refusals shown, form kept), the
change preview (N2 seat moves) and delete (T8, T9, N7)."""

from __future__ import annotations

from typing import Any

import pytest
from bs4 import BeautifulSoup, Tag

from rolegate.domain import schema as schema_module
from rolegate.domain.roles import Role
from rolegate.domain.schema import ProductSchema
from rolegate.domain.workspace import Actor
from rolegate.engine import Record
from rolegate.services import role_preview
from rolegate.services.members import add_member
from rolegate.services.records import upsert_record
from rolegate.services.role_preview import preview_role_change
from rolegate.services.roles import changed_role, create_role, create_role_written, roles_page, update_role_written
from rolegate.services.workspaces import set_features
from rolegate.store.repositories import RoleInfo
from tests.web.conftest import Web, form_fields, one, set_field, soup, violations, without
from tests.web.demo import CSM_EMAIL, CSM_PASSWORD, Demo

PLATFORM = Actor.system("test")


def box(doc: BeautifulSoup | Tag, permission: str) -> Tag:
    return one(doc, f'input[name=grants][value="{permission}"]')


def roles_rows(doc: BeautifulSoup) -> dict[str, Tag]:
    return {str(tr["data-role-name"]): tr for tr in doc.select("table.roles-table tbody tr")}


def custom_role(demo: Demo, preset: str, name: str, level: str | None = None, grants: tuple[str, ...] = (), landing: str | None = None) -> str:
    role = create_role(demo.rolegate.uow(), actor=PLATFORM, workspace_id=demo.ws(preset), name=name, level=level, grants=grants, landing_page=landing)
    return role.id


# -- the list -----------------------------------------------------------------------------


def test_T3_the_roles_list_shows_type_level_description_counts_and_dates(admin: Web, demo: Demo) -> None:
    doc = soup(admin.get(f"/w/{demo.ws('telephony')}/roles"))
    headers = [th.get_text() for th in doc.select("table.roles-table thead th")]
    assert headers == ["Role", "Type", "License", "Seat", "Description", "Active", "Invited", "Created", "Updated", "Actions"]  # T3's words
    rows = roles_rows(doc)
    assert list(rows) == ["Owner", "Administrator", "Analyst"]
    analyst = rows["Analyst"]
    cells = [td.get_text(strip=True) for td in analyst.select("td")]
    assert cells[:6] == ["Standard", "Analyst", "none", "Views Reports only.", "1", "1"]  # bob active, carol invited; dan disabled
    assert analyst.select("time")[0]["datetime"]
    assert one(doc, "#add-role")["href"] == f"/w/{demo.ws('telephony')}/roles/new"


def test_T3_the_roles_list_as_a_fragment(admin: Web, demo: Demo) -> None:
    doc = soup(admin.get(f"/w/{demo.ws('telephony')}/roles", htmx=True))
    assert doc.html is None
    assert doc.select("header, nav, form.switcher") == []
    assert len(doc.select("table.roles-table tbody tr")) == 3


def test_N1_seat_usage_per_seat_type(admin: Web, demo: Demo) -> None:
    doc = soup(admin.get(f"/w/{demo.ws('natero')}/roles"))
    seats = {str(li["data-seat"]): li.select_one(".seat-usage").get_text(" ", strip=True) for li in doc.select("li.seat")}  # type: ignore[union-attr]
    # CSM seats: the admin (CSM Manager), Ann, Bob, Nina; Analyst seats: Eve and Carol (invited); Dan is disabled
    assert seats == {"csm": "4 / 5", "analyst": "2 / 5"}
    assert one(doc, "li.seat[data-seat=csm] meter")["value"] == "4"
    assert roles_rows(doc)["Guest"].select_one(".seat-of").get_text() == "Analyst seat"  # type: ignore[union-attr]


def test_K2_levels_consume_editor_and_viewer_licenses(admin: Web, demo: Demo) -> None:
    doc = soup(admin.get(f"/w/{demo.ws('catalyst')}/roles"))
    seats = {str(li["data-seat"]): li.select_one(".used").get_text() for li in doc.select("li.seat")}  # type: ignore[union-attr]
    assert seats == {"editor": "3", "viewer": "1"}
    assert roles_rows(doc)["Viewer"].select_one(".seat-of").get_text() == "Viewer license"  # type: ignore[union-attr]


def test_C3_no_add_new_role_where_profiles_are_fixed(admin: Web, demo: Demo) -> None:
    doc = soup(admin.get(f"/w/{demo.ws('customersuccessbox')}/roles"))
    assert doc.select("#add-role") == []
    assert doc.select(".clone-button") == []


def test_T8_standard_roles_offer_no_delete_custom_roles_do(admin: Web, demo: Demo) -> None:
    custom_role(demo, "telephony", "Support", "analyst")
    rows = roles_rows(soup(admin.get(f"/w/{demo.ws('telephony')}/roles")))
    assert rows["Owner"].select(".delete-link") == []
    delete = one(rows["Support"], ".delete-link")
    assert delete["hx-get"] == delete["href"]
    assert delete["hx-target"] == "#dialog-content"


# -- the editor ---------------------------------------------------------------------------


def test_T7_an_administrator_license_locks_its_floor(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    doc = soup(admin.get(f"/w/{ws}/roles/administrator"))
    numbers = box(doc, "numbers.manage")
    assert numbers.has_attr("checked")
    assert numbers.has_attr("disabled")
    assert numbers["data-state"] == "locked"
    wrapper = numbers.find_parent("span")
    assert wrapper is not None
    assert str(wrapper["title"]).startswith("Part of the Administrator license:")  # issue 15: no code in the text
    assert "Part of the Administrator license" in one(doc, "#note-numbers\\.manage").get_text()
    row = numbers.find_parent("tr")
    assert row is not None
    assert one(row, "details.why .rule").get_text() == "T5"  # the code, behind "Why?" in the box's row
    # View/Manage columns where the preset pairs them (T7), in the role's one table
    assert [th.get_text() for th in doc.select("#perm-grid thead th")] == ["Permission", "View", "Manage"]
    assert one(doc, "#perm-grid tbody.area[data-area=numbers] th[scope=rowgroup]").get_text(" ", strip=True).startswith("Numbers")
    # not in the floor: free to grant (T2)
    assert not box(doc, "reports.manage").has_attr("disabled")


def test_T5_permissions_above_the_license_are_disabled_with_the_reason(admin: Web, demo: Demo) -> None:
    doc = soup(admin.get(f"/w/{demo.ws('telephony')}/roles/analyst"))
    billing = box(doc, "account.billing")
    assert billing.has_attr("disabled")
    assert not billing.has_attr("checked")
    assert billing["data-state"] == "unavailable"
    assert "Above the Analyst license" in one(doc, "#note-account\\.billing").get_text()


def test_T7_a_locked_box_cannot_be_unticked_by_posting_without_it(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    role = custom_role(demo, "telephony", "Ops", "administrator")
    form = one(soup(admin.get(f"/w/{ws}/roles/{role}")), "form#role-form")
    fields = form_fields(form)
    assert ("grants", "numbers.manage") not in fields  # a disabled box is not posted
    r = admin.post(f"/w/{ws}/roles/{role}", [*fields, ("grants", "reports.manage")])
    assert r.status_code == 303
    doc = soup(admin.get(f"/w/{ws}/roles/{role}"))
    assert box(doc, "numbers.manage").has_attr("checked")  # still on: part of the license
    assert box(doc, "reports.manage").has_attr("checked")


def test_T7_create_a_custom_role_with_the_administrator_license(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    r = admin.post(f"/w/{ws}/roles", {"name": "Night shift", "description": "Covers nights", "level": "administrator", "grants": "reports.manage"})
    assert r.status_code == 303
    assert r.headers["location"] == f"/w/{ws}/roles"
    doc = soup(admin.get(r.headers["location"]))
    assert one(doc, ".flash").get_text() == "Role “Night shift” created."
    row = roles_rows(doc)["Night shift"]
    assert [td.get_text(strip=True) for td in row.select("td")][:4] == ["Custom", "Administrator", "none", "Covers nights"]
    editor = soup(admin.get(str(one(row, "th a")["href"])))
    assert box(editor, "users.manage")["data-state"] == "locked"
    assert box(editor, "reports.manage").has_attr("checked")


def test_the_new_role_form(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    doc = soup(admin.get(f"/w/{ws}/roles/new"))
    form = one(doc, "form#role-form")
    assert form["action"] == f"/w/{ws}/roles"
    boxes = one(form, "fieldset.permissions")
    assert boxes["hx-post"] == f"/w/{ws}/roles/new/preview?part=preview"
    assert boxes["hx-target"] == "#preview-live"
    assert boxes["hx-include"] == "#role-form"
    level = one(form, "#role-level")
    assert level["hx-post"] == f"/w/{ws}/roles/new/preview?part=grid"
    assert level["hx-target"] == "#editor-live"
    assert [o["value"] for o in doc.select("#role-level option")] == ["analyst", "administrator", "owner"]
    assert one(doc, "#save-role").get_text() == "Create role"
    assert box(doc, "reports.view")["data-state"] == "locked"  # the Analyst license
    assert box(doc, "numbers.manage")["data-requires"] == "numbers.view"  # E6 hint for the script
    fragment = soup(admin.get(f"/w/{ws}/roles/new", htmx=True))
    assert fragment.html is None
    assert one(fragment, "form#role-form")


def test_a_refused_create_keeps_the_form(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    r = admin.post(f"/w/{ws}/roles", {"name": "Analyst", "description": "dup", "level": "owner", "grants": "account.audit"})
    assert r.status_code == 409
    doc = soup(r)
    assert violations(one(doc, "#refused")) == ["name_taken"]  # plain validation: no seed rule
    assert "already exists" in one(doc, "#refused .message").get_text()
    assert one(doc, "#refused .fix").get_text(strip=True) == "What to do:Choose another name."
    assert one(doc, "#role-name")["value"] == "Analyst"
    assert one(doc, "#role-description").get_text() == "dup"
    assert one(doc, "#role-level option[selected]")["value"] == "owner"
    assert box(doc, "account.audit").has_attr("checked")


def test_K4_a_catalyst_system_role_opens_read_only(admin: Web, demo: Demo) -> None:
    doc = soup(admin.get(f"/w/{demo.ws('catalyst')}/roles/member"))
    notice = one(doc, "#read-only-notice")
    assert notice["data-rule"] == "K4"
    assert "cannot be edited." in notice.get_text()
    assert one(notice, "details.why .rule").get_text() == "K4"  # issue 15: the code behind "Why?"
    form = one(doc, "form#role-form")
    assert form.select("[hx-post]") == []
    fields = form.select("input:not([type=hidden]), select, textarea")
    assert fields
    assert all(f.has_attr("disabled") for f in fields)
    assert doc.select("#save-role") == []
    rows = roles_rows(soup(admin.get(f"/w/{demo.ws('catalyst')}/roles")))
    assert one(rows["Member"], ".edit-link").get_text() == "View"


def test_K4_saving_a_catalyst_system_role_is_refused(admin: Web, demo: Demo) -> None:
    ws = demo.ws("catalyst")
    r = admin.post(f"/w/{ws}/roles/member", {"name": "Member", "description": "changed"})
    assert r.status_code == 409
    assert violations(one(soup(r), "#refused")) == ["K4"]


def test_K6_the_level_of_a_saved_custom_role_is_read_only(admin: Web, demo: Demo) -> None:
    ws = demo.ws("catalyst")
    role = custom_role(demo, "catalyst", "Reader", "limited")
    doc = soup(admin.get(f"/w/{ws}/roles/{role}"))
    level = one(doc, "#role-level")
    assert level.has_attr("disabled")
    assert "(K6)" not in one(doc, "#level-help").get_text()
    assert one(doc, "#level-help").find_next("details").select_one(".rule").get_text() == "K6"  # type: ignore[union-attr]
    assert not one(doc, "#role-name").has_attr("disabled")
    new = soup(admin.get(f"/w/{ws}/roles/new"))
    assert not one(new, "#role-level").has_attr("disabled")


def test_N2_natero_level_follows_the_csm_seat_permission(admin: Web, demo: Demo) -> None:
    ws = demo.ws("natero")
    doc = soup(admin.get(f"/w/{ws}/roles/guest"))
    assert doc.select("#role-level") == []  # no level to choose: the permission decides (N2)
    assert one(doc, "#current-level").get_text() == "Analyst"
    assert one(doc, "#current-seat").get_text() == "Analyst seat"
    seat = box(doc, "accounts.csm_seat")
    assert not seat.has_attr("disabled")
    assert one(doc, "#role-landing option[selected]")["value"] == "dashboard"


def test_E5_a_gated_permission_without_its_feature_is_inert(admin: Web, demo: Demo) -> None:
    ws = demo.ws("email_marketing")
    set_features(demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, features=["basic_crm"])  # SMS off
    role = custom_role(demo, "email_marketing", "Texter", "account_administrator", ("contacts.view", "settings.view", "settings.text_messaging"))
    doc = soup(admin.get(f"/w/{ws}/roles/{role}"))
    texting = box(doc, "settings.text_messaging")
    assert texting.has_attr("checked")
    assert texting["data-state"] == "inert"
    wrapper = texting.find_parent("span")
    assert wrapper is not None
    assert one(wrapper, ".note").get_text() == "needs SMS"
    sms_view = box(doc, "contacts_sms.view")
    assert sms_view["data-state"] == "gated"  # not granted: still says what it needs
    assert not sms_view.has_attr("disabled")  # E5: it can be granted, it just has no effect
    matrix = soup(admin.get(f"/w/{ws}/matrix"))
    col = [str(th["data-role-id"]) for th in matrix.select("th.role-col")].index(role)
    cells = one(matrix, 'tr[data-permission="settings.text_messaging"]').select("td")
    assert cells[col]["data-cell"] == "inert"


def test_E6_a_granted_permission_without_its_requirement_is_inert(admin: Web, demo: Demo) -> None:
    ws = demo.ws("email_marketing")
    r = admin.post(f"/w/{ws}/roles/new/preview", {"name": "Media", "level": "account_administrator", "grants": "assets.manage_media"})
    doc = soup(r)
    media = box(doc, "assets.manage_media")
    assert media["data-state"] == "inert"
    assert media["data-requires"] == "assets.view_media"
    assert "needs View Media" in one(doc, "#impact-inert").get_text()


# -- saving and the preview ---------------------------------------------------------------


def test_N6_turning_off_the_csm_seat_of_a_role_whose_members_have_accounts_is_refused(admin: Web, demo: Demo) -> None:
    ws = demo.ws("natero")
    form = one(soup(admin.get(f"/w/{ws}/roles/csm")), "form#role-form")
    fields = without(form_fields(form), "grants", "accounts.csm_seat")
    fields = set_field(set_field(fields, "landing_page", "dashboard"), "description", "my edit")
    r = admin.post(f"/w/{ws}/roles/csm", fields)
    assert r.status_code == 409
    doc = soup(r)
    refused = one(doc, "#refused")
    assert violations(refused) == ["N6"]
    assert "Customer Success Manager Seat cannot be turned off" in one(refused, ".message").get_text()
    assert "Unassign those account records" in one(refused, ".fix").get_text()
    # the form as the user left it
    assert not box(doc, "accounts.csm_seat").has_attr("checked")
    assert one(doc, "#role-description").get_text() == "my edit"
    assert one(doc, "#role-landing option[selected]")["value"] == "dashboard"
    # and nothing changed
    assert box(soup(admin.get(f"/w/{ws}/roles/csm")), "accounts.csm_seat").has_attr("checked")


def test_N6_the_preview_warns_before_saving(admin: Web, demo: Demo) -> None:
    ws = demo.ws("natero")
    form = one(soup(admin.get(f"/w/{ws}/roles/csm")), "form#role-form")
    fields = set_field(without(form_fields(form), "grants", "accounts.csm_seat"), "landing_page", "dashboard")
    doc = soup(admin.post(f"/w/{ws}/roles/csm/preview?part=preview", fields, htmx=True))
    live = one(doc, "#preview-live")
    assert doc.html is None
    assert violations(one(live, "#preview-refusal")) == ["N6"]
    assert one(live, "#current-level").get_text() == "Analyst"


def test_N2_the_preview_shows_the_seat_change(admin: Web, demo: Demo) -> None:
    ws = demo.ws("natero")
    form = one(soup(admin.get(f"/w/{ws}/roles/guest")), "form#role-form")
    fields = [*form_fields(form), ("grants", "accounts.csm_seat")]
    r = admin.post(f"/w/{ws}/roles/guest/preview", fields)
    assert r.status_code == 200
    doc = soup(r)
    assert doc.html is not None  # without htmx: the whole editor, with the preview
    assert one(doc, "#preview-ok")
    assert one(doc, "#impact-holders").get_text() == "0 active and 1 invited member holds this role."
    assert "Customer Success Manager Seat" in one(doc, "#impact-gained").get_text()
    assert "from the Analyst seat to the CSM seat: 1 member moves with it" in one(doc, "#seat-move").get_text()
    assert one(doc, "#preview details.why .rule").get_text() == "N2"  # issue 15: the code behind "Why?"
    seats = {str(tr["data-seat"]): [td.get_text() for td in tr.select("td")] for tr in doc.select("table.seats-impact tbody tr")}
    assert seats == {"csm": ["4", "5", "5"], "analyst": ["2", "1", "5"]}
    assert one(doc, "#current-seat").get_text() == "CSM seat"
    fragment = soup(admin.post(f"/w/{ws}/roles/guest/preview", fields, htmx=True))
    assert fragment.html is None
    assert one(fragment, "#preview-live #seat-move")
    assert fragment.select("input") == []  # the boxes stay as they are
    grid = soup(admin.post(f"/w/{ws}/roles/guest/preview?part=grid", fields, htmx=True))
    assert one(grid, "#editor-live #preview-live #seat-move")
    assert box(grid, "accounts.csm_seat").has_attr("checked")


def test_N1_a_seat_move_beyond_capacity_is_refused(admin: Web, demo: Demo) -> None:
    ws = demo.ws("natero")
    add_member(demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, email="gus@example.com", role_id="guest")
    add_member(demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, email="hal@example.com", role_id="guest")
    form = one(soup(admin.get(f"/w/{ws}/roles/guest")), "form#role-form")
    fields = [*form_fields(form), ("grants", "accounts.csm_seat")]
    doc = soup(admin.post(f"/w/{ws}/roles/guest/preview", fields))
    assert violations(one(doc, "#preview-refusal")) == ["N1"]
    r = admin.post(f"/w/{ws}/roles/guest", fields)
    assert r.status_code == 409
    assert "No free CSM seat" in one(soup(r), "#refused .message").get_text()


def test_N2_saving_a_seat_change_changes_seat_usage(admin: Web, demo: Demo) -> None:
    ws = demo.ws("natero")
    r = admin.post(f"/w/{ws}/roles", {"name": "Field CSM", "landing_page": "my_accounts", "grants": "accounts.csm_seat"})
    assert r.status_code == 303
    role = next(i.role.id for i in _roles(demo, "natero") if i.role.name == "Field CSM")
    add_member(demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, email="ivy@example.com", role_id=role)
    doc = soup(admin.get(f"/w/{ws}/roles"))
    assert one(doc, "li.seat[data-seat=csm] .used").get_text() == "5"
    assert roles_rows(doc)["Field CSM"].select_one(".seat-of").get_text() == "CSM seat"  # type: ignore[union-attr]


def test_N4_a_landing_page_the_role_cannot_open_is_refused(admin: Web, demo: Demo) -> None:
    ws = demo.ws("natero")
    r = admin.post(f"/w/{ws}/roles", {"name": "Lost", "landing_page": "settings", "grants": "accounts.view_all"})
    assert r.status_code == 409
    assert violations(one(soup(r), "#refused")) == ["N4"]


def test_saving_redirects_htmx_with_a_header(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    form = one(soup(admin.get(f"/w/{ws}/roles/analyst")), "form#role-form")
    r = admin.post(f"/w/{ws}/roles/analyst", [*form_fields(form), ("grants", "numbers.view")], htmx=True)
    assert r.status_code == 200
    assert r.headers["hx-redirect"] == f"/w/{ws}/roles"
    assert box(soup(admin.get(f"/w/{ws}/roles/analyst")), "numbers.view").has_attr("checked")


def test_saving_needs_the_csrf_token(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    r = admin.post(f"/w/{ws}/roles/analyst", {"name": "Analyst", "grants": "numbers.view"}, csrf=False)
    assert r.status_code == 403
    assert one(soup(r), "[data-problem]")["data-problem"] == "csrf_failed"


def test_clone_makes_a_custom_copy_and_opens_it(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    r = admin.post(f"/w/{ws}/roles/administrator/clone")
    assert r.status_code == 303
    doc = soup(admin.get(r.headers["location"]))
    assert one(doc, "#role-name")["value"] == "Administrator (copy)"
    assert "created as a copy" in one(doc, ".flash").get_text()
    assert box(doc, "numbers.manage")["data-state"] == "locked"


# -- delete ---------------------------------------------------------------------------------


def test_T9_delete_asks_for_confirmation_and_says_it_is_irreversible(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    role = custom_role(demo, "telephony", "Temp", "analyst")
    doc = soup(admin.get(f"/w/{ws}/roles/{role}/delete"))
    assert one(doc, "#dialog-title").get_text() == "Delete role Temp?"
    assert one(doc, "#irreversible").get_text() == "Deleting a role is irreversible. It cannot be undone."
    assert one(doc, "details.why .rule").get_text() == "T9"  # issue 15: the rule behind "Why?"
    form = one(doc, "#delete-confirm form")
    assert form["action"] == f"/w/{ws}/roles/{role}/delete"
    fragment = soup(admin.get(f"/w/{ws}/roles/{role}/delete", htmx=True))
    assert fragment.html is None
    assert one(fragment, "#confirm-delete")
    r = admin.post(f"/w/{ws}/roles/{role}/delete")
    assert r.status_code == 303
    listing = soup(admin.get(r.headers["location"]))
    assert "Temp" not in roles_rows(listing)
    assert one(listing, ".flash").get_text() == "Role “Temp” deleted."


def test_T9_deleting_a_custom_role_with_members_is_refused(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    role = custom_role(demo, "telephony", "Busy", "analyst")
    add_member(demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, email="jo@example.com", role_id=role)
    doc = soup(admin.get(f"/w/{ws}/roles/{role}/delete"))
    assert violations(one(doc, "#delete-refused")) == ["T9"]
    assert doc.select("#confirm-delete") == []
    r = admin.post(f"/w/{ws}/roles/{role}/delete")
    assert r.status_code == 409
    refused = soup(r)
    assert violations(one(refused, "#delete-refused")) == ["T9"]
    assert "assigned to 1 active and 0 invited" in one(refused, ".message").get_text()
    assert "Busy" in roles_rows(soup(admin.get(f"/w/{ws}/roles")))


def test_T8_a_standard_role_cannot_be_deleted(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    doc = soup(admin.get(f"/w/{ws}/roles/analyst/delete"))
    assert violations(one(doc, "#delete-refused")) == ["T8"]
    assert admin.post(f"/w/{ws}/roles/analyst/delete").status_code == 409


def test_N7_a_role_whose_members_have_accounts_cannot_be_deleted(admin: Web, demo: Demo) -> None:
    ws = demo.ws("natero")
    role = custom_role(demo, "natero", "Key accounts", None, ("accounts.csm_seat",), "my_accounts")
    member = add_member(demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, email="kim@example.com", role_id=role)
    upsert_record(demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, record=Record("account", "stark", assignee=member.member.id))
    doc = soup(admin.get(f"/w/{ws}/roles/{role}/delete"))
    assert violations(one(doc, "#delete-refused")) == ["N7", "role_in_use"]  # T9 is telephony's: Natero cites no other product's rule


def test_unknown_role_is_not_found(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    r = admin.get(f"/w/{ws}/roles/nope")
    assert r.status_code == 404
    assert one(soup(r), "[data-problem]")["data-problem"] == "not_found"
    assert admin.get(f"/w/{ws}/roles/nope/delete").status_code == 404


def _roles(demo: Demo, preset: str) -> list[RoleInfo]:
    with demo.rolegate.uow() as uow:
        return uow.roles.all(demo.ws(preset))


def test_the_preview_and_the_delete_confirmation_change_nothing(admin: Web, demo: Demo) -> None:
    """They run the real use cases in a transaction that is rolled back: no revision, no audit event."""
    ws = demo.ws("natero")

    def state() -> tuple[int | None, int]:
        with demo.rolegate.uow() as uow:
            return uow.workspaces.revision(ws), len(uow.audit.all(ws))

    before = state()
    form = one(soup(admin.get(f"/w/{ws}/roles/guest")), "form#role-form")
    doc = soup(admin.post(f"/w/{ws}/roles/guest/preview", [*form_fields(form), ("grants", "accounts.csm_seat")], htmx=True))
    assert one(doc, "#preview-ok")
    doc = soup(admin.post(f"/w/{ws}/roles/new/preview", {"name": "Draft", "landing_page": "dashboard", "grants": "accounts.view_all"}, htmx=True))
    assert one(doc, "#preview-ok")
    assert one(soup(admin.get(f"/w/{ws}/roles/csm/delete")), "#delete-refused")
    assert state() == before
    assert "Draft" not in roles_rows(soup(admin.get(f"/w/{ws}/roles")))


def test_N12_a_member_without_the_right_can_neither_open_nor_save_a_role(web: Web, demo: Demo) -> None:
    web.login(CSM_EMAIL, CSM_PASSWORD)
    ws = demo.ws("natero")
    for r in (
        web.get(f"/w/{ws}/roles/new"),
        web.post(f"/w/{ws}/roles/csm", {"name": "CSM", "grants": "settings.configure_product"}),
        web.post(f"/w/{ws}/roles", {"name": "Mine", "landing_page": "dashboard"}),
        web.post(f"/w/{ws}/roles/csm/delete"),
    ):
        assert r.status_code == 403
        assert one(soup(r), ".rule").get_text() == "N12"


# -- the preview shows the role the use case builds -----------------------------------------


def test_the_preview_shows_the_role_saving_writes(demo: Demo) -> None:
    # The use case trims the name; a preview that derived the role again kept the
    # padding, so it showed a role that saving would not write.
    ws = demo.ws("telephony")
    role_id = custom_role(demo, "telephony", "Support", "analyst")
    preview = preview_role_change(
        demo.rolegate.reader(),
        actor=PLATFORM,
        workspace_id=ws,
        role_id=role_id,
        name="  Support desk  ",
        level="analyst",
        grants=("reports.view",),
        description="Calls",
    )
    assert not preview.refusal
    saved = update_role_written(
        demo.rolegate.uow(),
        actor=PLATFORM,
        workspace_id=ws,
        role_id=role_id,
        name="  Support desk  ",
        level="analyst",
        grants=("reports.view",),
        description="Calls",
    )
    assert preview.after == saved.written
    assert preview.after.name == saved.role.name == "Support desk"
    new = preview_role_change(
        demo.rolegate.reader(),
        actor=PLATFORM,
        workspace_id=ws,
        role_id=None,
        name=" Night shift ",
        level="analyst",
        grants=(),
    )
    assert new.after.name == "Night shift"


def test_the_preview_builds_the_role_with_the_use_cases_builder_once(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = demo.ws("telephony")
    role_id = custom_role(demo, "telephony", "Support", "analyst")
    built: list[Role] = []

    def spy(schema: ProductSchema, before: Role, **changes: Any) -> Role:
        role = changed_role(schema, before, **changes)
        built.append(role)
        return role

    monkeypatch.setattr(role_preview, "changed_role", spy)
    preview = preview_role_change(
        demo.rolegate.reader(),
        actor=PLATFORM,
        workspace_id=ws,
        role_id=role_id,
        name="Support",
        level="analyst",
        grants=(),
    )
    assert len(built) == 1
    assert preview.after is built[0]


def test_saving_a_role_answers_with_what_it_wrote_and_the_revision(demo: Demo) -> None:
    ws = demo.ws("telephony")
    before = roles_page(demo.rolegate.reader(), actor=PLATFORM, workspace_id=ws).revision
    written = create_role_written(
        demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, name=" Night shift ", level="analyst"
    )
    assert written.revision == before + 1
    assert (written.role.name, written.role.type, written.role.active_members) == ("Night shift", "custom", 0)
    listed = roles_page(demo.rolegate.reader(), actor=PLATFORM, workspace_id=ws)
    assert listed.revision == written.revision
    assert written.role in listed.roles


def test_the_editor_cites_the_rule_ids_the_product_schema_names(admin: Web, demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    own, rule = {"landing_page": "X4", "role_copy": "X9"}, schema_module.ProductSchema.rule
    monkeypatch.setattr(schema_module.ProductSchema, "rule", lambda self, name: own.get(name) or rule(self, name))
    ws = demo.ws("natero")
    doc = soup(admin.get(f"/w/{ws}/roles/new"))
    assert one(doc, "#landing-help").get_text() == "Where members with this role land after logging in."
    assert one(doc, "#landing-help").find_next("details").select_one(".rule").get_text() == "X4"  # type: ignore[union-attr]
    role = custom_role(demo, "natero", "Renewals", grants=("accounts.csm_seat",), landing="my_accounts")
    copy_page = soup(admin.get(f"/w/{ws}/roles/{role}/copy"))
    assert one(copy_page, "details.why .rule").get_text() == "X9"


def test_E2_the_form_creates_a_custom_role_from_a_name_and_permissions(admin: Web, demo: Demo) -> None:
    ws = demo.ws("email_marketing")
    r = admin.post(f"/w/{ws}/roles", {"name": "Contact editors", "grants": "contacts.view"})
    assert r.status_code == 303, r.text
    doc = soup(admin.get(r.headers["location"]))
    assert one(doc, ".flash").get_text() == "Role “Contact editors” created."
    assert "Contact editors" in roles_rows(doc)


def test_E2_the_new_role_form_offers_only_the_levels_custom_roles_may_have(admin: Web, demo: Demo) -> None:
    ws = demo.ws("email_marketing")
    doc = soup(admin.get(f"/w/{ws}/roles/new"))
    assert [str(o["value"]) for o in doc.select("#role-level option")] == ["account_administrator"]


def test_a_delete_page_cites_no_neutral_code_where_the_product_has_no_seed_rule(admin: Web, demo: Demo) -> None:
    """Catalyst's article has no rule for a role in use: its page says the delete is
    irreversible and shows no code (a product-neutral code like `role_in_use` is for the
    API and logs, never the page's text)."""
    ws = demo.ws("catalyst")
    role = custom_role(demo, "catalyst", "Temp", "standard")
    text = one(soup(admin.get(f"/w/{ws}/roles/{role}/delete")), "#irreversible").get_text()
    assert text.startswith("Deleting a role is irreversible.")
    assert "role_in_use" not in text
