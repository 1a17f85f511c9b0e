"""`rolegate sso ...`: an organization's single sign-on (OpenID Connect), as the operator.

The client secret is read from an environment variable (`--client-secret-env`) or a
prompt, never from the command line (it would stay in the shell's history and in `ps`).
`verify-domain` looks the TXT record up in DNS; `--txt` gives the record's text as seen
instead, for development and tests without DNS (the operator vouches for it)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from rolegate.cli.common import UrlOption, fail, open_rolegate, out, reporting_errors
from rolegate.domain.workspace import Actor
from rolegate.services.sso import (
    SsoSettingsView,
    claim_domain,
    configure_sso,
    remove_domain,
    set_jit_workspace,
    sso_settings,
    verify_domain,
)

app = typer.Typer(no_args_is_help=True, help="Single sign-on (OpenID Connect) per organization.")

OPERATOR = Actor.system("cli")
OrgArgument = Annotated[str, typer.Argument(help="Organization id.", show_default=False)]
DomainArgument = Annotated[str, typer.Argument(help="An email domain, e.g. example.com.", show_default=False)]


def _print(view: SsoSettingsView) -> None:
    out.print(f"organization  {view.organization_id}", markup=False)
    out.print(f"issuer        {view.issuer or '-'}", markup=False)
    out.print(f"client id     {view.client_id or '-'}", markup=False)
    out.print(f"client secret {'stored (never shown)' if view.has_secret else '-'}", markup=False)
    out.print(f"sso required  {'yes' if view.sso_required else 'no'}", markup=False)
    for d in view.domains:
        out.print(f"domain        {d.domain}  {'verified' if d.verified else 'not verified: TXT ' + d.record}", markup=False)
    for j in view.jit:
        out.print(f"jit           {j.workspace_id}  {j.role_id or '(default role)'}", markup=False)


@app.command("configure")
def configure(
    org: OrgArgument,
    issuer: Annotated[str | None, typer.Option(help="The provider's issuer URL (https://...).", show_default=False)] = None,
    client_id: Annotated[str | None, typer.Option(help="The client (application) id at the provider.", show_default=False)] = None,
    client_secret_env: Annotated[
        str | None, typer.Option(help="The environment variable holding the client secret.", show_default=False)
    ] = None,
    required: Annotated[
        bool | None, typer.Option("--required/--not-required", help="SSO required: no password login for the organization's domains.", show_default=False)
    ] = None,
    url: UrlOption = None,
) -> None:
    """Set the organization's identity provider (what is not given stays as it was)."""
    secret = None
    if client_secret_env is not None:
        secret = os.environ.get(client_secret_env)
        if not secret:
            fail(f"{client_secret_env} is not set", "Export the client secret in that variable first.")
    with reporting_errors(), open_rolegate(url) as rg:
        view = configure_sso(
            rg.uow(),
            actor=OPERATOR,
            organization_id=org,
            issuer=issuer,
            client_id=client_id,
            client_secret=secret,
            sso_required=required,
            secret_key=rg.settings.secret_key,
        )
    _print(view)


@app.command("show")
def show(org: OrgArgument, url: UrlOption = None) -> None:
    """The organization's SSO settings (never the client secret)."""
    with reporting_errors(), open_rolegate(url) as rg:
        _print(sso_settings(rg.reader(), actor=OPERATOR, organization_id=org))


@app.command("claim-domain")
def claim(org: OrgArgument, domain: DomainArgument, url: UrlOption = None) -> None:
    """Claim an email domain: prints the TXT record to publish on it."""
    with reporting_errors(), open_rolegate(url) as rg:
        view = claim_domain(rg.uow(), actor=OPERATOR, organization_id=org, domain=domain)
    out.print(f"{view.domain} TXT {view.record}", markup=False)


@app.command("verify-domain")
def verify(
    org: OrgArgument,
    domain: DomainArgument,
    txt: Annotated[
        list[str] | None, typer.Option(help="Development only: the domain's TXT record text as seen, instead of DNS.", show_default=False)
    ] = None,
    url: UrlOption = None,
) -> None:
    """Prove a claim: the domain's TXT records must hold the claim's record."""
    with reporting_errors(), open_rolegate(url) as rg:
        if txt:
            records = list(txt)
            view = verify_domain(rg.uow(), actor=OPERATOR, organization_id=org, domain=domain, lookup=lambda _d: records)
        else:
            view = verify_domain(rg.uow(), actor=OPERATOR, organization_id=org, domain=domain)
    out.print(f"{view.domain} verified", markup=False)


@app.command("remove-domain")
def remove(org: OrgArgument, domain: DomainArgument, url: UrlOption = None) -> None:
    """Withdraw the organization's claim on a domain."""
    with reporting_errors(), open_rolegate(url) as rg:
        removed = remove_domain(rg.uow(), actor=OPERATOR, organization_id=org, domain=domain)
    out.print(f"{domain} {'removed' if removed else 'was not claimed'}", markup=False)


@app.command("jit")
def jit(
    workspace: Annotated[str, typer.Argument(help="Workspace id.", show_default=False)],
    role: Annotated[str | None, typer.Option(help="The role a first sign-in gets (default: the workspace's default role).", show_default=False)] = None,
    off: Annotated[bool, typer.Option("--off", help="No just-in-time membership here.")] = False,
    url: UrlOption = None,
) -> None:
    """Whether a first sign-in makes the person a member of this workspace."""
    with reporting_errors(), open_rolegate(url) as rg:
        done = set_jit_workspace(rg.uow(), actor=OPERATOR, workspace_id=workspace, enabled=not off, role_id=role)
    out.print(f"{workspace}: " + (f"just-in-time membership, role {done.role_id or '(default role)'}" if done else "no just-in-time membership"), markup=False)
