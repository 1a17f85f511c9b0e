"""Deleting a member in the admin UI (N12, E7): a confirmation page names what still
names the member (assigned accounts, playbook tasks: C6) with a transfer, and the
delete frees the seat. The Team page shows each member's references (C6)."""

from __future__ import annotations

from rolegate.domain.workspace import Actor
from rolegate.services.references import ReferenceWrite, put_references
from tests.web.conftest import Web, one, soup, violations
from tests.web.demo import ADMIN_EMAIL, Demo
from tests.web.test_team import member_id


def name_in_playbook(demo: Demo, member: str) -> None:
    """The host product registers a playbook task naming `member` (the API's `POST .../references/bulk`)."""
    ref = ReferenceWrite("playbook-7/task-2", "playbook_task", "Onboarding playbook: kickoff call", member)
    put_references(
        demo.rolegate.uow(), actor=Actor.system("host"), workspace_id=demo.ws("customersuccessbox"), references=[ref]
    )


def test_C6_the_team_page_shows_the_references_and_the_delete_page_names_them(admin: Web, demo: Demo) -> None:
    base = f"/w/{demo.ws('customersuccessbox')}"
    ann = member_id(admin, base, "ann@example.com")
    bob = member_id(admin, base, "bob@example.com")
    name_in_playbook(demo, ann)
    row = one(soup(admin.get(f"{base}/team")), f'tr[data-member-id="{ann}"]')
    assert [li.get_text() for li in row.select("li.reference")] == ["Onboarding playbook: kickoff call"]
    assert one(row, "a.delete-link")["href"] == f"{base}/team/{ann}/delete"
    page = soup(admin.get(f"{base}/team/{ann}/delete"))
    blockers = one(page, "#delete-blockers")
    assert "Assigned to them: 1 account." in one(blockers, ".blocker-records").get_text()
    assert one(blockers, ".blocker-reference").get_text() == "Onboarding playbook: kickoff call"
    r = admin.post(f"{base}/team/{ann}/delete")
    assert r.status_code == 409
    assert violations(soup(r)) == ["C6", "C6"]
    assert "Onboarding playbook: kickoff call" in one(soup(r), "#refusal").get_text()
    assert admin.post(f"{base}/team/{ann}/transfer", {"to": bob}).status_code == 303
    bob_row = one(soup(admin.get(f"{base}/team")), f'tr[data-member-id="{bob}"]')
    assert [li.get_text() for li in bob_row.select("li.reference")] == ["Onboarding playbook: kickoff call"]
    assert not soup(admin.get(f"{base}/team/{ann}/delete")).select("#delete-blockers")


def test_N12_delete_a_member_after_the_confirmation_page(admin: Web, demo: Demo) -> None:
    base = f"/w/{demo.ws('natero')}"
    carol = member_id(admin, base, "carol@example.com")  # invited: holds an analyst seat
    seat_before = int(one(soup(admin.get(f"{base}/team")), 'li.seat[data-seat="analyst"] .used').get_text())
    page = soup(admin.get(f"{base}/team/{carol}/delete"))
    assert "carol@example.com" in one(page, "#delete-member").get_text()
    assert one(page, "#delete-form")["action"] == f"{base}/team/{carol}/delete"
    r = admin.post(f"{base}/team/{carol}/delete")
    assert r.status_code == 303, r.text
    doc = soup(admin.get(f"{base}/team"))
    assert "is deleted from this workspace" in one(doc, ".flash").get_text()
    assert not doc.select('tr[data-email="carol@example.com"]')
    assert int(one(doc, 'li.seat[data-seat="analyst"] .used').get_text()) == seat_before - 1
    assert admin.get(f"{base}/team/{carol}/delete").status_code == 404


def test_E7_nobody_deletes_themselves_in_the_ui(admin: Web, demo: Demo) -> None:
    base = f"/w/{demo.ws('customersuccessbox')}"
    me = member_id(admin, base, ADMIN_EMAIL)
    assert not one(soup(admin.get(f"{base}/team")), f'tr[data-member-id="{me}"]').select("a.delete-link")
    r = admin.post(f"{base}/team/{me}/delete")
    assert r.status_code == 409
    assert "C5" in violations(soup(r))
