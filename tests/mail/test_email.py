"""Email over real SMTP (aiosmtpd on loopback): the invitation and the password reset
arrive as plain text and HTML, sent after the commit by the outbox worker; the token in
each works once, and not after its expiry (the clock is injected, never slept on).
Mail queued while no SMTP server is configured survives a restart and is sent by the
next process (nothing lost); a failing server is retried with backoff; AUTH, STARTTLS
and implicit TLS work."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from rolegate.bootstrap import Rolegate, bootstrap
from rolegate.config import Settings
from rolegate.domain.errors import TokenInvalidError
from rolegate.domain.roles import MemberStatus
from rolegate.services import invitations, password_reset
from rolegate.services.logins import authenticate_user
from rolegate.services.mail import SmtpTransport
from rolegate.services.outbox import RETRY_BASE, OutboxSender
from rolegate.store.repositories import utcnow
from tests import pg
from tests.integration.support import email, open_workspace
from tests.mail.conftest import PASSWORD, USER, Servers, SmtpServer, free_port, html_of, link_in, text_of

FROM = "Rolegate <team@rolegate.test>"


@contextmanager
def database(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'mail.db'}"
    else:
        with pg.postgres_url(migrate=True) as url:
            yield url


def all_sent(rg: Rolegate, timeout: float = 20) -> bool:
    """The worker marks a message sent just after the server took it: wait for that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with rg.uow() as uow:
            if uow.outbox.unsent_count() == 0:
                return True
        time.sleep(0.05)
    return False


def start(url: str, smtp_url: str | None) -> Rolegate:
    rg = bootstrap(Settings(database_url=url, listen=False, smtp_url=smtp_url, mail_from=FROM, public_url="http://rolegate.test"))
    rg.create_tables()  # no-op on a migrated database
    return rg


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_T4_C8_invitation_and_reset_emails_arrive_and_their_links_work_once(backend: str, smtp: SmtpServer, tmp_path: Path) -> None:
    with database(backend, tmp_path) as url:
        rg = start(url, smtp.url)
        try:
            ws = open_workspace(rg, "customersuccessbox")
            address = email("ines")
            invitations.invite(rg.uow(), actor=ws.owner, workspace_id=ws.id, email=address, role_id="csm", name="Ines", policy=rg.mail_policy)

            [invitation] = smtp.inbox.wait_for(address)
            assert invitation["Subject"] == "You are invited to customersuccessbox test on Rolegate"
            assert invitation["From"] == FROM
            assert "Customer Success Manager" in text_of(invitation)
            assert "<strong>Customer Success Manager</strong>" in html_of(invitation)
            token = link_in(invitation, "http://rolegate.test/invitations/")
            invitations.accept_invitation(rg.uow(), token=token, password="ines chooses this")
            with pytest.raises(TokenInvalidError):
                invitations.accept_invitation(rg.uow(), token=token, password="ines chooses this")
            assert authenticate_user(rg.uow(), email=address, password="ines chooses this") is not None

            password_reset.request_password_reset(rg.uow(), email=address, policy=rg.mail_policy)
            reset = smtp.inbox.wait_for(address, count=2)[1]
            assert reset["Subject"] == "Reset your Rolegate password"
            token = link_in(reset, "http://rolegate.test/password-reset/")
            too_late = utcnow() + rg.mail_policy.reset_ttl + timedelta(seconds=1)
            with pytest.raises(TokenInvalidError, match="expired"):
                password_reset.reset_password(rg.uow(), token=token, password="after the expiry", now=too_late)
            password_reset.reset_password(rg.uow(), token=token, password="ines resets this")
            with pytest.raises(TokenInvalidError, match="already used"):
                password_reset.reset_password(rg.uow(), token=token, password="ines resets again")
            assert authenticate_user(rg.uow(), email=address, password="ines resets this") is not None
            assert all_sent(rg)
        finally:
            rg.close()


