"""`termgate serve` runs the mail worker: mail queued by any process is delivered by a node."""

from __future__ import annotations

import asyncio

from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.programme import MailState, OutboxMail
from termgate.notify.mail import Mail
from termgate.notify.outbox import queue_mail
from tests.conftest import free_port
from tests.gateway.conftest import gateway_process
from tests.support.relay import RefuseFirst


async def test_serve_delivers_queued_mail_and_retries_a_refusal(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    relay = RefuseFirst(refusals=1)
    port = free_port()
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    nowhere = f"http://127.0.0.1:{free_port()}"
    settings = {"smtp_port": str(port), "mail_poll_seconds": "0.1", "mail_retry_seconds": "0.5"}
    try:
        async with gateway_process(database_url, nowhere, **settings):
            async with sessions.begin() as session:  # as a CLI command on another host would
                row = queue_mail(session, Mail("ann@example.nl", "From the outbox", "body"))
            for _ in range(100):
                if relay.subjects:
                    break
                await asyncio.sleep(0.1)
    finally:
        controller.stop()
    assert relay.subjects == ["From the outbox"]  # refused once with 451, then delivered
    async with sessions() as session:
        sent = await session.get_one(OutboxMail, row.id)
    assert (sent.state, sent.attempts) == (MailState.SENT, 2)
