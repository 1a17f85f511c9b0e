"""Micro benchmark of the statements the benchmarked admin writes execute (issue 18):
µs per call of each repository method and of each whole write, on a throwaway
PostgreSQL database. usage: python bench/statements.py [N] [--trace | --forms | --follow]

--trace prints each statement a write executes (to find the ones still built per call);
--forms compares, for one record lookup, a statement built per call, `lambda_stmt` and a
prebuilt statement with bindparam() placeholders executed with a parameters dict;
--follow times what this process pays after another process's write (a second
Rolegate on the same database): its next write, and its snapshot of the new revision,
with the audit events followed (`context.followed_inputs`) and with them read again
(`FOLLOW_REVISIONS = 0`), side by side."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])  # the repository, not bench/ (its http.py shadows the stdlib)

from sqlalchemy import event  # noqa: E402
from tests.integration.support import PLATFORM, open_workspace  # noqa: E402
from tests.pg import postgres_url  # noqa: E402

from rolegate.bootstrap import Rolegate, bootstrap  # noqa: E402
from rolegate.config import Settings  # noqa: E402
from rolegate.domain.workspace import GENESIS_HASH  # noqa: E402
from rolegate.engine import Record, RecordRef  # noqa: E402
from rolegate.services import assignments, members, records, roles  # noqa: E402
from rolegate.store.repositories import JsonText, advancing_statement, utcnow  # noqa: E402
from rolegate.store.uow import NOTIFY_CHANNEL  # noqa: E402


def _time(label: str, n: int, call: Callable[[int], object]) -> None:
    for k in range(min(n, 50)):  # warm the compiled cache
        call(k)
    wall = cpu = float("inf")
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        for k in range(n):
            call(k)
        wall = min(wall, (time.perf_counter() - t0) / n * 1e6)
        cpu = min(cpu, (time.process_time() - c0) / n * 1e6)
    print(f"{label:<44} {wall:8.1f} µs/call wall {cpu:8.1f} µs/call CPU (this process)")


def main() -> None:
    n = int(next((a for a in sys.argv[1:] if a.isdigit()), "2000"))
    trace = "--trace" in sys.argv
    with postgres_url() as url:
        app: Rolegate = bootstrap(Settings(database_url=url, listen=False))
        app.create_tables()
        try:
            if "--follow" in sys.argv:
                follow(app, url, max(50, n // 10))
            else:
                run(app, n, trace)
        finally:
            app.close()


def follow(app: Rolegate, url: str, n: int) -> None:
    from rolegate.services import context

    other: Rolegate = bootstrap(Settings(database_url=url, listen=False))
    try:
        ws = open_workspace(app, "natero", seat_capacities={"csm": None, "analyst": None})
        role = roles.create_role(app.uow(), actor=ws.owner, workspace_id=ws.id, name="Bench", level="analyst", grants=["accounts.view_all"], landing_page="dashboard").id
        csms = [ws.add("csm", tag="csm") for _ in range(2)]
        execs = [ws.add("executive", tag="exec") for _ in range(2)]
        records.upsert_record(app.uow(), actor=PLATFORM, workspace_id=ws.id, record=Record("account", "acc-1", None, csms[0]))
        grants = (["accounts.view_all", "accounts.update"], ["accounts.view_all"])
        elsewhere: list[Callable[[int], int]] = [
            lambda k: roles.update_role_written(other.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=grants[k % 2]).revision,
            lambda k: members.change_member_role(other.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[1], role_id=("guest", "executive")[k % 2]).revision,
            lambda k: assignments.assign_record(other.uow(), actor=ws.owner, workspace_id=ws.id, ref=RecordRef("account", "acc-1"), assignee=csms[k % 2]).revision,
        ]

        def here(k: int) -> object:
            return members.change_member_role(app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id=("guest", "executive")[k % 2])

        kept = context.FOLLOW_REVISIONS
        for label, limit in (("followed", kept), ("read again", 0), ("followed", kept), ("read again", 0)):
            context.FOLLOW_REVISIONS = limit
            write = load = (0.0, 0.0)
            app.snapshots.get(ws.id)
            for k in range(n):
                # another process writes; this one decides at that revision, then writes
                revision = elsewhere[k % 3](k)
                t0, c0 = time.perf_counter(), time.thread_time()
                app.snapshots.get(ws.id, min_revision=revision)
                t1, c1 = time.perf_counter(), time.thread_time()
                revision = elsewhere[(k + 1) % 3](k)
                t2, c2 = time.perf_counter(), time.thread_time()
                here(k)
                t3, c3 = time.perf_counter(), time.thread_time()
                load = (load[0] + t1 - t0, load[1] + c1 - c0)
                write = (write[0] + t3 - t2, write[1] + c3 - c2)
            print(f"{label:<11} snapshot of the other's revision {load[0] / n * 1e6:7.0f} µs wall {load[1] / n * 1e6:7.0f} µs CPU;"
                  f" write after the other's {write[0] / n * 1e6:7.0f} µs wall {write[1] / n * 1e6:7.0f} µs CPU")
        context.FOLLOW_REVISIONS = kept
    finally:
        other.close()


def forms(app: Rolegate, n: int, workspace_id: str) -> None:
    from sqlalchemy import and_, bindparam, lambda_stmt, select

    from rolegate.store import tables as t

    r = t.records
    prebuilt = select(r).where(and_(r.c.workspace_id == bindparam("w"), r.c.type == bindparam("ty"), r.c.id == bindparam("i")))
    ty, i = "account", "acc-1"
    with app.engine.connect() as conn:
        _time("built per call", n, lambda k: conn.execute(select(r).where(and_(r.c.workspace_id == workspace_id, r.c.type == ty, r.c.id == i))).first())
        _time(
            "lambda_stmt",
            n,
            lambda k: conn.execute(lambda_stmt(lambda: select(r).where(and_(r.c.workspace_id == workspace_id, r.c.type == ty, r.c.id == i)))).first(),
        )
        _time("prebuilt, bindparam() + parameters dict", n, lambda k: conn.execute(prebuilt, {"w": workspace_id, "ty": ty, "i": i}).first())


def run(app: Rolegate, n: int, trace: bool) -> None:
    ws = open_workspace(app, "natero", seat_capacities={"csm": None, "analyst": None})
    role = roles.create_role(app.uow(), actor=ws.owner, workspace_id=ws.id, name="Bench", level="analyst", grants=["accounts.view_all"], landing_page="dashboard").id
    csms = [ws.add("csm", tag="csm") for _ in range(2)]
    execs = [ws.add("executive", tag="exec") for _ in range(2)]
    records.upsert_record(app.uow(), actor=PLATFORM, workspace_id=ws.id, record=Record("account", "acc-1", None, csms[0]))
    app.snapshots.get(ws.id)
    grants = (["accounts.view_all", "accounts.update"], ["accounts.view_all"])

    writes: dict[str, Callable[[int], object]] = {
        "write: role edit": lambda k: roles.update_role_written(app.uow(), actor=ws.owner, workspace_id=ws.id, role_id=role, grants=grants[k % 2]),
        "write: member role change": lambda k: members.change_member_role(app.uow(), actor=ws.owner, workspace_id=ws.id, member_id=execs[0], role_id=("guest", "executive")[k % 2]),
        "write: record assignment": lambda k: assignments.assign_record(app.uow(), actor=ws.owner, workspace_id=ws.id, ref=RecordRef("account", "acc-1"), assignee=csms[k % 2]),
    }
    if "--forms" in sys.argv:
        forms(app, n, ws.id)
        return
    if trace:
        seen: list[str] = []
        event.listen(app.engine, "before_cursor_execute", lambda conn, cur, stmt, *a: seen.append(stmt))
        for label, call in writes.items():
            for k in range(2):
                call(k)
            seen.clear()
            call(0)
            print(f"== {label}")
            for s in seen:
                print("  ", " ".join(s.split())[:220])
        return

    uow = app.uow()
    with uow:
        state_role = uow.roles.get(ws.id, role)
        assert state_role is not None
        member = uow.members.get(ws.id, execs[0])
        assert member is not None
        record = uow.records.get(ws.id, RecordRef("account", "acc-1"))
        assert record is not None
        ref = RecordRef("account", "acc-1")
        _time("WorkspaceRepository.get", n, lambda k: uow.workspaces.get(ws.id))
        _time("WorkspaceRepository.lock", n, lambda k: uow.workspaces.lock(ws.id))
        _time("RoleRepository.update", n, lambda k: uow.roles.update(ws.id, state_role))
        _time("MemberRepository.get", n, lambda k: uow.members.get(ws.id, execs[0]))
        _time("MemberRepository.update", n, lambda k: uow.members.update(ws.id, member.member))
        _time("RecordRepository.get", n, lambda k: uow.records.get(ws.id, ref))
        _time("RecordRepository.upsert", n, lambda k: uow.records.upsert(ws.id, record))
        row = {"workspace_id": ws.id, "seq": 1, "id": "x", "at": utcnow(), "actor": "a", "action": "role.update", "target_type": "role",
               "target_id": role, "before": JsonText("{}"), "after": JsonText("{}"), "revision": 5, "prev_hash": GENESIS_HASH, "hash": GENESIS_HASH}
        _time("advancing_statement (build only)", n, lambda k: advancing_statement(ws.id, 5, [row], notify_channel=NOTIFY_CHANNEL))

        def build_and_key(k: int) -> object:
            built = advancing_statement(ws.id, 5, [row], notify_channel=NOTIFY_CHANNEL)
            stmt = built[0] if isinstance(built, tuple) else built  # a (statement, parameters) pair once prebuilt
            return stmt._generate_cache_key()  # type: ignore[attr-defined]

        _time("advancing_statement (build + cache key)", n, build_and_key)
    for label, call in writes.items():
        _time(label, max(50, n // 10), call)


if __name__ == "__main__":
    main()
