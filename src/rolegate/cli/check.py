"""`rolegate check`: one decision, explained, from the same cached snapshot the API uses."""

from __future__ import annotations

from typing import Annotated

import typer

from rolegate.cli.common import EXIT_NO, UrlOption, fail, open_rolegate, out, reporting_errors
from rolegate.engine import RecordRef


def parse_record(text: str) -> RecordRef:
    object_type, sep, record_id = text.partition(":")
    if not sep or not object_type or not record_id:
        fail(f"--record {text!r} is not TYPE:ID", "Write the record as its object type and id, e.g. --record account:acme.")
    return RecordRef(object_type, record_id)


def check(
    member: Annotated[str, typer.Argument(help="The member's id, or their email address.", show_default=False)],
    action: Annotated[str, typer.Argument(help="The action, e.g. accounts.update_attributes.", show_default=False)],
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="The workspace id.", show_default=False)],
    record: Annotated[str | None, typer.Option("--record", "-r", help="TYPE:ID of a record (e.g. account:acme).", show_default=False)] = None,
    url: UrlOption = None,
) -> None:
    """May MEMBER do ACTION (on a record)? Prints the decision and why.

    Exit code 0 when allowed, 1 when denied, 2 on an error (unknown workspace or action...).
    """
    ref = parse_record(record) if record is not None else None
    with reporting_errors(), open_rolegate(url) as rg:
        member_id = member
        if "@" in member:
            with rg.uow() as uow:
                if uow.workspaces.get(workspace) is None:
                    fail(f"no workspace {workspace!r}", "Check the workspace id (`rolegate demo` prints the demo's).")
                found = next((m for m in uow.members.all(workspace) if m.email == member.strip().lower()), None)
            if found is None:
                fail(f"no member with email {member!r} in workspace {workspace!r}", "Check the email, or pass the member id.")
            member_id = found.member.id
            out.print(f"{member} is member {member_id}", markup=False)
        explanation = rg.snapshots.get(workspace).explain(member_id, action, ref)
    verdict, *rest = str(explanation).splitlines()
    out.print(verdict, style="bold green" if explanation.decision.allowed else "bold red", markup=False)
    for line in rest:
        out.print(line, markup=False)
    if not explanation.decision.allowed:
        raise typer.Exit(EXIT_NO)
