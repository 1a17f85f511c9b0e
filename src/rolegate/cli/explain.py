"""`rolegate explain`: why a member may (or may not) do an action, in words, from the
explain use case (the same engine and snapshot as `rolegate check` and the API)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from rolegate.cli.common import EXIT_NO, UrlOption, open_rolegate, out, reporting_errors
from rolegate.domain.workspace import Actor
from rolegate.engine import RecordRef
from rolegate.services.explain import explain_member

OPERATOR = Actor.system("cli")
"""The operator at the console acts as the platform (it holds the database URL)."""


def explain(
    workspace: Annotated[str, typer.Argument(help="The workspace id.", show_default=False)],
    member: Annotated[str, typer.Argument(help="The member's id, or their email address.", show_default=False)],
    action: Annotated[str, typer.Argument(help="The action, e.g. accounts.update_attributes.", show_default=False)],
    record_type: Annotated[
        str | None,
        typer.Option("--record-type", "-t", help="The record's object type (e.g. account).", show_default=False),
    ] = None,
    record_id: Annotated[
        str | None, typer.Option("--record-id", "-i", help="The record's id (e.g. acme).", show_default=False)
    ] = None,
    url: UrlOption = None,
) -> None:
    """Why may (or may not) MEMBER do ACTION (on a record) in WORKSPACE? Prints the
    decision and the chain of reasons.

    Exit code 0 when allowed, 1 when denied, 2 on an error (unknown workspace, member or action...).
    """
    if (record_type is None) != (record_id is None):
        raise typer.BadParameter("give both --record-type and --record-id, or neither")
    ref = RecordRef(record_type, record_id) if record_type is not None and record_id is not None else None
    with reporting_errors(), open_rolegate(url) as rg:
        answer = explain_member(
            rg.reader(), actor=OPERATOR, workspace_id=workspace, member=member, action=action, record=ref
        )
    verdict, *rest = answer.lines
    out.print(verdict, style="bold green" if answer.allowed else "bold red", markup=False)
    for line in rest:
        if not line.startswith("- "):  # the reasons follow as a table
            out.print(line, markup=False)
    table = Table("reason", "rule", "permission", "code", show_edge=False)
    for reason in answer.reasons:
        table.add_row(reason.message, reason.rule or "", reason.permission or "", reason.code)
    out.print(table)
    if not answer.allowed:
        raise typer.Exit(EXIT_NO)
