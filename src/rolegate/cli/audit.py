"""`rolegate audit ...`: the audit log, hash-chained per workspace."""

from __future__ import annotations

from typing import Annotated

import typer

from rolegate.cli.common import EXIT_NO, UrlOption, fail, open_rolegate, out, reporting_errors
from rolegate.services.audit import verify_chain

app = typer.Typer(no_args_is_help=True, help="The audit log.")


@app.command()
def verify(
    workspace: Annotated[str | None, typer.Option("--workspace", "-w", help="Verify this workspace only.", show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help="Verify every workspace (the default).")] = False,
    url: UrlOption = None,
) -> None:
    """Recompute every audit event's hash chain: "chain intact, N events" or the first broken event.

    An event changed, removed or reordered in the database breaks the chain from there on.
    Exit code 0 when every chain is intact, 1 when one is broken, 2 on an error.
    """
    if workspace is not None and all_:
        fail("--workspace and --all exclude each other", "Pass one workspace id, or --all (the default).")
    broken = 0
    with reporting_errors(), open_rolegate(url) as rg:
        with rg.uow() as uow:
            if workspace is not None:
                ws = uow.workspaces.get(workspace)
                if ws is None:
                    fail(f"no workspace {workspace!r}", "Check the workspace id, or use --all.")
                targets = [ws]
            else:
                targets = uow.workspaces.all()
        if not targets:
            out.print("no workspaces, nothing to verify")
            return
        for ws in targets:
            report = verify_chain(rg.uow(), workspace_id=ws.id)
            label = f"{ws.id} ({ws.name})"
            if report.intact:
                out.print(f"{label}: chain intact, {report.events} events (intact up to event {report.last_seq})", markup=False)
                continue
            broken += 1
            seq = report.first_broken_seq
            with rg.uow() as uow:
                event = next(iter(uow.audit.all(ws.id, after_seq=(seq or 1) - 1, limit=1)), None)
            what = f" (id {event.id}, {event.action} on {event.target_type} {event.target_id}, at {event.at.isoformat()})" if event else ""
            out.print(f"{label}: chain broken at event {seq}{what}: {report.problem}", style="bold red", markup=False)
    if broken:
        out.print(f"{broken} of {len(targets)} workspace(s) have a broken audit chain", style="bold red", markup=False)
        raise typer.Exit(EXIT_NO)


@app.command()
def prune(
    workspace: Annotated[str | None, typer.Option("--workspace", "-w", help="Prune this workspace only (default: every workspace).", show_default=False)] = None,
    url: UrlOption = None,
) -> None:
    """Remove audit events older than each workspace's retention setting (run it daily).

    The newest event always stays, and the last removed event's hash is kept, so
    `rolegate audit verify` still checks the chain from the first kept event. Pruning is audited.
    """
    from rolegate.domain.workspace import Actor
    from rolegate.services.audit import prune_events

    with reporting_errors(), open_rolegate(url) as rg:
        with rg.uow() as uow:
            targets = [workspace] if workspace is not None else [ws.id for ws in uow.workspaces.all()]
        total = 0
        for ws_id in targets:
            removed = prune_events(rg.uow(), actor=Actor.system("cli"), workspace_id=ws_id)
            total += removed
            if removed:
                out.print(f"{ws_id}: removed {removed} event(s)", markup=False)
        out.print(f"pruned {total} event(s) in {len(targets)} workspace(s)", markup=False)
