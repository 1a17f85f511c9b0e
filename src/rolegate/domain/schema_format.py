"""The product schema file format (version 1), as Pydantic models.

These models check the *shape* of a schema file (types, required keys, no unknown
keys). Cross references (an unknown permission in `requires`, a cycle, a landing page
that needs a permission no one can hold ...) are checked by `schema_build`, which
turns a valid file into the frozen `ProductSchema` the rest of Rolegate uses.

`ProductSchemaSpec.model_json_schema()` is the JSON Schema editors use
(`rolegate schema jsonschema`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ActionSpec",
    "AdminSpec",
    "AreaSpec",
    "CeilingExceptSpec",
    "FeatureSpec",
    "FieldSpec",
    "GrantSpec",
    "GuardianSpec",
    "IntegrationSpec",
    "LandingPageSpec",
    "LevelPolicySpec",
    "LevelSpec",
    "MarkerSpec",
    "ObjectSpec",
    "PairSpec",
    "PermissionSpec",
    "ProductSchemaSpec",
    "RemovedSpec",
    "SeatSpec",
    "SystemRoleSpec",
    "TeamSpec",
    "WordsSpec",
]

AccessLiteral = Literal["none", "read", "write"]
ScopeLiteral = Literal["all", "assigned", "unassigned"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SeatSpec(_Spec):
    """A paid pool that members consume through their role's level (N1, K2)."""

    label: str
    description: str = ""
    rule: str | None = Field(None, description="The seed rule cited when no seat is free.")


class FeatureSpec(_Spec):
    """A workspace switch: plan, add-on or integration (E4)."""

    label: str
    description: str = ""
    default: bool = Field(False, description="Whether a new workspace has it on.")


class FieldSpec(_Spec):
    label: str = ""
    default: bool = Field(
        False, description="K7: a default field is always readable; only write is editable."
    )
    synced_from: str | None = Field(
        None, description="K9: the integration this field is synced from; its cap applies."
    )
    renamed_from: str | None = Field(
        None, description="Upgrades: the key this field (on the same object) had in the previous version of the schema."
    )


class ObjectSpec(_Spec):
    """A record type of the host product (account, task, contact ...)."""

    label: str
    parent: str | None = Field(None, description="C7: records of this type live under a parent.")
    assignable: bool = Field(False, description="N9: records carry an assignee (a member).")
    assignee_action: str | None = Field(
        None, description="N9: the action a member needs to be assigned records of this type."
    )
    view_action: str | None = Field(
        None,
        description="The action that makes a record visible; every other action on the "
        "record and on its children also needs it (C7, N11).",
    )
    on_parent_delete: Literal["cascade", "orphan"] = "cascade"
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    renamed_from: str | None = Field(
        None, description="Upgrades: the key this object had in the previous version of the schema."
    )
    additional: bool = Field(
        False,
        description="K8: an additional object; a new custom role starts with its fields "
        "unselected (the standard objects' fields start as the level and integration allow).",
    )


class IntegrationSpec(_Spec):
    """A connected system (a CRM) whose integration user caps synced fields (K9)."""

    label: str
    default_cap: AccessLiteral = "write"
    field_caps: dict[str, AccessLiteral] = Field(
        default_factory=dict, description="`object.field` -> the integration user's access."
    )


class ActionSpec(_Spec):
    """What the product's code checks, optionally on a record type."""

    label: str = ""
    object: str | None = None
    renamed_from: str | None = Field(
        None, description="Upgrades: the key this action had in the previous version of the schema."
    )


class AreaSpec(_Spec):
    label: str
    description: str = ""


class GrantSpec(_Spec):
    action: str
    scope: ScopeLiteral = "all"
    feature: str | None = Field(
        None,
        description="E4: this grant takes effect only while the workspace feature is on "
        "(\"Edit, Delete, Unsubscribe\" deletes contacts only with contact delete).",
    )


class PairSpec(_Spec):
    """T7: a View/Manage matrix row; `row` groups the two permissions of one resource."""

    row: str
    column: Literal["view", "manage"]


