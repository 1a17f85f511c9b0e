"""The `rolegate` command. Thin: each command calls the library and prints the fix
for each error it catches, exiting non-zero."""

from __future__ import annotations

import typer

from rolegate.cli import demo, schema

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Rolegate: roles, permissions, seats and teams for SaaS products.")
app.add_typer(schema.app, name="schema")
app.command("demo")(demo.demo)
app.command("presets")(schema.presets)


def main() -> None:
    app()
