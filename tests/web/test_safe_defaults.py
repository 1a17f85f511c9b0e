"""Safe by default (issue 15, item 1): role pickers start on the least-privileged role
the schema names (`default_role:`), dangerous actions ask first and say who is
affected, and what one cannot do to oneself is not offered."""

from __future__ import annotations

import pytest

from rolegate.presets import PRESET_KEYS, load_preset
from tests.web.conftest import Web, form_fields, one, soup, violations
from tests.web.demo import ADMIN_EMAIL, Demo


@pytest.mark.parametrize("preset", PRESET_KEYS)
def test_the_invite_picker_starts_on_the_schemas_default_role(admin: Web, demo: Demo, preset: str) -> None:
    doc = soup(admin.get(f"/w/{demo.ws(preset)}/team"))
    chosen = doc.select("#invite-role option[selected]")
    assert [str(o["value"]) for o in chosen] == [load_preset(preset).default_role]


def test_telephony_invites_an_analyst_unless_told_otherwise(admin: Web, demo: Demo) -> None:
    """The issue's example: one click used to invite an Owner."""
    ws = demo.ws("telephony")
    doc = soup(admin.get(f"/w/{ws}/team"))
    one(doc, "#invite-email")["value"] = "new@example.com"
    fields = form_fields(one(doc, "#invite-form"))
    assert ("role", "analyst") in fields
    fields = [(k, "new@example.com" if k == "email" else v) for k, v in fields]
    assert admin.post(f"/w/{ws}/team/invite", fields).status_code == 303
    row = one(soup(admin.get(f"/w/{ws}/team")), 'tr[data-email="new@example.com"]')
    assert one(row, ".member-role").get_text() == "Analyst"
    # Ownership transfer: the former owner's new role starts on the least privileged too.
    assert one(soup(admin.get(f"/w/{ws}/team")), "#owner-role option[selected]")["value"] == "analyst"


def test_a_refused_invitation_keeps_the_chosen_role(admin: Web, demo: Demo) -> None:
    ws = demo.ws("telephony")
    r = admin.post(f"/w/{ws}/team/invite", {"email": "not-an-email", "name": "X", "role": "administrator"})
    assert r.status_code in (409, 422)
    assert one(soup(r), "#invite-role option[selected]")["value"] == "administrator"


def test_disable_and_transfer_ask_first_and_name_who(admin: Web, demo: Demo) -> None:
    doc = soup(admin.get(f"/w/{demo.ws('customersuccessbox')}/team"))
    ann = one(doc, 'tr[data-email="ann@example.com"]')
    disable = one(ann, 'form[action$="/disable"]')
    assert disable["data-confirm-title"] == "Disable Ann Archer?"
    assert "Ann Archer can no longer sign in" in str(disable["data-confirm"])
    # The transfer's dialog names whose records, how many (the product's word), and asks where to.
    dialog = soup(admin.get(str(one(ann, "a.transfer-link")["href"]), htmx=True))
    assert one(dialog, "#dialog-title").get_text() == "Transfer the accounts of Ann Archer"
    assert one(dialog, "#transfer-what").get_text() == "1 account of Ann Archer goes to the member you choose."
    assert [o.get_text() for o in dialog.select("form.transfer-form #transfer-to option")] == ["Avery Admin", "Bob Baker"]
    assert "{to} becomes the owner" in str(one(doc, "#ownership-form")["data-confirm"])
    assert one(doc, "#confirm-dialog")


def test_disabling_yourself_is_not_offered_and_still_refused(admin: Web, demo: Demo) -> None:
    ws = demo.ws("customersuccessbox")
    me = one(soup(admin.get(f"/w/{ws}/team")), f'tr[data-email="{ADMIN_EMAIL}"]')
    assert me.select('form[action$="/disable"]') == []
    assert me.select("a.delete-link") == []
    r = admin.post(f"/w/{ws}/team/{demo.member('customersuccessbox', ADMIN_EMAIL)}/disable")
    assert r.status_code == 409
    assert "C5" in violations(soup(r))
