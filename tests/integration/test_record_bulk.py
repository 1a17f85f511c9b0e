"""The record index in bulk against the one-by-one path, on SQLite and on PostgreSQL:
a bulk call leaves the same rows as `records.upsert_record` record by record (new,
updated, moved between parents, reassigned, unassigned, repeated in the call), audits
every assignment change once in one revision, and keeps the audit chain verifiable
(N9, C7). N9 is decided per member even when many assignees share a role."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from rolegate.bootstrap import Rolegate
from rolegate.domain.errors import PermissionDeniedError
from rolegate.domain.workspace import Actor
from rolegate.engine import Record, RecordRef, Snapshot, compile_snapshot
from rolegate.services import context, record_bulk, records
from rolegate.services.context import new_id, new_ids
from rolegate.store import tables
from tests.integration.support import PLATFORM, Ws, open_workspace, refused

ACC, TASK, COMMENT = "account", "task", "task_comment"


def rows(ws: Ws, members: dict[str, str]) -> list[tuple[str, str, str | None, str | None, str | None]]:
    """The workspace's records, assignees named by their tag (member ids differ across workspaces)."""
    r = tables.records
    tags = {mid: tag for tag, mid in members.items()}
    with ws.app.engine.connect() as conn:
        found = conn.execute(select(r.c.type, r.c.id, r.c.parent_type, r.c.parent_id, r.c.assignee_id).where(r.c.workspace_id == ws.id))
        return sorted((t, i, pt, pi, tags[a] if a is not None else None) for t, i, pt, pi, a in found)


def calls(m: dict[str, str]) -> list[list[Record]]:
    """Two syncs of a CustomerSuccessBox host, with members by tag."""
    a = [Record(ACC, f"a{k}", None, m["csm1"] if k % 3 == 0 else m["csm2"] if k % 3 == 1 else None) for k in range(12)]
    tasks = [Record(TASK, f"t{k}", a[k % 12].ref) for k in range(20)]
    comments = [Record(COMMENT, f"c{k}", tasks[k].ref) for k in range(10)]
    # Children before their parents: C7 lets a parent come later in the same call.
    first = [*comments, *tasks, *a]
    second = [
        Record(ACC, "a0", None, m["csm2"]),  # reassigned
        Record(ACC, "a1", None, None),  # unassigned
        Record(ACC, "a2", None, m["csm1"]),  # assigned
        Record(ACC, "a3", None, m["csm1"]),  # unchanged
        Record(TASK, "t0", RecordRef(ACC, "a5")),  # moved to another account
        Record(ACC, "a12", None, m["csm2"]),  # new, assigned
        Record(ACC, "a4", None, m["csm1"]),
        Record(ACC, "a4", None, m["csm2"]),  # the last write of the call wins (unchanged then)
        Record(COMMENT, "c20", RecordRef(TASK, "t20")),
        Record(TASK, "t20", RecordRef(ACC, "a12")),  # a new parent, after its child
    ]
    return [first, second]


def one_by_one(batch: list[Record]) -> list[Record]:
    """The same call as single upserts: the last write of each record, parents first."""
    latest = {(r.type, r.id): r for r in batch}
    depth = {ACC: 0, TASK: 1, COMMENT: 2}
    return sorted(latest.values(), key=lambda r: depth[r.type])


def test_N9_C7_bulk_calls_leave_the_rows_of_the_one_by_one_path_and_an_intact_chain(rolegate_app: Rolegate) -> None:
    bulk_ws, single_ws = open_workspace(rolegate_app, "customersuccessbox"), open_workspace(rolegate_app, "customersuccessbox")
    bulk_m = {tag: bulk_ws.add("csm", tag=tag) for tag in ("csm1", "csm2")}
    single_m = {tag: single_ws.add("csm", tag=tag) for tag in ("csm1", "csm2")}
    first, second = calls(bulk_m)
    record_bulk.upsert_records(rolegate_app.uow(), actor=bulk_ws.owner, workspace_id=bulk_ws.id, records=first)
    events_before = len(bulk_ws.events())
    written = record_bulk.upsert_records(rolegate_app.uow(), actor=bulk_ws.owner, workspace_id=bulk_ws.id, records=second)
    for batch in calls(single_m):
        for rec in one_by_one(batch):
            records.upsert_record(rolegate_app.uow(), actor=single_ws.owner, workspace_id=single_ws.id, record=rec)

    assert rows(bulk_ws, bulk_m) == rows(single_ws, single_m)
    assert len(rows(bulk_ws, bulk_m)) == 12 + 20 + 10 + 3
    assert (written.created, written.updated, written.unchanged, written.assignments) == (3, 4, 2, 4)
    new = bulk_ws.events()[events_before:]
    tags: dict[str | None, str | None] = {None: None, **{mid: tag for tag, mid in bulk_m.items()}}
    moves = [(e.target_id, tags[e.before["assignee"]], tags[e.after["assignee"]]) for e in new if e.action == "record.assign"]
    assert moves == [("a0", "csm1", "csm2"), ("a1", "csm2", None), ("a2", None, "csm1"), ("a12", None, "csm2")]
    assert [e.action for e in new][-1] == "records.upsert"
    assert new[-1].after == {"created": 3, "updated": 4, "unchanged": 2}
    assert {e.revision for e in new} == {written.revision} == {bulk_ws.revision()}
    assert {e.actor for e in new} == {bulk_ws.owner.label}
    assert bulk_ws.chain_intact()
    assert single_ws.chain_intact()


