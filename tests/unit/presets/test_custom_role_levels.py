"""E2 (issue 14, item 9): where custom roles are offered a single level, a level is optional."""

from __future__ import annotations

import pytest

from rolegate.presets import load_preset


def test_E2_a_custom_role_in_email_marketing_takes_the_one_level_offered() -> None:
    schema = load_preset("email_marketing")
    assert schema.custom_role_levels == ("account_administrator",)
    assert schema.level_for(None, frozenset()) == "account_administrator"
    assert schema.level_for("site_administrator", frozenset()) == "site_administrator"


def test_E2_where_several_levels_are_offered_one_must_be_chosen() -> None:
    schema = load_preset("telephony")
    assert schema.custom_role_levels == ("analyst", "administrator", "owner")
    with pytest.raises(ValueError, match="a level must be chosen"):
        schema.level_for(None, frozenset())


def test_E2_the_editor_offers_custom_roles_their_level_and_a_role_its_own() -> None:
    schema = load_preset("email_marketing")
    assert [lv.key for lv in schema.levels_offered()] == ["account_administrator"]
    assert [lv.key for lv in schema.levels_offered("site_administrator")] == ["account_administrator", "site_administrator"]
