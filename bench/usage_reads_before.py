"""The quota seed and the announcements' reads as the code made them before the daily summary
(migration 0020): the whole hours of their range from the hourly summary, the cut hours from the
events; `bench/usage_queries.py` times them beside the code's own (`summaries: …`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Executable, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.models import UsageEvent
from termgate.db.usage_hourly import NO_CODE, UsageHourly, whole_hours
from termgate.gateway.traffic.quota_seed import ADMITTED_CODES


async def hourly_seed(
    session: AsyncSession, key_ids: list[str], start: datetime, end: datetime
) -> dict[str, int]:
    hours, edges = whole_hours(start, end)
    queries: list[Executable] = [
        select(UsageEvent.key_id, func.count())
        .where(
            UsageEvent.at >= first,
            UsageEvent.at < last,
            UsageEvent.key_id.in_(key_ids),
            or_(UsageEvent.code.is_(None), UsageEvent.code.in_(ADMITTED_CODES)),
        )
        .group_by(UsageEvent.key_id)
        for first, last in edges
    ]
    if hours is not None:
        queries.append(
            select(UsageHourly.key_id, func.sum(UsageHourly.requests))
            .where(
                UsageHourly.key_id.in_(key_ids),
                UsageHourly.hour >= hours[0],
                UsageHourly.hour < hours[1],
                UsageHourly.code.in_((NO_CODE, *ADMITTED_CODES)),
            )
            .group_by(UsageHourly.key_id)
        )
    counts: dict[str, int] = {}
    for query in queries:
        for found, used in (await session.execute(query)).all():
            counts[found] = counts.get(found, 0) + int(used)
    return counts


async def hourly_callers(
    session: AsyncSession, calls: list[tuple[str, str]], now: datetime
) -> set[tuple[str, str, str]]:
    hours, edges = whole_hours(now - timedelta(days=90), now + timedelta(microseconds=1))
    queries: list[Executable] = [
        select(UsageEvent.application_id, UsageEvent.method, UsageEvent.operation)
        .where(
            UsageEvent.at >= first,
            UsageEvent.at < last,
            UsageEvent.application_id.is_not(None),
            or_(*(and_(UsageEvent.method == m, UsageEvent.operation == t) for m, t in calls)),
        )
        .distinct()
        for first, last in edges
    ]
    if hours is not None:
        queries += [
            select(UsageHourly.application_id, UsageHourly.method, UsageHourly.operation)
            .where(
                UsageHourly.operation == template,
                UsageHourly.method == method,
                UsageHourly.hour >= hours[0],
                UsageHourly.hour < hours[1],
                UsageHourly.application_id != "",
            )
            .distinct()
            for method, template in calls
        ]
    found: set[tuple[str, str, str]] = set()
    for query in queries:
        found.update((row[0], row[1], row[2]) for row in (await session.execute(query)).all())
    return found
