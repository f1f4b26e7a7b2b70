"""The SQL side of the detectors: usage events over a window, aggregated per party, on SQLite and
PostgreSQL alike. The detectors themselves are pure functions of these rows."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Integer, Select, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from termgate.db.models import Application, UsageEvent
from termgate.db.monitoring import SignInFailure
from termgate.db.usage_stretches import (
    Stretch,
    count_requests,
    count_requests_where,
    in_stretch,
    stretches,
)
from termgate.monitoring.probing import RefusalCounts
from termgate.monitoring.stability import ApplicationLoad, MinuteLoad
from termgate.monitoring.window import Party, Window

SAMPLES = 5
REFUSED = (401, 403, 404)


def in_window(window: Window) -> ColumnElement[bool]:
    return and_(UsageEvent.at >= window.start, UsageEvent.at < window.end)


def second_bucket(session: AsyncSession, moment: Any = UsageEvent.at) -> Any:
    """Seconds since the epoch of the event's time (or of another time column), in the dialect
    at hand."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", moment)), Integer)
    return cast(func.strftime("%s", moment), Integer)


def minute_bucket(session: AsyncSession) -> Any:
    """Minutes since the epoch of the event's time, in the dialect at hand."""
    return second_bucket(session) // 60


async def sample_request_ids(
    session: AsyncSession, window: Window, condition: ColumnElement[bool]
) -> list[str]:
    query = (
        select(UsageEvent.request_id)
        .where(in_window(window), condition)
        .order_by(UsageEvent.at.desc())
        .limit(SAMPLES)
    )
    return list(await session.scalars(query))


def _refusals(stretch: Stretch) -> Select[Any]:
    """Per developer and application: the requests, those refused (401, 403, 404) and those
    of each refusal code probing weighs."""
    table = stretch[0]
    return (
        select(
            table.developer_id,
            table.application_id,
            count_requests(table),
            count_requests_where(table, table.status.in_(REFUSED)),
            count_requests_where(table, table.code.in_((40303, 40305))),
            count_requests_where(table, table.code == 40302),
            count_requests_where(table, table.code.in_((40101, 40102))),
            count_requests_where(table, table.code == 40401),
        )
        .where(*in_stretch(stretch))
        .group_by(table.developer_id, table.application_id)
    )


async def refusal_counts(session: AsyncSession, window: Window) -> list[RefusalCounts]:
    """Probing's day, read from the hourly usage summary for its whole hours and from the
    events for the cut hours at its ends (`usage_stretches`): a pass reads a row per group and
    hour, not the day's events, which it would read every 30 seconds."""
    counted: dict[tuple[str | None, str], list[int]] = {}
    for stretch in stretches(window.start, window.end):
        for developer, application, *numbers in (await session.execute(_refusals(stretch))).all():
            totals = counted.setdefault((developer or None, str(application)), [0] * 6)
            for index, number in enumerate(numbers):
                totals[index] += int(number or 0)
    failures = await failed_sign_ins(session, window)
    rows = []
    refused = UsageEvent.status.in_(REFUSED)
    for (developer, application), counts in counted.items():
        total, bad, foreign, scope, token, outside = counts
        samples = (
            await sample_request_ids(
                session, window, and_(UsageEvent.application_id == application, refused)
            )
            if bad
            else []
        )
        rows.append(
            RefusalCounts(
                party=Party(developer, application),
                source="application",
                requests=total,
                refused=bad,
                foreign_tenant=foreign,
                refused_scope=scope,
                invalid_token=token,
                outside_api=outside,
                failed_sign_ins=failures.pop(application, 0),
                sample_request_ids=samples,
            )
        )
    for application, count in failures.items():  # applications with sign-in failures only
        developer = await session.scalar(
            select(Application.developer_id).where(Application.id == application)
        )
        if developer is not None:
            rows.append(
                RefusalCounts(Party(developer, application), "application", 0, 0, 0, 0, 0, 0, count)
            )
    return rows


async def failed_sign_ins(session: AsyncSession, window: Window) -> dict[str, int]:
    query = (
        select(SignInFailure.application_id, func.count())
        .where(
            SignInFailure.at >= window.start,
            SignInFailure.at < window.end,
            SignInFailure.application_id.is_not(None),
        )
        .group_by(SignInFailure.application_id)
    )
    return {str(app): int(count) for app, count in (await session.execute(query)).all()}


async def application_loads(session: AsyncSession, window: Window) -> list[ApplicationLoad]:
    second = second_bucket(session).label("second")
    per_second = (
        select(
            UsageEvent.developer_id.label("developer"),
            UsageEvent.application_id.label("application"),
            second,
            func.count().label("requests"),
            func.sum(UsageEvent.latency_ms).label("latency"),
            func.sum(UsageEvent.bytes_in + UsageEvent.bytes_out).label("moved"),
        )
        .where(in_window(window), UsageEvent.application_id.is_not(None))
        .group_by(UsageEvent.developer_id, UsageEvent.application_id, second)
        .subquery()
    )
    minute = (per_second.c.second // 60).label("minute")
    query = (
        select(
            per_second.c.developer,
            per_second.c.application,
            minute,
            func.sum(per_second.c.requests),
            func.sum(per_second.c.latency),
            func.sum(per_second.c.moved),
            func.max(per_second.c.requests),
        )
        .group_by(per_second.c.developer, per_second.c.application, minute)
        .order_by(per_second.c.application, minute)
    )
    minutes: dict[tuple[str | None, str], list[MinuteLoad]] = defaultdict(list)
    for developer, application, at, requests, latency, moved, peak in (
        await session.execute(query)
    ).all():
        minutes[(developer, application)].append(
            MinuteLoad(
                int(at), int(requests), float(latency or 0) / 60_000, int(moved or 0), int(peak)
            )
        )
    return [
        ApplicationLoad(Party(developer, application), loads)
        for (developer, application), loads in minutes.items()
    ]
