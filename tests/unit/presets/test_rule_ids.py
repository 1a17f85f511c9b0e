"""Item 1 of issue 14: a refusal speaks the workspace's product. Every product-neutral
rule is cited by the product's own seed rule where its article has one, otherwise by its
neutral name, which is no seed rule."""

from __future__ import annotations

from typing import get_args

import pytest

from rolegate.domain.schema import DEFAULT_RULE_IDS, is_seed_rule
from rolegate.domain.schema_format import RuleName
from rolegate.domain.violations import FORM_RULE, Violation, form_violations
from rolegate.presets import load_preset

LETTER = {"natero": "N", "customersuccessbox": "C", "catalyst": "K", "telephony": "T", "email_marketing": "E"}


def test_every_rule_name_is_declared_for_schema_files() -> None:
    assert set(get_args(RuleName)) == set(DEFAULT_RULE_IDS)


@pytest.mark.parametrize("key", sorted(LETTER))
def test_seed_ids_are_the_products_own(key: str) -> None:
    schema = load_preset(key)
    letter = LETTER[key]
    cited = {name: schema.rule(name) for name in DEFAULT_RULE_IDS}
    cited |= {f"seat {s.key}": s.rule for s in schema.seats.values() if s.rule}
    cited |= {f"level {lv.key}": lv.rule for lv in schema.levels.values() if lv.rule}
    cited["guardian"] = schema.guardian.rule_id
    foreign = {name: code for name, code in cited.items() if is_seed_rule(code) and not code.startswith(letter)}
    assert foreign == {}
    for name in DEFAULT_RULE_IDS:
        code = schema.rule(name)
        assert code == name or is_seed_rule(code), (name, code)
        assert schema.seed_rule(name) == (code if code != name else None)


def test_a_rule_the_article_does_not_state_is_cited_by_its_neutral_name() -> None:
    catalyst, telephony = load_preset("catalyst"), load_preset("telephony")
    assert (telephony.rule("role_in_use"), telephony.seed_rule("role_in_use")) == ("T9", "T9")
    assert (catalyst.rule("role_in_use"), catalyst.seed_rule("role_in_use")) == ("role_in_use", None)
    with pytest.raises(KeyError):
        catalyst.rule("no_such_rule")


def test_a_violation_knows_whether_a_seed_rule_refused() -> None:
    assert Violation("T9", "m", "f").seed_rule == "T9"
    assert Violation("role_in_use", "m", "f").seed_rule is None
    (form,) = form_violations([("Enter an email.", "e.g. ann@example.com")])
    assert (form.rule_id, form.seed_rule) == (FORM_RULE, None)
    assert not is_seed_rule(None)
    assert not is_seed_rule("T9a")
