"""`rolegate outbox`: the emails waiting in the outbox (all of them with --all). Without
ROLEGATE_SMTP_URL nothing is sent, so this is how an operator reads, say, a password
reset link asked for from the login page of a server that runs offline (`make run`)."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from rolegate.cli.common import UrlOption, open_rolegate, out, reporting_errors
from rolegate.domain.words import count_of
from rolegate.services.outbox import operator_mails

LINK = re.compile(r"https?://\S+")


def outbox(
    all_: Annotated[bool, typer.Option("--all", help="Sent emails too, newest first.")] = False,
    to: Annotated[str | None, typer.Option("--to", help="Only emails to this address.", show_default=False)] = None,
    links: Annotated[
        bool, typer.Option("--links", help="Only the links of the emails, one a line, newest first (for scripts).")
    ] = False,
    url: UrlOption = None,
) -> None:
    """List the emails in the outbox (unsent ones by default), with their text."""
    with reporting_errors(), open_rolegate(url) as rg:
        shown = operator_mails(rg.reader(), unsent_only=not all_, to=to)
    if links:
        # print(), not the console: a link is never wrapped or styled.
        for m in shown:
            for link in LINK.findall(m.text_body):
                print(link)
        return
    if not shown:
        out.print("the outbox is empty" if all_ else "no unsent email")
        return
    for m in shown:
        state = f"sent {m.sent_at:%Y-%m-%d %H:%M}" if m.sent_at else f"unsent, {count_of(m.attempts, 'attempt')}"
        out.print(
            f"--- {m.created_at:%Y-%m-%d %H:%M:%S} to {m.to_addr}: {m.subject} ({state})", markup=False, highlight=False
        )
        out.print(m.text_body, markup=False, highlight=False)
