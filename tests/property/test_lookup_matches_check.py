"""`lookup` and `check` never disagree, in every form a host can use the lookup:

- the Filter's JSON (`to_json()`), evaluated here by a small interpreter of the
  documented format (not by `Filter.matches`), over the records;
- the SQL clause (`store.record_lists.filter_clause`) on SQLite;
- the pages of ids (`store.record_lists.visible_page`) on SQLite, walked with a small
  page size so cursors are exercised;

and `check` itself through the store's SQL RecordIndex (one-query lineage) agrees with
`check` through the in-memory index. Random products, roles, members and records
(tests/strategies.py), including orphans and dangling parents.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, insert, select

from rolegate.domain.schema import Scope
from rolegate.engine import AssigneeFilter, Filter, InMemoryRecordIndex, Record, RecordRef, compile_snapshot
from rolegate.store import tables as t
from rolegate.store.record_index import SqlRecordIndex
from rolegate.store.record_lists import filter_clause, visible_page
from tests.strategies import World, worlds

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# One SQLite database for the module (plain engine: no foreign keys to satisfy); each
# example writes its records under a workspace id of its own.
ENGINE = create_engine("sqlite://")
t.records.create(ENGINE)
_workspaces = itertools.count()


def json_admits(body: Mapping[str, Any], records: Mapping[tuple[str, str], Record], rec: Record, member: str) -> bool:
    """The JSON filter format of `POST /lookup`, as a host would implement it."""
    op = body["op"]
    if op == "all":
        return True
    if op == "none":
        return False
    if op == "and":
        return all(json_admits(arg, records, rec, member) for arg in body["args"])
    assert op == "assignee", body
    at: Record | None = rec
    for step_type in body["path"]:
        parent = at.parent if at is not None else None
        at = records.get((parent.type, parent.id)) if parent is not None else None
        if at is None or at.type != step_type:
            return False
    assert at is not None
    relation = "unassigned" if at.assignee is None else "assigned" if at.assignee == body["member"] else "others"
    assert body["member"] == member
    return relation in body["include"]


def load(world: World) -> str:
    workspace_id = f"ws-{next(_workspaces)}"
    rows = [
        {
            "workspace_id": workspace_id,
            "type": r.type,
            "id": r.id,
            "parent_type": r.parent.type if r.parent else None,
            "parent_id": r.parent.id if r.parent else None,
            "assignee_id": r.assignee,
        }
        for r in world.records
    ]
    if rows:
        with ENGINE.begin() as conn:
            conn.execute(insert(t.records), rows)
    return workspace_id


@PROPERTY
@given(worlds())
def test_lookup_in_json_and_sql_agrees_with_check(world: World) -> None:
    index = InMemoryRecordIndex(world.records)
    snap = compile_snapshot(world.schema, features=world.features, roles=world.roles, members=world.members, records=index)
    by_key = {(r.type, r.id): r for r in world.records}
    workspace_id = load(world)
    r = t.records
    with ENGINE.connect() as conn:
        for member in world.member_ids:
            for action, spec in world.data["actions"].items():
                object_type = spec.get("object")
                if object_type is None:
                    continue
                records = world.records_of(object_type)
                checked = sorted(rec.id for rec in records if snap.check(member, action, rec.ref).allowed)
                found = snap.lookup(member, action, object_type)
                doc = found.to_json()
                assert doc["object"] == object_type
                body = doc["filter"]
                assert isinstance(body, dict)
                by_json = sorted(rec.id for rec in records if json_admits(body, by_key, rec, member))
                by_clause = [row[0] for row in conn.execute(select(r.c.id).where(filter_clause(found, workspace_id)).order_by(r.c.id))]
                paged: list[str] = []
                cursor: str | None = None
                for _ in range(len(records) + 2):
                    page = visible_page(conn, found, workspace_id, cursor=cursor, limit=2)
                    paged.extend(page.ids)
                    cursor = page.next_cursor
                    if cursor is None:
                        break
                context = (member, action, doc)
                assert by_json == checked, context
                assert by_clause == checked, context
                assert paged == checked, context


@PROPERTY
@given(worlds())
def test_check_through_the_sql_index_agrees_with_the_in_memory_index(world: World) -> None:
    workspace_id = load(world)
    common: dict[str, Any] = {"features": world.features, "roles": world.roles, "members": world.members}
    in_memory = compile_snapshot(world.schema, records=InMemoryRecordIndex(world.records), **common)
    over_sql = compile_snapshot(world.schema, records=SqlRecordIndex(ENGINE, workspace_id), **common)
    for q in world.queries:
        if q.record is None:
            continue
        got = over_sql.check(q.member, q.action, q.record)
        want = in_memory.check(q.member, q.action, q.record)
        assert (got.allowed, [x.code for x in got.reasons]) == (want.allowed, [x.code for x in want.reasons]), q
    for rec in world.records:
        assert SqlRecordIndex(ENGINE, workspace_id).get(RecordRef(rec.type, rec.id)) == rec


@PROPERTY
@given(
    st.integers(1, 7),
    st.sampled_from(["m1", "m2", "m3"]),
    st.lists(st.sampled_from([None, "m0", "m1", "m2", "m3", "m4"]), min_size=0, max_size=12),
)
def test_every_scope_compiles_to_ranges_that_select_what_it_admits(scope: int, member: str, assignees: list[str | None]) -> None:
    """Scopes the presets cannot express yet (`others`, `unassigned+others`) too: the
    ranges are disjoint and cover exactly the admitted assignees."""
    workspace_id = f"ws-{next(_workspaces)}"
    recs = [Record("account", f"a{k:02d}", None, who) for k, who in enumerate(assignees)]
    if recs:
        with ENGINE.begin() as conn:
            conn.execute(insert(t.records), [{"workspace_id": workspace_id, "type": "account", "id": x.id, "assignee_id": x.assignee} for x in recs])
    term = AssigneeFilter(member, 0, (), Scope(scope))
    f = Filter("account", (term,))
    want = [x.id for x in recs if term.admits(x.assignee)]
    r = t.records
    with ENGINE.connect() as conn:
        assert [row[0] for row in conn.execute(select(r.c.id).where(filter_clause(f, workspace_id)).order_by(r.c.id))] == want
        assert list(visible_page(conn, f, workspace_id, cursor=None, limit=100).ids) == want
