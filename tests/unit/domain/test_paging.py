"""Issue 14 item 13: members, roles and invitations come in pages, with a cursor exactly
when more follow."""

from __future__ import annotations

import pytest

from rolegate.domain.errors import InvalidInputError
from rolegate.domain.paging import creation_key, page_of


def _all_pages(items: list[str], limit: int) -> list[tuple[str, ...]]:
    pages, cursor = [], None
    while True:
        page = page_of(items, key=str, cursor=cursor, limit=limit)
        pages.append(page.items)
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def test_pages_cover_the_list_once_in_id_order_with_a_cursor_exactly_when_more_follow() -> None:
    items = [f"m{i}" for i in (3, 0, 6, 1, 5, 2, 4)]
    assert _all_pages(items, 3) == [("m0", "m1", "m2"), ("m3", "m4", "m5"), ("m6",)]
    assert _all_pages(items, 7) == [tuple(sorted(items))]
    assert page_of([], key=str, cursor=None, limit=5).next_cursor is None


def test_a_deletion_or_creation_between_pages_skips_and_repeats_nothing_that_stayed() -> None:
    items = [f"m{i}" for i in range(6)]
    first = page_of(items, key=str, cursor=None, limit=3)
    assert (first.items, first.next_cursor) == (("m0", "m1", "m2"), "m2")
    changed = [i for i in items if i not in ("m1", "m2")] + ["m9"]
    assert page_of(changed, key=str, cursor=first.next_cursor, limit=3).items == ("m3", "m4", "m5")


@pytest.mark.parametrize("cursor", ["", "a b", "x" * 201, "m1\x00"])
def test_a_cursor_not_made_by_the_list_is_bad_input(cursor: str) -> None:
    with pytest.raises(InvalidInputError, match="not a cursor"):
        page_of(["m0"], key=str, cursor=cursor, limit=1)


def test_creation_keys_sort_by_time_then_id() -> None:
    from datetime import UTC, datetime, timedelta

    t0 = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    keys = [creation_key(t0 + timedelta(microseconds=1), "a"), creation_key(t0, "b"), creation_key(t0, "a"), creation_key(None, "z")]
    assert sorted(keys) == [keys[3], keys[2], keys[1], keys[0]]
    assert creation_key(t0, "a") == "20260102030405000006.a"
