"""The assign menu (`assignments.member_choices`) and the Accounts pages' reads load what
they show: the statements they run and the member rows they read stay the same when
other workspaces grow, or when this one gains members the menu does not offer (N9:
invited members, roles that cannot hold accounts). On SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event

from rolegate.bootstrap import Rolegate
from rolegate.domain.errors import PermissionDeniedError
from rolegate.domain.workspace import Actor
from rolegate.engine import Record, RecordRef
from rolegate.services import assignments, records
from rolegate.store.repositories import MemberInfo, MemberRepository
from tests.integration.support import PLATFORM, Ws, open_workspace


@dataclass
class Touched:
    statements: list[str] = field(default_factory=list)
    member_rows: int = 0


@contextmanager
def touched(app: Rolegate, monkeypatch: pytest.MonkeyPatch) -> Iterator[Touched]:
    """The SQL statements run on the app's engine, and the member rows read into MemberInfo."""
    seen = Touched()
    read_row: Callable[[Any], MemberInfo] = MemberRepository._info

    def counting(row: Any) -> MemberInfo:
        seen.member_rows += 1
        return read_row(row)

    def statement(conn: Any, cursor: Any, sql: str, params: Any, context: Any, executemany: bool) -> None:
        seen.statements.append(sql)

    with monkeypatch.context() as patch:
        patch.setattr(MemberRepository, "_info", staticmethod(counting))
        event.listen(app.engine, "before_cursor_execute", statement)
        try:
            yield seen
        finally:
            event.remove(app.engine, "before_cursor_execute", statement)


def crowd(app: Rolegate, ws: Ws) -> None:
    """Another workspace with members and accounts, and members of `ws` the assign menu does not offer."""
    other = open_workspace(app, "natero")
    for k in range(6):
        member = other.add("csm")
        other.assign_account(member, f"other-{k}")
    for _ in range(6):
        ws.add("guest")  # a role that cannot hold accounts (N9)
    for _ in range(3):
        ws.add("csm", invited=True)  # not active (N9)


def test_member_choices_reads_only_the_members_it_offers(
    rolegate_app: Rolegate, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = open_workspace(rolegate_app, "natero")
    csms = {ws.add("csm"), ws.add("csm")}

    def choose() -> tuple[list[assignments.MemberChoice], Touched]:
        with touched(rolegate_app, monkeypatch) as seen:
            choices = assignments.member_choices(
                rolegate_app.reader(), actor=ws.owner, workspace_id=ws.id, object_type="account"
            )
        return choices, seen

    before, first = choose()
    assert csms <= {c.member for c in before}  # with the owner, whose role may hold accounts too
    assert first.member_rows == len(before)
    crowd(rolegate_app, ws)
    after, second = choose()
    assert after == before
    assert (len(second.statements), second.member_rows) == (len(first.statements), first.member_rows)


def test_member_choices_needs_the_assign_records_right(rolegate_app: Rolegate) -> None:
    ws = open_workspace(rolegate_app, "natero")
    guest = ws.add("guest")
    with pytest.raises(PermissionDeniedError):
        assignments.member_choices(
            rolegate_app.reader(), actor=Actor.member(guest), workspace_id=ws.id, object_type="account"
        )


def test_the_accounts_pages_read_the_names_they_show(rolegate_app: Rolegate, monkeypatch: pytest.MonkeyPatch) -> None:
    """A CSM (no assign-records right) sees their accounts with their own name, and no
    menu; the list reads that one name whatever else the workspace holds, one account
    the names of its assignee and of who can see it."""
    ws = open_workspace(rolegate_app, "natero")
    csm = ws.add("csm")
    records.upsert_record(
        rolegate_app.uow(), actor=PLATFORM, workspace_id=ws.id, record=Record("account", "mine", None, csm)
    )

    def page() -> tuple[assignments.AccountsPage, Touched]:
        snap = rolegate_app.snapshots.get(ws.id, min_revision=ws.revision())
        with touched(rolegate_app, monkeypatch) as seen:
            listed = assignments.accounts_page(
                rolegate_app.reader(),
                snap,
                actor=Actor.member(csm),
                workspace_id=ws.id,
                member=csm,
                action="accounts.view",
                object_type="account",
            )
        return listed, seen

    listed, first = page()
    assert [r.id for r in listed.records] == ["mine"]
    assert listed.names.keys() == {csm}
    assert (listed.may_assign, listed.choices) == (False, ())
    crowd(rolegate_app, ws)
    listed_again, second = page()
    assert [r.id for r in listed_again.records] == ["mine"]
    assert listed_again.names == listed.names
    assert (len(second.statements), second.member_rows) == (len(first.statements), first.member_rows)
    snap = rolegate_app.snapshots.get(ws.id, min_revision=ws.revision())
    with touched(rolegate_app, monkeypatch) as seen:
        one = assignments.account_page(
            rolegate_app.reader(),
            snap,
            actor=Actor.member(csm),
            workspace_id=ws.id,
            member=csm,
            ref=RecordRef("account", "mine"),
        )
    assert (one.record.assignee, one.may_assign, one.choices) == (csm, False, ())
    assert one.names.keys() == {v.member for v in one.viewers} | {csm}
    assert seen.member_rows == len(one.names)
