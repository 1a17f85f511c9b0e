"""Issue 14 in the admin pages: deleting a role still held with a replacement where the
article allows it (N7) and not where it forbids it (T9)."""

from __future__ import annotations

from rolegate.domain.workspace import Actor
from rolegate.services.members import add_member
from rolegate.services.roles import create_role
from tests.web.conftest import Web, one, soup, violations
from tests.web.demo import Demo

PLATFORM = Actor.system("test")


def _role_of(demo: Demo, preset: str, member: str) -> str:
    with demo.rolegate.uow() as uow:
        return next(i.member.role for i in uow.members.all(demo.ws(preset)) if i.member.id == member)


def test_N7_the_delete_confirmation_offers_a_replacement_and_moves_the_members(admin: Web, demo: Demo) -> None:
    ws = demo.ws("natero")
    role = create_role(
        demo.rolegate.uow(),
        actor=PLATFORM,
        workspace_id=ws,
        name="Temps",
        grants=("accounts.view_all",),
        landing_page="all_accounts",
    ).id
    kim = add_member(
        demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, email="kim@example.com", role_id=role
    ).member.id
    doc = soup(admin.get(f"/w/{ws}/roles/{role}/delete"))
    assert doc.select("#delete-refused") == []
    options = {o["value"]: o.get_text() for o in one(doc, "#delete-confirm select[name=replacement]").select("option")}
    assert role not in options
    assert options["guest"] == "Guest"
    r = admin.post(f"/w/{ws}/roles/{role}/delete", {"replacement": "guest"})
    assert r.status_code == 303, r.text
    assert _role_of(demo, "natero", kim) == "guest"
    assert one(soup(admin.get(r.headers["location"])), ".flash").get_text() == "Role “Temps” deleted."
    # T9: where the article forbids it, no replacement is offered and one posted is refused.
    ws = demo.ws("telephony")
    role = create_role(demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, name="Busy", level="analyst").id
    jo = add_member(
        demo.rolegate.uow(), actor=PLATFORM, workspace_id=ws, email="jo@example.com", role_id=role
    ).member.id
    doc = soup(admin.get(f"/w/{ws}/roles/{role}/delete"))
    assert doc.select("select[name=replacement]") == []
    r = admin.post(f"/w/{ws}/roles/{role}/delete", {"replacement": "analyst"})
    assert r.status_code == 409
    assert violations(one(soup(r), "#delete-refused")) == ["T9"]
    assert _role_of(demo, "telephony", jo) == role


def test_K6_K8_the_new_role_form_sets_field_permissions_per_object_in_the_same_step(admin: Web, demo: Demo) -> None:
    ws = demo.ws("catalyst")
    doc = soup(admin.get(f"/w/{ws}/roles/new"))
    fields = one(doc, "#role-form #new-role-fields")
    assert [s["data-object"] for s in fields.select("tbody.object-fields")] == [
        "account",
        "contact",
        "opportunity",
        "custom_object",
    ]
    # K8: the standard objects start as the level (Limited: read only) and the integration allow ...
    assert one(fields, "#read-account\\.renewal_risk").has_attr("checked")
    assert one(fields, "#write-account\\.renewal_risk").has_attr("disabled")
    # ... the additional object starts unselected.
    assert not one(fields, "#read-custom_object\\.name").has_attr("checked")
    # The Standard level: write where the integration user allows it (K9: Contract Value read only).
    form = [("name", "Renewals"), ("level", "standard"), ("field_form", "1")]
    for box in (
        "read:account.name",
        "read:account.owner",
        "read:account.arr",
        "write:account.arr",
        "read:account.contract_value",
        "read:account.health_notes",
        "read:custom_object.name",
        "read:contact.email",
        "write:contact.email",
        "read:opportunity.name",
        "read:opportunity.stage",
    ):
        form.append((box, "1"))
    r = admin.post(f"/w/{ws}/roles", form)
    assert r.status_code == 303, r.text
    with demo.rolegate.uow() as uow:
        role = next(i.role for i in uow.roles.all(ws) if i.role.name == "Renewals")
    access = {f"{o}.{f}": a.label for (o, f), a in role.field_access.items()}
    assert access["account.arr"] == "write"
    assert access["account.health_notes"] == "read"
    assert access["account.renewal_risk"] == "none"
    assert access["account.contract_value"] == "read"
    assert access["custom_object.name"] == "read"
    assert "custom_object.status" not in access
    assert access["opportunity.next_steps"] == "none"
