"""E4, E5 in the domain: what each feature unlocks and whose access it changes (the
Features page), why a matrix cell is inert (T6), and who turns features on or off."""

from __future__ import annotations

from rolegate.domain.features import feature_overview, unlocked_by
from rolegate.domain.matrix import Cell, Inert, permission_matrix
from rolegate.domain.roles import Role, RoleKind, role_from_system
from rolegate.domain.rules.feature_rules import feature_change_violations, may_change_features
from rolegate.domain.workspace import Actor
from rolegate.presets import load_preset

EM = load_preset("email_marketing")
ANALYST = role_from_system(EM, EM.system_roles["analyst"], role_id="analyst")
EDITOR = role_from_system(EM, EM.system_roles["content_editor"], role_id="content_editor")


def test_E4_a_feature_unlocks_its_permissions_by_area_in_the_schema_order() -> None:
    areas = unlocked_by(EM, "sms")
    assert [a.label for a in areas] == ["Contacts (SMS)", "Analytics", "Settings"]
    assert [u.permission for u in areas[0].permissions] == [
        "contacts_sms.view",
        "contacts_sms.edit",
        "contacts_sms.add",
        "contacts_sms.import",
    ]
    assert [u.label for u in areas[1].permissions] == ["SMS Reports"]
    assert not any(u.partly for a in areas for u in a.permissions)


def test_E4_a_feature_that_gates_some_actions_of_a_permission_unlocks_it_in_part() -> None:
    (contacts,) = unlocked_by(EM, "contact_delete")
    edit, remove = contacts.permissions
    assert (edit.permission, edit.partly, edit.actions) == ("contacts.edit", True, ("Delete contacts",))
    assert (remove.permission, remove.partly, remove.actions) == ("contacts.remove", False, ())


def test_E5_a_role_granting_what_a_feature_unlocks_holds_it_inertly_while_it_is_off() -> None:
    by_key = {f.key: f for f in feature_overview(EM, [ANALYST, EDITOR], frozenset({"basic_crm"}))}
    assert list(by_key) == list(EM.features)
    sms = by_key["sms"]
    assert (sms.label, sms.on) == ("SMS", False)
    assert [(h.role.id, h.permissions) for h in sms.holders] == [("analyst", ("analytics.sms_reports",))]
    held = {u.permission: [r.id for r in u.held_by] for u in sms.unlocked}
    assert held["analytics.sms_reports"] == ["analyst"]
    assert held["contacts_sms.view"] == []
    assert by_key["basic_crm"].on
    assert by_key["manage_bans"].holders == ()
    assert {u.permission for u in sms.unlocked} >= {"analytics.sms_reports", "settings.text_messaging"}


def test_E5_turning_a_feature_on_makes_the_held_permissions_effective_and_their_dependants_too() -> None:
    # E6: Edit needs View; both need SMS. The role holds both through the feature.
    role = Role("r", "SMS desk", RoleKind.CUSTOM, "account_administrator", frozenset({"contacts_sms.view", "contacts_sms.edit"}))
    (sms,) = [f for f in feature_overview(EM, [role], frozenset({"sms"})) if f.key == "sms"]
    assert sms.on
    assert sms.holders[0].permissions == ("contacts_sms.view", "contacts_sms.edit")


def test_E4_a_partly_unlocked_permission_counts_for_the_roles_that_hold_it() -> None:
    role = Role("r", "Cleaner", RoleKind.CUSTOM, "account_administrator", frozenset({"contacts.view", "contacts.edit"}))
    (delete,) = [f for f in feature_overview(EM, [role], frozenset()) if f.key == "contact_delete"]
    assert [h.permissions for h in delete.holders] == [("contacts.edit",)]


def test_E5_an_inert_cell_names_the_feature_that_is_off() -> None:
    m = permission_matrix(EM, [ANALYST], frozenset({"sms"}))
    row = next(r for r in m.rows if r.permission == "analytics.purchase_reports")
    assert row.cells == (Cell.INERT,)
    assert row.inert == (Inert(feature="clickstream"),)
    on = next(r for r in m.rows if r.permission == "analytics.sms_reports")
    assert (on.cells, on.inert) == ((Cell.ON,), (None,))


def test_E6_an_inert_cell_names_the_permission_it_needs() -> None:
    role = Role("r", "Half", RoleKind.CUSTOM, "account_administrator", frozenset({"contacts.edit"}))
    m = permission_matrix(EM, [role], frozenset())
    row = next(r for r in m.rows if r.permission == "contacts.edit")
    assert row.inert == (Inert(missing=("contacts.view",)),)


def test_T6_the_matrix_filtered_to_one_area() -> None:
    m = permission_matrix(EM, [ANALYST], frozenset())
    assert m.in_area(None) is m
    sales = m.in_area("sales")
    assert sales.roles == m.roles
    assert {r.area for r in sales.rows} == {"sales"}
    assert [r.permission for r in sales.rows] == [r.permission for r in m.rows if r.area == "sales"]


def test_E4_only_the_platform_or_a_site_administrator_of_the_workspace_changes_features() -> None:
    admins = frozenset({"sam"})
    assert may_change_features(Actor.system("billing"), admins)
    assert may_change_features(Actor.site_admin("sam"), admins)
    assert not may_change_features(Actor.site_admin("other-site"), admins)
    assert not may_change_features(Actor.member("owner"), admins)
    assert feature_change_violations(EM, Actor.site_admin("sam"), admins) == []


def test_E4_a_member_is_refused_with_the_product_site_rule_and_whom_to_ask() -> None:
    (v,) = feature_change_violations(EM, Actor.member("owner"), frozenset({"sam"}))
    assert v.rule_id == "E1"
    assert "only a site administrator" in v.message
    assert v.fix == "Ask a site administrator of your organization."
    natero = load_preset("natero")
    assert feature_change_violations(natero, Actor.member("m"), frozenset())[0].rule_id == "site_admin"
