"""`rolegate members delete`: the operator deletes a member (N12, E7) with the rules of
the API: refused while accounts are assigned to them (C6), with the fix; the seat is free."""

from __future__ import annotations

import sqlite3

from tests.cli.test_commands import Demo, demo_db, run

__all__ = ["demo_db"]


def member_of(demo: Demo, ws: str, email: str) -> str:
    with sqlite3.connect(demo.path) as db:
        row = db.execute(
            "SELECT m.id FROM members m JOIN users u ON u.id = m.user_id WHERE m.workspace_id = ? AND u.email = ?",
            (ws, email),
        ).fetchone()
    return str(row[0])


def test_N12_the_operator_deletes_a_member_and_C6_is_refused_first(demo_db: Demo) -> None:
    ws = demo_db.workspace("customersuccessbox")
    ann = member_of(demo_db, ws, "ann@example.com")  # the CSM of an account
    code, out = run("members", "delete", "--url", demo_db.url, ws, ann, "--yes")
    assert code == 2, out
    assert "C6" in out
    assert "Transfer their accounts to another member first." in out
    carol = member_of(demo_db, ws, "carol@example.com")
    code, out = run("members", "delete", "--url", demo_db.url, ws, carol, "--yes")
    assert code == 0, out
    assert f"Deleted carol@example.com (member {carol})" in out
    code, out = run("members", "delete", "--url", demo_db.url, ws, carol, "--yes")
    assert code == 2, out
    assert f"no member '{carol}'" in out
    code, out = run("members", "delete", "--url", demo_db.url, ws, ann)  # no --yes, no answer: nothing happens
    assert code == 1, out
