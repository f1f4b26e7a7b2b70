"""Announcing a change or a deprecation (clause 4.5 a) to the developers it affects: those whose
applications called one of the affected operations in the last 90 days (from the daily and the
hourly usage summaries, and the usage events of the two hours the window cuts), and nobody
else. Each affected application is recorded, so the console lists them and each developer sees
in the portal which of their applications are affected.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Executable, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.db.models import Application, Developer, UsageEvent
from termgate.db.traffic import Announcement, AnnouncementRecipient
from termgate.db.usage_stretches import Stretch, stretches
from termgate.governance.errors import PolicyInputError
from termgate.governance.operations import ApiOperation
from termgate.notify.inbox import notify_developer

LOOKBACK = timedelta(days=90)
MICROSECOND = timedelta(microseconds=1)
ENTITY = "announcement"


@dataclass(frozen=True)
class Affected:
    developer: Developer
    application: Application
    operations: list[str]  # operationIds it called


def _stretch_callers(stretch: Stretch, calls: list[tuple[str, str]]) -> list[Executable]:
    """(application, method, template) of the calls made in the stretch."""
    table, period, first, last = stretch
    if table is UsageEvent:
        return [
            select(UsageEvent.application_id, UsageEvent.method, UsageEvent.operation)
            .where(
                UsageEvent.at >= first,
                UsageEvent.at < last,
                UsageEvent.application_id.is_not(None),
                or_(*(and_(UsageEvent.method == m, UsageEvent.operation == t) for m, t in calls)),
            )
            .distinct()
        ]
    # On a summary one query per call: each reads its stretch of the (operation, method,
    # period) index alone (an OR of them is a bitmap scan that visits the table's pages).
    return [
        select(table.application_id, table.method, table.operation)
        .where(
            table.operation == template,
            table.method == method,
            period >= first,
            period < last,
            table.application_id != "",
        )
        .distinct()
        for method, template in calls
    ]


async def _callers(
    session: AsyncSession, calls: list[tuple[str, str]], now: datetime
) -> set[tuple[str | None, str, str | None]]:
    """(application, method, template) of the calls made in the 90 days up to `now`: whole
    days from the daily summary, the whole hours at their ends from the hourly one, the two
    cut hours from the events."""
    found: set[tuple[str | None, str, str | None]] = set()
    for stretch in stretches(now - LOOKBACK, now + MICROSECOND):  # `now` included
        for query in _stretch_callers(stretch, calls):
            found.update((row[0], row[1], row[2]) for row in (await session.execute(query)).all())
    return found


async def affected(
    session: AsyncSession, operations: list[ApiOperation], now: datetime
) -> list[Affected]:
    """Applications that called any of `operations` since `now - 90 days`, with their owners."""
    if not operations:
        return []
    by_call = {(op.method, op.template): op.operation_id for op in operations}
    called: dict[str, set[str]] = defaultdict(set)
    for application_id, method, template in await _callers(session, list(by_call), now):
        if application_id and template:
            called[application_id].add(by_call[(method, template)])
    if not called:
        return []
    rows = await session.execute(
        select(Application, Developer)
        .join(Developer, Application.developer_id == Developer.id)
        .where(Application.id.in_(list(called)))
        .order_by(Developer.email, Application.name)
    )
    return [
        Affected(developer, application, sorted(called[application.id]))
        for application, developer in rows.all()
    ]


def _text(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if not value:
        raise PolicyInputError(field, f"the {field} must not be empty")
    if len(value) > limit or "\x00" in value:
        raise PolicyInputError(field, f"the {field} is at most {limit} characters of text")
    return value


async def announce(
    session: AsyncSession,
    *,
    title: str,
    body: str,
    operations: list[ApiOperation],
    actor: str,
    now: datetime,
) -> tuple[Announcement, list[Affected]]:
    """Publish the announcement and notify (inbox and e-mail) each affected developer once."""
    title = " ".join(_text(title, "title", 300).split())
    body = _text(body, "body", 20_000)
    if not operations:
        raise PolicyInputError("operations", "name at least one operationId")
    announcement = Announcement(
        title=title,
        body=body,
        operations=" ".join(op.operation_id for op in operations),
        published_at=now,
        published_by=actor,
    )
    session.add(announcement)
    await session.flush()
    found = await affected(session, operations, now)
    labels = {op.operation_id: op.label for op in operations}
    per_developer: dict[str, list[Affected]] = defaultdict(list)
    for item in found:
        session.add(
            AnnouncementRecipient(
                announcement_id=announcement.id,
                developer_id=item.developer.id,
                application_id=item.application.id,
                operations=" ".join(item.operations),
            )
        )
        per_developer[item.developer.id].append(item)
    for items in per_developer.values():
        lines = [
            f"- {item.application.name}: "
            + ", ".join(f"{name} ({labels[name]})" for name in item.operations)
            for item in items
        ]
        text = (
            f"{body}\n\nYour applications that called the affected operations in the last 90 "
            "days:\n" + "\n".join(lines) + "\n\nSee /portal/changes (clause 4.5 a)."
        )
        notify_developer(session, items[0].developer, "change", title, text)
    await session.flush()
    await record(
        session,
        actor,
        "announcement.publish",
        ENTITY,
        announcement.id,
        f"{title}: {announcement.operations}; {len(per_developer)} developer(s) told",
    )
    return announcement, found


def deprecation_notice(
    operations: list[ApiOperation], sunset_at: datetime | None, migration_url: str | None
) -> tuple[str, str]:
    """Title and body of the announcement that goes with a deprecation (clause 4.6)."""
    names = ", ".join(op.operation_id for op in operations)
    lines = [f"These operations are deprecated: {names}."]
    lines += [f"- {op.operation_id}: {op.label}" for op in operations]
    if sunset_at is not None:
        lines.append(
            f"\nThey are withdrawn after {sunset_at:%Y-%m-%d %H:%M} UTC (the Sunset header); "
            "before then, short brown-outs may answer 410."
        )
    if migration_url:
        lines.append(f"\nHow to migrate: {migration_url}")
    lines.append("\nResponses carry the Deprecation header from now on.")
    return f"Deprecation: {names}", "\n".join(lines)


@dataclass(frozen=True)
class Published:
    announcement: Announcement
    recipients: list[tuple[Developer, Application, str]]


async def published(session: AsyncSession, limit: int = 50) -> list[Published]:
    """Recent announcements with their affected applications, newest first."""
    announcements = list(
        await session.scalars(
            select(Announcement).order_by(Announcement.published_at.desc()).limit(limit)
        )
    )
    recipients: dict[str, list[tuple[Developer, Application, str]]] = defaultdict(list)
    if announcements:
        rows = await session.execute(
            select(AnnouncementRecipient, Developer, Application)
            .join(Developer, AnnouncementRecipient.developer_id == Developer.id)
            .join(Application, AnnouncementRecipient.application_id == Application.id)
            .where(AnnouncementRecipient.announcement_id.in_([a.id for a in announcements]))
            .order_by(Developer.email, Application.name)
        )
        for recipient, developer, application in rows.all():
            recipients[recipient.announcement_id].append(
                (developer, application, recipient.operations)
            )
    return [Published(a, recipients[a.id]) for a in announcements]


async def changes_for(
    session: AsyncSession, developer_id: str
) -> list[tuple[Announcement, list[tuple[Application, str]]]]:
    """The announcements that affect the developer, with which of their applications."""
    rows = await session.execute(
        select(Announcement, AnnouncementRecipient, Application)
        .join(AnnouncementRecipient, AnnouncementRecipient.announcement_id == Announcement.id)
        .join(Application, AnnouncementRecipient.application_id == Application.id)
        .where(AnnouncementRecipient.developer_id == developer_id)
        .order_by(Announcement.published_at.desc(), Application.name)
    )
    grouped: dict[str, tuple[Announcement, list[tuple[Application, str]]]] = {}
    for announcement, recipient, application in rows.all():
        entry = grouped.setdefault(announcement.id, (announcement, []))
        entry[1].append((application, recipient.operations))
    return list(grouped.values())