class PermissionSpec(_Spec):
    label: str
    description: str = ""
    area: str | None = Field(None, description="Defaults to the key's prefix before the first dot.")
    grants: list[str | GrantSpec] = Field(
        default_factory=list, description="Actions granted; a bare string grants scope `all`."
    )
    requires: list[str] = Field(
        default_factory=list, description="E6: permissions that must be effective too."
    )
    feature: str | None = Field(None, description="E4: the workspace feature that gates it.")
    pair: PairSpec | None = None
    system_only: bool = Field(
        False, description="Only system roles may hold it (E7: site administrators)."
    )
    seat_only: bool = Field(
        False,
        description="Its only effect is the seat it takes and the records assigned to the holder "
        "(N12: Natero's Customer Success Manager Seat): handing it out is no escalation.",
    )
    renamed_from: str | None = Field(
        None, description="Upgrades: the key this permission had in the previous version of the schema."
    )
    split_from: str | None = Field(
        None,
        description="Upgrades: a permission of the previous version split into several; every "
        "role holding it holds each permission that names it (no one loses anything).",
    )


class CeilingExceptSpec(_Spec):
    all_except: list[str]


class LevelSpec(_Spec):
    """A ranked tier of a role: license (T5), access level (K1), seat (N2)."""

    label: str
    description: str = ""
    rank: int
    seat: str | None = None
    floor: list[str] = Field(default_factory=list, description="Permissions always on (T7).")
    ceiling: Literal["all"] | list[str] | CeilingExceptSpec = "all"
    field_ceiling: Literal["read", "write"] = Field(
        "write", description="The most a role of this level may do on a field (K1 Limited: read)."
    )
    new_field_access: AccessLiteral = Field(
        "none",
        description="K8: what a custom role of this level gets on a field it does not mention.",
    )
    rule: str | None = Field(None, description="The seed rule cited when the ceiling refuses.")
    offered_to_custom_roles: bool = Field(
        True,
        description="E2: whether new custom roles are offered this level. Where one level is "
        "offered, a custom role created without a level takes it.",
    )
    renamed_from: str | None = Field(
        None, description="Upgrades: the key this level had in the previous version of the schema."
    )


class RemovedSpec(_Spec):
    """Upgrades: a key of the previous version that this version no longer has."""

    kind: Literal["permission", "action", "level", "object"] = "permission"
    key: str
    replaced_by: str | None = Field(
        None,
        description="What a role holding it holds instead (a permission or a level of this "
        "version); none: the grant is dropped and the plan reports who loses it.",
    )


class MarkerSpec(_Spec):
    """N2: the level follows whether the role holds `permission`."""

    permission: str
    when_granted: str
    when_not_granted: str


class LevelPolicySpec(_Spec):
    mode: Literal["chosen", "marker"] = "chosen"
    changeable_after_create: bool = Field(True, description="K6: false; T7: true.")
    marker: MarkerSpec | None = None


class LandingPageSpec(_Spec):
    label: str
    requires: str | None = Field(None, description="N4: the permission the page needs.")


class SystemRoleSpec(_Spec):
    name: str
    description: str = ""
    level: str | None = Field(None, description="Omitted when the level follows a marker (N2).")
    grants: Literal["all"] | list[str] = Field(default_factory=list)
    grants_except: list[str] = Field(default_factory=list)
    landing_page: str | None = None
    editable: bool = Field(False, description="T2: true; K4: false.")
    deletable: bool = False
    fields: Literal["mirror_integration", "level_default"] | dict[str, dict[str, AccessLiteral]] = (
        Field("level_default", description="K5: `mirror_integration`.")
    )


class AdminSpec(_Spec):
    """Which actions give the admin rights (N12, C1, K13, T10, E7, E8)."""

    view_roles: str
    manage_roles: str
    manage_members: str
    assign_roles: str
    assign_records: str
    view_audit: str


class GuardianSpec(_Spec):
    """Who must always remain: a role, a level, or holders of an admin right."""

    role: str | None = None
    level: str | None = None
    right: Literal["manage_members", "manage_roles"] | None = None


class TeamSpec(_Spec):
    keep_one: GuardianSpec = Field(
        default_factory=lambda: GuardianSpec(right="manage_members"),
        description="C4/T11: at least one active member must remain of this kind.",
    )
    keep_one_rule: str = Field(
        "keep_one",
        description="The code cited when the last one would go: the product's own seed rule "
        "(C4, T11 ...), or a product-neutral code.",
    )
    owners: Literal["single", "several"] = Field(
        "single",
        description="T11/C4: `single`: transferring ownership never leaves more owners than "
        "before (the former owner gives the owner's role up); `several`: it may.",
    )


