"""Rules about roles, their copies and their field permissions as pure functions: each
cites the rule id the product schema names (`schema.rule`), so a product with its own
rulebook cites its own ids; and the locks the role editor shows come from the domain."""

from __future__ import annotations

import dataclasses

from rolegate.domain.permissions import locked_permissions
from rolegate.domain.role_copy import copy_choice_violations, copy_name_violations, copy_source_violations
from rolegate.domain.roles import Role, RoleKind, role_from_system
from rolegate.domain.rules.field_rules import field_permission_violations, write_without_read_violations
from rolegate.domain.rules.role_rules import (
    disabled_holder_violations,
    level_choice_violations,
    role_locks,
    role_name_violations,
    role_violations,
)
from rolegate.presets import load_preset

CATALYST = load_preset("catalyst")
NATERO = load_preset("natero")
OWN = dataclasses.replace(
    CATALYST,
    rule_ids={
        **CATALYST.rule_ids,
        "role_definition": "X8",
        "role_copy": "X9",
        "field_access": "X11",
        "role_in_use": "X19",
    },
)


def custom(name: str = "Reporters", level: str = "standard") -> Role:
    return Role(id="r1", name=name, kind=RoleKind.CUSTOM, level=level, grants=frozenset())


def system() -> Role:
    return role_from_system(CATALYST, next(iter(CATALYST.system_roles.values())))


def test_K6_a_level_must_be_chosen_and_exist() -> None:
    (missing,) = level_choice_violations(CATALYST, None)
    assert (missing.rule_id, missing.message) == ("K6", "A level must be chosen for this role.")
    (unknown,) = level_choice_violations(CATALYST, "galactic")
    assert (unknown.rule_id, unknown.message) == ("unknown_key", "Unknown level 'galactic'.")
    assert unknown.fix == f"Choose one of {', '.join(CATALYST.levels)}."
    assert level_choice_violations(CATALYST, "standard") == []
    assert [v.rule_id for v in level_choice_violations(OWN, None)] == ["X8"]


def test_N8_role_violations_and_the_level_check_say_the_same_of_an_unknown_level() -> None:
    role = custom(level="galactic")
    assert role_violations(CATALYST, role, frozenset())[-1] == level_choice_violations(CATALYST, "galactic")[0]


def test_a_taken_name_is_plain_validation() -> None:
    (v,) = role_name_violations(OWN, "  Reporters ", taken=True)
    assert (v.rule_id, v.seed_rule, v.message) == ("name_taken", None, "A role named “Reporters” already exists.")
    assert role_name_violations(CATALYST, "Reporters", taken=False) == []
    assert role_name_violations(CATALYST, "  ", taken=True) == []  # a blank name is refused by role_violations


def test_T9_disabled_holders_keep_a_role_from_deletion() -> None:
    (v,) = disabled_holder_violations(OWN, custom(), held_by_disabled=True)
    assert (v.rule_id, v.message, v.fix) == (
        "X19",
        "Role “Reporters” is held by disabled members.",
        "Give them another role first.",
    )
    assert disabled_holder_violations(CATALYST, custom(), held_by_disabled=False) == []


def test_K11_field_permission_words_and_write_without_read() -> None:
    (v,) = field_permission_violations(CATALYST, "admin", where="account.arr: ")
    assert (v.rule_id, v.message) == ("K11", "account.arr: 'admin' is not a field permission.")
    assert field_permission_violations(CATALYST, "write") == []
    (w,) = write_without_read_violations(OWN, "ARR (account.arr)", read=False, write=True)
    assert (w.rule_id, w.message, w.fix) == (
        "X11",
        "ARR (account.arr): write without read is not possible.",
        "Tick read too, or untick write.",
    )
    assert write_without_read_violations(CATALYST, "ARR", read=True, write=True) == []


