"""Counts and names in the customer's sentences (issue 15, item 2)."""

from __future__ import annotations

import pytest

from rolegate.domain.words import count_of, plural_of, quoted


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
