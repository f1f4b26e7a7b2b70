"""The SQL side of the detectors: usage events over a window, aggregated per party, on SQLite and
PostgreSQL alike. The detectors themselves are pure functions of these rows."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, Select, and_, case, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from termgate.db.models import Application, UsageEvent
from termgate.db.monitoring import SignInFailure
from termgate.db.usage_daily import UsageDaily, summary_ranges
from termgate.db.usage_hourly import UsageHourly, absent
from termgate.monitoring.probing import RefusalCounts
from termgate.monitoring.stability import ApplicationLoad, MinuteLoad
from termgate.monitoring.window import Party, Window

SAMPLES = 5


def in_window(window: Window) -> ColumnElement[bool]:
    return and_(UsageEvent.at >= window.start, UsageEvent.at < window.end)


def count_where(condition: ColumnElement[bool], counted: Any = 1) -> Any:
    """The events where `condition` holds (or the sum of `counted`, a summary's requests)."""
    return func.sum(case((condition, counted), else_=0))


def second_bucket(session: AsyncSession) -> Any:
    """Seconds since the epoch of the event's time, in the dialect at hand."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", UsageEvent.at)), Integer)
    return cast(func.strftime("%s", UsageEvent.at), Integer)


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


REFUSED = (401, 403, 404)
# The codes of probing's kinds of refusal, in `RefusalCounts` order: a tenant outside the
# consent, a scope not granted, an invalid token, a path outside the API.
REFUSAL_CODES = ((40303, 40305), (40302,), (40101, 40102), (40401,))


def _refusal_sums(status: Any, code: Any, counted: Any) -> list[Any]:
    """The requests and the refusals of each kind, `counted` (1 per event, `requests` per
    summary row) summed where the status or code says so."""
    return [
        func.sum(counted),
        count_where(status.in_(REFUSED), counted),
        *(count_where(code.in_(codes), counted) for codes in REFUSAL_CODES),
    ]


def _summed_refusals(
    table: type[UsageDaily | UsageHourly], period: Any, span: tuple[datetime, datetime]
) -> Select[Any]:
    first, last = span
    return (
        select(
            table.developer_id,
            table.application_id,
            *_refusal_sums(table.status, table.code, table.requests),
        )
        .where(period >= first, period < last, table.application_id != "")
        .group_by(table.developer_id, table.application_id)
    )


def event_refusals(first: datetime, last: datetime) -> Select[Any]:
    """Probing's counts per party from the events of [first, last) themselves."""
    return (
        select(
            UsageEvent.developer_id,
            UsageEvent.application_id,
            *_refusal_sums(UsageEvent.status, UsageEvent.code, 1),
        )
        .where(UsageEvent.at >= first, UsageEvent.at < last, UsageEvent.application_id.is_not(None))
        .group_by(UsageEvent.developer_id, UsageEvent.application_id)
    )


def refusal_queries(window: Window) -> list[Select[Any]]:
    """Probing's counts over the window, exact, as the quota seed reads its periods: whole UTC
    days from the daily summary, the other whole hours from the hourly one, only the hours the
    window cuts from the events. A day's window thus reads at most two hours of events, not the
    day's, on every pass."""
    ranges = summary_ranges(window.start, window.end)
    queries = [event_refusals(first, last) for first, last in ranges.events]
    queries += [_summed_refusals(UsageHourly, UsageHourly.hour, span) for span in ranges.hours]
    if ranges.days is not None:
        queries.append(_summed_refusals(UsageDaily, UsageDaily.day, ranges.days))
    return queries


async def refusal_totals(
    session: AsyncSession, window: Window, queries: list[Select[Any]] | None = None
) -> dict[tuple[str | None, str], list[int]]:
    """Per (developer, application): the requests, then the refusals of each kind (`queries`:
    other reads of the same counts than `refusal_queries`, for comparison)."""
    totals: dict[tuple[str | None, str], list[int]] = {}
    for query in refusal_queries(window) if queries is None else queries:
        for developer, application, *counts in (await session.execute(query)).all():
            party = (absent(developer or ""), application)
            summed = totals.setdefault(party, [0] * (2 + len(REFUSAL_CODES)))
            for index, count in enumerate(counts):
                summed[index] += int(count or 0)
    return totals


async def refusal_counts(session: AsyncSession, window: Window) -> list[RefusalCounts]:
    refused = UsageEvent.status.in_(REFUSED)
    failures = await failed_sign_ins(session, window)
    rows = []
    for (developer, application), counts in (await refusal_totals(session, window)).items():
        requests, bad, foreign, scope, token, outside = counts
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
                requests=requests,
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
