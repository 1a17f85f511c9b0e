"""`rolegate users set-password EMAIL`: email a person without a password (an owner
created over the API, a site administrator) a link to choose one. The link goes to
their own address only (through the outbox: SMTP, or `rolegate outbox --to EMAIL` on a
server that runs offline) and is never printed here."""

from __future__ import annotations

from typing import Annotated

import typer

from rolegate.cli.common import UrlOption, open_rolegate, out, reporting_errors
from rolegate.services.password_reset import send_set_password

app = typer.Typer(no_args_is_help=True, help="People's logins.")


@app.command("set-password")
def set_password(
    email: Annotated[str, typer.Argument(help="The person's email (their login).", show_default=False)],
    url: UrlOption = None,
) -> None:
    """Email a person without a password a link to choose one, at their own address."""
    with reporting_errors(), open_rolegate(url) as rg:
        send_set_password(rg.uow(), organization_id=None, email=email, policy=rg.mail_policy)
    address = email.strip().lower()
    out.print(f"A link to choose a password is queued for {address}, to their own address only.", markup=False)
    if rg.outbox is None:
        out.print(f"No SMTP server is configured: it waits in the outbox (`rolegate outbox --to {address}`).", markup=False)
