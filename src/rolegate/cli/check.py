"""`rolegate check`: one decision, explained, from the same cached snapshot the API uses."""

from __future__ import annotations

from typing import Annotated

import typer

from rolegate.cli.common import EXIT_NO, UrlOption, fail, open_rolegate, out, reporting_errors
from rolegate.engine import RecordRef
from rolegate.services.member_check import check_member


def parse_record(text: str) -> RecordRef:
    object_type, sep, record_id = text.partition(":")
    if not sep or not object_type or not record_id:
        fail(
            f"--record {text!r} is not TYPE:ID",
            "Write the record as its object type and id, e.g. --record account:acme.",
        )
    return RecordRef(object_type, record_id)


def check(
    member: Annotated[str, typer.Argument(help="The member's id, or their email address.", show_default=False)],
    action: Annotated[str, typer.Argument(help="The action, e.g. accounts.update_attributes.", show_default=False)],
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="The workspace id.", show_default=False)],
    record: Annotated[
        str | None, typer.Option("--record", "-r", help="TYPE:ID of a record (e.g. account:acme).", show_default=False)
    ] = None,
    url: UrlOption = None,
) -> None:
    """May MEMBER do ACTION (on a record)? Prints the decision and why.

    Exit code 0 when allowed, 1 when denied, 2 on an error (unknown workspace or action...).
    """
    ref = parse_record(record) if record is not None else None
    with reporting_errors(), open_rolegate(url) as rg:
        answer = check_member(
            rg.reader(), rg.snapshots, workspace_id=workspace, member=member, action=action, record=ref
        )
    if answer.by_email:
        out.print(f"{member} is member {answer.member_id}", markup=False)
    explanation = answer.explanation
    verdict, *rest = str(explanation).splitlines()
    out.print(verdict, style="bold green" if explanation.decision.allowed else "bold red", markup=False)
    for line in rest:
        out.print(line, markup=False)
    if not explanation.decision.allowed:
        raise typer.Exit(EXIT_NO)
