"""The email_marketing preset (seed 003) against SEED_RULES.md section E."""

from __future__ import annotations

import pytest

from rolegate.domain.permissions import PermissionStatus, effective_permissions, resolve_permissions
from rolegate.domain.roles import Member, Role, RoleKind, role_from_system
from rolegate.domain.rules.role_rules import role_violations, system_role_violations
from rolegate.domain.schema import AdminRight, ProductSchema
from rolegate.engine import ReasonCode, Snapshot, compile_snapshot
from rolegate.presets import load_preset

ACCOUNT = "account_administrator"

# E3: the article's labels, per dashboard, in the article's order.
ARTICLE_LABELS: dict[str, list[str]] = {
    "contacts": [
        "View Contacts, Import History",
        "Add, Copy",
        "Edit, Delete, Unsubscribe",
        "Import Contacts",
        "Export Contacts",
        "Manage Bans",
        "Remove Contacts",
        "Suppression Lists",
    ],
    "contacts_sms": ["View Contacts", "Edit, Delete, Unsubscribe", "Add", "Import Contacts"],
    "companies": [
        "View Companies",
        "Add, Edit Companies",
        "Delete Companies",
        "Export Companies",
        "Edit Sales Rep and Owner",
    ],
    "segments": ["View, Test", "Add, Copy", "Edit, Delete"],
    "campaigns": [
        "View, Preview, Test, Spam Analysis",
        "Add, Copy, Clone",
        "Edit",
        "Send, Schedule, Unschedule",
        "Delete Campaigns",
    ],
    "assets": [
        "View Templates",
        "Add, Copy Draft Templates",
        "Edit, Rename, Delete Draft Templates",
        "Manage Brand Colors",
        "Manage Complete Templates",
        "Purchase Email Rendering Credits",
        "Lock/Unlock Editor Cells",
        "Change HTML in Editors",
        "View Media",
        "Manage Media",
        "View Snippets",
        "Add, Copy Snippets",
        "Edit, Rename, Delete Snippets",
        "View Stylesheets",
        "Add, Upload, Copy Stylesheets",
        "Edit, Rename, Delete Stylesheets",
        "Manage Landing Pages",
    ],
    "sales": [
        "View, Edit Sales Dashboard",
        "View Pipeline",
        "Add Pipeline",
        "Edit Pipeline",
        "Delete Pipeline",
        "Add, Edit Pipeline Stages",
        "Delete Pipeline Stages",
        "View Deals",
        "Add, Edit Deals",
        "Delete Deals",
        "View Products",
        "Add, Edit, Copy Products",
        "Delete Products",
        "View Notes",
        "Add, Edit Notes",
        "Delete Notes",
        "View Tasks",
        "Add, Edit Tasks",
        "Delete Tasks",
    ],
    "automation": ["View", "Manage Drip Campaigns", "Manage Templates"],
    "analytics": [
        "Customer Overview Reports",
        "Mailing Reports",
        "Contact Reports",
        "Purchase Reports",
        "SMS Reports",
        "Billing Reports",
        "Manage Report Groups",
        "Custom Report Builder",
    ],
    "settings": [
        "View",
        "General Account Settings",
        "Advanced Engagement Scoring",
        "Lead Scoring",
        "Footers",
        "Custom Fields",
        "Custom Tables",
        "Sender Addresses",
        "Test Recipient Lists",
        "Reply Filters",
        "My App Connections",
        "Forms",
        "Text Messaging",
        "Web Access Log",
        "Account Administrators",
    ],
}

# The one permission that is not in the article: the site administrators' own (E1, E7).
# "Edit, Delete, Unsubscribe" deletes contacts through a grant the feature gates (E4).
NOT_IN_ARTICLE = {"site.administer"}

