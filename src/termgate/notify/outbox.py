"""The mail outbox: e-mail is a row written in the transaction of the change it reports, and a
worker delivers it with retries.

A rolled-back change leaves no row, so it sends nothing; a committed one keeps its row until the
relay accepts it, whatever happens to the process. Right after the commit the unit of work tries
its own messages once (`transaction`); what is still pending then is the worker's
(`deliver_forever` inside `serve`, or `termgate mail deliver`): it retries after
`mail_retry_seconds`, doubling up to `mail_retry_max_seconds`, and marks a message failed after
`mail_max_attempts`; an operator can retry a failed one (console Mail page, `termgate mail retry`).

A message is claimed before it is sent: one UPDATE moves its next attempt a lease ahead and
counts the attempt, and only the rows that UPDATE changed are sent (PostgreSQL picks them with
FOR UPDATE SKIP LOCKED), so two workers never send one message twice. A process that dies
between the relay's acceptance and recording it sends that message again after the lease: the
outbox delivers at least once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosmtplib
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.audit import record
from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.models import new_id, utcnow
from termgate.db.programme import MailState, OutboxMail
from termgate.notify.mail import SMTP_ERRORS, Mail, one_line, send_one
from termgate.secret_settings import redact, secret_values
from termgate.settings import Settings

log = logging.getLogger(__name__)
# session.info key: the ids of the messages this unit of work queued or made due again.
DUE = "termgate.outbox.due"
BATCH = 20
# How long a claimed message is left to its worker: above a batch's worst case (BATCH sends
# that each time out), so no other worker takes it while it is still being sent.
LEASE = timedelta(minutes=10)
MAX_ERROR = 500
# Messages whose body holds a single-use link (sign-up, password reset): a credential, so the
# outbox keeps it only until the relay has it.
LINK_KINDS = "link:"


@dataclass(frozen=True)
class Claimed:
    id: str
    mail: Mail
    attempts: int


@dataclass
class Delivery:
    """What one round of delivery did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0


def queue_mail(session: AsyncSession, mail: Mail) -> OutboxMail:
    """Write the message to the outbox in the session's transaction."""
    now = utcnow()
    row = OutboxMail(
        id=new_id(),
        recipient=mail.to,
        subject=mail.subject,
        body=mail.body,
        kind=mail.kind[:32],
        reference=mail.reference[:64],
        created_at=now,
        state=MailState.PENDING,
        attempts=0,
        next_attempt_at=now,
    )
    session.add(row)
    session.info.setdefault(DUE, []).append(row.id)
    return row


