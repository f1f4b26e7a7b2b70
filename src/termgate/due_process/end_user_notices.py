"""What end users are told about an application they connected: a notice on their connected-apps
page and the same text by e-mail (clause 3.3 l; GDPR Art. 34 for a leak)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.due_process_records import EndUserNotice
from termgate.db.oauth import EndUser
from termgate.notify.mail import Mail
from termgate.notify.outbox import queue_mail


async def tell_end_users(
    session: AsyncSession,
    end_user_ids: Iterable[str],
    *,
    application_name: str,
    kind: str,
    subject: str,
    body: str,
    now: datetime,
) -> int:
    """One notice and one e-mail per end user; the number told."""
    ids = sorted(set(end_user_ids))
    if not ids:
        return 0
    told = 0
    for end_user in await session.scalars(select(EndUser).where(EndUser.id.in_(ids))):
        notice = EndUserNotice(
            end_user_id=end_user.id,
            application_name=application_name,
            kind=kind,
            subject=subject,
            body=body,
            at=now,
        )
        session.add(notice)
        await session.flush()
        queue_mail(session, Mail(end_user.email, subject, body, kind, notice.id))
        told += 1
    return told


async def notices_for(session: AsyncSession, end_user_id: str) -> list[EndUserNotice]:
    query = select(EndUserNotice).where(EndUserNotice.end_user_id == end_user_id)
    return list(await session.scalars(query.order_by(EndUserNotice.at.desc())))