# E4: every feature-gated permission and its feature.
GATES: dict[str, str] = {
    "contacts_sms.view": "sms",
    "contacts_sms.edit": "sms",
    "contacts_sms.add": "sms",
    "contacts_sms.import": "sms",
    "analytics.sms_reports": "sms",
    "settings.text_messaging": "sms",
    "companies.view": "basic_crm",
    "companies.add_edit": "basic_crm",
    "companies.delete": "basic_crm",
    "companies.export": "basic_crm",
    "companies.edit_sales_rep_owner": "basic_crm",
    "sales.dashboard": "basic_crm",
    "sales.view_pipeline": "basic_crm",
    "sales.add_pipeline": "basic_crm",
    "sales.edit_pipeline": "basic_crm",
    "sales.delete_pipeline": "basic_crm",
    "sales.add_edit_stages": "basic_crm",
    "sales.delete_stages": "basic_crm",
    "sales.view_deals": "basic_crm",
    "sales.add_edit_deals": "basic_crm",
    "sales.delete_deals": "basic_crm",
    "sales.view_products": "basic_crm",
    "sales.add_edit_copy_products": "basic_crm",
    "sales.delete_products": "basic_crm",
    "sales.view_notes": "basic_crm",
    "sales.add_edit_notes": "basic_crm",
    "sales.delete_notes": "basic_crm",
    "sales.view_tasks": "basic_crm",
    "sales.add_edit_tasks": "basic_crm",
    "sales.delete_tasks": "basic_crm",
    "contacts.manage_bans": "manage_bans",
    "contacts.remove": "contact_delete",
    "assets.purchase_rendering_credits": "email_rendering",
    "analytics.purchase_reports": "clickstream",
    "settings.reply_filters": "reply_filtering",
}

# E6: the permissions that need nothing else: each dashboard's view, the report
# permissions (each is its own view of Analytics), editor tools with no view of their
# own, the Web Access Log (a view) and site administration.
ROOTS = {
    "contacts.view",
    "contacts_sms.view",
    "companies.view",
    "segments.view",
    "campaigns.view",
    "assets.view_templates",
    "assets.view_media",
    "assets.view_snippets",
    "assets.view_stylesheets",
    "assets.purchase_rendering_credits",
    "assets.lock_cells",
    "assets.change_html",
    "assets.manage_landing_pages",
    "sales.dashboard",
    "automation.view",
    "analytics.customer_overview",
    "analytics.mailing_reports",
    "analytics.contact_reports",
    "analytics.purchase_reports",
    "analytics.sms_reports",
    "analytics.billing_reports",
    "analytics.manage_report_groups",
    "analytics.custom_report_builder",
    "settings.view",
    "settings.web_access_log",
    "site.administer",
}


@pytest.fixture(scope="module")
def schema() -> ProductSchema:
    return load_preset("email_marketing")


def every_feature(schema: ProductSchema) -> frozenset[str]:
    return frozenset(schema.features)


def closure(schema: ProductSchema, *keys: str) -> frozenset[str]:
    """The permissions and everything they require, transitively."""
    out: set[str] = set()
    todo = list(keys)
    while todo:
        key = todo.pop()
        if key not in out:
            out.add(key)
            todo.extend(schema.permissions[key].requires)
    return frozenset(out)


def custom(grants: set[str] | frozenset[str], level: str = ACCOUNT, name: str = "Custom") -> Role:
    return Role("custom1", name, RoleKind.CUSTOM, level, frozenset(grants))


def actions_of(schema: ProductSchema, perms: frozenset[str], features: frozenset[str] = frozenset()) -> set[str]:
    """What `perms` grant with `features` on (E4: a grant may wait for a feature)."""
    return {g.action for p in perms for g in schema.permissions[p].grants if g.active(features)}


def holders_of(schema: ProductSchema, action: str) -> set[str]:
    return set(schema.permissions_by_action[action])


# -- E1 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("right", [AdminRight.VIEW_ROLES, AdminRight.MANAGE_ROLES, AdminRight.ASSIGN_ROLES])
def test_E1_only_site_administer_grants_role_administration(schema: ProductSchema, right: AdminRight) -> None:
    action = schema.admin_actions[right]
    assert holders_of(schema, action) == {"site.administer"}
    assert schema.permissions["site.administer"].system_only


