"""`termgate mail deliver|list|retry`: the mail outbox (`termgate.notify.outbox`)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.cli.common import cli_actor, console, in_session, settings_or_exit, with_database
from termgate.db.programme import MailState, OutboxMail
from termgate.notify.outbox import Delivery, deliver_due, deliver_forever, outbox, retry_now
from termgate.settings import Settings

mail = typer.Typer(help="The mail outbox: delivery, pending and failed mail.", no_args_is_help=True)
Sessions = async_sessionmaker[AsyncSession]


class Shown(StrEnum):
    open = "open"  # pending and failed
    pending = "pending"
    failed = "failed"
    sent = "sent"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _delivered(done: Delivery) -> str:
    return f"sent {done.sent}; {done.retrying} to retry later; {done.failed} failed for good"


@mail.command("deliver")
def mail_deliver(
    once: Annotated[
        bool, typer.Option("--once", help="deliver what is due now and stop, instead of polling")
    ] = False,
) -> None:
    """Send the outbox's due mail, retrying failures with backoff (`serve` does this itself)."""

    async def work(sessions: Sessions, settings: Settings) -> Delivery | None:
        if once:
            return await deliver_due(sessions, settings)
        await deliver_forever(sessions, settings)
        return None

    try:
        done = with_database(work)
    except KeyboardInterrupt:
        console.print("mail delivery stopped")
        return
    if done is not None:
        console.print(_delivered(done))


def _row(message: OutboxMail) -> dict[str, Any]:
    return {
        "id": message.id,
        "state": message.state.value,
        "recipient": message.recipient,
        "subject": message.subject,
        "kind": message.kind,
        "reference": message.reference,
        "created_at": message.created_at.isoformat(),
        "attempts": message.attempts,
        "next_attempt_at": (
            message.next_attempt_at.isoformat() if message.state is MailState.PENDING else None
        ),
        "last_error": message.last_error,
        "sent_at": message.sent_at.isoformat() if message.sent_at else None,
    }


@mail.command("list")
def mail_list(
    state: Annotated[
        Shown, typer.Option(help="which mail: open (pending and failed), pending, failed, sent")
    ] = Shown.open,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON array on stdout")] = False,
) -> None:
    """Mail in the outbox, newest first (the message bodies are not shown)."""
    states = (
        (MailState.PENDING, MailState.FAILED) if state is Shown.open else (MailState(state.value),)
    )

    async def work(session: AsyncSession) -> list[OutboxMail]:
        return await outbox(session, states)

    messages = in_session(work)
    if as_json:
        sys.stdout.write(json.dumps([_row(message) for message in messages], indent=2) + "\n")
        return
    table = Table(
        "id", "state", "recipient", "subject", "attempts", "next attempt (UTC)", "last error"
    )
    for message in messages:
        pending = message.state is MailState.PENDING
        cells = (
            message.id,
            message.state.value,
            message.recipient,
            message.subject,
            str(message.attempts),
            _when(message.next_attempt_at) if pending else "",
            message.last_error or "",
        )
        table.add_row(*(escape(cell) for cell in cells))
    console.print(table if messages else f"no {state.value} mail")


@mail.command("retry")
def mail_retry(
    mail_id: Annotated[str, typer.Argument(help="the message's id (`termgate mail list`)")],
) -> None:
    """Queue a failed message again now (audited) and try it once."""
    now = settings_or_exit().now()

    async def work(session: AsyncSession) -> str:
        return (await retry_now(session, mail_id, cli_actor(), now)).id

    queued = in_session(work)  # committed, then tried once

    async def outcome(sessions: Sessions, _settings: Settings) -> OutboxMail:
        async with sessions() as session:
            return await session.get_one(OutboxMail, queued)

    message = with_database(outcome)
    error = escape(message.last_error or "")
    if message.state is MailState.SENT:
        console.print(f"mail {queued} queued again and sent")
    elif message.state is MailState.FAILED:
        console.print(f"mail {queued} queued again; the attempt failed: {error}")
    else:
        console.print(
            f"mail {queued} queued again; not sent yet ({error}), "
            f"next attempt at {_when(message.next_attempt_at)} UTC"
        )
