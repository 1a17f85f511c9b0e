"""`rolegate explain`: the decision and its reasons, exit 0 allowed / 1 denied / 2 error."""

from __future__ import annotations

from tests.cli.test_commands import Demo, demo_db, run

__all__ = ["demo_db"]  # the demo database fixture, shared with test_commands


def test_explain_allowed_and_denied_with_the_reasons(demo_db: Demo) -> None:
    ws = demo_db.workspace("natero")
    code, out = run(
        "explain",
        "--url",
        demo_db.url,
        ws,
        "ann@example.com",
        "accounts.update_attributes",
        "--record-type",
        "account",
        "--record-id",
        "acme",
    )
    assert code == 0, out
    assert "ALLOWED:" in out
    assert "holds role 'CSM'" in out
    code, out = run(
        "explain",
        "--url",
        demo_db.url,
        ws,
        "ann@example.com",
        "accounts.update_attributes",
        "-t",
        "account",
        "-i",
        "globex",
    )
    assert code == 1, out
    assert "DENIED:" in out
    assert "on account 'globex'" in out
    assert "N11" in out
    assert "record_out_of_scope" in out


def test_explain_by_member_id(demo_db: Demo) -> None:
    ws = demo_db.workspace("telephony")
    code, out = run("check", "--url", demo_db.url, "-w", ws, "dan@example.com", "reports.view")
    member_id = out.split("is member ", 1)[1].split()[0]
    code, out = run("explain", "--url", demo_db.url, ws, member_id, "reports.view")
    assert code == 1, out
    assert "(disabled) holds role 'Analyst'" in out
    assert "member_inactive" in out


def test_explain_errors_print_the_fix(demo_db: Demo) -> None:
    ws = demo_db.workspace("natero")
    for args, message in (
        ([ws, "nobody@example.com", "accounts.view"], "no member 'nobody@example.com'"),
        ([ws, "ann@example.com", "accounts.veiw"], "unknown action 'accounts.veiw'"),
        (["nope", "ann@example.com", "accounts.view"], "no workspace 'nope'"),
    ):
        code, out = run("explain", "--url", demo_db.url, *args)
        assert code == 2, out
        assert message in out
        assert "fix:" in out
    code, out = run("explain", "--url", demo_db.url, ws, "ann@example.com", "accounts.view", "-t", "account")
    assert code == 2, out
    assert "--record-id" in out
