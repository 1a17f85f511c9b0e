"""The `rolegate` command. Thin: each command parses, calls a service (or the engine)
and renders; a RolegateError is printed with its fix (exit 2), never a traceback."""

from __future__ import annotations

import typer

from rolegate.cli import audit, check, db, demo, explain, keys, outbox, presets, roles_code, schema, serve, sso, users
from rolegate.cli import webhooks as webhooks_cli
from rolegate.cli.members import app as members_app

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Rolegate: roles, permissions, seats and teams for SaaS products.")
app.command("serve")(serve.serve)
app.command("demo")(demo.demo)
app.command("check")(check.check)
app.command("explain")(explain.explain)
app.add_typer(db.app, name="db")
app.add_typer(audit.app, name="audit")
app.add_typer(schema.app, name="schema")
app.command("presets")(presets.presets)
app.add_typer(keys.org_app, name="org")
app.add_typer(keys.keys_app, name="keys")
app.command("export")(roles_code.export)
app.command("plan")(roles_code.plan)
app.command("apply")(roles_code.apply)
app.command("outbox")(outbox.outbox)
app.add_typer(users.app, name="users")
app.add_typer(members_app, name="members")
app.add_typer(webhooks_cli.app, name="webhooks")
app.add_typer(sso.app, name="sso")


def main() -> None:
    app()