def test_T4_an_expired_invitation_link_from_the_email_is_refused(smtp: SmtpServer, tmp_path: Path) -> None:
    rg = start(f"sqlite:///{tmp_path / 'mail.db'}", smtp.url)
    try:
        ws = open_workspace(rg, "telephony")
        address = email("late")
        sent_at = utcnow()
        invitations.invite(rg.uow(), actor=ws.owner, workspace_id=ws.id, email=address, role_id="analyst", policy=rg.mail_policy, now=sent_at)
        token = link_in(smtp.inbox.wait_for(address)[0], "/invitations/")
        with pytest.raises(TokenInvalidError, match="expired"):
            invitations.accept_invitation(rg.uow(), token=token, password="too late by a second", now=sent_at + timedelta(days=7, seconds=1))
        invitations.accept_invitation(rg.uow(), token=token, password="just in time", now=sent_at + timedelta(days=6, hours=23))
    finally:
        rg.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_mail_queued_without_smtp_survives_a_restart_and_is_sent_by_the_next_process(backend: str, smtp: SmtpServer, tmp_path: Path) -> None:
    with database(backend, tmp_path) as url:
        offline = start(url, None)
        try:
            ws = open_workspace(offline, "natero")
            addresses = [email(f"queued{i}") for i in range(3)]
            for address in addresses:
                invitations.invite(offline.uow(), actor=ws.owner, workspace_id=ws.id, email=address, role_id="guest", policy=offline.mail_policy)
            with offline.uow() as uow:
                assert uow.outbox.unsent_count() == 3
        finally:
            offline.close()
        assert smtp.inbox.messages == []

        online = start(url, smtp.url)
        try:
            for address in addresses:
                [msg] = smtp.inbox.wait_for(address)
                token = link_in(msg, "/invitations/")
                accepted = invitations.accept_invitation(online.uow(), token=token, password="long enough, really")
                assert accepted.email == address.lower()
            assert all_sent(online)
            with online.uow() as uow:
                assert all(m.sent_at is not None and m.attempts == 1 for m in uow.outbox.all())
            assert sorted(str(m["To"]) for m in smtp.inbox.messages) == sorted(a.lower() for a in addresses)
        finally:
            online.close()


def test_a_failing_server_is_retried_with_backoff_and_nothing_is_lost(smtp_servers: Servers, tmp_path: Path) -> None:
    rg = start(f"sqlite:///{tmp_path / 'mail.db'}", None)
    try:
        ws = open_workspace(rg, "telephony")
        address = email("retry")
        invitations.invite(rg.uow(), actor=ws.owner, workspace_id=ws.id, email=address, role_id="analyst", policy=rg.mail_policy)
        now = [utcnow()]
        down = SmtpTransport(f"smtp://127.0.0.1:{free_port()}?timeout=2", FROM)  # nothing listens there
        assert OutboxSender(rg.uow, down, clock=lambda: now[0]).deliver_due() == 0
        with rg.uow() as uow:
            [row] = uow.outbox.all()
        assert (row.attempts, row.sent_at) == (1, None)
        assert row.last_error
        assert row.next_attempt_at == now[0] + RETRY_BASE

        server = smtp_servers.start()
        up = OutboxSender(rg.uow, SmtpTransport(server.url, FROM), clock=lambda: now[0])
        assert up.deliver_due() == 0  # not due yet: the backoff holds
        now[0] += RETRY_BASE
        assert OutboxSender(rg.uow, down, clock=lambda: now[0]).deliver_due() == 0
        with rg.uow() as uow:
            [row] = uow.outbox.all()
        assert row.attempts == 2
        assert row.next_attempt_at == now[0] + 2 * RETRY_BASE  # doubled
        now[0] += 2 * RETRY_BASE
        assert up.deliver_due() == 1
        assert len(server.inbox.wait_for(address)) == 1
        assert up.deliver_due() == 0  # sent once
    finally:
        rg.close()


@pytest.mark.parametrize("tls", [None, "starttls", "implicit"])
def test_smtp_auth_over_plain_starttls_and_implicit_tls(smtp_servers: Servers, tmp_path: Path, tls: str | None) -> None:
    server = smtp_servers.start(auth=True, tls=tls)
    rg = start(f"sqlite:///{tmp_path / 'mail.db'}", None)
    try:
        ws = open_workspace(rg, "telephony")
        address = email("tls")
        invitations.invite(rg.uow(), actor=ws.owner, workspace_id=ws.id, email=address, role_id="analyst", policy=rg.mail_policy)
        wrong = SmtpTransport(server.url.replace(PASSWORD, "wrong-password"), FROM)
        assert OutboxSender(rg.uow, wrong).deliver_due() == 0
        with rg.uow() as uow:
            [row] = uow.outbox.all()
        assert "Authentication" in (row.last_error or ""), row.last_error
        later = utcnow() + timedelta(minutes=1)
        assert OutboxSender(rg.uow, SmtpTransport(server.url, FROM), clock=lambda: later).deliver_due() == 1
        [msg] = server.inbox.wait_for(address)
        assert server.inbox.envelopes[0] == ("team@rolegate.test", [address.lower()])
        assert USER in server.url
        assert "/invitations/" in text_of(msg)
    finally:
        rg.close()


def test_members_invited_offline_stay_invited_until_they_accept(tmp_path: Path) -> None:
    rg = start(f"sqlite:///{tmp_path / 'mail.db'}", None)
    try:
        ws = open_workspace(rg, "telephony")
        sent = invitations.invite(rg.uow(), actor=ws.owner, workspace_id=ws.id, email=email("offline"), role_id="analyst", policy=rg.mail_policy)
        assert ws.status(sent.member.member.id) is MemberStatus.INVITED
        with rg.uow() as uow:
            [row] = uow.outbox.all()
        assert row.sent_at is None
        assert sent.token in row.text_body  # the developer page shows this link
    finally:
        rg.close()
