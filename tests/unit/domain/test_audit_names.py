"""Issue 15 (human copy): the audit log names people and roles, never their ids."""

from __future__ import annotations

from rolegate.domain.audit_diff import diff, named


def test_ids_in_an_audit_diff_read_as_the_names_the_team_knows() -> None:
    names = {"0190-ann": "Ann Archer <ann@acme.test>", "csm": "CSM", "0190-role": "Renewals"}
    before = {"role": "csm", "members": ["0190-ann"], "level": 2, "note": None}
    after = {"role": "0190-role", "members": [], "level": 3, "note": "kept as typed"}
    shown = [str(c) for c in named(diff(before, after), names)]
    assert shown == [
        "level: 2 -> 3",
        "members: - 'Ann Archer <ann@acme.test>'",
        "note: (none) -> 'kept as typed'",
        "role: 'CSM' -> 'Renewals'",
    ]


def test_lists_and_values_no_name_is_known_for_stay_as_they_are() -> None:
    changes = named(diff({"grants": ["a", "b"]}, {"grants": ["b", "a"]}), {"x": "y"})
    assert [(c.kind, c.before, c.after) for c in changes] == [("changed", ["a", "b"], ["b", "a"])]
    assert named(diff({"n": 1}, {"n": {"deep": True}}), {"1": "one"})[0].before == 1


def test_C4_K13_T11_N12_the_one_who_must_remain_is_named_in_each_products_words() -> None:
    from rolegate.domain.rules.team_rules import guardian_words
    from rolegate.presets import load_preset

    assert guardian_words(load_preset("customersuccessbox")) == "member with the Administrator profile"
    assert guardian_words(load_preset("catalyst")) == "member with the High access level"
    assert guardian_words(load_preset("telephony")) == "member with the Owner license"
    assert guardian_words(load_preset("natero")) == "member who can manage the team"
    assert guardian_words(load_preset("email_marketing")) == "member who can manage roles"


def test_a_guardian_the_schema_names_by_no_role_level_or_right_keeps_its_label() -> None:
    from dataclasses import replace

    from rolegate.domain.rules.team_rules import guardian_words
    from rolegate.domain.schema import Guardian
    from rolegate.presets import load_preset

    schema = load_preset("telephony")
    bare = Guardian("T11")
    assert guardian_words(replace(schema, guardian=bare)) == bare.label
