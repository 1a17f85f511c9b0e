"""Record-level access through the real services, on SQLite and on PostgreSQL: the
record index in bulk, assignments (N9, audited), own / unassigned / all scopes (N11,
N13, C3), child records at depth 1 and 2 (C7), and pages of visible ids that agree
with record checks made through the store's RecordIndex."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from rolegate.bootstrap import Rolegate
from rolegate.domain.errors import InvalidRecordError, PermissionDeniedError
from rolegate.domain.workspace import Actor
from rolegate.engine import Record, RecordRef, Snapshot
from rolegate.presets import load_preset
from rolegate.services import assignments, record_bulk
from rolegate.services.assignments import visible_records
from rolegate.store import tables
from rolegate.store.record_lists import filter_clause
from tests.integration.support import PLATFORM, Ws, one_change, open_workspace, refused

ACC, TASK, COMMENT = "account", "task", "task_comment"


def acc(i: str, assignee: str | None = None) -> Record:
    return Record(ACC, i, None, assignee)


def child(type_: str, i: str, parent: Record) -> Record:
    return Record(type_, i, parent.ref)


def upsert(ws: Ws, *records: Record) -> record_bulk.BulkWritten:
    return record_bulk.upsert_records(ws.app.uow(), actor=PLATFORM, workspace_id=ws.id, records=list(records))


def snapshot(ws: Ws) -> Snapshot:
    return ws.app.snapshots.get(ws.id, min_revision=ws.revision())


def all_pages(ws: Ws, member: str, action: str, object_type: str, *, limit: int = 2) -> list[str]:
    """Every visible id, page by page: a cursor comes exactly when more ids follow."""
    snap = snapshot(ws)
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(10_000):
        page = visible_records(ws.app.uow(), snap, workspace_id=ws.id, member=member, action=action, object_type=object_type, cursor=cursor, limit=limit)
        assert len(page.ids) <= limit
        ids.extend(page.ids)
        if page.next_cursor is None:
            break
        assert len(page.ids) == limit, "a page before the last is full"
        cursor = page.next_cursor
    assert ids == sorted(ids), "pages come in id order"
    return ids


def checked(ws: Ws, member: str, action: str, refs: list[RecordRef]) -> list[str]:
    """The ids `check` allows, one at a time through the store's RecordIndex (the
    naive list, to compare with the pages)."""
    snap = snapshot(ws)
    return sorted(r.id for r in refs if snap.check(member, action, r).allowed)


def clause_ids(ws: Ws, member: str, action: str, object_type: str) -> list[str]:
    f = snapshot(ws).lookup(member, action, object_type)
    r = tables.records
    with ws.app.engine.connect() as conn:
        return [row[0] for row in conn.execute(select(r.c.id).where(filter_clause(f, ws.id)).order_by(r.c.id))]


@pytest.fixture
def csb(rolegate_app: Rolegate) -> Ws:
    return open_workspace(rolegate_app, "customersuccessbox")


@dataclasses.dataclass
class CsbWorld:
    ws: Ws
    csm: str
    other_csm: str
    accounts: list[Record]
    tasks: list[Record]
    comments: list[Record]

    def refs(self, type_: str) -> list[RecordRef]:
        return [r.ref for r in {ACC: self.accounts, TASK: self.tasks, COMMENT: self.comments}[type_]]


@pytest.fixture
def world(csb: Ws) -> CsbWorld:
    csm, other = csb.add("csm", tag="csm"), csb.add("csm", tag="other")
    accounts = [acc("a-own-1", csm), acc("a-own-2", csm), acc("a-free-1"), acc("a-free-2"), acc("a-other-1", other), acc("a-other-2", other)]
    tasks = [child(TASK, f"t-{a.id}", a) for a in accounts]
    comments = [child(COMMENT, f"c-{t.id}", t) for t in tasks]
    upsert(csb, *accounts, *tasks, *comments)
    return CsbWorld(csb, csm, other, accounts, tasks, comments)


# -- N9: who can be assigned, audited ----------------------------------------------------


def test_N9_accounts_are_assigned_only_to_members_whose_role_allows_it(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "natero")
    guest, csm = ws.add("guest"), ws.add("csm")
    upsert(ws, acc("acc-1"))
    with refused(ws, "N9") as info:
        assignments.assign_record(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, ref=RecordRef(ACC, "acc-1"), assignee=guest)
    assert "CSM Seat" in info.value.violations[0].fix or "Customer Success Manager Seat" in info.value.violations[0].fix
    with refused(ws, "N9"):
        upsert(ws, acc("acc-2", guest))  # in bulk too, and nothing of the call is written
    with ws.app.uow() as uow:
        assert uow.records.get(ws.id, RecordRef(ACC, "acc-2")) is None
    with one_change(ws, "record.assign"):
        assignments.assign_record(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, ref=RecordRef(ACC, "acc-1"), assignee=csm)
    assert snapshot(ws).check(csm, "accounts.deploy_workflows", RecordRef(ACC, "acc-1")).allowed


def test_N9_assignment_changes_are_audited_with_before_and_after(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "natero")
    csm = ws.add("csm")
    upsert(ws, acc("acc-1"), acc("acc-2"))
    with one_change(ws, "record.assign"):
        assignments.assign_record(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, ref=RecordRef(ACC, "acc-1"), assignee=csm)
    with one_change(ws, "record.assign"):
        assignments.assign_record(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, ref=RecordRef(ACC, "acc-1"), assignee=None)
    moves = [(e.target_id, e.actor, e.before, e.after) for e in ws.events() if e.action == "record.assign"]
    assert moves == [("acc-1", ws.owner.label, {"assignee": None}, {"assignee": csm}), ("acc-1", ws.owner.label, {"assignee": csm}, {"assignee": None})]
    # The same assignee again writes nothing.
    rev = ws.revision()
    unchanged = assignments.assign_record(rolegate_app.uow(), actor=ws.owner, workspace_id=ws.id, ref=RecordRef(ACC, "acc-1"), assignee=None)
    assert (unchanged.changed, unchanged.revision) == (False, rev)
    assert ws.revision() == rev
    # In bulk: one revision, one event per assignment change plus a summary.
    before = len(ws.events())
    written = upsert(ws, acc("acc-1", csm), acc("acc-2", csm), acc("acc-3"))
    assert (written.created, written.updated, written.assignments) == (1, 2, 2)
    new = ws.events()[before:]
    assert [e.action for e in new] == ["record.assign", "record.assign", "records.upsert"]
    assert {e.revision for e in new} == {written.revision}
    assert ws.chain_intact()


def test_N9_assigning_needs_the_assign_records_right(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "natero")
    csm = ws.add("csm")
    upsert(ws, acc("acc-1"))
    rev = ws.revision()
    with pytest.raises(PermissionDeniedError, match="N12"):
        assignments.assign_record(rolegate_app.uow(), actor=Actor.member(csm), workspace_id=ws.id, ref=RecordRef(ACC, "acc-1"), assignee=csm)
    with pytest.raises(PermissionDeniedError, match="N12"):
        record_bulk.upsert_records(rolegate_app.uow(), actor=Actor.member(csm), workspace_id=ws.id, records=[acc("acc-1", csm)])
    assert ws.revision() == rev


# -- N11, N13 (Natero) -------------------------------------------------------------------


def test_N11_without_view_all_a_csm_lists_and_checks_only_their_accounts(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "natero")
    csm, guest = ws.add("csm"), ws.add("guest")
    accounts = [acc("a1", csm), acc("a2"), acc("a3", ws.owner_id), acc("a4", csm)]
    tasks = [child(TASK, f"t-{a.id}", a) for a in accounts]
    upsert(ws, *accounts, *tasks)
    refs = [a.ref for a in accounts]
    assert all_pages(ws, csm, "accounts.view", ACC) == checked(ws, csm, "accounts.view", refs) == ["a1", "a4"]
    assert all_pages(ws, csm, "tasks.view", TASK) == ["t-a1", "t-a4"]
    # N11: with "View all accounts" every account and what lives under it.
    assert all_pages(ws, guest, "accounts.view", ACC) == checked(ws, guest, "accounts.view", refs) == ["a1", "a2", "a3", "a4"]
    assert all_pages(ws, guest, "tasks.view", TASK) == sorted(t.id for t in tasks)


def test_N13_update_accounts_acts_only_on_the_accounts_the_member_sees(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "natero")
    csm, executive, guest = ws.add("csm"), ws.add("executive"), ws.add("guest")
    accounts = [acc("a1", csm), acc("a2"), acc("a3", ws.owner_id)]
    tasks = [child(TASK, f"t-{a.id}", a) for a in accounts]
    upsert(ws, *accounts, *tasks)
    task_refs = [t.ref for t in tasks]
    # A CSM with "Update accounts": their own accounts and tasks only (N9 + N11).
    assert all_pages(ws, csm, "accounts.update_attributes", ACC) == ["a1"]
    assert all_pages(ws, csm, "tasks.update", TASK) == checked(ws, csm, "tasks.update", task_refs) == ["t-a1"]
    # An Executive (view all + update): every account and task.
    assert all_pages(ws, executive, "tasks.update", TASK) == checked(ws, executive, "tasks.update", task_refs) == ["t-a1", "t-a2", "t-a3"]
    # A Guest sees everything but updates nothing.
    assert all_pages(ws, guest, "tasks.update", TASK) == checked(ws, guest, "tasks.update", task_refs) == []


# -- C3 (CustomerSuccessBox) -------------------------------------------------------------


def test_C3_csm_sees_their_own_and_unassigned_accounts(world: CsbWorld) -> None:
    ws, csm = world.ws, world.csm
    expected = ["a-free-1", "a-free-2", "a-own-1", "a-own-2"]
    assert all_pages(ws, csm, "accounts.view", ACC) == expected
    assert checked(ws, csm, "accounts.view", world.refs(ACC)) == expected
    assert clause_ids(ws, csm, "accounts.view", ACC) == expected
    assert all_pages(ws, csm, "accounts.update", ACC, limit=3) == expected
    denied = snapshot(ws).check(csm, "accounts.view", RecordRef(ACC, "a-other-1"))
    assert not denied.allowed
    assert denied.reasons[-1].rule_id == "C3"
    assert "assigned to someone else" in denied.reasons[-1].message


def test_C3_csm_own_and_unassigned_is_two_index_ranges_not_an_or(world: CsbWorld) -> None:
    from rolegate.store.record_lists import page_statement

    f = snapshot(world.ws).lookup(world.csm, "accounts.view", ACC)
    sql = str(page_statement(f, world.ws.id, after=None, limit=101).compile(world.ws.app.engine)).upper()
    assert " OR " not in sql
    assert "UNION ALL" in sql
    assert "IS NULL" in sql


def test_C3_super_manager_sees_and_manages_all_accounts(world: CsbWorld) -> None:
    ws = world.ws
    boss = ws.add("super_manager")
    every = sorted(a.id for a in world.accounts)
    assert all_pages(ws, boss, "accounts.view", ACC, limit=4) == checked(ws, boss, "accounts.view", world.refs(ACC)) == every
    assert all_pages(ws, boss, "accounts.update", ACC, limit=100) == every
    assert snapshot(ws).lookup(boss, "accounts.view", ACC).is_all


def test_C3_developer_views_all_records_but_updates_none(world: CsbWorld) -> None:
    ws = world.ws
    dev = ws.add("developer")
    assert all_pages(ws, dev, "accounts.view", ACC, limit=5) == sorted(a.id for a in world.accounts)
    assert all_pages(ws, dev, "task_comments.view", COMMENT) == sorted(c.id for c in world.comments)
    assert all_pages(ws, dev, "accounts.update", ACC) == checked(ws, dev, "accounts.update", world.refs(ACC)) == []


# -- C7: child records at depth 1 and 2 --------------------------------------------------


def test_C7_tasks_follow_their_account_at_depth_one(world: CsbWorld) -> None:
    ws, csm = world.ws, world.csm
    expected = ["t-a-free-1", "t-a-free-2", "t-a-own-1", "t-a-own-2"]
    assert all_pages(ws, csm, "tasks.view", TASK) == checked(ws, csm, "tasks.view", world.refs(TASK)) == expected
    assert clause_ids(ws, csm, "tasks.update", TASK) == expected
    denied = snapshot(ws).check(csm, "tasks.view", RecordRef(TASK, "t-a-other-1"))
    assert not denied.allowed
    assert denied.reasons[-1].rule_id in {"C3", "C7"}


def test_C7_task_comments_follow_their_account_at_depth_two(world: CsbWorld) -> None:
    ws, csm = world.ws, world.csm
    expected = ["c-t-a-free-1", "c-t-a-free-2", "c-t-a-own-1", "c-t-a-own-2"]
    assert all_pages(ws, csm, "task_comments.view", COMMENT) == expected
    assert checked(ws, csm, "task_comments.view", world.refs(COMMENT)) == expected
    assert clause_ids(ws, csm, "task_comments.update", COMMENT) == expected
    # Moving the account moves its records at every depth.
    assignments.assign_record(ws.app.uow(), actor=ws.owner, workspace_id=ws.id, ref=RecordRef(ACC, "a-other-1"), assignee=csm)
    assert "c-t-a-other-1" in all_pages(ws, csm, "task_comments.view", COMMENT)
    assert snapshot(ws).check(csm, "task_comments.update", RecordRef(COMMENT, "c-t-a-other-1")).allowed


def test_C7_deleting_a_parent_deletes_its_records_at_every_depth(world: CsbWorld) -> None:
    ws = world.ws
    gone = record_bulk.delete_records(ws.app.uow(), actor=ws.owner, workspace_id=ws.id, refs=[RecordRef(ACC, "a-own-1"), RecordRef(ACC, "ghost")])
    assert (gone.deleted, gone.orphaned) == (3, 0)
    with ws.app.uow() as uow:
        left = {(r.type, r.id) for r in uow.records.all(ws.id)}
    assert (TASK, "t-a-own-1") not in left
    assert (COMMENT, "c-t-a-own-1") not in left
    assert (ACC, "a-own-2") in left
    assert [e.action for e in ws.events()[-2:]] == ["record.assign", "records.delete"]


def test_C7_deleting_a_parent_orphans_children_when_the_schema_says_so(world: CsbWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = world.ws
    schema = load_preset("customersuccessbox")
    objects = dict(schema.objects)
    objects[TASK] = dataclasses.replace(objects[TASK], on_parent_delete="orphan")
    orphaning = dataclasses.replace(schema, objects=objects)
    monkeypatch.setattr("rolegate.services.context.product_schema", lambda uow, key, version: orphaning)
    gone = record_bulk.delete_records(ws.app.uow(), actor=ws.owner, workspace_id=ws.id, refs=[RecordRef(ACC, "a-free-1")])
    assert (gone.deleted, gone.orphaned) == (1, 1)
    with ws.app.uow() as uow:
        task = uow.records.get(ws.id, RecordRef(TASK, "t-a-free-1"))
        comment = uow.records.get(ws.id, RecordRef(COMMENT, "c-t-a-free-1"))
    assert task == Record(TASK, "t-a-free-1", None, None)
    assert comment is not None
    assert comment.parent == task.ref
    # An orphan has no account to see it through: the CSM may not reach it (C7).
    assert not snapshot(ws).check(world.csm, "tasks.view", task.ref).allowed


def test_C7_a_child_needs_its_parent_in_the_index_or_in_the_same_call(csb: Ws) -> None:
    a = acc("a1")
    written = upsert(csb, child(TASK, "t1", a), a)  # parent later in the same call
    assert (written.created, written.updated) == (2, 0)
    rev = csb.revision()
    with pytest.raises(InvalidRecordError, match=r"records\[1\].*C7"):
        upsert(csb, acc("a2"), child(TASK, "t2", acc("missing")))
    with pytest.raises(InvalidRecordError, match="parent of type 'task'"):
        upsert(csb, Record(COMMENT, "c1", RecordRef(ACC, "a1")))
    assert csb.revision() == rev


# -- the index in bulk and the pages ------------------------------------------------------


def test_bulk_upsert_takes_10000_records_and_no_more(csb: Ws) -> None:
    accounts = [acc(f"a{i:05d}") for i in range(10_000)]
    written = upsert(csb, *accounts)
    assert (written.created, written.updated, written.unchanged) == (10_000, 0, 0)
    again = upsert(csb, *accounts)
    assert (again.created, again.updated, again.unchanged, again.revision) == (0, 0, 10_000, written.revision)  # no new revision
    with pytest.raises(InvalidRecordError, match="at most 10000"):
        upsert(csb, *accounts, acc("one-too-many"))


def test_pages_are_never_silently_cut_and_cursors_belong_to_their_list(world: CsbWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = world.ws
    upsert(ws, *[acc(f"b{i:03d}") for i in range(250)])
    ids = all_pages(ws, world.csm, "accounts.view", ACC, limit=100)
    assert len(ids) == 254
    snap = snapshot(ws)
    first = visible_records(ws.app.uow(), snap, workspace_id=ws.id, member=world.csm, action="accounts.view", object_type=ACC, limit=100)
    assert first.next_cursor is not None
    with pytest.raises(InvalidRecordError, match="another list"):
        visible_records(ws.app.uow(), snap, workspace_id=ws.id, member=world.other_csm, action="accounts.view", object_type=ACC, cursor=first.next_cursor)
    with pytest.raises(InvalidRecordError, match="not one this API returned"):
        visible_records(ws.app.uow(), snap, workspace_id=ws.id, member=world.csm, action="accounts.view", object_type=ACC, cursor="garbage!")
    # A page larger than the maximum is cut at the maximum, with a cursor.
    monkeypatch.setattr("rolegate.store.record_lists.MAX_PAGE", 100)
    big = visible_records(ws.app.uow(), snap, workspace_id=ws.id, member=world.csm, action="accounts.view", object_type=ACC, limit=5000)
    assert big.ids == tuple(ids[:100])
    assert big.next_cursor is not None


def test_who_can_see_an_account_and_its_records(world: CsbWorld) -> None:
    ws = world.ws
    dev = ws.add("developer")
    record, viewers = assignments.who_can_see(ws.app.uow(), workspace_id=ws.id, ref=RecordRef(ACC, "a-own-1"))
    assert record.assignee == world.csm
    seen_by = {v.member for v in viewers}
    assert {world.csm, dev, ws.owner_id} <= seen_by
    assert world.other_csm not in seen_by
    _, viewers = assignments.who_can_see(ws.app.uow(), workspace_id=ws.id, ref=RecordRef(COMMENT, "c-t-a-free-1"))
    assert {world.csm, world.other_csm, dev} <= {v.member for v in viewers}