def backoff(settings: Settings, attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: retry_seconds doubled each time, capped."""
    seconds = settings.mail_retry_seconds * 2 ** min(max(attempts - 1, 0), 40)
    return timedelta(seconds=min(seconds, settings.mail_retry_max_seconds))


def describe_failure(settings: Settings, error: BaseException) -> str:
    """The error as one line for `last_error`: the relay's code and words, never a secret."""
    if isinstance(error, aiosmtplib.SMTPResponseException):
        text = f"{error.code} {error.message}"
    else:
        text = f"{type(error).__name__}: {error}"
    return one_line(redact(text, secret_values(dict(settings))))[:MAX_ERROR]


async def _claim(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    ids: Sequence[str] | None,
) -> list[Claimed]:
    due = (OutboxMail.state == MailState.PENDING, OutboxMail.next_attempt_at <= now)
    candidates = select(OutboxMail.id).where(*due).order_by(OutboxMail.next_attempt_at)
    if ids is not None:
        candidates = candidates.where(OutboxMail.id.in_(ids))
    async with sessions.begin() as session:
        # A read first: an idle worker's round takes no write lock (SQLite has one for all).
        if not (await session.scalars(candidates.limit(1))).first():
            return []
        if session.get_bind().dialect.name == "postgresql":
            candidates = candidates.with_for_update(skip_locked=True)
        claim = (
            update(OutboxMail)
            .where(OutboxMail.id.in_(candidates.limit(BATCH).scalar_subquery()), *due)
            .values(next_attempt_at=now + LEASE, attempts=OutboxMail.attempts + 1)
            .returning(
                OutboxMail.id,
                OutboxMail.recipient,
                OutboxMail.subject,
                OutboxMail.body,
                OutboxMail.kind,
                OutboxMail.reference,
                OutboxMail.attempts,
            )
            .execution_options(synchronize_session=False)
        )
        rows = (await session.execute(claim)).all()
    return [
        Claimed(
            row.id,
            Mail(row.recipient, row.subject, row.body, row.kind, row.reference),
            row.attempts,
        )
        for row in rows
    ]


async def _settle(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    claimed: Claimed,
    error: BaseException | None,
) -> MailState:
    now = settings.now()
    values: dict[str, object]
    if error is None:
        values = {"state": MailState.SENT, "sent_at": now, "last_error": None}
        if claimed.mail.kind.startswith(LINK_KINDS):
            values["body"] = ""
    else:
        values = {"last_error": describe_failure(settings, error)}
        if claimed.attempts >= settings.mail_max_attempts:
            values["state"] = MailState.FAILED
        else:
            values["next_attempt_at"] = now + backoff(settings, claimed.attempts)
    async with sessions.begin() as session:
        await session.execute(
            update(OutboxMail)
            .where(OutboxMail.id == claimed.id, OutboxMail.state == MailState.PENDING)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
    state = values.get("state", MailState.PENDING)
    assert isinstance(state, MailState)
    if error is not None:
        what = "gave up" if state is MailState.FAILED else "will retry"
        log.warning(
            "mail %s to %s not sent (attempt %d of %d, %s): %s",
            claimed.id,
            claimed.mail.to,
            claimed.attempts,
            settings.mail_max_attempts,
            what,
            values["last_error"],
        )
    return state


async def deliver_due(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    ids: Sequence[str] | None = None,
) -> Delivery:
    """Send every message that is due now (or only those of `ids` that are), batch by batch."""
    done = Delivery()
    while claimed := await _claim(sessions, settings.now(), ids):
        for message in claimed:
            error: BaseException | None = None
            try:
                await send_one(settings, message.mail)
            except SMTP_ERRORS as failure:
                error = failure
            except Exception as failure:  # anything else: still a failed attempt, kept on the row
                log.exception("mail %s: unexpected failure while sending", message.id)
                error = failure
            state = await _settle(sessions, settings, message, error)
            done.sent += state is MailState.SENT
            done.retrying += error is not None and state is MailState.PENDING
            done.failed += state is MailState.FAILED
        if ids is not None:
            break
    return done


async def deliver_forever(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    """The worker: deliver what is due every `mail_poll_seconds`. A database that cannot be
    reached is logged once when it starts failing and once when it is back."""
    trouble: str | None = None
    while True:
        try:
            await deliver_due(sessions, settings)
        except (DBAPIError, OSError) as error:
            text = one_line(redact(str(error), secret_values(dict(settings))))
            if trouble is None:
                log.warning("mail delivery paused, the outbox cannot be read: %s", text[:300])
            trouble = text
        except Exception:  # a bug must not end the worker: logged once, tried again next round
            if trouble is None:
                log.exception("mail delivery failed")
            trouble = "unexpected"
        else:
            if trouble is not None:
                log.info("mail delivery resumed")
            trouble = None
        await asyncio.sleep(settings.mail_poll_seconds)


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> AsyncIterator[AsyncSession]:
    """One unit of work: committed if the block returns; then the mail it queued is tried once
    (what the relay does not take stays in the outbox for the worker)."""
    async with sessions.begin() as session:
        yield session
        due: list[str] = session.info.pop(DUE, [])
    if due:
        try:
            await deliver_due(sessions, settings, due)
        except (DBAPIError, OSError) as error:
            log.warning("queued mail left to the worker: %s", type(error).__name__)


async def outbox(
    session: AsyncSession,
    states: Sequence[MailState] = (MailState.PENDING, MailState.FAILED),
    limit: int = 500,
) -> list[OutboxMail]:
    """Messages in these states, newest first."""
    query = (
        select(OutboxMail)
        .where(OutboxMail.state.in_(states))
        .order_by(OutboxMail.created_at.desc(), OutboxMail.id)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def count_in(session: AsyncSession, state: MailState) -> int:
    query = select(func.count()).select_from(OutboxMail).where(OutboxMail.state == state)
    return int(await session.scalar(query) or 0)


async def retry_now(session: AsyncSession, mail_id: str, actor: str, now: datetime) -> OutboxMail:
    """Make a failed (or waiting) message due now, audited; it gets one more attempt."""
    row = await session.get(OutboxMail, mail_id) if len(mail_id) <= 32 else None
    if row is None:
        raise NotFoundError(f"no mail with id {mail_id[:40]!r} in the outbox")
    if row.state is MailState.SENT:
        raise RegistryError(f"mail {row.id} was already sent; there is nothing to retry")
    before = f"{row.state.value} after {row.attempts} attempt(s)"
    row.state = MailState.PENDING
    row.next_attempt_at = now
    await record(session, actor, "mail retried", "mail", row.id, before)
    session.info.setdefault(DUE, []).append(row.id)
    return row
