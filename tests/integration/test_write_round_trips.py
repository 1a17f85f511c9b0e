"""Issue 18, item 5 (admin writes under a mixed load): a write holds the workspace's
lock for as few round trips as it can, and this process's snapshot of the revision it
makes is compiled from what the write changed, not reloaded. Both must leave exactly
what a reload from the database gives: the same inputs, the same decisions, an intact
audit chain; on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Connection, event, update
from sqlalchemy.exc import DBAPIError

from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.roles import Member, MemberStatus, Role
from rolegate.domain.schema import ProductSchema
from rolegate.domain.workspace import GENESIS_HASH
from rolegate.engine import Record, RecordRef, Snapshot, compile_snapshot
from rolegate.engine import compile as engine_compile
from rolegate.engine.snapshot import CompiledRole
from rolegate.services import assignments, members, records, roles
from rolegate.services.context import WorkspaceState, load_state, record_change, remembered_at
from rolegate.store import tables
from rolegate.store.repositories import AuditRepository, member_updating, utcnow
from rolegate.store.uow import UnitOfWork
from tests.integration.support import PLATFORM, Ws, open_workspace


def _bench_workspace(app: Rolegate) -> tuple[Ws, str, list[str], list[str]]:
    """natero, a custom role, two CSMs and two executives, an account."""
    ws = open_workspace(app, "natero", seat_capacities={"csm": None, "analyst": None})
    role = roles.create_role(app.uow(), actor=ws.owner, workspace_id=ws.id, name="Bench", level="analyst", grants=["accounts.view_all"], landing_page="dashboard").id
    csms = [ws.add("csm", tag="csm") for _ in range(2)]
    execs = [ws.add("executive", tag="exec") for _ in range(2)]
    records.upsert_record(app.uow(), actor=PLATFORM, workspace_id=ws.id, record=Record("account", "acc-1", None, csms[0]))
    return ws, role, csms, execs


def _fresh(app: Rolegate, ws: Ws) -> Snapshot:
    """The workspace's snapshot compiled from scratch from what the database holds."""
    with app.reader() as uow:
        state = load_state(uow, ws.id, lock=False)
        db_roles = [i.role for i in uow.roles.all(ws.id)]
        db_members = uow.members.members(ws.id)
        return compile_snapshot(state.schema, features=state.workspace.features, roles=db_roles, members=db_members, revision=state.workspace.revision)


def _assert_held_is_fresh(app: Rolegate, ws: Ws, revision: int, *, head_known: bool = True) -> None:
    """`head_known`: the inputs held know the audit chain's head (a write's, or followed
    from the audit events; a reload of the snapshot cache leaves the next write to read it)."""
    held = app.snapshots.current(ws.id)
    assert held is not None
    assert held.revision == revision
    fresh = _fresh(app, ws)
    ids = [m.id for m in ws.members()] + ["nobody"]
    for m in ids:
        for action in fresh.schema.actions:
            assert held.check(m, action) == fresh.check(m, action), (m, action)
    inputs = remembered_at(app.engine, ws.id, revision)
    assert inputs is not None
    assert {r.id: r for r in inputs.roles} == ws.roles()
    assert sorted(inputs.members, key=lambda m: m.id) == sorted(ws.members(), key=lambda m: m.id)
    events = ws.events()
    if head_known:
        assert inputs.audit_head == ((events[-1].seq, events[-1].hash) if events else (0, GENESIS_HASH))
    assert ws.chain_intact()


