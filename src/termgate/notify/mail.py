"""Outgoing e-mail: queued on the session during a change, sent over SMTP once it is committed.

Mail never goes out for a change that was rolled back, and an unreachable mail server never
undoes a change: the inbox message is the record, the e-mail a courtesy copy (logged on failure).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.settings import Settings

log = logging.getLogger(__name__)
OUTBOX = "termgate.outbox"


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def queue_mail(session: AsyncSession, mail: Mail) -> None:
    session.info.setdefault(OUTBOX, []).append(mail)


def one_line(text: str) -> str:
    """A header value: names people typed may hold line breaks, which headers must not."""
    return " ".join(text.split())


def _message(settings: Settings, mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.to
    message["Subject"] = one_line(mail.subject)
    message.set_content(mail.body)
    return message


async def send_mail(settings: Settings, mails: list[Mail]) -> int:
    """Send each; returns how many the server accepted."""
    sent = 0
    for mail in mails:
        try:
            await aiosmtplib.send(
                _message(settings, mail),
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=(
                    settings.smtp_password.get_secret_value() if settings.smtp_password else None
                ),
                start_tls=settings.smtp_starttls,
                timeout=10,
            )
            sent += 1
        except (aiosmtplib.SMTPException, OSError, ValueError) as error:
            log.warning("mail to %s not sent (%s): %s", mail.to, mail.subject, error)
    return sent


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> AsyncIterator[AsyncSession]:
    """One unit of work: committed if the block returns, then its queued mail is sent."""
    async with sessions.begin() as session:
        yield session
        mails: list[Mail] = session.info.pop(OUTBOX, [])
    await send_mail(settings, mails)
