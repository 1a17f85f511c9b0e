"""Issue 18, item 5: the writes of one workspace that queue in a process share one
transaction and one COMMIT (group commit, `store.write_batches`), and each one is
decided exactly as it would be alone, after the ones before it: the rules see the
changes of the batch's earlier writes, a refused write leaves no trace and takes
nothing of the others with it, and a failed transaction fails every write of its
batch, keeping none. PostgreSQL only: on SQLite each write keeps its transaction."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection, event, text
from sqlalchemy.exc import DBAPIError

from rolegate.bootstrap import Rolegate
from rolegate.domain.errors import NotFoundError, RuleViolationError
from rolegate.domain.roles import MemberStatus
from rolegate.domain.workspace import Actor
from rolegate.engine import Record, RecordRef
from rolegate.services import assignments, members, records, roles, workspaces
from rolegate.services.context import PREPARED_WAIT, load_state
from rolegate.store import write_batches
from rolegate.store.database import driver_connection
from rolegate.store.repositories import record_updating, utcnow
from rolegate.store.uow import UnitOfWork
from rolegate.store.write_batches import BatchFailedError, WriteGate
from tests.integration.support import PLATFORM, Ws, open_workspace, rule_ids
from tests.integration.test_concurrency import (
    ATTEMPTS,
    FREE_SEATS,
    assert_history_consistent,
    assert_only_refusals,
    race,
)
from tests.integration.test_write_round_trips import _assert_held_is_fresh, _bench_workspace
from tests.statements import statements

PG = pytest.mark.parametrize("rolegate_app", ["postgresql"], indirect=True)

Call = Callable[[], object]


def _gate(app: Rolegate, workspace_id: str) -> WriteGate:
    assert app.write_batches is not None
    gate = app.write_batches.gate(workspace_id)
    assert gate is not None
    return gate


def in_one_batch(app: Rolegate, workspace_id: str, calls: list[Call]) -> list[Any]:
    """Run `calls` (each a write through `app.uow(batched_for=workspace_id)`) queued
    in this order behind a unit that holds the workspace's turn, so they make one
    batch; each one's result, or the exception it raised."""
    gate = _gate(app, workspace_id)
    outcomes: list[Any] = [None] * len(calls)

    def run(i: int, call: Call) -> None:
        try:
            outcomes[i] = call()
        except Exception as error:
            outcomes[i] = error

    threads = []
    with app.uow(batched_for=workspace_id) as holder:
        holder.lock(workspace_id)  # takes the turn, changes nothing: hands it on
        for i, call in enumerate(calls):
            thread = threading.Thread(target=run, args=(i, call))
            thread.start()
            threads.append(thread)
            deadline = time.monotonic() + 10
            while gate.queued() < i + 1:
                assert time.monotonic() < deadline, "the write did not queue"
                time.sleep(0.001)
    for thread in threads:
        thread.join(30)
        assert not thread.is_alive()
    return outcomes