def test_E1_only_the_site_administrator_role_edits_and_assigns_roles(schema: ProductSchema) -> None:
    feats = every_feature(schema)
    can_assign = {
        key
        for key, sr in schema.system_roles.items()
        if "site.administer" in effective_permissions(schema, role_from_system(schema, sr).level, sr.grants, feats)
    }
    assert can_assign == {"site_administrator"}
    assert schema.system_roles["site_administrator"].level == "site_administrator"


def test_E1_custom_role_cannot_hold_site_administer(schema: ProductSchema) -> None:
    for level in schema.levels:
        violations = role_violations(schema, custom({"site.administer"}, level), every_feature(schema))
        assert "E7" in {v.rule_id for v in violations}, level


def test_E1_a_site_keeps_someone_who_manages_roles(schema: ProductSchema) -> None:
    assert schema.guardian.right is AdminRight.MANAGE_ROLES
    assert schema.guardian.rule_id == "E1"


# -- E2 ----------------------------------------------------------------------------------


def test_E2_system_default_roles_exist_and_are_locked(schema: ProductSchema) -> None:
    assert {"site_administrator", "account_administrator_full"} <= set(schema.system_roles)
    assert len(schema.system_roles) >= 4
    for sr in schema.system_roles.values():
        assert not sr.editable, sr.key
        assert not sr.deletable, sr.key
    assert system_role_violations(schema) == []


def test_E2_full_account_administrator_has_everything_but_site_administration(schema: ProductSchema) -> None:
    full = schema.system_roles["account_administrator_full"]
    assert full.grants == frozenset(schema.permissions) - {"site.administer"}
    assert schema.system_roles["site_administrator"].grants == frozenset(schema.permissions)


def test_E2_custom_roles_can_be_created(schema: ProductSchema) -> None:
    assert schema.custom_roles_allowed
    role = custom({"contacts.view", "contacts.add_copy", "campaigns.view", "campaigns.edit"}, name="Mailer")
    assert role_violations(schema, role, frozenset()) == []


# -- E3 ----------------------------------------------------------------------------------


def test_E3_catalog_has_the_ten_dashboards(schema: ProductSchema) -> None:
    assert set(ARTICLE_LABELS) <= set(schema.areas)
    assert set(schema.areas) - set(ARTICLE_LABELS) == {"site"}
    assert schema.areas["contacts_sms"].label == "Contacts (SMS)"
    assert schema.areas["assets"].label == "Assets / Editor"


@pytest.mark.parametrize(
    ("area", "count"),
    [
        ("contacts", 8),
        ("contacts_sms", 4),
        ("companies", 5),
        ("segments", 3),
        ("campaigns", 5),
        ("assets", 17),
        ("sales", 19),
        ("automation", 3),
        ("analytics", 8),
        ("settings", 15),
    ],
)
def test_E3_permission_count_per_area_matches_the_article(schema: ProductSchema, area: str, count: int) -> None:
    in_area = [p for k, p in schema.permissions.items() if p.area == area and k not in NOT_IN_ARTICLE]
    assert len(in_area) == count
    assert [p.label for p in in_area] == ARTICLE_LABELS[area]


def test_E3_whole_catalog_is_87_article_permissions(schema: ProductSchema) -> None:
    assert len(set(schema.permissions) - NOT_IN_ARTICLE) == 87 == sum(len(v) for v in ARTICLE_LABELS.values())
    assert set(schema.permissions) >= NOT_IN_ARTICLE


def test_E3_every_permission_has_a_description_and_grants_an_action(schema: ProductSchema) -> None:
    for key, perm in schema.permissions.items():
        assert perm.description.strip(), key
        assert perm.grants, key


