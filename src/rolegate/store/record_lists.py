"""`lookup` filters in SQL over the record index: a clause, and pages of visible ids.

A filter's term says which members the assignee of the record `depth` steps up may be
(`Scope` bits: the member, no one, someone else). Each scope is cut into index ranges
of `(workspace_id, type, assignee_id, id)`, never an `OR`:

- assigned: `assignee_id = :m`; unassigned: `assignee_id IS NULL`;
- others: `assignee_id < :m` and `assignee_id > :m` (two ranges; `<>` is not one);
- assigned+others: `assignee_id IS NOT NULL`.

A page is a UNION ALL of one branch per combination of ranges, each branch an index
range scan in id order with its own `LIMIT`, merged and cut again: own + unassigned is
two short range scans whatever the table's size, where `assignee_id = :m OR
assignee_id IS NULL` would make the planner scan or sort. Ancestors (C7) are joined
through the primary key, one alias per step up.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, and_, false, select, union_all
from sqlalchemy.sql.elements import ColumnElement

from rolegate.domain.errors import InvalidRecordError
from rolegate.domain.schema import Scope
from rolegate.engine.filters import AssigneeFilter, Filter
from rolegate.store import tables as t

__all__ = ["MAX_PAGE", "Page", "decode_cursor", "filter_clause", "ids_matching", "page_statement", "scope_ranges", "visible_page"]

MAX_PAGE = 1000
"""The largest page; a caller asking for more gets this many and a cursor."""

Range = Callable[[Any], ColumnElement[bool]]


def scope_ranges(scope: Scope, member: str) -> list[Range]:
    """The index ranges of `assignee_id` that together select `scope` (disjoint)."""
    s = int(scope)
    own, free, others = bool(s & Scope.ASSIGNED), bool(s & Scope.UNASSIGNED), bool(s & Scope.OTHERS)
    ranges: list[Range] = []
    if own and others:
        ranges.append(lambda col: col.is_not(None))
    else:
        if own:
            ranges.append(lambda col: col == member)
        if others:
            ranges.append(lambda col: col < member)
            ranges.append(lambda col: col > member)
    if free:
        ranges.append(lambda col: col.is_(None))
    return ranges


def _lineage(depth: int) -> list[Any]:
    return [t.records.alias(f"l{k}") for k in range(depth + 1)]


def _joined(steps: list[Any], via: tuple[str, ...]) -> Any:
    joined: Any = steps[0]
    for k, (child, parent) in enumerate(itertools.pairwise(steps)):
        joined = joined.join(
            parent,
            and_(
                child.c.parent_type == via[k],
                parent.c.workspace_id == child.c.workspace_id,
                parent.c.type == child.c.parent_type,
                parent.c.id == child.c.parent_id,
            ),
        )
    return joined


def _branches(f: Filter, workspace_id: str) -> tuple[list[Any], Any, ColumnElement[bool], list[list[ColumnElement[bool]]]]:
    depth = max((term.depth for term in f.terms), default=0)
    via = max((term.via for term in f.terms), key=len, default=())
    steps = _lineage(depth)
    base = and_(steps[0].c.workspace_id == workspace_id, steps[0].c.type == f.object_type)
    per_term = [[rng(steps[term.depth].c.assignee_id) for rng in scope_ranges(term.scope, term.member)] for term in f.terms]
    combos = [list(c) for c in itertools.product(*per_term)] if per_term else [[]]
    return steps, _joined(steps, via), base, combos


def filter_clause(f: Filter, workspace_id: str) -> ColumnElement[bool]:
    """A WHERE clause over `records` (`tables.records`, unaliased) selecting what `f`
    admits, to compose into other queries (counts, joins). For a term that is one
    range it is a plain comparison; otherwise `(type, id) IN (<UNION ALL of the
    ranges>)`, a semi-join the index serves, still without an `OR`."""
    r = t.records
    if f.nothing:
        return false()
    if not f.terms:
        return and_(r.c.workspace_id == workspace_id, r.c.type == f.object_type)
    steps, joined, base, combos = _branches(f, workspace_id)
    if len(combos) == 1 and len(steps) == 1:
        return and_(r.c.workspace_id == workspace_id, r.c.type == f.object_type, _on_table(f.terms[0], r))
    first = steps[0]
    selects = [select(first.c.id).select_from(joined).where(base, *combo) for combo in combos]
    ids = selects[0] if len(selects) == 1 else union_all(*selects)
    return and_(r.c.workspace_id == workspace_id, r.c.type == f.object_type, r.c.id.in_(ids))


def _on_table(term: AssigneeFilter, r: Any) -> ColumnElement[bool]:
    (rng,) = scope_ranges(term.scope, term.member)
    return rng(r.c.assignee_id)


def page_statement(f: Filter, workspace_id: str, *, after: str | None, limit: int) -> Select[Any]:
    """Ids admitted by `f`, in id order, after `after`, at most `limit`: one index range
    scan per combination of ranges, each cut at `limit`, merged and cut again."""
    steps, joined, base, combos = _branches(f, workspace_id)
    first = steps[0]
    keyset = [first.c.id > after] if after is not None else []
    branches = [
        select(first.c.id.label("id")).select_from(joined).where(base, *keyset, *combo).order_by(first.c.id).limit(limit).subquery(f"b{k}")
        for k, combo in enumerate(combos)
    ]
    if len(branches) == 1:
        return select(branches[0].c.id)
    merged = union_all(*(select(b.c.id) for b in branches)).subquery("merged")
    return select(merged.c.id).order_by(merged.c.id).limit(limit)


@dataclass(frozen=True, slots=True)
class Page:
    ids: tuple[str, ...]
    next_cursor: str | None
    """None only when no admitted record follows the last id: never a silent cut."""


def _fingerprint(f: Filter) -> str:
    return hashlib.sha256(json.dumps(f.to_json(), sort_keys=True).encode()).hexdigest()[:16]


def encode_cursor(f: Filter, after: str) -> str:
    raw = json.dumps({"f": _fingerprint(f), "after": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(f: Filter, cursor: str | None) -> str | None:
    """The id a cursor continues after; a cursor made for another member, action or
    object (or a filter that has changed since, e.g. a new role) is refused."""
    if cursor is None:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after, fingerprint = data["after"], data["f"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidRecordError("the cursor is not one this API returned", fix="Pass `next_cursor` of the previous page unchanged, or none for the first page.") from None
    if not isinstance(after, str) or fingerprint != _fingerprint(f):
        raise InvalidRecordError(
            "the cursor belongs to another list (member, action, object) or the member's access changed since",
            fix="Start again from the first page (no cursor).",
        )
    return after


def visible_page(conn: Connection, f: Filter, workspace_id: str, *, cursor: str | None, limit: int) -> Page:
    """One page of the ids `f` admits. Reads one row more than it returns, so the cursor
    is given exactly when more rows follow."""
    if f.nothing:
        return Page((), None)
    after = decode_cursor(f, cursor)
    size = max(1, min(limit, MAX_PAGE))
    ids = [row[0] for row in conn.execute(page_statement(f, workspace_id, after=after, limit=size + 1))]
    more = len(ids) > size
    ids = ids[:size]
    return Page(tuple(ids), encode_cursor(f, ids[-1]) if more else None)


def ids_matching(conn: Connection, f: Filter, workspace_id: str) -> list[str]:
    """Every admitted id through `filter_clause` (tests compare it to the pages)."""
    r = t.records
    return [row[0] for row in conn.execute(select(r.c.id).where(filter_clause(f, workspace_id)).order_by(r.c.id))]
