"""A real SMTP server on loopback (aiosmtpd, a free port per test) that keeps what it
receives; optionally with AUTH, STARTTLS or implicit TLS (a throwaway self-signed
certificate made by the `openssl` command)."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

USER, PASSWORD = "rolegate", "smtp-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Inbox:
    """What the server received, parsed; `wait_for` blocks until a message to the
    address arrives (or fails after `timeout` seconds)."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # aiosmtpd's hook name
        raw = envelope.original_content or envelope.content or b""
        assert isinstance(raw, bytes)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        with self.arrived:
            self.messages.append(msg)
            self.envelopes.append((str(envelope.mail_from), [str(r) for r in envelope.rcpt_tos]))
            self.arrived.notify_all()
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if str(m["To"]).lower() == address.lower()]

    def wait_for(self, address: str, count: int = 1, timeout: float = 20) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.to(address)) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no email to {address} within {timeout} s; received: {[m['To'] for m in self.messages]}")
                self.arrived.wait(left)
            return self.to(address)


def text_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def html_of(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def link_in(msg: EmailMessage, path: str) -> str:
    """The token of the first link to `path` (`/invitations/` or `/password-reset/`)."""
    match = re.search(re.escape(path) + r"([A-Za-z0-9_\-]+)", text_of(msg))
    assert match, text_of(msg)
    return match.group(1)


def _authenticator(server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (USER.encode(), PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


@dataclass
class SmtpServer:
    inbox: Inbox
    port: int
    url: str
    controller: Controller


def _certificate(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("the TLS tests make a certificate with the `openssl` command, which is missing")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class Servers:
    """Starts SMTP servers for one test and stops them after it."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.running: list[Controller] = []

    def start(self, *, auth: bool = False, tls: str | None = None) -> SmtpServer:
        """`tls`: None (plain), "starttls" or "implicit"."""
        inbox = Inbox()
        port = free_port()
        kwargs: dict[str, Any] = {}
        scheme = "smtp"
        query = ""
        if tls is not None:
            cert, key = _certificate(self.tmp_path)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            query = f"?cafile={cert}"
            if tls == "starttls":
                kwargs.update(tls_context=context, require_starttls=True)
                scheme = "smtp+starttls"
            else:
                kwargs.update(ssl_context=context)
                scheme = "smtps"
        if auth:
            # aiosmtpd counts only STARTTLS as TLS for AUTH; with implicit TLS the whole connection is.
            kwargs.update(authenticator=_authenticator, auth_require_tls=tls == "starttls")
        controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        self.running.append(controller)
        userinfo = f"{USER}:{PASSWORD}@" if auth else ""
        return SmtpServer(inbox, port, f"{scheme}://{userinfo}127.0.0.1:{port}{query}", controller)

    def stop_all(self) -> None:
        for controller in self.running:
            controller.stop()


@pytest.fixture
def smtp_servers(tmp_path: Path) -> Iterator[Servers]:
    servers = Servers(tmp_path)
    yield servers
    servers.stop_all()


@pytest.fixture
def smtp(smtp_servers: Servers) -> SmtpServer:
    return smtp_servers.start()