def test_E3_descriptions_are_the_articles(schema: ProductSchema) -> None:
    assert schema.permissions["contacts.add_copy"].description == (
        "Allows the user to add or copy specific subscriber records but not edit existing."
    )
    assert schema.permissions["segments.add_copy"].description.startswith(
        "Allows user to create new segments and copy existing segments for editing."
    )
    assert schema.permissions["assets.manage_media"].description == (
        "Allows users to upload and delete files stored in the Media Library. "
        "Users must also have the View Media permission enabled."
    )
    assert schema.permissions["settings.account_administrators"].description.endswith(
        "Only site administrators retain that right."
    )


def test_E3_known_keys(schema: ProductSchema) -> None:
    assert schema.permissions["contacts.view"].label == "View Contacts, Import History"
    assert schema.permissions["contacts.add_copy"].label == "Add, Copy"
    assert schema.permissions["assets.view_media"].label == "View Media"
    assert schema.permissions["assets.manage_media"].label == "Manage Media"


# -- E4 ----------------------------------------------------------------------------------


def test_E4_feature_gates_are_exactly_the_articles(schema: ProductSchema) -> None:
    gated = {k: p.feature for k, p in schema.permissions.items() if p.feature is not None}
    assert gated == GATES


@pytest.mark.parametrize("area", ["contacts_sms", "companies", "sales"])
def test_E4_whole_areas_are_gated(schema: ProductSchema, area: str) -> None:
    feature = "sms" if area == "contacts_sms" else "basic_crm"
    perms = [p for p in schema.permissions.values() if p.area == area]
    assert perms
    assert all(p.feature == feature for p in perms)


def test_E4_features_are_off_for_a_new_account(schema: ProductSchema) -> None:
    assert set(schema.features) == set(GATES.values())
    assert schema.feature_defaults == frozenset()


def test_E4_deleting_contacts_needs_the_contact_delete_feature(schema: ProductSchema) -> None:
    grants = frozenset({"contacts.view", "contacts.edit", "contacts.remove"})
    feats = every_feature(schema) - {"contact_delete"}
    without = effective_permissions(schema, ACCOUNT, grants, feats)
    assert "contacts.delete" not in actions_of(schema, without, feats)
    assert "contacts.remove_by_import" not in actions_of(schema, without, feats)
    assert {"contacts.edit", "contacts.unsubscribe"} <= actions_of(schema, without, feats)  # editing stays
    on = frozenset({"contact_delete"})
    with_it = effective_permissions(schema, ACCOUNT, grants, on)
    assert {"contacts.delete", "contacts.remove_by_import"} <= actions_of(schema, with_it, on)


def test_E4_edit_delete_unsubscribe_deletes_contacts_only_with_the_feature(schema: ProductSchema) -> None:
    """The article's own permission does it; no permission outside the article is needed."""
    assert holders_of(schema, "contacts.delete") - {"site.administer"} == {"contacts.edit"}
    assert schema.permissions["contacts.edit"].label == "Edit, Delete, Unsubscribe"
    [grant] = [g for g in schema.permissions["contacts.edit"].grants if g.action == "contacts.delete"]
    assert grant.feature == "contact_delete"


def test_E4_only_gated_permissions_grant_contact_deletion(schema: ProductSchema) -> None:
    for action in ("contacts.delete", "contacts.remove_by_import"):
        for key in holders_of(schema, action) - {"site.administer"}:
            perm = schema.permissions[key]
            gates = {perm.feature} | {g.feature for g in perm.grants if g.action == action}
            assert "contact_delete" in gates, key


# -- E5 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("perm", "feature"), sorted(GATES.items()))
def test_E5_gated_permission_has_no_effect_without_its_feature(schema: ProductSchema, perm: str, feature: str) -> None:
    grants = closure(schema, perm)
    off = effective_permissions(schema, ACCOUNT, grants, every_feature(schema) - {feature})
    on = effective_permissions(schema, ACCOUNT, grants, every_feature(schema))
    assert perm not in off
    assert perm in on
    states = resolve_permissions(schema, ACCOUNT, grants, every_feature(schema) - {feature})
    assert states[perm].status is PermissionStatus.FEATURE_OFF


