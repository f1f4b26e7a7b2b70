"""Outgoing e-mail over SMTP: one message to the configured relay, or the reason it was refused.

Mail is not sent from here during a change: `termgate.notify.outbox` writes it to the outbox in
the change's transaction and delivers it, with retries, once that is committed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from termgate.settings import Settings

log = logging.getLogger(__name__)
SMTP_TIMEOUT = 10.0
# What a delivery can fail with: the relay's refusal, no connection, a malformed address.
SMTP_ERRORS = (aiosmtplib.SMTPException, OSError, ValueError)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    # What caused it (the notice's kind, the record it is about), kept in the outbox.
    kind: str = "notice"
    reference: str = ""


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


async def send_one(settings: Settings, mail: Mail) -> None:
    """Hand one message to the relay; raises one of `SMTP_ERRORS` when it is not accepted."""
    await aiosmtplib.send(
        _message(settings, mail),
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=(settings.smtp_password.get_secret_value() if settings.smtp_password else None),
        start_tls=settings.smtp_starttls,
        timeout=SMTP_TIMEOUT,
    )


async def send_mail(settings: Settings, mails: list[Mail]) -> int:
    """Send each now, outside the outbox (a test message, say); returns how many were accepted."""
    sent = 0
    for mail in mails:
        try:
            await send_one(settings, mail)
            sent += 1
        except SMTP_ERRORS as error:
            log.warning("mail to %s not sent (%s): %s", mail.to, mail.subject, error)
    return sent
