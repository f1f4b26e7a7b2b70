"""The mail outbox (issue 14 item 7): notices are rows written with the change that causes them,
delivered over real SMTP with retries and backoff, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from termgate.db.engine import create_engine, session_factory
from termgate.db.models import Developer, Status
from termgate.db.programme import MailState, OutboxMail
from termgate.notify.capture import captured, start_capture
from termgate.notify.mail import Mail
from termgate.notify.outbox import (
    Delivery,
    backoff,
    deliver_due,
    describe_failure,
    queue_mail,
    transaction,
)
from termgate.registry.accounts import send_verification
from termgate.registry.developers import create_developer
from termgate.registry.status import change_status
from termgate.settings import Settings, load_settings
from tests.conftest import free_port
from tests.support.relay import RefuseFirst

Sessions = async_sessionmaker[AsyncSession]
SUBJECT = "Your developer account ann@example.nl was suspended"


@pytest.fixture
async def capture(sessions: Sessions) -> AsyncIterator[Settings]:
    """Settings whose relay is a capture server on a free port, running for the test."""
    settings = load_settings(smtp_port=free_port())
    server = await start_capture(sessions, settings.smtp_host, settings.smtp_port)
    yield settings
    server.close()
    await server.wait_closed()


async def suspend_ann(session: AsyncSession) -> Developer:
    developer = await create_developer(session, email="ann@example.nl", name="Ann", actor="ops")
    await change_status(session, "developer", developer.id, Status.SUSPENDED, "abuse", "ops")
    return developer


async def outbox_rows(sessions: Sessions) -> list[OutboxMail]:
    async with sessions() as session:
        return list(await session.scalars(select(OutboxMail).order_by(OutboxMail.created_at)))


async def test_clause_3_1_committed_change_queues_one_message_the_worker_delivers(
    sessions: Sessions, capture: Settings
) -> None:
    async with sessions.begin() as session:  # a change committed without delivery after it
        developer = await suspend_ann(session)
    [queued] = await outbox_rows(sessions)
    assert (queued.state, queued.attempts, queued.recipient) == (
        MailState.PENDING,
        0,
        "ann@example.nl",
    )
    assert (queued.kind, queued.subject) == ("suspended", SUBJECT)

    assert await deliver_due(sessions, capture) == Delivery(sent=1)
    [sent] = await outbox_rows(sessions)
    assert (sent.state, sent.attempts, sent.last_error) == (MailState.SENT, 1, None)
    assert sent.sent_at is not None
    async with sessions() as session:
        [mail] = await captured(session, developer.email)
    assert mail.subject == SUBJECT
    assert await deliver_due(sessions, capture) == Delivery()  # sent once, never again


async def test_clause_3_1_rolled_back_change_queues_nothing(
    sessions: Sessions, capture: Settings
) -> None:
    async def failing_change() -> None:
        async with transaction(sessions, capture) as session:
            await suspend_ann(session)
            raise RuntimeError("the change fails after the notice was written")

    with pytest.raises(RuntimeError):
        await failing_change()
    assert await outbox_rows(sessions) == []
    assert await deliver_due(sessions, capture) == Delivery()
    async with sessions() as session:
        assert await captured(session) == []


async def test_failed_mail_is_retried_and_shown(sessions: Sessions) -> None:
    """The relay is down when the change commits: the message waits with its error, is not
    tried before the backoff, and goes out once the clock has passed it and the relay is up."""
    settings = load_settings(smtp_port=free_port())  # nothing listens there yet
    async with transaction(sessions, settings) as session:
        await suspend_ann(session)
    [waiting] = await outbox_rows(sessions)
    assert (waiting.state, waiting.attempts) == (MailState.PENDING, 1)
    assert waiting.last_error is not None
    assert "Connect" in waiting.last_error
    wait = waiting.next_attempt_at - settings.now()
    assert timedelta(seconds=55) < wait <= timedelta(seconds=60)

    server = await start_capture(sessions, settings.smtp_host, settings.smtp_port)
    try:
        assert await deliver_due(sessions, settings) == Delivery()  # not due yet
        later = load_settings(smtp_port=settings.smtp_port, clock_offset_seconds=61)
        assert await deliver_due(sessions, later) == Delivery(sent=1)
    finally:
        server.close()
        await server.wait_closed()
    [sent] = await outbox_rows(sessions)
    assert (sent.state, sent.attempts, sent.last_error) == (MailState.SENT, 2, None)
    async with sessions() as session:
        assert [mail.subject for mail in await captured(session)] == [SUBJECT]


async def test_refused_mail_backs_off_doubling_then_fails_after_max_attempts(
    sessions: Sessions,
) -> None:
    relay = RefuseFirst(refusals=3)
    port = free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        async with sessions.begin() as session:
            queue_mail(session, Mail("ann@example.nl", "Hello", "body", "test", "r1"))
        offset = 0.0
        waits = []
        for _attempt in range(3):
            settings = load_settings(
                smtp_port=port, mail_max_attempts=3, clock_offset_seconds=offset
            )
            done = await deliver_due(sessions, settings)
            [row] = await outbox_rows(sessions)
            assert row.last_error == "451 4.3.0 Mailbox busy, try again later"
            if row.state is MailState.FAILED:
                assert done == Delivery(failed=1)
                break
            assert done == Delivery(retrying=1)
            waits.append(round((row.next_attempt_at - settings.now()).total_seconds()))
            offset += waits[-1] + 1
        assert waits == [60, 120]
        assert (row.state, row.attempts) == (MailState.FAILED, 3)
        later = load_settings(smtp_port=port, clock_offset_seconds=offset + 86_400)
        assert await deliver_due(sessions, later) == Delivery()  # failed is left to people
    finally:
        controller.stop()
    assert relay.subjects == []


def test_backoff_doubles_from_the_first_wait_and_is_capped() -> None:
    settings = load_settings(mail_retry_seconds=60, mail_retry_max_seconds=3600)
    waits = [backoff(settings, attempts).total_seconds() for attempts in range(1, 10)]
    assert waits == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]
    assert backoff(settings, 10_000).total_seconds() == 3600  # no overflow


def test_last_error_never_holds_a_secret() -> None:
    settings = load_settings(smtp_password="relay-secret-9", smtp_username="termgate")
    refusal = aiosmtplib.SMTPResponseException(535, "bad password relay-secret-9\r\nnext line")
    assert describe_failure(settings, refusal) == "535 bad password *** next line"
    assert len(describe_failure(settings, OSError("x" * 5000))) == 500


async def test_sign_up_link_is_kept_only_until_the_relay_has_it(
    sessions: Sessions, capture: Settings
) -> None:
    async with sessions.begin() as session:
        developer = await create_developer(session, email="cas@example.nl", name="Cas", actor="ops")
        await send_verification(session, capture, developer)
    [queued] = await outbox_rows(sessions)
    assert "token=" in queued.body
    assert queued.kind.startswith("link:")
    assert await deliver_due(sessions, capture) == Delivery(sent=1)
    [sent] = await outbox_rows(sessions)
    assert sent.body == ""
    async with sessions() as session:
        [mail] = await captured(session, "cas@example.nl")
    assert "token=" in mail.body


async def test_two_workers_never_send_one_message_twice(
    database_url: str, engine: AsyncEngine, sessions: Sessions
) -> None:
    """Two nodes' workers on one database (each its own engine) deliver 30 messages at once:
    each arrives exactly once (PostgreSQL: SKIP LOCKED; both: the claim's guarded UPDATE)."""
    relay = RefuseFirst(refusals=0)
    port = free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    async with sessions.begin() as session:
        for number in range(30):
            queue_mail(session, Mail("ann@example.nl", f"Message {number}", "body"))
    settings = load_settings(smtp_port=port)
    other = create_engine(database_url)
    try:
        first, second = await asyncio.gather(
            deliver_due(sessions, settings), deliver_due(session_factory(other), settings)
        )
    finally:
        await other.dispose()
        controller.stop()
    assert first.sent + second.sent == 30
    assert sorted(relay.subjects) == sorted(f"Message {number}" for number in range(30))
    async with sessions() as session:
        query = select(func.count()).where(OutboxMail.state == MailState.SENT)
        assert await session.scalar(query) == 30
