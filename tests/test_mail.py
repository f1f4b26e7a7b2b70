"""Outgoing mail over real SMTP: sent only after commit, never breaking the change it reports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.notify.capture import captured, start_capture
from termgate.notify.mail import Mail, send_mail
from termgate.notify.outbox import queue_mail, transaction
from termgate.settings import Settings, load_settings
from tests.conftest import free_port


@pytest.fixture
async def settings(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Settings]:
    """Settings whose SMTP server is a capture server on a free port, running for the test."""
    settings = load_settings(smtp_port=free_port())
    server = await start_capture(sessions, settings.smtp_host, settings.smtp_port)
    yield settings
    server.close()
    await server.wait_closed()


async def test_clause_4_2_notice_mail_goes_out_after_commit_and_not_after_rollback(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with transaction(sessions, settings) as session:
        queue_mail(session, Mail("ann@example.nl", "Kept", "committed"))

    async def failing_change() -> None:
        async with transaction(sessions, settings) as session:
            queue_mail(session, Mail("ann@example.nl", "Dropped", "rolled back"))
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        await failing_change()
    async with sessions() as session:
        subjects = [mail.subject for mail in await captured(session, "ann@example.nl")]
    assert subjects == ["Kept"]


async def test_subject_with_line_breaks_is_sent_on_one_line(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    mail = Mail("ann@example.nl", "Production access for Evil\nBcc: x@example.nl approved", "b")
    assert await send_mail(settings, [mail]) == 1
    async with sessions() as session:
        [received] = await captured(session, "ann@example.nl")
    assert received.subject == "Production access for Evil Bcc: x@example.nl approved"
    assert "x@example.nl" not in received.recipients


async def test_unreachable_mail_server_is_logged_not_raised() -> None:
    settings = load_settings(smtp_port=free_port())
    assert await send_mail(settings, [Mail("ann@example.nl", "Hello", "body")]) == 0


async def test_smtp_password_from_its_file_reaches_the_mail_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TERMGATE_SMTP_PASSWORD_FILE: the relay is given the file's content, less its newline."""
    logins: list[tuple[bytes, bytes]] = []

    def authenticate(
        _server: SMTP, _session: Session, _envelope: Envelope, _mechanism: str, data: object
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"relay password")

    class Discard:
        async def handle_DATA(self, _server: SMTP, _session: Session, _env: Envelope) -> str:  # noqa: N802
            return "250 OK"

    password_file = tmp_path / "smtp-password"
    password_file.write_text("relay password\n")
    monkeypatch.setenv("TERMGATE_SMTP_PASSWORD_FILE", str(password_file))
    settings = load_settings(smtp_port=free_port(), smtp_username="termgate")
    relay = Controller(
        Discard(),
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        authenticator=authenticate,
        auth_require_tls=False,
    )
    relay.start()
    try:
        assert await send_mail(settings, [Mail("ann@example.nl", "Hello", "body")]) == 1
    finally:
        relay.stop()
    assert logins == [(b"termgate", b"relay password")]