# -- E6 ----------------------------------------------------------------------------------


def test_E6_manage_media_needs_view_media(schema: ProductSchema) -> None:
    assert schema.permissions["assets.manage_media"].requires == {"assets.view_media"}
    alone = effective_permissions(schema, ACCOUNT, frozenset({"assets.manage_media"}), frozenset())
    assert "assets.manage_media" not in alone
    both = effective_permissions(schema, ACCOUNT, frozenset({"assets.manage_media", "assets.view_media"}), frozenset())
    assert "assets.manage_media" in both


@pytest.mark.parametrize(
    ("edit", "view"),
    [
        ("contacts.add_copy", "contacts.view"),
        ("contacts.edit", "contacts.view"),
        ("contacts.import", "contacts.view"),
        ("contacts.export", "contacts.view"),
        ("contacts.manage_bans", "contacts.view"),
        ("contacts.remove", "contacts.view"),
        ("contacts_sms.edit", "contacts_sms.view"),
        ("contacts_sms.add", "contacts_sms.view"),
        ("contacts_sms.import", "contacts_sms.view"),
        ("companies.add_edit", "companies.view"),
        ("companies.delete", "companies.view"),
        ("segments.add_copy", "segments.view"),
        ("segments.edit_delete", "segments.view"),
        ("campaigns.add_copy_clone", "campaigns.view"),
        ("campaigns.edit", "campaigns.view"),
        ("campaigns.send_schedule", "campaigns.view"),
        ("campaigns.delete", "campaigns.view"),
        ("assets.add_copy_templates", "assets.view_templates"),
        ("assets.edit_templates", "assets.view_templates"),
        ("assets.manage_complete_templates", "assets.view_templates"),
        ("assets.edit_snippets", "assets.view_snippets"),
        ("assets.edit_stylesheets", "assets.view_stylesheets"),
        ("sales.view_pipeline", "sales.dashboard"),
        ("sales.add_pipeline", "sales.view_pipeline"),
        ("sales.add_edit_stages", "sales.view_pipeline"),
        ("sales.add_edit_deals", "sales.view_deals"),
        ("sales.delete_products", "sales.view_products"),
        ("sales.add_edit_notes", "sales.view_notes"),
        ("sales.delete_tasks", "sales.view_tasks"),
        ("automation.manage_drip", "automation.view"),
        ("automation.manage_templates", "automation.view"),
    ],
)
def test_E6_edit_permission_needs_its_dashboard_view(schema: ProductSchema, edit: str, view: str) -> None:
    feats = every_feature(schema)
    full = closure(schema, edit)
    assert view in full
    assert edit in effective_permissions(schema, ACCOUNT, full, feats)
    without_view = effective_permissions(schema, ACCOUNT, full - {view}, feats)
    assert edit not in without_view


def test_E6_every_sales_view_needs_the_sales_dashboard(schema: ProductSchema) -> None:
    for key, perm in schema.permissions.items():
        if perm.area == "sales" and key != "sales.dashboard":
            assert "sales.dashboard" in closure(schema, key), key


def test_E6_only_views_and_standalone_permissions_need_nothing(schema: ProductSchema) -> None:
    assert {k for k, p in schema.permissions.items() if not p.requires} == ROOTS


def test_E6_suppression_lists_need_the_campaigns_view(schema: ProductSchema) -> None:
    grants = frozenset({"contacts.view", "contacts.suppression_lists"})
    assert "contacts.suppression_lists" not in effective_permissions(schema, ACCOUNT, grants, frozenset())
    assert "contacts.suppression_lists" in effective_permissions(
        schema, ACCOUNT, grants | {"campaigns.view"}, frozenset()
    )


