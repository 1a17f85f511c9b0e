"""Pages of a list (members, roles, invitations) in a fixed order: by a key that sorts
as the items were created (`creation_key`). The cursor is the last key given: the next
page starts at the first key after it, so a deletion or a creation between two pages
never makes a page skip or repeat an item that was there throughout."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from rolegate.domain.errors import InvalidInputError

__all__ = ["CURSOR_PATTERN", "DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "Page", "creation_key", "page_of"]

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

CURSOR_PATTERN = r"^[A-Za-z0-9_:.-]{1,200}$"
"""What a cursor of these lists looks like (a door can validate it before the domain does)."""
_CURSOR = re.compile(CURSOR_PATTERN)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    next_cursor: str | None
    """Present exactly when more items follow: pass it back for the next page."""


def creation_key(created_at: datetime | None, item_id: str) -> str:
    """A position in creation order, then id (how the store lists members, roles and
    invitations), as a string that sorts the same way: the cursor of those lists."""
    when = created_at.astimezone(UTC).strftime("%Y%m%d%H%M%S%f") if created_at is not None else "0" * 20
    return f"{when}.{item_id}"


def page_of(items: Iterable[T], *, key: Callable[[T], str], cursor: str | None, limit: int) -> Page[T]:
    """The first `limit` items, by `key`, whose key comes after `cursor`."""
    if cursor is not None and _CURSOR.match(cursor) is None:
        raise InvalidInputError(
            f"{cursor[:40]!r} is not a cursor of this list.",
            fix="Pass back `next_cursor` as given, or leave it out to start again.",
        )
    ordered = sorted((i for i in items if cursor is None or key(i) > cursor), key=key)
    chunk = tuple(ordered[:limit])
    return Page(chunk, key(chunk[-1]) if len(ordered) > limit else None)
