"""The developer's portal inbox; every notice is also sent by e-mail."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.models import Developer, new_id, utcnow
from termgate.db.programme import InboxMessage
from termgate.notify.mail import Mail
from termgate.notify.outbox import queue_mail


def notify_developer(
    session: AsyncSession, developer: Developer, kind: str, subject: str, body: str
) -> InboxMessage:
    message = InboxMessage(
        id=new_id(), developer_id=developer.id, kind=kind, subject=subject, body=body
    )
    session.add(message)
    queue_mail(session, Mail(developer.email, subject, body, kind, message.id))
    return message


async def inbox(session: AsyncSession, developer: Developer) -> list[InboxMessage]:
    query = (
        select(InboxMessage)
        .where(InboxMessage.developer_id == developer.id)
        .order_by(InboxMessage.at.desc())
    )
    return list(await session.scalars(query))


async def unread_count(session: AsyncSession, developer: Developer) -> int:
    query = select(func.count()).where(
        InboxMessage.developer_id == developer.id, InboxMessage.read_at.is_(None)
    )
    return int(await session.scalar(query) or 0)


async def mark_read(
    session: AsyncSession, developer: Developer, message_id: str
) -> InboxMessage | None:
    """The developer's own message, marked read; None for anyone else's or an unknown id."""
    message = await session.get(InboxMessage, message_id)
    if message is None or message.developer_id != developer.id:
        return None
    message.read_at = message.read_at or utcnow()
    return message
