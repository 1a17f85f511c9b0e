"""`rolegate audit ...`: the audit log, hash-chained per workspace."""

from __future__ import annotations

from typing import Annotated

import typer

from rolegate.cli.common import EXIT_NO, UrlOption, fail, open_rolegate, out, reporting_errors
from rolegate.domain.words import count_of
from rolegate.domain.workspace import Actor
from rolegate.services.audit_chains import prune_workspaces, verify_workspaces

app = typer.Typer(no_args_is_help=True, help="The audit log.")


@app.command()
def verify(
    workspace: Annotated[
        str | None, typer.Option("--workspace", "-w", help="Verify this workspace only.", show_default=False)
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Verify every workspace (the default).")] = False,
    url: UrlOption = None,
) -> None:
    """Recompute every audit event's hash chain: "chain intact, N events" or the first broken event.

    An event changed, removed or reordered in the database breaks the chain from there on.
    Exit code 0 when every chain is intact, 1 when one is broken, 2 on an error.
    """
    if workspace is not None and all_:
        fail("--workspace and --all exclude each other", "Pass one workspace id, or --all (the default).")
    with reporting_errors(), open_rolegate(url) as rg:
        chains = verify_workspaces(rg.reader(), workspace_id=workspace)
    if not chains:
        out.print("no workspaces, nothing to verify")
        return
    for chain in chains:
        ws, report, event = chain.workspace, chain.report, chain.broken_event
        label = f"{ws.id} ({ws.name})"
        if report.intact:
            out.print(
                f"{label}: chain intact, {report.events} events (intact up to event {report.last_seq})", markup=False
            )
            continue
        what = (
            f" (id {event.id}, {event.action} on {event.target_type} {event.target_id}, at {event.at.isoformat()})"
            if event
            else ""
        )
        out.print(
            f"{label}: chain broken at event {report.first_broken_seq}{what}: {report.problem}",
            style="bold red",
            markup=False,
        )
    broken = sum(not chain.report.intact for chain in chains)
    if broken:
        out.print(f"{broken} of {count_of(len(chains), 'workspace')} {'has' if broken == 1 else 'have'} a broken audit chain", style="bold red", markup=False)
        raise typer.Exit(EXIT_NO)


@app.command()
def prune(
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace", "-w", help="Prune this workspace only (default: every workspace).", show_default=False
        ),
    ] = None,
    url: UrlOption = None,
) -> None:
    """Remove audit events older than each workspace's retention setting (run it daily).

    The newest event always stays, and the last removed event's hash is kept, so
    `rolegate audit verify` still checks the chain from the first kept event. Pruning is audited.
    """
    with reporting_errors(), open_rolegate(url) as rg:
        removed = prune_workspaces(rg.uow(), actor=Actor.system("cli"), workspace_id=workspace)
    for ws_id, count in removed.items():
        if count:
            out.print(f"{ws_id}: removed {count_of(count, 'event')}", markup=False)
    out.print(f"pruned {count_of(sum(removed.values()), 'event')} in {count_of(len(removed), 'workspace')}", markup=False)