@pytest.mark.parametrize(
    "perm",
    [
        "settings.general",
        "settings.advanced_engagement_scoring",
        "settings.lead_scoring",
        "settings.footers",
        "settings.custom_fields",
        "settings.custom_tables",
        "settings.sender_addresses",
        "settings.test_recipient_lists",
        "settings.reply_filters",
        "settings.app_connections",
        "settings.forms",
        "settings.text_messaging",
        "settings.account_administrators",
        "assets.manage_brand_colors",
    ],
)
def test_E6_editing_settings_needs_settings_view(schema: ProductSchema, perm: str) -> None:
    feats = every_feature(schema)
    assert "settings.view" in schema.permissions[perm].requires
    assert perm not in effective_permissions(schema, ACCOUNT, frozenset({perm}), feats)
    assert perm in effective_permissions(schema, ACCOUNT, frozenset({perm, "settings.view"}), feats)


def test_E6_requirements_resolve_to_a_fixed_point(schema: ProductSchema) -> None:
    feats = every_feature(schema)
    # Add Pipeline -> View Pipeline -> View, Edit Sales Dashboard: dropping the dashboard
    # drops View Pipeline, which then drops Add Pipeline.
    chain = frozenset({"sales.add_pipeline", "sales.view_pipeline"})
    assert effective_permissions(schema, ACCOUNT, chain, feats) == frozenset()
    assert effective_permissions(schema, ACCOUNT, chain | {"sales.dashboard"}, feats) == chain | {"sales.dashboard"}
    states = resolve_permissions(schema, ACCOUNT, chain, feats)
    assert states["sales.add_pipeline"].status is PermissionStatus.REQUIREMENT_MISSING
    # Edit, Delete, Unsubscribe -> View Contacts.
    assert effective_permissions(schema, ACCOUNT, frozenset({"contacts.edit"}), feats) == frozenset()


# -- E7 ----------------------------------------------------------------------------------


def test_E7_account_administrators_manage_members_but_do_not_assign_roles(schema: ProductSchema) -> None:
    perm = schema.permissions["settings.account_administrators"]
    granted = {g.action for g in perm.grants}
    assert {"members.view", "members.manage"} <= granted
    assert schema.admin_actions[AdminRight.MANAGE_MEMBERS] == "members.manage"
    assert schema.admin_actions[AdminRight.ASSIGN_ROLES] == "members.assign_roles"
    assert "members.assign_roles" not in granted
    assert not granted & {schema.admin_actions[AdminRight.MANAGE_ROLES], schema.admin_actions[AdminRight.VIEW_ROLES]}


def test_E7_custom_role_with_site_administration_is_refused(schema: ProductSchema) -> None:
    role = custom({"settings.view", "settings.account_administrators", "site.administer"})
    violations = role_violations(schema, role, every_feature(schema))
    assert violations
    assert {v.rule_id for v in violations} == {"E7"}
    ok = custom({"settings.view", "settings.account_administrators"})
    assert role_violations(schema, ok, every_feature(schema)) == []


def test_E7_full_account_administrator_cannot_assign_roles(schema: ProductSchema) -> None:
    sr = schema.system_roles["account_administrator_full"]
    eff = effective_permissions(schema, sr.level or ACCOUNT, sr.grants, every_feature(schema))
    assert "members.manage" in actions_of(schema, eff)
    assert "members.assign_roles" not in actions_of(schema, eff)


# -- E8 ----------------------------------------------------------------------------------


def test_E8_web_access_log_is_the_audit_right(schema: ProductSchema) -> None:
    audit = schema.admin_actions[AdminRight.VIEW_AUDIT]
    assert audit == "audit.view_web_access_log"
    assert {g.action for g in schema.permissions["settings.web_access_log"].grants} == {audit}
    assert holders_of(schema, audit) == {"settings.web_access_log"}


# -- E9 (out of this issue: only the actions are declared) ---------------------------------


