"""A local SMTP server that keeps every message it receives, for the demo and the tests.

It speaks real SMTP (aiosmtpd), so termgate's mail goes through the same client code as it does
to a production relay; the messages land in `captured_mail`, which the console shows.
`python -m termgate.notify.capture` runs it alone.
"""

from __future__ import annotations

import asyncio
import email
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.programme import CapturedMail


def _plain_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return str(part.get_content()) if part is not None else ""


class CaptureHandler:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def handle_DATA(self, _server: SMTP, _session: Any, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.content if isinstance(envelope.content, bytes) else b""
        message = email.message_from_bytes(raw, policy=default_policy)
        assert isinstance(message, EmailMessage)
        async with self.sessions.begin() as session:
            session.add(
                CapturedMail(
                    sender=str(envelope.mail_from or ""),
                    recipients=", ".join(envelope.rcpt_tos),
                    subject=str(message.get("subject", "")),
                    body=_plain_text(message),
                )
            )
        return "250 Message accepted for delivery"


async def start_capture(
    sessions: async_sessionmaker[AsyncSession], host: str, port: int
) -> asyncio.Server:
    loop = asyncio.get_running_loop()
    handler = CaptureHandler(sessions)
    return await loop.create_server(lambda: SMTP(handler, hostname="termgate-capture"), host, port)


async def captured(
    session: AsyncSession, recipient: str | None = None, limit: int = 100
) -> list[CapturedMail]:
    query = select(CapturedMail).order_by(CapturedMail.at.desc()).limit(limit)
    if recipient is not None:
        query = query.where(CapturedMail.recipients.contains(recipient))
    return list(await session.scalars(query))


async def serve_forever(database_url: str, host: str, port: int) -> None:
    from termgate.db.engine import create_engine, session_factory

    engine = create_engine(database_url)
    server = await start_capture(session_factory(engine), host, port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    from termgate.settings import get_settings

    settings = get_settings()
    asyncio.run(serve_forever(settings.database_url, settings.smtp_host, settings.smtp_port))
