"""Counts and names in the customer's sentences (issue 15, item 2)."""

from __future__ import annotations

import pytest

from rolegate.domain.words import count_of, duration_of, plural_of, quoted, without_rule_ids


@pytest.mark.parametrize(
    ("n", "singular", "expected"),
    [
        (0, "member", "0 members"),
        (1, "member", "1 member"),
        (2, "member", "2 members"),
        (1, "account", "1 account"),
        (3, "account record", "3 account records"),
        (2, "day", "2 days"),
        (2, "company", "2 companies"),
        (2, "place", "2 places"),
        (2, "address", "2 addresses"),
        (2, "person", "2 people"),
        (1200, "event", "1,200 events"),
    ],
)
def test_count_of_agrees_with_its_number(n: int, singular: str, expected: str) -> None:
    assert count_of(n, singular) == expected


def test_count_of_takes_a_plural_the_rules_do_not_know() -> None:
    assert count_of(2, "datum", "data") == "2 data"
    assert count_of(1, "datum", "data") == "1 datum"


def test_plural_keeps_a_capital() -> None:
    assert plural_of("Person") == "People"
    assert plural_of("Key") == "Keys"


def test_quoted_uses_typographic_quotes() -> None:
    assert quoted("Night shift") == "\u201cNight shift\u201d"


@pytest.mark.parametrize(
    ("cited", "plain"),
    [
        ("Every permission, including editing roles and assigning them (E1, E7).", "Every permission, including editing roles and assigning them."),
        ("C3 (Developer): create new accounts.", "Developer: create new accounts."),
        ("E1, E7: only site administrators edit roles.", "Only site administrators edit roles."),
        ("View the Web Access Log (E8: every administrator's changes)", "View the Web Access Log (every administrator's changes)"),
        ("(follows \u201cCSM Seat\u201d, N2)", "(follows \u201cCSM Seat\u201d)"),
        ("Copy forms to other accounts (E9)", "Copy forms to other accounts"),
        ("Part of the C1 launch, version T100", "Part of the C1 launch, version T100"),
        ("Sees accounts.", "Sees accounts."),
    ],
)
def test_without_rule_ids_leaves_the_product_words(cited: str, plain: str) -> None:
    assert without_rule_ids(cited) == plain


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(1, "1 second"), (30, "30 seconds"), (60, "60 seconds"), (61, "2 minutes"), (900, "15 minutes"), (3599, "1 hour"), (3600, "1 hour"), (3601, "2 hours")],
)
def test_a_wait_reads_in_the_unit_a_person_uses_and_is_never_shorter_than_it_is(seconds: int, expected: str) -> None:
    assert duration_of(seconds) == expected
