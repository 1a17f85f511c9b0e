"""`rolegate webhooks deliver`: one round of webhook delivery, until nothing is due.
`rolegate serve` delivers continuously in each process (`ROLEGATE_WEBHOOKS`, on by
default); this is for a deployment that turned that off, from cron, or to see what a
round does. Endpoints are managed over the API (`/v1/organizations/{org}/webhooks`)
or on the admin UI's Webhooks page."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import typer

from rolegate.cli.common import EXIT_NO, UrlOption, open_rolegate, out, reporting_errors
from rolegate.domain.words import count_of
from rolegate.services.webhook_delivery import deliver_until_idle

app = typer.Typer(no_args_is_help=True, help="Webhooks: deliver committed changes to the organizations' endpoints.")


@app.command("deliver")
def deliver(
    allow_private: Annotated[
        bool,
        typer.Option("--allow-private", help="Deliver to private addresses too (as ROLEGATE_WEBHOOKS_ALLOW_PRIVATE=1)."),
    ] = False,
    url: UrlOption = None,
) -> None:
    """Deliver every change due to every enabled endpoint; exit 1 when an attempt failed
    (it is retried later, after its backoff)."""
    with reporting_errors(), open_rolegate(url) as rg:
        policy = rg.webhook_policy
        if allow_private:
            policy = replace(policy, allow_private=True)
        with rg.webhook_sender(policy=policy) as sender:
            result = deliver_until_idle(sender)
    out.print(f"delivered {count_of(result.delivered, 'change')}, {count_of(result.failed, 'failed attempt')}")
    if result.failed:
        raise typer.Exit(EXIT_NO)