class WordsSpec(_Spec):
    """The product's own words for Rolegate's notions, as its article writes them (a
    customer of the product reads these in the admin UI, the CSV exports and the API).
    Unset words keep Rolegate's own."""

    role: str = Field("Role", description="One role: \"Profile\" (CustomerSuccessBox).")
    roles: str = Field("Roles", description="Several roles: \"Profiles\".")
    roles_page: str = Field(
        "Roles & Permissions", description="The roles list's title and menu entry (\"Role Permissions\")."
    )
    role_type: str = Field("Type", description="The column saying whether a role is built in or custom.")
    system_role: str = Field(
        "System", description="A built-in role's type: \"Standard\" (telephony), \"System default\" (Catalyst)."
    )
    system_roles: str = Field("System roles", description="\"Standard roles\", \"System default roles\".")
    custom_role: str = Field("Custom", description="A role the customer made.")
    custom_roles: str = Field("Custom roles", description="Roles the customer made.")
    level: str = Field("Level", description="A role's tier: \"License\" (telephony), \"Access level\" (Catalyst).")
    seat: str = Field("Seat", description="A paid seat (Natero: \"Seat\").")
    seats: str = Field("Seats", description="Paid seats.")


RuleName = Literal[
    "system_role_create",
    "system_role_edit",
    "system_role_rename",
    "system_role_delete",
    "role_in_use",
    "record_out_of_scope",
    "admin_right",
    "escalation",
    "level_ceiling",
    "level_locked",
    # roles
    "role_definition",
    "role_copy",
    "level_marker",
    "landing_page",
    "field_access",
    "field_default_read",
    "field_integration_cap",
    "field_level_ceiling",
    "field_not_configured",
    "field_mirror",
    "field_definition",
    "field_convert",
    "field_hidden",
    "custom_roles_off",
    "system_only_permission",
    "level_floor",
    "role_seat_in_use",
    "role_delete_assigned",
    # org
    "feature_unknown",
    "feature_required",
    "feature_off",
    "requirement_missing",
    "seat_unknown",
    "seat_capacity",
    "site_admin",
    "audit_log",
    "member_record",
    "password_reset",
    # team
    "membership",
    "invitation",
    "assignee",
    "record_parent",
    "seat_held",
    "self_change",
    "member_in_use",
]
"""Every product-neutral rule (`schema.DEFAULT_RULE_IDS` has the same names)."""


class ProductSchemaSpec(_Spec):
    format: Literal[1] = 1
    version: int = Field(
        1, ge=1, description="Upgrades: the schema's version; each release of the product raises it."
    )
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    description: str = ""
    source: str = Field("", description="Where the behavior comes from (a seed article).")
    seats: dict[str, SeatSpec] = Field(default_factory=dict)
    features: dict[str, FeatureSpec] = Field(default_factory=dict)
    integrations: dict[str, IntegrationSpec] = Field(default_factory=dict)
    objects: dict[str, ObjectSpec] = Field(default_factory=dict)
    actions: dict[str, ActionSpec]
    areas: dict[str, AreaSpec]
    permissions: dict[str, PermissionSpec]
    levels: dict[str, LevelSpec]
    level_policy: LevelPolicySpec = Field(default_factory=lambda: LevelPolicySpec())
    landing_pages: dict[str, LandingPageSpec] = Field(default_factory=dict)
    custom_roles: bool = Field(True, description="Whether custom roles may be created (C3: no).")
    roles: dict[str, SystemRoleSpec]
    default_role: str | None = Field(
        None,
        description="The role a role picker starts on, and the one a member gets when whoever adds them may not "
        "assign roles (E7): the least-privileged role a new member usually gets. Unset: the system role with the "
        "fewest permissions.",
    )
    admin: AdminSpec
    team: TeamSpec = Field(default_factory=TeamSpec)
    rule_ids: dict[RuleName, str] = Field(
        default_factory=dict,
        description="Which of this product's own seed rules a product-neutral refusal cites "
        "(e.g. `system_role_edit: K4`); an unset one cites its name (e.g. `role_in_use`), a "
        "product-neutral code with no seed rule.",
    )
    words: WordsSpec = Field(
        default_factory=lambda: WordsSpec(), description="The product's own words (profile, license, seat ...)."
    )
    role_delete_with_members: Literal["replace", "refuse"] = Field(
        "refuse",
        description="Deleting a custom role that members still hold: `replace` moves them to a "
        "replacement role named with the delete, in the same transaction (N7: once their accounts "
        "are unassigned or switched); `refuse` keeps refusing until nobody holds it (T9).",
    )
    removed: list[RemovedSpec] = Field(
        default_factory=list,
        description="Upgrades: keys of the previous version this one drops, each with what replaces it.",
    )