def test_a_write_compiles_its_revision_from_what_it_changed(rolegate_app: Rolegate) -> None:
    app = rolegate_app
    ws, role, csms, execs = _bench_workspace(app)
    app.snapshots.get(ws.id)  # this process decides for the workspace
    loads = app.snapshots.loads
    grants = (["accounts.view_all", "accounts.update"], ["accounts.view_all"])
    for k in range(3):
        written = roles.update_role_written(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=grants[k % 2])
        _assert_held_is_fresh(app, ws, written.revision)
        moved = members.change_member_role(app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id=("guest", "executive")[k % 2])
        _assert_held_is_fresh(app, ws, moved.revision)
        given = assignments.assign_record(app.uow(), actor=ws.owner, workspace_id=ws.id, ref=RecordRef("account", "acc-1"), assignee=csms[(k + 1) % 2])
        _assert_held_is_fresh(app, ws, given.revision)
    assert app.snapshots.loads == loads  # not one reload: each write said what it changed


def test_a_unit_that_does_not_commit_leaves_nothing_to_start_from(rolegate_app: Rolegate) -> None:
    app = rolegate_app
    ws, role, _, _ = _bench_workspace(app)
    app.snapshots.get(ws.id)
    start = ws.revision()
    with app.uow() as uow:
        state = load_state(uow, ws.id)
        after = state.roles[role]
        record_change(uow, ws.id, ws.owner, "role.update", "role", role, {}, {}, state=state.changed(role=after))
        # no commit: rolled back
    assert ws.revision() == start
    assert remembered_at(app.engine, ws.id, start + 1) is None
    written = roles.update_role_written(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all", "accounts.update"])
    assert written.revision == start + 1
    _assert_held_is_fresh(app, ws, written.revision)


def test_a_unit_that_changes_the_workspace_twice_is_not_taken_at_its_word(rolegate_app: Rolegate) -> None:
    app = rolegate_app
    ws, role, _, execs = _bench_workspace(app)
    app.snapshots.get(ws.id)
    start = ws.revision()
    with app.uow() as uow:
        state = load_state(uow, ws.id)
        moved = state.changed(member=Member(execs[0], "guest", state.member(execs[0]).status))
        uow.members.update(ws.id, moved.member(execs[0]))
        record_change(uow, ws.id, ws.owner, "member.change_role", "member", execs[0], {}, {}, state=moved)
        # A second change the state does not know of: only the first was said.
        uow.members.update(ws.id, Member(execs[1], "guest", state.member(execs[1]).status))
        record_change(uow, ws.id, ws.owner, "member.change_role", "member", execs[1], {}, {}, state=moved)
        uow.commit()
    assert ws.revision() == start + 2
    assert remembered_at(app.engine, ws.id, start + 1) is None
    loaded = remembered_at(app.engine, ws.id, start + 2)
    assert loaded is None or loaded.audit_head is None  # read from the database, not the write's account
    written = roles.update_role_written(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all", "accounts.update"])
    _assert_held_is_fresh(app, ws, written.revision)
    assert ws.member(execs[1]).role == "guest"


def test_concurrent_writes_of_one_process_leave_what_a_reload_gives(rolegate_app: Rolegate) -> None:
    """Writers queue for the lock; each starts from the inputs the one before it said
    (waiting for its commit to settle when it has not yet)."""
    app = rolegate_app
    ws, role, csms, execs = _bench_workspace(app)
    app.snapshots.get(ws.id)
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            for n in range(6):
                if (k + n) % 3 == 0:
                    roles.update_role(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=(["accounts.view_all"], ["accounts.view_all", "accounts.update"])[n % 2])
                elif (k + n) % 3 == 1:
                    members.change_member_role(app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[k % 2], role_id=("guest", "executive")[n % 2])
                else:
                    assignments.assign_record(app.uow(), actor=ws.owner, workspace_id=ws.id, ref=RecordRef("account", "acc-1"), assignee=csms[n % 2])
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    revision = ws.revision()
    held = app.snapshots.get(ws.id, min_revision=revision)
    assert held.revision == revision
    fresh = _fresh(app, ws)
    for m in [x.id for x in ws.members()]:
        for action in fresh.schema.actions:
            assert held.check(m, action) == fresh.check(m, action), (m, action)
    assert ws.chain_intact()


@contextmanager
def _statements(app: Rolegate, *, until_commit: bool = False, from_lock: bool = False) -> Iterator[list[str]]:
    """The statements that each wait for their answer; those sent in a pipeline with the
    COMMIT share its round trip and are not counted. `until_commit`: only those before
    the first COMMIT (what the workspace's lock is held for; after it, this process
    loads the revision it wrote, record cache included, with the lock released).
    `from_lock`: only those from the workspace's lock on (the reads before it make no
    other writer wait)."""
    seen: list[str] = []
    committed: list[bool] = []
    locked: list[bool] = []

    def count(conn: Connection, cursor: object, statement: str, *args: object) -> None:
        if from_lock and not locked:
            if "FOR UPDATE" not in statement:
                return
            locked.append(True)
        if getattr(conn.connection.driver_connection, "_pipeline", None) is None and not committed:
            seen.append(statement)

    def commit(conn: Connection) -> None:
        if until_commit:
            committed.append(True)

    event.listen(app.engine, "before_cursor_execute", count)
    event.listen(app.engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(app.engine, "before_cursor_execute", count)
        event.remove(app.engine, "commit", commit)


@pytest.mark.parametrize("rolegate_app", ["postgresql"], indirect=True)
def test_a_write_takes_few_round_trips_on_postgresql(rolegate_app: Rolegate) -> None:
    """Counted from the workspace's lock to the commit (the commit itself and the pool's
    ping are not statements): what the next writer waits for."""
    app = rolegate_app
    ws, role, csms, execs = _bench_workspace(app)
    app.snapshots.get(ws.id)
    roles.update_role(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all", "accounts.update"])
    with _statements(app, until_commit=True, from_lock=True) as seen:
        roles.update_role(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all"])
    # the lock; the role's row was read before it (its creation date), and the role's
    # update, the revision, audit event and NOTIFY go with the COMMIT
    assert len(seen) == 1, seen
    with _statements(app, until_commit=True) as seen:
        members.change_member_role(app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id="guest")
    # the lock; then, in one statement, the answer's row, directory management and the
    # member's accounts (a guest cannot hold them: N9); the update goes with the COMMIT
    assert len(seen) == 2, seen
    assert "FOR UPDATE" in seen[0], seen
    assert "scim_users" in seen[1], seen
    assert "records" in seen[1], seen
    with _statements(app, until_commit=True, from_lock=True) as seen:
        assignments.assign_record(app.uow(), actor=ws.owner, workspace_id=ws.id, ref=RecordRef("account", "acc-1"), assignee=csms[1])
    # the lock, the record; its update goes with the COMMIT
    assert len(seen) == 2, seen


@pytest.mark.parametrize("rolegate_app", ["postgresql"], indirect=True)
def test_a_statement_sent_with_the_commit_that_cannot_do_its_part_fails_the_commit(rolegate_app: Rolegate) -> None:
    """The revision and audit event sent with the COMMIT check the revision themselves:
    a wrong one fails the commit, and nothing of the unit is kept."""
    app = rolegate_app
    ws, role, _, execs = _bench_workspace(app)
    app.snapshots.get(ws.id)
    start, events = ws.revision(), ws.events()
    with app.uow() as uow:
        state = load_state(uow, ws.id)
        uow.roles.update(ws.id, replace(state.roles[role], grants=frozenset()))
        held_role = state.member(execs[0]).role
        uow.write_with_commit(*member_updating(ws.id, Member(execs[0], "guest", MemberStatus.ACTIVE), utcnow()))  # after the move, in the pipeline
        row = {"workspace_id": ws.id, "seq": 10_000, "id": "x", "at": events[-1].at, "actor": "t", "action": "role.update", "target_type": "role",
               "target_id": role, "before": None, "after": None, "revision": start + 5, "prev_hash": GENESIS_HASH, "hash": GENESIS_HASH}
        uow.advance_to(ws.id, start + 5, [row], with_commit=True)  # not the next revision
        with pytest.raises(DBAPIError):
            uow.commit()
    assert (ws.revision(), ws.events()) == (start, events)
    assert ws.roles()[role].grants == state.roles[role].grants
    with app.reader() as uow:
        kept = uow.members.get(ws.id, execs[0])
    assert kept is not None
    assert kept.member.role == held_role != "guest"
    written = roles.update_role_written(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all", "accounts.update"])
    assert written.revision == start + 1
    _assert_held_is_fresh(app, ws, written.revision)


def test_a_write_after_a_write_of_this_process_compiles_nothing_under_the_lock(rolegate_app: Rolegate, monkeypatch: pytest.MonkeyPatch) -> None:
    """The next write authorizes its actor through the snapshot the write before it
    left (the whole one, held): no role is compiled while the workspace is locked."""
    app = rolegate_app
    ws, role, _, execs = _bench_workspace(app)
    app.snapshots.get(ws.id)
    roles.update_role(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all", "accounts.update"])

    def refuse(*args: object, **kwargs: object) -> Snapshot:
        raise AssertionError("compiled under the workspace's lock")

    monkeypatch.setattr("rolegate.services.context.compile_snapshot", refuse)
    written = roles.update_role_written(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all"])
    moved = members.change_member_role(app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id="guest")
    assert moved.revision == written.revision + 1
    monkeypatch.undo()
    _assert_held_is_fresh(app, ws, moved.revision)


def test_a_write_of_this_process_leaves_its_snapshot_without_reading_the_audit_log(rolegate_app: Rolegate) -> None:
    """The record cache follows the audit events the write said (`record_cache.follow`)
    instead of reading them back after the commit, and still forgets the record moved."""
    app = rolegate_app
    ws, role, csms, _ = _bench_workspace(app)
    app.snapshots.get(ws.id)
    ref = RecordRef("account", "acc-1")
    assignments.assign_record(app.uow(), actor=ws.owner, workspace_id=ws.id, ref=ref, assignee=csms[0])  # no change: no revision
    roles.update_role(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all", "accounts.update"])
    assert app.snapshots.get(ws.id).check(csms[0], "accounts.view", ref).allowed  # the record is now held
    with _statements(app) as seen:
        given = assignments.assign_record(app.uow(), actor=ws.owner, workspace_id=ws.id, ref=ref, assignee=csms[1])
    assert not [s for s in seen if "audit_events" in s and s.lstrip().upper().startswith("SELECT")], seen
    held = app.snapshots.current(ws.id)
    assert held is not None
    assert held.revision == given.revision
    assert not held.check(csms[0], "accounts.view", ref).allowed  # forgotten: read again, now csms[1]'s
    assert held.check(csms[1], "accounts.view", ref).allowed
    _assert_held_is_fresh(app, ws, given.revision)


def _count_compiled_roles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the roles the engine compiles from now on (reused ones are not)."""
    compiled: list[str] = []
    real = engine_compile._compile_role

    def counting(schema: ProductSchema, features: frozenset[str], r: Role, revision: int) -> CompiledRole:
        compiled.append(r.id)
        return real(schema, features, r, revision)

    monkeypatch.setattr("rolegate.engine.compile._compile_role", counting)
    return compiled


def test_the_acting_members_snapshot_reuses_the_role_compiled_before(rolegate_app: Rolegate, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write whose inputs were said by the write before it (no snapshot compiled yet)
    compiles the acting member's snapshot from the one that write used: their role,
    unchanged, is not compiled again."""
    app = rolegate_app
    ws, role, _, execs = _bench_workspace(app)
    compiled = _count_compiled_roles(monkeypatch)
    # No snapshot held: nothing compiles the whole workspace after each commit.
    members.change_member_role(app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id="guest")
    compiled.clear()
    moved = members.change_member_role(app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id="executive")
    assert compiled == [], compiled  # the owner's role came from the write before
    written = roles.update_role_written(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all", "accounts.update"])
    assert written.revision == moved.revision + 1
    assert compiled == [], compiled


def test_the_writes_execute_statements_built_once(rolegate_app: Rolegate) -> None:
    """Issue 18: the statements of the benchmarked writes are built once and executed
    with their parameters (building one per call, and then its cache key, cost a fifth
    of a write's CPU). A write executes the very statement objects the same write
    executed before: one built per call would be a new object."""
    app = rolegate_app
    ws, role, csms, execs = _bench_workspace(app)
    app.snapshots.get(ws.id)
    executed: list[object] = []

    def keep(conn: Connection, statement: object, *args: object) -> None:
        executed.append(statement)  # kept alive: an id is never reused while compared

    writes = (
        lambda k: roles.update_role_written(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=(["accounts.view_all", "accounts.update"], ["accounts.view_all"])[k % 2]),
        lambda k: members.change_member_role(app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id=("guest", "executive")[k % 2]),
        lambda k: assignments.assign_record(app.uow(), actor=ws.owner, workspace_id=ws.id, ref=RecordRef("account", "acc-1"), assignee=csms[(k + 1) % 2]),
    )
    event.listen(app.engine, "before_execute", keep)
    try:
        for write in writes:
            for k in range(2):
                write(k)
            first = {id(s) for s in executed}
            executed.clear()
            for k in range(2):
                write(k)
            again = [s for s in executed if id(s) not in first]
            assert not again, [str(s) for s in again]
            executed.clear()
    finally:
        event.remove(app.engine, "before_execute", keep)
    assert ws.chain_intact()


def test_the_advancing_statement_is_built_once_per_shape() -> None:
    """The same shape of audit rows (their columns, which are JSON text, NOTIFY or not)
    gives the same statement object; the values go as parameters."""
    from datetime import UTC, datetime

    from rolegate.store.repositories import JsonText, advancing_statement

    def row(seq: int, before: object) -> dict[str, object]:
        return {"workspace_id": "w", "seq": seq, "id": f"e{seq}", "at": datetime.now(UTC), "actor": "a", "action": "role.update", "target_type": "role",
                "target_id": "r", "before": before, "after": JsonText("{}"), "revision": seq, "prev_hash": "p", "hash": f"h{seq}"}

    one, params = advancing_statement("w", 5, [row(1, JsonText("{}"))], notify_channel="c")
    same, other = advancing_statement("x", 9, [row(2, JsonText('{"a": 1}'))], notify_channel="c")
    assert same is one
    assert (params["k_id"], params["k_revision"], params["v_revision"], params["payload"]) == ("w", 4, 5, "w:5")
    assert (other["k_id"], other["k_revision"], other["r0_before"], other["payload"]) == ("x", 8, '{"a": 1}', "x:9")
    assert advancing_statement("w", 5, [row(1, JsonText("{}"))])[0] is not one  # no NOTIFY
    assert advancing_statement("w", 5, [row(1, None)], notify_channel="c")[0] is not one  # `before` not JSON text
    two = advancing_statement("w", 5, [row(1, JsonText("{}")), row(2, JsonText("{}"))], notify_channel="c")[0]
    assert two is not one
    assert advancing_statement("w", 7, [row(3, JsonText("[]")), row(4, JsonText("{}"))], notify_channel="c")[0] is two


def test_the_prebuilt_role_update_sets_every_column_the_role_gives() -> None:
    """`RoleRepository.update` sets the columns named when its statement was built: a
    column added to `_role_values` but not there would silently not be written."""
    from rolegate.domain.roles import Role, RoleKind
    from rolegate.store.repositories import _ROLE_VALUES, _role_values

    role = Role(id="r", name="R", kind=RoleKind.CUSTOM, level="analyst", grants=frozenset(), landing_page="dashboard")
    assert set(_role_values(role)) == set(_ROLE_VALUES)


def test_after_another_processs_write_the_acting_members_role_is_not_compiled_again(rolegate_app: Rolegate, monkeypatch: pytest.MonkeyPatch) -> None:
    """The inputs are read again (another process made the revision), but the snapshot
    this process compiled last still holds the acting member's compiled role: the write
    reuses it instead of compiling it under the workspace's lock."""
    app = rolegate_app
    ws, role, _, execs = _bench_workspace(app)
    app.snapshots.get(ws.id)
    roles.update_role(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all", "accounts.update"])
    other = bootstrap(Settings(database_url=app.settings.database_url, listen=False))
    try:
        members.change_member_role(other.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id="guest")
    finally:
        other.close()
    owner_role = next(m.role for m in ws.members() if m.id == ws.owner_id)
    compiled = _count_compiled_roles(monkeypatch)
    written = roles.update_role_written(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all"])
    assert role in compiled  # the role the write changed is compiled again
    assert owner_role not in compiled, compiled  # neither under the lock nor after: reused
    monkeypatch.undo()
    _assert_held_is_fresh(app, ws, written.revision)


_INPUT_READS = re.compile(r"\bFROM (roles|members|registry_objects|registry_fields)\b")


def _written_elsewhere(app: Rolegate, write: Callable[[Rolegate], int]) -> int:
    """What `write` returns, run by another process (its own engine and caches) on the same database."""
    other = bootstrap(Settings(database_url=app.settings.database_url, listen=False))
    try:
        return write(other)
    finally:
        other.close()


def test_another_processs_writes_are_followed_from_their_audit_events(rolegate_app: Rolegate) -> None:
    """Issue 18 (many processes): the next write here reads the audit events after the
    revision it holds, not the roles, the members and the schema again, and is left
    with what a reload gives."""
    app = rolegate_app
    ws, role, csms, execs = _bench_workspace(app)
    app.snapshots.get(ws.id)
    roles.update_role(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all", "accounts.update"])

    def three_writes(other: Rolegate) -> int:
        roles.update_role(other.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.update"], description="elsewhere")
        members.change_member_role(other.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id="guest")
        return assignments.assign_record(other.uow(), actor=ws.owner, workspace_id=ws.id, ref=RecordRef("account", "acc-1"), assignee=csms[1]).revision

    _written_elsewhere(app, three_writes)
    with _statements(app) as seen:
        written = members.change_member_role(app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[1], role_id="guest")
    assert any("FROM audit_events" in s for s in seen), seen
    # the answer's row (the member written, with their email) is the only one read
    assert [s for s in seen if _INPUT_READS.search(s)] == [s for s in seen if "JOIN users" in s], seen
    _assert_held_is_fresh(app, ws, written.revision)
    assert next(r for r in remembered_roles(app, ws.id, written.revision) if r.id == role).description == "elsewhere"


def remembered_roles(app: Rolegate, workspace_id: str, revision: int) -> tuple[Role, ...]:
    inputs = remembered_at(app.engine, workspace_id, revision)
    assert inputs is not None
    return inputs.roles


def test_a_revision_of_another_process_is_compiled_for_decisions_from_its_audit_events(rolegate_app: Rolegate) -> None:
    app = rolegate_app
    ws, role, _, execs = _bench_workspace(app)
    app.snapshots.get(ws.id)
    moved = _written_elsewhere(
        app, lambda other: members.change_member_role(other.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id=role).revision
    )
    with _statements(app) as seen:
        snap = app.snapshots.get(ws.id, min_revision=moved)
    assert snap.revision == moved
    assert not [s for s in seen if _INPUT_READS.search(s)], seen
    _assert_held_is_fresh(app, ws, moved)


def test_a_change_that_is_not_followed_is_read_again(rolegate_app: Rolegate) -> None:
    app = rolegate_app
    ws, _, _, execs = _bench_workspace(app)
    app.snapshots.get(ws.id)

    def new_role_for_a_member(other: Rolegate) -> int:
        made = roles.create_role(other.uow(), actor=ws.owner, workspace_id=ws.id, name="Made elsewhere", level="analyst", grants=["accounts.view_all"], landing_page="dashboard")
        return members.change_member_role(other.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id=made.id).revision

    moved = _written_elsewhere(app, new_role_for_a_member)
    with _statements(app) as seen:
        app.snapshots.get(ws.id, min_revision=moved)
    assert any("FROM roles" in s for s in seen), seen
    _assert_held_is_fresh(app, ws, moved, head_known=False)


def test_a_member_disabled_elsewhere_is_read_again_not_skipped(rolegate_app: Rolegate) -> None:
    """A change not followed (here `member.disable`, which follows a role update that is)
    is read again: taking it for a record change would keep a disabled member deciding."""
    app = rolegate_app
    ws, role, _, execs = _bench_workspace(app)
    app.snapshots.get(ws.id)

    def update_then_disable(other: Rolegate) -> int:
        roles.update_role(other.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.update"])
        return members.disable_member(other.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[1]).revision

    disabled = _written_elsewhere(app, update_then_disable)
    snap = app.snapshots.get(ws.id, min_revision=disabled)
    assert snap.member_status(execs[1]) is MemberStatus.DISABLED
    _assert_held_is_fresh(app, ws, disabled, head_known=False)


def test_a_revision_without_its_audit_events_is_read_again(rolegate_app: Rolegate, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every revision in between must come with the events that made it (a pruned log,
    a bulk change that logs none): else nothing is taken from the events."""
    app = rolegate_app
    ws, role, _, execs = _bench_workspace(app)
    app.snapshots.get(ws.id)

    def two_writes(other: Rolegate) -> int:
        roles.update_role(other.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.update"])
        return members.change_member_role(other.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id="guest").revision

    moved = _written_elsewhere(app, two_writes)
    between = AuditRepository.between_revisions
    monkeypatch.setattr(AuditRepository, "between_revisions", lambda self, *a, **k: between(self, *a, **k)[1:])
    with _statements(app) as seen:
        app.snapshots.get(ws.id, min_revision=moved)
    assert any("FROM roles" in s for s in seen), seen
    monkeypatch.undo()
    _assert_held_is_fresh(app, ws, moved, head_known=False)


def test_a_role_edit_that_changes_nothing_reads_that_role_alone(rolegate_app: Rolegate) -> None:
    """Its answer (the role as stored, with its dates) needs one row, not every role."""
    app = rolegate_app
    ws, role, _, _ = _bench_workspace(app)
    app.snapshots.get(ws.id)  # the inputs held: the write reads no roles to start from
    listed = next(v for v in roles.roles_page(app.uow(), actor=ws.owner, workspace_id=ws.id).roles if v.id == role)
    with _statements(app) as seen:
        written = roles.update_role_written(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all"])
    assert written.role == listed
    reads = [s for s in seen if re.search(r"\bFROM roles\b", s)]
    assert len(reads) == 1, reads
    assert "roles.id = " in reads[0]


def test_the_answers_of_writes_sent_with_the_commit_are_the_rows_stored(rolegate_app: Rolegate) -> None:
    """A role edit and a member's role change send their update with the COMMIT, unread:
    the answer is made from the row read before and the change. It must be the row the
    store then holds, dates included (a disabled member's `disabled_at` too), for each
    status `member_updated` knows (active, disabled, invited)."""
    app = rolegate_app
    ws, role, _, execs = _bench_workspace(app)
    app.snapshots.get(ws.id)
    written = roles.update_role_written(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all", "accounts.update"])
    listed = next(v for v in roles.roles_page(app.uow(), actor=ws.owner, workspace_id=ws.id).roles if v.id == role)
    assert written.role == listed
    moved = members.change_member_role(app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id="guest")
    members.disable_member(app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[1])
    moved_disabled = members.change_member_role(app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[1], role_id="guest")
    invited = ws.add("executive", tag="invited", invited=True)
    moved_invited = members.change_member_role(app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=invited, role_id="guest")
    with app.reader() as uow:
        assert moved.member == uow.members.get(ws.id, execs[0])
        assert moved_disabled.member == uow.members.get(ws.id, execs[1])
        assert moved_invited.member == uow.members.get(ws.id, invited)
    assert moved_disabled.member.disabled_at is not None
    assert moved_invited.member.member.status is MemberStatus.INVITED
    assert moved_invited.member.activated_at is None
    assert moved.member.member.role == moved_disabled.member.member.role == "guest"


@pytest.mark.parametrize("rolegate_app", ["postgresql"], indirect=True)  # SQLite's unit holds the write lock from BEGIN
def test_a_member_changed_between_the_answers_read_and_the_lock_is_read_again(rolegate_app: Rolegate, monkeypatch: pytest.MonkeyPatch) -> None:
    """The answer of a member's role change comes from the row read before the lock;
    disabled by another write in between, the answer is the stored row all the same."""
    app = rolegate_app
    ws, _, _, execs = _bench_workspace(app)
    def disabled_meanwhile(uow: UnitOfWork, workspace_id: str, **kwargs: bool) -> WorkspaceState:
        monkeypatch.setattr("rolegate.services.members.load_state", load_state)
        members.disable_member(app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[0])
        return load_state(uow, workspace_id, **kwargs)

    monkeypatch.setattr("rolegate.services.members.load_state", disabled_meanwhile)
    moved = members.change_member_role(app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id="guest")
    with app.reader() as uow:
        stored = uow.members.get(ws.id, execs[0])
    assert stored is not None
    assert stored.member.status is MemberStatus.DISABLED
    assert moved.member == stored


def _stored_created_at(app: Rolegate, workspace_id: str, role_id: str) -> datetime:
    with app.reader() as uow:
        info = uow.roles.info(workspace_id, role_id)
    assert info is not None
    return info.created_at


def test_a_role_edit_answers_with_the_creation_date_its_inputs_know_and_reads_no_role(rolegate_app: Rolegate) -> None:
    """A role's creation date never changes: the inputs held at the revision carry it
    (read with the roles, or kept from the write before), and the edit reads no role row."""
    app = rolegate_app
    ws, role, _, _ = _bench_workspace(app)
    app.snapshots.get(ws.id)
    roles.update_role(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all", "accounts.update"])
    with _statements(app) as seen:
        written = roles.update_role_written(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all"])
    assert not [s for s in seen if re.search(r"\bFROM roles\b", s)], seen
    assert written.role.created_at == _stored_created_at(app, ws.id, role)


def test_a_role_another_process_changed_has_its_creation_date_read_again(rolegate_app: Rolegate) -> None:
    """Followed from another process's audit events, a role they touch loses the date
    held for it (it may have been deleted and made again): the next edit reads it."""
    app = rolegate_app
    ws, role, _, _ = _bench_workspace(app)
    app.snapshots.get(ws.id)
    roles.update_role(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all", "accounts.update"])
    moved = _stored_created_at(app, ws.id, role) - timedelta(days=1)

    def touch_the_role(other: Rolegate) -> int:
        with other.uow() as uow:
            uow.roles.conn.execute(update(tables.roles).where(tables.roles.c.workspace_id == ws.id, tables.roles.c.id == role).values(created_at=moved))
            uow.commit()
        return roles.update_role_written(other.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.update"]).revision

    _written_elsewhere(app, touch_the_role)
    with _statements(app) as seen:
        written = roles.update_role_written(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=["accounts.view_all"])
    assert [s for s in seen if re.search(r"\bFROM roles\b", s)], seen
    assert written.role.created_at == moved == _stored_created_at(app, ws.id, role)
