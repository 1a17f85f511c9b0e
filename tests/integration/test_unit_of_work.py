"""The unit of work's contract (store/uow.py), on SQLite and PostgreSQL: a write is
kept only when committed (leaving the block, cleanly or by an exception, rolls back);
callbacks run only after a commit (`on_pending` just before it, `after_commit`
callbacks at it, `on_revision` once the connection is released) and never after a
rollback; a read-only unit of work cannot commit, nor keep a write."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path

import pytest

from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.store.uow import UnitOfWork

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def rolegate(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rolegate]:
    if request.param == "sqlite":
        rg = bootstrap(Settings(database_url=f"sqlite:///{tmp_path / 'uow.db'}", listen=False))
        rg.create_tables()
    else:
        rg = bootstrap(Settings(database_url=request.getfixturevalue("pg_tables_url"), listen=False))
    try:
        yield rg
    finally:
        rg.close()


class Calls:
    """What the unit of work told whom, in order."""

    def __init__(self) -> None:
        self.log: list[tuple[str, object]] = []

    def recorder(self, name: str) -> Callable[..., None]:
        def record(*args: object) -> None:
            self.log.append((name, args))

        return record


def watched(rg: Rolegate, calls: Calls) -> UnitOfWork:
    return UnitOfWork(
        rg.engine,
        on_revision=calls.recorder("on_revision"),
        on_pending=calls.recorder("on_pending"),
        on_mail=calls.recorder("on_mail"),
    )


def exists(rg: Rolegate, org_id: str) -> bool:
    with rg.reader() as uow:
        return uow.workspaces.organization_exists(org_id)


def new_id() -> str:
    return str(uuid.uuid4())


def write(uow: UnitOfWork, org_id: str) -> None:
    """A write, a revision to announce and an email to send: everything a use case does."""
    uow.workspaces.add_organization(org_id, "Acme")
    uow.revision_changed("ws-1", 7)
    assert uow.on_mail is not None
    uow.after_commit(uow.on_mail)


def test_a_committed_write_is_kept(rolegate: Rolegate) -> None:
    org = new_id()
    with rolegate.uow() as uow:
        uow.workspaces.add_organization(org, "Acme")
        uow.commit()
    assert exists(rolegate, org)


def test_a_write_not_committed_is_rolled_back(rolegate: Rolegate) -> None:
    org = new_id()
    with rolegate.uow() as uow:
        uow.workspaces.add_organization(org, "Acme")
        assert uow.workspaces.organization_exists(org)  # seen inside its own transaction
    assert not exists(rolegate, org)


def test_an_exception_inside_rolls_back(rolegate: Rolegate) -> None:
    org = new_id()

    def refused_after_the_write() -> None:
        with rolegate.uow() as uow:
            uow.workspaces.add_organization(org, "Acme")
            raise LookupError("refused after the write")

    with pytest.raises(LookupError, match="refused"):
        refused_after_the_write()
    assert not exists(rolegate, org)


def test_a_write_after_the_commit_is_rolled_back(rolegate: Rolegate) -> None:
    kept, dropped = new_id(), new_id()
    with rolegate.uow() as uow:
        uow.workspaces.add_organization(kept, "Acme")
        uow.commit()
        uow.workspaces.add_organization(dropped, "Acme")
    assert exists(rolegate, kept)
    assert not exists(rolegate, dropped)


def test_callbacks_run_only_after_the_commit_in_order(rolegate: Rolegate) -> None:
    calls = Calls()
    org = new_id()
    seen_at_commit: list[bool] = []
    with watched(rolegate, calls) as uow:
        write(uow, org)
        uow.after_commit(lambda: seen_at_commit.append(exists(rolegate, org)))
        assert calls.log == []  # nothing before the commit
        uow.commit()
        assert calls.log == [("on_pending", ("ws-1", 7)), ("on_mail", ())]
    assert calls.log == [("on_pending", ("ws-1", 7)), ("on_mail", ()), ("on_revision", ("ws-1", 7))]
    assert seen_at_commit == [True]  # an after-commit callback sees the committed write


@pytest.mark.parametrize("leave", ["cleanly", "by an exception"])
def test_no_callback_runs_after_a_rollback(rolegate: Rolegate, leave: str) -> None:
    calls = Calls()
    after: list[str] = []

    def work() -> None:
        with watched(rolegate, calls) as uow:
            write(uow, new_id())
            uow.after_commit(lambda: after.append("ran"))
            if leave == "by an exception":
                raise LookupError("refused")

    with pytest.raises(LookupError) if leave == "by an exception" else nullcontext():
        work()
    assert calls.log == []
    assert after == []


def test_callbacks_of_a_rolled_back_unit_do_not_leak_into_the_next(rolegate: Rolegate) -> None:
    calls = Calls()
    uow = watched(rolegate, calls)
    with uow:
        write(uow, new_id())  # rolled back: its revision and email are forgotten
    org = new_id()
    with uow:
        uow.workspaces.add_organization(org, "Acme")
        uow.commit()
    assert calls.log == []
    assert exists(rolegate, org)


def test_a_read_only_unit_of_work_cannot_commit_nor_keep_a_write(rolegate: Rolegate) -> None:
    org = new_id()
    with rolegate.reader() as uow:
        assert uow.read_only
        uow.workspaces.add_organization(org, "Acme")
        with pytest.raises(RuntimeError, match="read-only unit of work cannot commit"):
            uow.commit()
    assert not exists(rolegate, org)