def test_N9_bulk_assignments_of_a_new_call_chain_onto_the_last_event(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "customersuccessbox")
    csms = [ws.add("csm", tag=f"csm{k}") for k in range(3)]
    for call in range(3):
        batch = [Record(ACC, f"a{call}-{k}", None, csms[k % 3]) for k in range(200)]
        written = record_bulk.upsert_records(rolegate_app.uow(), actor=PLATFORM, workspace_id=ws.id, records=batch)
        assert written.assignments == 200
    events = ws.events()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert sum(e.action == "record.assign" for e in events) == 600
    assert ws.chain_intact()


def test_N9_an_inactive_member_is_refused_in_bulk_after_an_eligible_one_of_the_same_role(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "customersuccessbox")
    active, invited = ws.add("csm", tag="active"), ws.add("csm", tag="invited", invited=True)
    batch = [Record(ACC, f"a{k}", None, active) for k in range(5)] + [Record(ACC, "late", None, invited)]
    with refused(ws, "C6") as info:
        record_bulk.upsert_records(rolegate_app.uow(), actor=PLATFORM, workspace_id=ws.id, records=batch)
    message = str(info.value.violations[0].message)
    with ws.app.uow() as uow:
        person = uow.members.get(ws.id, invited)
    assert person is not None
    assert (person.name or person.email) in message  # named as the team knows them (issue 15), not by id
    assert invited not in message
    with ws.app.uow() as uow:
        assert uow.records_bulk.get_many(ws.id, [(ACC, "a0"), (ACC, "late")]) == {}


def test_N9_audit_rows_keep_ids_with_tabs_newlines_and_backslashes(rolegate_app: Rolegate) -> None:
    """On PostgreSQL the audit rows go as COPY text, which escapes these; the chain must
    verify and every id read back as written."""
    ws = open_workspace(rolegate_app, "customersuccessbox")
    csm = ws.add("csm")
    odd = ["tab\there", "line\nbreak", "back\\slash", "cr\rret", "\\N", "ünï \u2603", 'quote"s']
    record_bulk.upsert_records(rolegate_app.uow(), actor=PLATFORM, workspace_id=ws.id, records=[Record(ACC, i, None, csm) for i in odd])
    assigned = [e for e in ws.events() if e.action == "record.assign"]
    assert [e.target_id for e in assigned] == odd
    assert all(e.after == {"assignee": csm} and e.before == {"assignee": None} for e in assigned)
    assert ws.chain_intact()


def test_new_ids_are_distinct_time_ordered_uuid7() -> None:
    ids = new_ids(5_000)
    assert len(set(ids)) == 5_000
    parsed = [uuid.UUID(i) for i in ids]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 and str(u) == i for u, i in zip(parsed, ids, strict=True))
    assert max(u.int >> 80 for u in parsed) <= uuid.UUID(new_id()).int >> 80  # the millisecond prefix comes from the clock


def test_C1_a_bulk_sync_compiles_a_snapshot_only_to_authorize_a_member(rolegate_app: Rolegate, monkeypatch: pytest.MonkeyPatch) -> None:
    """The workspace's snapshot (every member compiled) is built only when asked for:
    the platform's sync never asks; a member assigning records asks once (C1, the
    admin right of CustomerSuccessBox)."""
    ws = open_workspace(rolegate_app, "customersuccessbox")
    csm = ws.add("csm")
    compiled: list[int] = []
    def counting(*args: Any, **kwargs: Any) -> Snapshot:
        compiled.append(1)
        return compile_snapshot(*args, **kwargs)

    monkeypatch.setattr(context, "compile_snapshot", counting)
    record_bulk.upsert_records(rolegate_app.uow(), actor=PLATFORM, workspace_id=ws.id, records=[Record(ACC, f"a{k}", None, csm) for k in range(3)])
    assert compiled == []
    written = record_bulk.upsert_records(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, records=[Record(ACC, "a0", None, None), Record(ACC, "a9", None, csm)])
    assert (written.created, written.updated, written.assignments) == (1, 1, 2)
    assert compiled == [1]
    with pytest.raises(PermissionDeniedError, match=r"\[C1\]"):
        record_bulk.upsert_records(rolegate_app.uow(), actor=Actor.member(csm), workspace_id=ws.id, records=[Record(ACC, "a1", None, None)])
    assert compiled == [1, 1]
    with ws.app.uow() as uow:
        assert uow.records_bulk.get_many(ws.id, [(ACC, "a1")]) == {RecordRef(ACC, "a1"): Record(ACC, "a1", None, csm)}
    assert ws.chain_intact()
