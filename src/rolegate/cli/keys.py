"""`rolegate org create` and `rolegate keys ...`: an organization and its API keys, the
operator's way in (the HTTP API needs a key before it can be used)."""

from __future__ import annotations

from typing import Annotated

import typer

from rolegate.cli.common import UrlOption, fail, open_rolegate, out, reporting_errors
from rolegate.domain.workspace import Actor
from rolegate.services.api_keys import KeyRight, create_api_key, list_api_keys, revoke_api_key
from rolegate.services.key_admin import create_organization_with_key

org_app = typer.Typer(no_args_is_help=True, help="Organizations (the tenants that own workspaces and API keys).")
keys_app = typer.Typer(no_args_is_help=True, help="API keys: create, list, revoke.")

OrgOption = Annotated[str, typer.Option("--org", "-o", help="Organization id.", show_default=False)]


def _rights(rights: str) -> set[str]:
    wanted = {r.strip() for r in rights.split(",") if r.strip()}
    if not wanted:
        fail(
            "no rights given",
            f"Pass --rights with one or more of {', '.join(r.value for r in KeyRight)}, comma-separated.",
        )
    return wanted


def _print_key(key: str, scope: str) -> None:
    out.print(f"API key ({scope}), shown only this once; store it as a secret:", markup=False)
    out.print(key, markup=False)


@org_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="The organization's name.")],
    rights: Annotated[str, typer.Option(help="Rights of the first API key (comma-separated).")] = "decide,admin",
    url: UrlOption = None,
) -> None:
    """Create an organization and its first API key (organization-wide)."""
    if not name.strip():
        fail("an organization needs a name", "Pass a non-empty NAME.")
    wanted = _rights(rights)
    with reporting_errors(), open_rolegate(url) as rg:
        created = create_organization_with_key(rg.uow(), actor=Actor.system("cli"), name=name, rights=wanted)
    out.print(f"organization {created.organization_id}", markup=False)
    _print_key(created.api_key, "every workspace of the organization")


@keys_app.command("create")
def create_key(
    org: OrgOption,
    rights: Annotated[str, typer.Option("--rights", "--right", help="decide, admin, scim (SCIM provisioning), comma-separated.")] = "decide",
    workspace: Annotated[
        str | None, typer.Option("--workspace", "-w", help="Reach this workspace only.", show_default=False)
    ] = None,
    name: Annotated[str, typer.Option(help="A name to recognize the key by.")] = "",
    url: UrlOption = None,
) -> None:
    """Create an API key of an organization, reaching all its workspaces or one."""
    wanted = _rights(rights)
    with reporting_errors(), open_rolegate(url) as rg:
        key = create_api_key(rg.uow(), organization_id=org, workspace_id=workspace, rights=wanted, name=name)
    _print_key(key, f"workspace {workspace}" if workspace else "every workspace of the organization")


@keys_app.command("list")
def list_keys(org: OrgOption, url: UrlOption = None) -> None:
    """The organization's keys (prefix, name, reach, rights, created, revoked); never a secret."""
    with reporting_errors(), open_rolegate(url) as rg:
        keys = list_api_keys(rg.reader(), organization_id=org)
    # Plain aligned lines, never truncated to the terminal's width: one line per key, for grep.
    rows = [("prefix", "name", "reaches", "rights", "created", "status")]
    for k in keys:
        created = k.created_at.strftime("%Y-%m-%d %H:%M") if k.created_at else ""
        rows.append(
            (
                k.prefix,
                k.name,
                k.workspace_id or "all workspaces",
                ",".join(sorted(k.rights)),
                created,
                "revoked" if k.revoked else "active",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(), markup=False)
    if not keys:
        out.print("no API keys", markup=False)


@keys_app.command("revoke")
def revoke(
    prefix: Annotated[
        str, typer.Argument(help="The key's prefix: the 12 hex digits after `rg_` (see `rolegate keys list`).")
    ],
    org: OrgOption,
    url: UrlOption = None,
) -> None:
    """Revoke a key: every request with it is refused (401) from now on."""
    with reporting_errors(), open_rolegate(url) as rg:
        row = revoke_api_key(rg.uow(), organization_id=org, prefix=prefix)
    out.print(f"revoked API key {row.prefix} ({row.name})", markup=False)
