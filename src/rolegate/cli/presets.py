"""`rolegate presets [--explain]`: the shipped presets; with --explain, each preset's
roles and a few decisions explained, computed in memory (no database)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rolegate.services.preset_tour import PresetTour, preset_summaries, preset_tours

console = Console(highlight=False)


def show(tour: PresetTour) -> None:
    table = Table(title=f"{tour.summary.name} ({tour.summary.key})", title_justify="left")
    for col in ("role", "type", "level", "seat", "effective permissions", "landing page"):
        table.add_column(col)
    for role in tour.roles:
        table.add_row(
            role.name,
            role.kind,
            role.level,
            role.seat or "-",
            f"{role.effective_permissions} of {tour.summary.permissions}",
            role.landing_page or "-",
        )
    console.print(table)
    console.print(
        f"features on: {', '.join(tour.features_on) or 'none'}; off: {', '.join(tour.features_off) or 'none'}"
    )
    for explanation in tour.explanations:
        console.print(str(explanation), markup=False)
    console.print()


def presets(
    explain: Annotated[
        bool, typer.Option("--explain", help="Also show each preset's roles and a few explained decisions.")
    ] = False,
) -> None:
    """List the shipped presets; --explain shows their roles and decisions, in memory."""
    if not explain:
        for s in preset_summaries():
            console.print(f"{s.key:20} {s.name}: {s.permissions} permissions, {s.system_roles} system roles")
        return
    for tour in preset_tours():
        show(tour)
    console.print("`rolegate demo` puts these presets in a database; `rolegate serve` answers over HTTP.")