def around(app: Rolegate, ws: Ws, csms: list[str], execs: list[str], middle: Call) -> list[Any]:
    """`middle` in one batch between a member's role change and an assignment."""
    unit = app.uow
    return in_one_batch(
        app,
        ws.id,
        [
            lambda: members.change_member_role(unit(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id="guest"),
            middle,
            lambda: assignments.assign_record(unit(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, ref=RecordRef("account", "acc-1"), assignee=csms[1]),
        ],
    )


@contextmanager
def commits(app: Rolegate) -> Iterator[list[int]]:
    """How many transactions commit in the block."""
    seen: list[int] = []

    def count(conn: Connection) -> None:
        seen.append(1)

    event.listen(app.engine, "commit", count)
    try:
        yield seen
    finally:
        event.remove(app.engine, "commit", count)


@PG
def test_queued_writes_of_a_workspace_share_one_transaction_and_one_commit(rolegate_app: Rolegate) -> None:
    app = rolegate_app
    ws, role, csms, execs = _bench_workspace(app)
    app.snapshots.get(ws.id)
    start = ws.revision()
    batched = app.uow
    calls: list[Call] = [
        lambda: roles.update_role_written(batched(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all", "accounts.update"]),
        lambda: members.change_member_role(batched(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id="guest"),
        lambda: assignments.assign_record(batched(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, ref=RecordRef("account", "acc-1"), assignee=csms[1]),
        lambda: records.upsert_record(batched(batched_for=ws.id), actor=PLATFORM, workspace_id=ws.id, record=Record("account", "acc-2", None, csms[0])),
    ]
    with commits(app) as committed:
        outcomes = in_one_batch(app, ws.id, calls)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert len(committed) == 1
    # Each write made the next revision, in the order they queued, and says it.
    assert [o.revision for o in outcomes] == [start + 1, start + 2, start + 3, start + 4]
    assert [e.action for e in ws.events()[-4:]] == ["role.update", "member.change_role", "record.assign", "record.upsert"]
    assert ws.roles()[role].grants == frozenset({"accounts.view_all", "accounts.update"})
    assert ws.member(execs[0]).role == "guest"
    with app.reader() as uow:
        assert uow.records.get(ws.id, RecordRef("account", "acc-1")) == Record("account", "acc-1", None, csms[1])
        assert uow.records.get(ws.id, RecordRef("account", "acc-2")) == Record("account", "acc-2", None, csms[0])
    # The snapshot this process holds is the last revision's, equal to a reload.
    _assert_held_is_fresh(app, ws, start + 4, head_known=False)
    assert app.snapshots.get(ws.id).check(csms[1], "accounts.view", RecordRef("account", "acc-1")).allowed


@PG
def test_C4_two_administrators_demoting_each_other_in_one_batch_leave_one(rolegate_app: Rolegate) -> None:
    """The second write of the batch is decided after the first: with the first
    administrator demoted, the second is the only one left and cannot be demoted."""
    app = rolegate_app
    ws = open_workspace(app, "customersuccessbox")
    second = ws.add("administrator", actor=ws.owner)
    start = ws.revision()

    def demote(actor: str, member: str) -> Call:
        return lambda: members.change_member_role(app.uow(batched_for=ws.id), actor=Actor.member(actor), workspace_id=ws.id, member_id=member, role_id="csm")

    outcomes = in_one_batch(app, ws.id, [demote(ws.owner_id, second), demote(second, ws.owner_id)])
    assert not isinstance(outcomes[0], Exception)
    refusal = outcomes[1]
    assert isinstance(refusal, Exception)
    # The demoted administrator has lost the right to change roles, or is the last one's (C4).
    assert not isinstance(refusal, RuleViolationError) or rule_ids(refusal) == ["C4"]
    admins = [m.id for m in ws.members() if m.role == "administrator" and m.status is MemberStatus.ACTIVE]
    assert admins == [ws.owner_id]
    assert_history_consistent(ws, start, 1)


@PG
def test_C4_the_last_administrator_demoting_themselves_after_a_batch_write_is_refused(rolegate_app: Rolegate) -> None:
    app = rolegate_app
    ws = open_workspace(app, "customersuccessbox")
    second = ws.add("administrator", actor=ws.owner)
    start = ws.revision()
    change = app.uow
    outcomes = in_one_batch(
        app,
        ws.id,
        [
            lambda: members.change_member_role(change(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, member_id=second, role_id="csm"),
            lambda: members.change_member_role(change(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, member_id=ws.owner_id, role_id="csm"),
        ],
    )
    assert not isinstance(outcomes[0], Exception)
    assert isinstance(outcomes[1], RuleViolationError)
    assert rule_ids(outcomes[1]) == ["C4"]
    assert ws.member(ws.owner_id).role == "administrator"
    assert_history_consistent(ws, start, 1)


@PG
def test_N1_fifty_members_race_for_ten_csm_seats_in_batches(rolegate_app: Rolegate) -> None:
    """Batches form as the writes come: exactly the free seats are taken, whatever
    the batches were."""
    app = rolegate_app
    ws = open_workspace(app, "natero")
    analysts = [ws.add("guest", tag=f"analyst{i}") for i in range(ATTEMPTS)]
    capacity = ws.seats_used()["csm"] + FREE_SEATS
    before = {m.id for m in ws.members() if m.role == "csm"}
    workspaces.set_seat_capacities(app.uow(), actor=PLATFORM, workspace_id=ws.id, seat_capacities={"csm": capacity})
    revision = ws.revision()

    def promote(member_id: str) -> Call:
        return lambda: members.change_member_role(app.uow(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, member_id=member_id, role_id="csm")

    with commits(app) as committed:
        outcomes = race(app, [promote(m) for m in analysts])
    assert sum(o is None for o in outcomes) == FREE_SEATS
    assert_only_refusals(outcomes, {"N1"})
    assert ws.seats_used()["csm"] == capacity
    assert {m.id for m in ws.members() if m.role == "csm"} - before == {m for m, o in zip(analysts, outcomes, strict=True) if o is None}
    assert_history_consistent(ws, revision, FREE_SEATS)
    assert len(committed) <= FREE_SEATS


@PG
def test_a_refused_write_leaves_the_batch_and_the_writes_around_it_commit(rolegate_app: Rolegate) -> None:
    app = rolegate_app
    ws, _, csms, execs = _bench_workspace(app)
    start, events = ws.revision(), len(ws.events())
    outcomes = around(
        app, ws, csms, execs, lambda: members.change_member_role(app.uow(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, member_id=execs[1], role_id="no_such_role")
    )
    assert isinstance(outcomes[1], NotFoundError)
    assert [outcomes[0].revision, outcomes[2].revision] == [start + 1, start + 2]
    assert ws.member(execs[1]).role == "executive"
    assert len(ws.events()) == events + 2
    assert_history_consistent(ws, start, 2)


@PG
def test_a_write_undone_after_a_statement_of_its_own_goes_back_to_its_savepoint(rolegate_app: Rolegate) -> None:
    """A write after the batch's first takes a savepoint before its first statement
    that writes; undone, it goes back to it, and the writes before and after it stay."""
    app = rolegate_app
    ws, _, csms, execs = _bench_workspace(app)
    start = ws.revision()

    def upsert_then_fail() -> object:
        with app.uow(batched_for=ws.id) as uow:
            load_state(uow, ws.id)
            uow.records.upsert(ws.id, Record("account", "acc-undone", None, None))
            raise RuntimeError("the write fails after its statement")

    outcomes = around(app, ws, csms, execs, upsert_then_fail)
    assert isinstance(outcomes[1], RuntimeError)
    assert [outcomes[0].revision, outcomes[2].revision] == [start + 1, start + 2]
    with app.reader() as uow:
        assert uow.records.get(ws.id, RecordRef("account", "acc-undone")) is None
    assert_history_consistent(ws, start, 2)


@PG
def test_a_write_that_fails_the_transaction_fails_every_write_of_its_batch(rolegate_app: Rolegate) -> None:
    """A statement that fails before the write took a savepoint aborts the transaction:
    the writes before it cannot be kept, and say so; the next batch starts afresh."""
    app = rolegate_app
    ws, _, csms, execs = _bench_workspace(app)
    app.snapshots.get(ws.id)
    start, events = ws.revision(), ws.events()

    def fail_the_transaction() -> object:
        with app.uow(batched_for=ws.id) as uow:
            load_state(uow, ws.id)
            return uow.workspaces.conn.execute(text("SELECT 1 / 0")).scalar()

    outcomes = around(app, ws, csms, execs, fail_the_transaction)
    assert isinstance(outcomes[0], BatchFailedError)
    assert isinstance(outcomes[1], DBAPIError)
    # The third came after the failure: its own batch.
    assert not isinstance(outcomes[2], Exception)
    assert outcomes[2].revision == start + 1
    assert ws.member(execs[0]).role == "executive"
    assert ws.events()[:-1] == events
    assert_history_consistent(ws, start, 1)
    _assert_held_is_fresh(app, ws, start + 1, head_known=False)


@PG
def test_a_failed_commit_fails_every_write_of_the_batch(rolegate_app: Rolegate, monkeypatch: pytest.MonkeyPatch) -> None:
    app = rolegate_app
    ws, role, _, execs = _bench_workspace(app)
    app.snapshots.get(ws.id)
    start, events = ws.revision(), ws.events()
    pipelined = write_batches.pipelined

    def failing_commit(conn: Connection, held: Any, commit: bool) -> None:
        if commit:
            raise BatchFailedError
        pipelined(conn, held, commit)

    monkeypatch.setattr(write_batches, "pipelined", failing_commit)
    unit = app.uow
    outcomes = in_one_batch(
        app,
        ws.id,
        [
            lambda: members.change_member_role(unit(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id="guest"),
            lambda: roles.update_role_written(unit(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all", "accounts.update"]),
        ],
    )
    assert all(isinstance(o, BatchFailedError) for o in outcomes), outcomes
    assert (ws.revision(), ws.events()) == (start, events)
    monkeypatch.undo()
    # Nothing of the failed batch is taken for committed: the next write starts from the database.
    written = members.change_member_role(app.uow(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, member_id=execs[1], role_id="guest")
    assert written.revision == start + 1
    assert ws.member(execs[0]).role == "executive"
    _assert_held_is_fresh(app, ws, start + 1)


@PG
def test_a_batch_holds_at_most_its_size_and_the_rest_make_the_next(rolegate_app: Rolegate) -> None:
    app = rolegate_app
    assert app.write_batches is not None
    app.write_batches.max_size = 2
    ws, _, _, execs = _bench_workspace(app)
    start = ws.revision()
    others = [ws.add("executive", tag="exec") for _ in range(3)]
    unit = app.uow

    def demote(member: str) -> Call:
        return lambda: members.change_member_role(unit(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, member_id=member, role_id="guest")

    start = ws.revision()
    with commits(app) as committed:
        outcomes = in_one_batch(app, ws.id, [demote(m) for m in [*execs, *others]])
    assert [o.revision for o in outcomes] == [start + i for i in range(1, 6)]
    assert len(committed) == 3
    assert_history_consistent(ws, start, 5)


@PG
def test_an_idle_workspace_keeps_no_gate(rolegate_app: Rolegate) -> None:
    app = rolegate_app
    ws, _, _, execs = _bench_workspace(app)
    members.change_member_role(app.uow(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id="guest")
    assert app.write_batches is not None
    assert app.write_batches._gates == {}


@pytest.mark.parametrize("rolegate_app", ["sqlite"], indirect=True)
def test_on_sqlite_each_write_keeps_its_transaction(rolegate_app: Rolegate) -> None:
    app = rolegate_app
    ws, _, _, execs = _bench_workspace(app)
    seen: list[object] = []
    with app.uow(batched_for=ws.id) as uow:
        seen.append(uow.batch)
    assert seen == [None]
    with commits(app) as committed:
        members.change_member_role(app.uow(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id="guest")
    assert len(committed) == 1


@PG
def test_a_unit_joined_to_a_batch_commits_once(rolegate_app: Rolegate) -> None:
    app = rolegate_app
    ws, _, _, _ = _bench_workspace(app)
    unit: UnitOfWork = app.uow(batched_for=ws.id)
    with unit:
        unit.lock(ws.id)
        unit.commit()
        with pytest.raises(AssertionError, match="commits once"):
            unit.commit()


@PG
def test_a_write_of_a_batch_starts_from_what_the_write_before_it_left(rolegate_app: Rolegate) -> None:
    """No read of the roles, the members or the audit log, and no wait for the commit:
    the write before it in the batch said how it left the workspace."""
    app = rolegate_app
    ws, role, _, execs = _bench_workspace(app)
    app.snapshots.get(ws.id)
    unit = app.uow
    with statements(app) as seen:
        started = time.monotonic()
        outcomes = in_one_batch(
            app,
            ws.id,
            [
                lambda: roles.update_role_written(unit(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all", "accounts.update"]),
                lambda: members.change_member_role(unit(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id="guest"),
            ],
        )
        waited = time.monotonic() - started
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert waited < PREPARED_WAIT
    def reads(table: str) -> list[str]:
        return [s for s in seen if s.lstrip().upper().startswith("SELECT") and re.search(rf"FROM {table}\b", s)]

    # The member's row (the answer) only: the role's creation date is in the inputs.
    assert reads("roles") == []
    assert len(reads("members")) == 1, reads("members")
    # Not the events between the revisions (`followed_inputs`), nor, after the commit,
    # the batch's events for the record cache (it follows what the writes said).
    assert reads("audit_events") == []
    # The lock's statement: the turn's holder (`in_one_batch`) and the batch's first
    # write (the holder changed nothing); the second write starts from the first's row.
    assert len([s for s in seen if "FOR UPDATE" in s]) == 2


def _holding(app: Rolegate, ws: Ws, record: Record) -> Call:
    """A write that only holds a record's update for the COMMIT (no revision move)."""

    def write() -> object:
        with app.uow(batched_for=ws.id) as uow:
            load_state(uow, ws.id)
            uow.write_with_commit(*record_updating(ws.id, record, utcnow()))
            uow.commit()
            return record

    return write


@contextmanager
def rides(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, int]]:
    """How often a write's first statement carried held statements, and how often
    held statements went in a pipeline of their own (the COMMIT's included)."""
    seen = {"rides": 0, "pipelines": 0}
    ride, pipelined = write_batches.Batch._ride, write_batches.pipelined

    def counted_ride(batch: write_batches.Batch, conn: Connection, *args: object) -> None:
        seen["rides"] += bool(batch.held) and not batch._sending
        ride(batch, conn, *args)

    def counted_pipelined(conn: Connection, held: Any, commit: bool) -> None:
        seen["pipelines"] += 1
        pipelined(conn, held, commit)

    monkeypatch.setattr(write_batches.Batch, "_ride", counted_ride)
    monkeypatch.setattr(write_batches, "pipelined", counted_pipelined)
    yield seen


@PG
def test_a_write_reads_the_held_writes_before_it_in_the_round_trip_of_its_first_statement(rolegate_app: Rolegate, monkeypatch: pytest.MonkeyPatch) -> None:
    """The statements a write holds for the COMMIT are not sent when it hands the batch
    on: the next write's first statement carries them, in one pipeline, and reads what
    they changed."""
    app = rolegate_app
    ws, _, csms, _ = _bench_workspace(app)
    start = ws.revision()
    ref = RecordRef("account", "acc-1")
    unit = app.uow
    with rides(monkeypatch) as seen:
        outcomes = in_one_batch(
            app,
            ws.id,
            [
                lambda: assignments.assign_record(unit(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, ref=ref, assignee=csms[1]),
                lambda: assignments.assign_record(unit(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, ref=ref, assignee=None),
                lambda: assignments.assign_record(unit(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, ref=ref, assignee=csms[0]),
            ],
        )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert [o.revision for o in outcomes] == [start + 1, start + 2, start + 3]
    # Each read the record as the write before it left it.
    assert [(e.before, e.after) for e in ws.events()[-3:]] == [
        ({"assignee": csms[0]}, {"assignee": csms[1]}),
        ({"assignee": csms[1]}, {"assignee": None}),
        ({"assignee": None}, {"assignee": csms[0]}),
    ]
    with app.reader() as uow:
        assert uow.records.get(ws.id, ref) == Record("account", "acc-1", None, csms[0])
    # Held statements went with the next write's first statement, and with the COMMIT only.
    assert seen["rides"] >= 1
    assert seen["pipelines"] == 1


@PG
def test_a_held_statement_that_fails_fails_the_batch_and_the_write_that_carried_it_is_told_to_send_again(rolegate_app: Rolegate) -> None:
    app = rolegate_app
    ws, _, _, execs = _bench_workspace(app)
    start, events = ws.revision(), ws.events()

    def hold_a_failing_statement() -> object:
        with app.uow(batched_for=ws.id) as uow:
            load_state(uow, ws.id)
            uow.write_with_commit(text("UPDATE workspaces SET revision = revision / 0 WHERE id = :id"), {"id": ws.id})
            uow.commit()
            return None

    outcomes = in_one_batch(
        app,
        ws.id,
        [
            hold_a_failing_statement,
            lambda: members.change_member_role(app.uow(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id="guest"),
        ],
    )
    # The write that held it fails with it; the one whose statement carried it was not at fault.
    assert isinstance(outcomes[0], DBAPIError), outcomes
    assert isinstance(outcomes[1], BatchFailedError), outcomes
    assert (ws.revision(), ws.events()) == (start, events)
    assert ws.member(execs[0]).role == "executive"
    # Sent again, it is decided afresh.
    again = members.change_member_role(app.uow(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id="guest")
    assert again.revision == start + 1


@PG
def test_a_write_whose_statement_fails_after_the_held_ones_goes_back_to_its_savepoint(rolegate_app: Rolegate) -> None:
    """The savepoint goes in the round trip that carries the held statements, before the
    write's first statement: that statement failing undoes that write alone."""
    app = rolegate_app
    ws, _, csms, _ = _bench_workspace(app)
    start = ws.revision()

    def fail_its_first_statement() -> object:
        with app.uow(batched_for=ws.id) as uow:
            return uow.workspaces.conn.execute(text("SELECT 1 / 0")).scalar()

    outcomes = in_one_batch(
        app,
        ws.id,
        [
            _holding(app, ws, Record("account", "acc-1", None, csms[1])),
            fail_its_first_statement,
            lambda: assignments.assign_record(app.uow(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, ref=RecordRef("account", "acc-1"), assignee=None),
        ],
    )
    assert isinstance(outcomes[1], DBAPIError), outcomes
    assert not isinstance(outcomes[0], Exception), outcomes
    assert not isinstance(outcomes[2], Exception), outcomes
    assert outcomes[2].revision == start + 1
    assert ws.events()[-1].before == {"assignee": csms[1]}
    with app.reader() as uow:
        assert uow.records.get(ws.id, RecordRef("account", "acc-1")) == Record("account", "acc-1", None, None)


@PG
def test_a_statement_on_the_drivers_connection_follows_the_held_statements(rolegate_app: Rolegate) -> None:
    """COPY and the like pass no SQLAlchemy event: `driver_connection` sends what the
    batch holds first."""
    app = rolegate_app
    ws, _, csms, _ = _bench_workspace(app)

    def read_on_the_driver() -> object:
        with app.uow(batched_for=ws.id) as uow, driver_connection(uow.records.conn).cursor() as cur:
            cur.execute("SELECT assignee_id FROM records WHERE workspace_id = %s AND id = 'acc-1'", [ws.id])
            return cur.fetchone()

    outcomes = in_one_batch(app, ws.id, [_holding(app, ws, Record("account", "acc-1", None, csms[1])), read_on_the_driver])
    assert outcomes[1] == (csms[1],), outcomes


def _batches_opened(monkeypatch: pytest.MonkeyPatch) -> list[write_batches.Batch]:
    """The batches opened from now on, in order."""
    batches: list[write_batches.Batch] = []
    opened = write_batches.Batch.__init__

    def keep(batch: write_batches.Batch, conn: Connection) -> None:
        batches.append(batch)
        opened(batch, conn)

    monkeypatch.setattr(write_batches.Batch, "__init__", keep)
    return batches


@PG
def test_the_next_batch_starts_on_the_connection_the_last_one_committed_on(rolegate_app: Rolegate, monkeypatch: pytest.MonkeyPatch) -> None:
    """No pool checkout (and its ping) per batch under a queue of batches."""
    app = rolegate_app
    ws, _, csms, _ = _bench_workspace(app)
    batches = _batches_opened(monkeypatch)
    ref = RecordRef("account", "acc-1")
    for assignee in (csms[1], None):
        assignments.assign_record(app.uow(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, ref=ref, assignee=assignee)
    conns = [b.conn for b in batches]
    assert len(conns) == 2
    assert conns[1] is conns[0]
    assert not conns[1].closed


@PG
def test_a_connection_is_listened_to_once_whatever_the_batches_that_run_on_it(rolegate_app: Rolegate, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches that follow one another on the spare connection add no listener, and a
    batch that is over hears nothing of the statements sent on its connection after it."""
    app = rolegate_app
    ws, _, csms, _ = _bench_workspace(app)
    listened: list[str] = []
    listen = event.listen

    def spy(target: object, name: str, fn: Callable[..., Any]) -> None:
        listened.append(name)
        listen(target, name, fn)

    monkeypatch.setattr(event, "listen", spy)  # the module write_batches calls it on
    batches = _batches_opened(monkeypatch)
    ref = RecordRef("account", "acc-1")
    for assignee in (csms[1], None, csms[1]):
        assignments.assign_record(app.uow(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, ref=ref, assignee=assignee)
    assert len(batches) == 3
    assert batches[2].conn is batches[0].conn
    assert sorted(listened) == ["after_cursor_execute", "before_cursor_execute", "before_execute"]
    over = batches[0]
    over.held.append((text("SELECT 1"), {}))  # would ride with the next statement if it still listened
    with app.engine.connect() as conn:
        assert conn.execute(text("SELECT 2")).scalar_one() == 2
    conn = batches[2].conn
    conn.execute(text("SELECT 3"))
    assert over.held, "a batch that is over sent its held statements"
    assert over.savepoint is None
    conn.rollback()


@PG
def test_a_spare_connection_is_kept_fresh_and_only_after_a_commit(rolegate_app: Rolegate) -> None:
    now = [0.0]
    spares = write_batches.Spares(rolegate_app.engine, max_spares=1, fresh_for=1.0, clock=lambda: now[0])
    first = spares.connect()
    spares.put(first, reuse=True)
    assert spares.connect() is first  # kept: the next batch takes it
    spares.put(first, reuse=True)
    now[0] = 1.5
    second = spares.connect()  # too old: back to the pool, a pinged one instead
    assert second is not first
    assert first.closed
    third = spares.connect()
    spares.put(second, reuse=True)
    spares.put(third, reuse=True)  # one spare at most
    assert third.closed
    assert not second.closed
    with spares.connect() as conn:
        conn.begin()
        spares.put(conn, reuse=True)  # its transaction open: not kept
        assert conn.closed
    failed = spares.connect()
    spares.put(failed, reuse=False)  # the batch did not commit: rolled back, closed
    assert failed.closed
    spares.close()


@PG
def test_the_record_cache_follows_a_batch_from_what_its_writes_said(rolegate_app: Rolegate) -> None:
    """The batch commits its writes' revisions at once: the record cache moves over all
    of them from the changes the writes said (`StateInputs.changes_after`), reading no
    audit event, and decides each record as the database has it."""
    app = rolegate_app
    ws, _, csms, execs = _bench_workspace(app)
    records.upsert_record(app.uow(), actor=PLATFORM, workspace_id=ws.id, record=Record("account", "acc-2", None, csms[0]))
    snap = app.snapshots.get(ws.id)
    assert snap.check(csms[0], "accounts.view", RecordRef("account", "acc-1")).allowed
    assert snap.check(csms[0], "accounts.view", RecordRef("account", "acc-2")).allowed
    unit = app.uow
    with statements(app) as seen:
        outcomes = in_one_batch(
            app,
            ws.id,
            [
                lambda: assignments.assign_record(unit(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, ref=RecordRef("account", "acc-1"), assignee=csms[1]),
                lambda: members.change_member_role(unit(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id="guest"),
                lambda: assignments.assign_record(unit(batched_for=ws.id), actor=ws.owner, workspace_id=ws.id, ref=RecordRef("account", "acc-2"), assignee=None),
            ],
        )
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    # (the first write reads the chain's head with its revision move: not a read of events)
    assert [s for s in seen if s.lstrip().upper().startswith("SELECT") and re.search(r"FROM audit_events\b", s)] == []
    held = app.snapshots.get(ws.id)
    assert held.revision == outcomes[-1].revision
    for ref, csm, allowed in [("acc-1", csms[0], False), ("acc-1", csms[1], True), ("acc-2", csms[0], False)]:
        assert held.check(csm, "accounts.view", RecordRef("account", ref)).allowed is allowed, (ref, csm)
