"""Reads as the code made them before: the quota seed's and the announcements' before the daily
summary (migration 0020), the whole hours of their range from the hourly summary and the cut
hours from the events; least privilege's before the summaries held scopes (migration 0021), its
whole 90 days from the events; probing's before it read the hourly summary, its whole day from
the events. `bench/usage_queries.py` and `bench/probing_day.py` time them beside the code's own."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Executable, Row, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.models import Subscription, SubscriptionKey, UsageEvent
from termgate.db.usage_hourly import NO_CODE, UsageHourly, whole_hours
from termgate.db.usage_stretches import count_where
from termgate.gateway.traffic.quota_seed import ADMITTED_CODES
from termgate.monitoring.aggregate import in_window
from termgate.monitoring.probing import RefusalCounts
from termgate.monitoring.window import Party, Window


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


async def events_scope_use(session: AsyncSession, start: datetime, end: datetime) -> list[Row[Any]]:
    """Least privilege's two reads of its window before 0021: per application, scope and day the
    successful requests and the last one, and the live keys with no request, from the events."""
    day = func.date(UsageEvent.at)
    window = and_(UsageEvent.at >= start, UsageEvent.at < end)
    used = (
        await session.execute(
            select(UsageEvent.application_id, UsageEvent.scope, day, func.max(UsageEvent.at),
                   func.count())
            .where(window, UsageEvent.status < 400, UsageEvent.application_id.is_not(None))
            .group_by(UsageEvent.application_id, UsageEvent.scope, day)
        )
    ).all()  # fmt: skip
    keys = select(UsageEvent.key_id).distinct().where(window, UsageEvent.key_id.is_not(None))
    idle = (
        await session.execute(
            select(Subscription.application_id, SubscriptionKey.prefix)
            .join(Subscription, SubscriptionKey.subscription_id == Subscription.id)
            .where(SubscriptionKey.created_at < start, SubscriptionKey.id.not_in(keys))
        )
    ).all()
    return [*used, *idle]


async def events_refusals(session: AsyncSession, window: Window) -> list[RefusalCounts]:
    """Probing's counts before 2026-11-30's summaries: the window's events, one grouped read."""
    refused = UsageEvent.status.in_((401, 403, 404))
    rows = await session.execute(
        select(
            UsageEvent.developer_id,
            UsageEvent.application_id,
            func.count(),
            count_where(refused),
            count_where(UsageEvent.code.in_((40303, 40305))),
            count_where(UsageEvent.code == 40302),
            count_where(UsageEvent.code.in_((40101, 40102))),
            count_where(UsageEvent.code == 40401),
        )
        .where(in_window(window), UsageEvent.application_id.is_not(None))
        .group_by(UsageEvent.developer_id, UsageEvent.application_id)
    )
    return [
        RefusalCounts(Party(developer, application), "application", *map(int, numbers))
        for developer, application, *numbers in rows.all()
    ]