@pytest.mark.parametrize(
    ("perm", "action"),
    [
        ("settings.forms", "forms.copy_to_other_accounts"),
        ("assets.manage_brand_colors", "brand_colors.copy_to_other_accounts"),
        ("settings.custom_tables", "custom_tables.share"),
        ("automation.manage_templates", "automation.save_to_other_accounts"),
    ],
)
def test_E9_copy_to_other_accounts_actions_are_declared(schema: ProductSchema, perm: str, action: str) -> None:
    assert action in schema.actions
    assert holders_of(schema, action) == {perm}


# -- engine --------------------------------------------------------------------------------


def snapshot(schema: ProductSchema, grants: set[str], features: set[str], level: str = ACCOUNT) -> Snapshot:
    roles = [custom(grants, level), role_from_system(schema, schema.system_roles["site_administrator"])]
    members = [Member("m1", "custom1"), Member("site", "site_administrator")]
    return compile_snapshot(schema, features=features, roles=roles, members=members)


def test_E5_engine_denies_a_gated_action_while_the_feature_is_off(schema: ProductSchema) -> None:
    grants = {"contacts.view", "contacts.edit", "contacts.remove"}
    off = snapshot(schema, grants, set())
    decision = off.check("m1", "contacts.remove_by_import")
    assert not decision.allowed
    assert {r.rule_id for r in decision.reasons if r.code is ReasonCode.FEATURE_OFF} == {"E5"}
    # E4: the delete grant of "Edit, Delete, Unsubscribe" waits for the feature
    decision = off.check("m1", "contacts.delete")
    assert not decision.allowed
    assert [r.rule_id for r in decision.reasons if r.code is ReasonCode.FEATURE_OFF and r.permission == "contacts.edit"] == ["E4"]
    assert off.check("m1", "contacts.edit").allowed
    on = snapshot(schema, grants, {"contact_delete"})
    assert on.check("m1", "contacts.delete").allowed
    assert on.check("m1", "contacts.remove_by_import").allowed
    sms = {"contacts_sms.view", "contacts_sms.add"}
    assert not snapshot(schema, sms, set()).check("m1", "contacts_sms.add").allowed
    assert snapshot(schema, sms, {"sms"}).check("m1", "contacts_sms.add").allowed


def test_E6_engine_denies_manage_media_without_view_media(schema: ProductSchema) -> None:
    snap = snapshot(schema, {"assets.manage_media"}, set())
    decision = snap.check("m1", "media.upload")
    assert not decision.allowed
    assert ReasonCode.REQUIREMENT_MISSING in {r.code for r in decision.reasons}
    assert "E6" in {r.rule_id for r in decision.reasons}
    assert snapshot(schema, {"assets.manage_media", "assets.view_media"}, set()).check("m1", "media.upload").allowed
    supp = snapshot(schema, {"contacts.view", "contacts.suppression_lists"}, set())
    assert not supp.check("m1", "suppression_lists.assign").allowed


def test_E7_engine_account_administrators_cannot_assign_roles(schema: ProductSchema) -> None:
    snap = snapshot(schema, {"settings.view", "settings.account_administrators"}, set())
    assert snap.has_right("m1", AdminRight.MANAGE_MEMBERS).allowed
    assert not snap.has_right("m1", AdminRight.ASSIGN_ROLES).allowed
    assert not snap.has_right("m1", AdminRight.MANAGE_ROLES).allowed
    for right in AdminRight:
        assert snap.has_right("site", right).allowed, right
    # Even if a custom role got site.administer past validation, the account
    # administrator level's ceiling keeps it out.
    sneaky = snapshot(schema, {"site.administer"}, set())
    assert not sneaky.has_right("m1", AdminRight.ASSIGN_ROLES).allowed


def test_E8_engine_web_access_log_grants_the_audit_right(schema: ProductSchema) -> None:
    assert snapshot(schema, {"settings.web_access_log"}, set()).has_right("m1", AdminRight.VIEW_AUDIT).allowed
    assert not snapshot(schema, {"settings.view"}, set()).has_right("m1", AdminRight.VIEW_AUDIT).allowed