def test_E9_what_a_copy_is_refused_for() -> None:
    (none,) = copy_choice_violations(OWN, "w1", [])
    assert (none.rule_id, none.message) == ("X9", "No workspace chosen.")
    (here,) = copy_choice_violations(load_preset("email_marketing"), "w1", ["w2", "w1"])
    assert (here.rule_id, here.message) == ("E9", "The role is already in this workspace.")
    assert copy_choice_violations(CATALYST, "w1", ["w2"]) == []
    (sys,) = copy_source_violations(OWN, system())
    assert sys.rule_id == "X9"
    assert "is a system role" in sys.message
    assert copy_source_violations(CATALYST, custom()) == []
    (clash,) = copy_name_violations(OWN, custom(), target_name="Acme", existing=system())
    assert (clash.rule_id, clash.message) == ("name_taken", "“Acme” has a system role named “Reporters”.")
    assert copy_name_violations(CATALYST, custom(), target_name="Acme", existing=custom()) == []
    assert copy_name_violations(CATALYST, custom(), target_name="Acme", existing=None) == []


def test_K6_T2_K4_the_editor_locks_come_from_the_domain() -> None:
    new = role_locks(CATALYST, None)
    assert (new.edit, new.name, new.level) == (False, False, False)
    saved = role_locks(CATALYST, custom())
    assert saved.level is not CATALYST.level_changeable_after_create  # K6 where levels are fixed at creation
    assert (saved.name, saved.level_rule) == (False, CATALYST.rule("level_locked"))
    sys_role = system()
    locked = role_locks(CATALYST, sys_role)
    assert (locked.edit, locked.name, locked.level) == (not sys_role.editable, True, True)
    assert (locked.edit_rule, locked.level_rule) == (
        CATALYST.rule("system_role_edit"),
        CATALYST.rule("system_role_rename"),
    )
    # In marker mode the level follows the grants (N2): it is never locked.
    assert role_locks(NATERO, custom(level=next(iter(NATERO.levels)))).level is False


def test_T7_E7_the_locked_permissions_are_the_floor_a_role_cannot_drop() -> None:
    limited = CATALYST.levels["limited"]
    assert locked_permissions(CATALYST, "limited", system_role=False) == limited.floor & limited.ceiling
    # A floor permission only system roles may hold is locked on for them, never shown on for a custom role (E7).
    perms = {
        **CATALYST.permissions,
        "notes.view": dataclasses.replace(CATALYST.permissions["notes.view"], system_only=True),
    }
    own = dataclasses.replace(CATALYST, permissions=perms)
    assert "notes.view" in locked_permissions(own, "limited", system_role=True)
    assert "notes.view" not in locked_permissions(own, "limited", system_role=False)


def test_N12_a_seat_only_permission_is_no_privilege() -> None:
    from rolegate.domain.permissions import privileges

    assert privileges(NATERO, frozenset({"accounts.csm_seat", "accounts.update"})) == {"accounts.update"}


def test_N7_T9_a_role_still_held_is_deleted_with_a_replacement_where_the_product_allows_it() -> None:
    from rolegate.domain.rules.role_rules import HolderCounts, role_deletion_violations

    custom = Role(id="r", name="Field", kind=RoleKind.CUSTOM, level="csm", grants=frozenset({"accounts.csm_seat"}))
    other = role_from_system(NATERO, NATERO.system_roles["csm"])
    held = HolderCounts(active=1, invited=1)
    assert NATERO.role_delete_with_members == "replace"
    assert "replacement" in role_deletion_violations(NATERO, custom, held)[0].fix
    assert role_deletion_violations(NATERO, custom, held, replacement=other) == []
    assert "itself" in role_deletion_violations(NATERO, custom, held, replacement=custom)[0].message
    assert [v.rule_id for v in role_deletion_violations(NATERO, custom, HolderCounts(active=1, with_assigned_records=1), replacement=other)] == ["N7"]
    refusing = dataclasses.replace(NATERO, role_delete_with_members="refuse")
    (refused,) = role_deletion_violations(refusing, custom, held, replacement=other)
    assert "replacement" not in refused.fix
    assert disabled_holder_violations(NATERO, custom, held_by_disabled=True, replaced=True) == []
    assert disabled_holder_violations(refusing, custom, held_by_disabled=True, replaced=True)
