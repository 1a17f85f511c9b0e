"""`rolegate demo`: a database with one workspace per preset, sample members, records
and assignments, an API key, and how to call the API with it (`services.demo` builds
it, through the services, as the platform).

Running it again creates only the workspaces that are missing (a demo workspace you
changed is left as it is) and prints the same instructions with a fresh API key: keys
are stored hashed, so an earlier one cannot be shown again (it keeps working).
"""

from __future__ import annotations

import shlex
from typing import Annotated

import typer

from rolegate.bootstrap import Rolegate
from rolegate.cli.common import UrlOption, database_url, open_rolegate, out, reporting_errors
from rolegate.domain.workspace import Workspace
from rolegate.presets import PRESET_KEYS
from rolegate.services import demo as demo_data
from rolegate.services.database import upgrade
from rolegate.services.demo import ADMIN_EMAIL, ADMIN_PASSWORD, PEOPLE, DemoBuilt, build_demo, reset_demo_database

__all__ = ["ACTOR", "ADMIN_EMAIL", "ADMIN_PASSWORD", "ORGANIZATION", "build_workspace", "demo", "find_demo"]

ACTOR = demo_data.ACTOR
ORGANIZATION = demo_data.ORGANIZATION


def find_demo(rg: Rolegate) -> tuple[dict[str, Workspace], list[Workspace]]:
    """The demo workspaces by preset, and every other workspace (for the tests' demo data)."""
    return demo_data.demo_workspaces(rg.reader())


def build_workspace(rg: Rolegate, preset: str, organization_id: str) -> Workspace:
    """One demo workspace (for the tests' demo data)."""
    return demo_data.build_workspace(rg.uow(), preset=preset, organization_id=organization_id, policy=rg.mail_policy)


def demo(
    url: UrlOption = None,
    reset: Annotated[
        bool, typer.Option("--reset", help="Drop every Rolegate table of this database first and start over.")
    ] = False,
    env: Annotated[
        bool,
        typer.Option(
            "--env",
            help='Print only shell `export` lines (API key, workspace and member ids) for `eval "$(rolegate demo --env)"`.',
        ),
    ] = False,
) -> None:
    """Fill a database with one workspace per preset, sample members and records, and an API key; print how to use them.

    Migrates the database first. Safe to run again: existing demo workspaces are kept.
    """
    resolved = database_url(url)
    with reporting_errors():
        if reset:
            reset_demo_database(resolved)
            out.print("--reset: dropped every Rolegate table; starting over", markup=False)
        migrated = upgrade(resolved)
        if migrated.changed and not env:
            out.print(f"{migrated.url}: migrated to revision {migrated.after}", markup=False)
        with open_rolegate(resolved) as rg:
            built = build_demo(rg.uow(), policy=rg.mail_policy)
    if env:
        print_env(rg.settings.public_url, built)
        return
    if built.created and len(built.created) < len(PRESET_KEYS):
        out.print(f"Demo data was partly there; created: {', '.join(built.created)}.", markup=False)
    elif built.created:
        out.print(f"Created the demo in {migrated.url}: one workspace per preset.", markup=False)
    else:
        out.print(
            f"The demo data is already in {migrated.url} (created earlier; left as it is). Here it is again:",
            markup=False,
        )
    print_instructions(rg.settings.public_url, built)


def print_env(public_url: str, built: DemoBuilt) -> None:
    """The ids the README's shell examples use, as `export` lines: the examples run as written."""
    values = {"BASE": public_url, "KEY": built.api_key, "ORG": built.organization_id}
    for key, prefix in (("natero", ""), ("catalyst", "CATALYST_"), ("telephony", "TELEPHONY_")):
        shown = built.workspaces[key]
        values[f"{prefix}WS"] = shown.workspace.id
        values[f"{prefix}ADMIN"] = shown.member_ids[ADMIN_EMAIL]
        values[f"{prefix}ANN"] = shown.member_ids[PEOPLE["ann"][0]]
        values[f"{prefix}BOB"] = shown.member_ids[PEOPLE["bob"][0]]
        if not prefix:
            values["ADMIN_USER"] = shown.user_ids[ADMIN_EMAIL]
    for name, value in values.items():
        print(f"export {name}={shlex.quote(value)}")


def print_instructions(public_url: str, built: DemoBuilt) -> None:
    out.print()
    out.print("Log in (admin UI)", style="bold")
    out.print(
        f"  {ADMIN_EMAIL} / {ADMIN_PASSWORD}  (the first owner or administrator of every demo workspace)", markup=False
    )
    out.print()
    out.print("Workspaces", style="bold")
    for key, shown in built.workspaces.items():
        out.print(
            f"  {key:19} {shown.workspace.id}  {len(shown.member_ids)} members ({shown.invited} invited, {shown.disabled} disabled), {shown.records} records",
            markup=False,
        )
    out.print()
    out.print("API key", style="bold")
    out.print(f"  {built.api_key}", markup=False)
    out.print(
        "  organization-wide, rights decide + admin; a new one on every run (keys are stored hashed; earlier ones keep working)",
        markup=False,
    )
    out.print()
    natero = built.workspaces["natero"].workspace.id
    ann = built.workspaces["natero"].member_ids[PEOPLE["ann"][0]]
    admin = built.workspaces["natero"].member_ids[ADMIN_EMAIL]
    api = public_url
    base = f"{api}/v1/workspaces/{natero}"
    auth = f"-H {shlex.quote('Authorization: Bearer ' + built.api_key)}"
    out.print(
        f"Try it (Natero demo; the server must be running: `rolegate serve`, or `make run`). Ann ({ann}) is a CSM; acme is assigned to her, globex to Bob:",
        style="bold",
        markup=False,
    )
    examples = [
        (
            "May Ann update account attributes? (yes, on the accounts assigned to her: scope 'assigned')",
            f'curl -s -w \'\\n\' {auth} -H \'Content-Type: application/json\' {base}/check -d \'{{"member": "{ann}", "action": "accounts.update_attributes"}}\'',
        ),
        (
            "And on account globex, which is Bob's? (no, and the reasons say why)",
            f'curl -s -w \'\\n\' {auth} -H \'Content-Type: application/json\' {base}/check -d \'{{"member": "{ann}", "action": "accounts.update_attributes", "record": {{"type": "account", "id": "globex"}}}}\'',
        ),
        (
            "The roles, with levels and member counts (an admin call, made on behalf of the admin member)",
            f"curl -s -w '\\n' {auth} -H 'Rolegate-Actor: {admin}' {base}/roles",
        ),
        (
            "Which accounts may Ann view? A filter for your own database",
            f'curl -s -w \'\\n\' {auth} -H \'Content-Type: application/json\' {base}/lookup -d \'{{"member": "{ann}", "action": "accounts.view", "object": "account"}}\'',
        ),
    ]
    for comment, command in examples:
        out.print(f"# {comment}", markup=False)
        out.print(command, markup=False)
    out.print()
    out.print(
        f"OpenAPI: {api}/docs. From the command line: rolegate check -w {natero} {PEOPLE['ann'][0]} accounts.update_attributes --record account:globex",
        markup=False,
    )
