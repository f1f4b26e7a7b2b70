"""The SQL side of the harvest detector (clause 3.3 d): who read whom, from where, with which
keys, over the window; on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import String, and_, column, distinct, exists, func, select, text, values
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from termgate.db.models import (
    Application,
    UsageEvent,
    UTCDateTime,
)
from termgate.db.usage_stretches import count_where
from termgate.monitoring.aggregate import in_window, minute_bucket, sample_request_ids
from termgate.monitoring.harvest import ReadVolume
from termgate.monitoring.window import Party, Window

HISTORY = timedelta(days=35)  # how far back "an employee the application read before" reaches
REPEAT_LOOKBACK_DAYS = 4  # how far back harvest counts the days each employee was read on
CANDIDATE_EMPLOYEES = 50  # fewer distinct employees in a window cannot be a harvest
OK = UsageEvent.status < 400


def days_since(since: datetime | None, until: datetime) -> float:
    return (until - since).total_seconds() / 86400 if since else 0.0


# One probe of the (application_id, at) index per application: grouping the events of the
# applications instead reads their whole history (5.8 s a pass at 10 million events a month),
# or all their events of the window.
FIRST_SEEN_POSTGRES = (
    "SELECT apps.id, (SELECT min(e.at) FROM usage_events AS e WHERE e.application_id = apps.id"
    "{bounds}) FROM unnest(CAST(:applications AS text[])) AS apps(id)"
)
IN_BOUNDS = " AND e.at >= :start AND e.at < :end"


async def first_seen_of(
    session: AsyncSession, applications: list[str], window: Window | None = None
) -> dict[str, datetime]:
    """Each application's first request ever, or in `window`."""
    if not applications:
        return {}
    bounds = {} if window is None else {"start": window.start, "end": window.end}
    if session.get_bind().dialect.name == "postgresql":
        probes = text(FIRST_SEEN_POSTGRES.format(bounds=IN_BOUNDS if bounds else ""))
        typed = probes.columns(id=String(), first=UTCDateTime())
        rows = await session.execute(typed, {"applications": applications, **bounds})
        return {app: first for app, first in rows.all() if app and first}
    # SQLite: the same probe per application, the ids as a VALUES list (a CTE: SQLite names
    # no columns of a VALUES in FROM).
    apps = values(column("id", String()), name="apps").data([(app,) for app in applications]).cte()
    first = select(func.min(UsageEvent.at)).where(UsageEvent.application_id == apps.c.id)
    if window is not None:
        first = first.where(in_window(window))
    query = select(apps.c.id, first.scalar_subquery())
    return {app: found for app, found in (await session.execute(query)).all() if app and found}


async def _novelty(session: AsyncSession, application_id: str, window: Window) -> tuple[int, int]:
    """Distinct employees read in the window that it had not read in its history, and the
    distinct employees it had read in that history."""
    before = aliased(UsageEvent)
    history = and_(
        before.application_id == application_id,
        before.at < window.start,
        before.at >= window.start - HISTORY,
        before.employee_id.is_not(None),
    )
    new = await session.scalar(
        select(func.count(distinct(UsageEvent.employee_id))).where(
            UsageEvent.application_id == application_id,
            in_window(window),
            OK,
            UsageEvent.employee_id.is_not(None),
            ~exists().where(history, before.employee_id == UsageEvent.employee_id),
        )
    )
    known = await session.scalar(select(func.count(distinct(before.employee_id))).where(history))
    return int(new or 0), int(known or 0)


async def _days_read(session: AsyncSession, application_id: str, window: Window) -> dict[int, int]:
    """Over the repeat look-back ending with the window: employees read individually on exactly
    N distinct (UTC) days, N -> how many employees."""
    day = (minute_bucket(session) // 1440).label("day")
    query = (
        select(UsageEvent.employee_id, func.count(distinct(day)))
        .where(
            UsageEvent.application_id == application_id,
            UsageEvent.at >= window.end - timedelta(days=REPEAT_LOOKBACK_DAYS),
            UsageEvent.at < window.end,
            OK,
            UsageEvent.employee_id.is_not(None),
        )
        .group_by(UsageEvent.employee_id)
    )
    histogram: dict[int, int] = defaultdict(int)
    for _employee, days in (await session.execute(query)).all():
        histogram[int(days)] += 1
    return dict(histogram)


async def read_volumes(session: AsyncSession, window: Window) -> list[ReadVolume]:
    with_employee = UsageEvent.employee_id.is_not(None)
    query = (
        select(
            UsageEvent.developer_id,
            UsageEvent.application_id,
            count_where(with_employee),
            func.count(distinct(UsageEvent.employee_id)),
            func.count(distinct(UsageEvent.company_id)),
            func.count(distinct(UsageEvent.end_user_id)),
        )
        .where(in_window(window), OK, UsageEvent.application_id.is_not(None))
        .group_by(UsageEvent.developer_id, UsageEvent.application_id)
    )
    candidates = [
        row for row in (await session.execute(query)).all() if row[3] >= CANDIDATE_EMPLOYEES
    ]
    apps = {
        a.id: a
        for a in await session.scalars(
            select(Application).where(Application.id.in_([row[1] for row in candidates]))
        )
    }
    first_seen = await first_seen_of(session, list(apps))
    volumes = []
    for developer, application, reads, employees, companies, end_users in candidates:
        new, known = await _novelty(session, application, window)
        categories = await session.scalars(
            select(UsageEvent.data_category)
            .distinct()
            .where(
                UsageEvent.application_id == application,
                in_window(window),
                OK,
                UsageEvent.data_category.is_not(None),
            )
        )
        read = frozenset(c for c in categories if c)
        app = apps.get(application)
        use_case = (app.use_case if app else "").lower()
        declared = (
            frozenset(c for c in read if c.lower().rstrip("s") in use_case)
            if use_case and read
            else None
        )
        volumes.append(
            ReadVolume(
                party=Party(developer, application),
                employee_reads=int(reads or 0),
                distinct_employees=int(employees),
                distinct_companies=int(companies),
                end_users=int(end_users),
                expected_end_users=app.expected_end_users if app else None,
                new_employees=new,
                known_employees=known,
                age_days=days_since(first_seen.get(application), window.end),
                categories_read=read,
                categories_declared=declared,
                sample_request_ids=await sample_request_ids(
                    session, window, and_(UsageEvent.application_id == application, with_employee)
                ),
                use_case=app.use_case if app else "",
                data_access=app.data_access if app else None,
                days_read=await _days_read(session, application, window),
                days_looked=REPEAT_LOOKBACK_DAYS,
            )
        )
    return volumes
