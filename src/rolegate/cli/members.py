"""`rolegate members delete WORKSPACE MEMBER`: remove a member from a workspace (N12,
E7), with the same rules as the API and the admin UI: their seat is free, their login
stays, the deletion is audited, and it is refused while records or references of the
host product name them (C6) or they are the last administrator/owner."""

from __future__ import annotations

from typing import Annotated

import typer

from rolegate.cli.common import UrlOption, open_rolegate, out, reporting_errors
from rolegate.domain.workspace import Actor
from rolegate.services.members import delete_member

app = typer.Typer(no_args_is_help=True, help="Members of a workspace.")

OPERATOR = Actor.system("cli")
"""The operator at the console acts as the platform (it holds the database URL)."""


@app.command("delete")
def delete(
    workspace: Annotated[str, typer.Argument(help="The workspace id.", show_default=False)],
    member: Annotated[str, typer.Argument(help="The member's id.", show_default=False)],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    url: UrlOption = None,
) -> None:
    """Delete MEMBER from WORKSPACE (their login stays; they can be invited again)."""
    if not yes:
        typer.confirm(f"Delete member {member} from workspace {workspace}?", abort=True)
    with reporting_errors(), open_rolegate(url) as rg:
        done = delete_member(rg.uow(), actor=OPERATOR, workspace_id=workspace, member_id=member)
    who = done.member.email
    out.print(
        f"Deleted {who} (member {done.member.member.id}) from the workspace; revision {done.revision}.", markup=False
    )
