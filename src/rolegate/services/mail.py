"""Emails: what they say (Jinja2 templates, plain text and HTML) and how they leave
(SMTP, from `ROLEGATE_SMTP_URL`).

The templates sit with the admin UI's, in `web/templates/email/`: one folder for
everything a person reads. This module reads them as files and imports nothing from
`web`, so the layers still point inward.

SMTP URLs::

    smtp://[user:password@]host[:port]            plain (port 25), AUTH if a user is given
    smtp+starttls://[user:password@]host[:port]   STARTTLS (port 587)
    smtps://[user:password@]host[:port]           TLS from the first byte (port 465)

Query options: `timeout=<seconds>` (default 10), `cafile=<path>` (trust a private CA,
e.g. a test server's certificate).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from rolegate.config import Settings
from rolegate.domain.errors import RolegateError

__all__ = ["EMAIL_TEMPLATES", "MailPolicy", "RenderedEmail", "SmtpTransport", "render_email"]

EMAIL_TEMPLATES = Path(__file__).resolve().parents[1] / "web" / "templates" / "email"

SUBJECTS = {
    "invitation": "You are invited to {workspace} on Rolegate",
    "password_reset": "Reset your Rolegate password",
    "set_password": "Choose your Rolegate password",
    "email_change": "Confirm your new Rolegate email address",
    "email_changed": "Your Rolegate email address was changed",
    "email_in_use": "This address already has a Rolegate login",
    "webhook_disabled": "A Rolegate webhook endpoint was disabled after failing since {failing_since}",
}


@dataclass(frozen=True, slots=True)
class MailPolicy:
    """What the team services need to write links and expiries into emails."""

    public_url: str = "http://127.0.0.1:8000"
    invitation_ttl: timedelta = timedelta(days=7)
    reset_ttl: timedelta = timedelta(minutes=30)
    email_change_ttl: timedelta = timedelta(hours=24)

    @classmethod
    def from_settings(cls, settings: Settings) -> MailPolicy:
        return cls(
            public_url=settings.public_url.rstrip("/"),
            invitation_ttl=timedelta(hours=settings.invitation_ttl_hours),
            reset_ttl=timedelta(minutes=settings.reset_ttl_minutes),
        )

    def link(self, path: str) -> str:
        return f"{self.public_url}{path}"


@dataclass(frozen=True, slots=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


_env: Environment | None = None


def _environment() -> Environment:
    global _env
    if _env is None:
        _env = Environment(
            loader=FileSystemLoader(EMAIL_TEMPLATES),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
    return _env


def render_email(kind: str, context: dict[str, Any]) -> RenderedEmail:
    env = _environment()
    subject = SUBJECTS[kind].format(**context)
    return RenderedEmail(
        subject=subject,
        text=env.get_template(f"{kind}.txt").render(context),
        html=env.get_template(f"{kind}.html").render({**context, "subject": subject}),
    )


class SmtpTransport:
    """Sends one message over a new SMTP connection (the outbox sends rarely; a pooled
    connection would only go stale between invitations)."""

    def __init__(self, url: str, mail_from: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtp+starttls", "smtps") or not parts.hostname:
            raise RolegateError(
                f"ROLEGATE_SMTP_URL {parts.scheme}://{parts.hostname or ''} is not an SMTP URL",
                fix="Use smtp://host:25, smtp+starttls://user:password@host:587 or smtps://user:password@host:465.",
            )
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or {"smtp": 25, "smtp+starttls": 587, "smtps": 465}[parts.scheme]
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        query = parse_qs(parts.query)
        self.timeout = float(query.get("timeout", ["10"])[0])
        cafile = query.get("cafile", [None])[0]
        self.mail_from = mail_from
        self._tls = ssl.create_default_context(cafile=cafile)

    def message(self, to: str, email: RenderedEmail) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.mail_from
        msg["To"] = to
        msg["Subject"] = email.subject
        msg["Message-ID"] = make_msgid(domain="rolegate")
        msg.set_content(email.text)
        msg.add_alternative(email.html, subtype="html")
        return msg

    def send(self, to: str, email: RenderedEmail) -> None:
        msg = self.message(to, email)
        client: smtplib.SMTP
        if self.scheme == "smtps":
            client = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._tls)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with client:
            client.ehlo()
            if self.scheme == "smtp+starttls":
                client.starttls(context=self._tls)
                client.ehlo()
            if self.username is not None:
                client.login(self.username, self.password or "")
            client.send_message(msg)
