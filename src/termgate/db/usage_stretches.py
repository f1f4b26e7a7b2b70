"""A time range read exactly from the usage summaries and the events: whole UTC days from the
daily summary, the whole hours beside them from the hourly one, the cut hours at the two ends
from the events (`usage_daily.summary_ranges`). Each part is a stretch; a reader (the quota
seed, the announcements, the detectors) runs its grouped read on each and adds the results up,
counting exactly what the events alone would, from a row per group and hour (or day) instead of
a row per event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.models import UsageEvent
from termgate.db.usage_daily import DAY, UsageDaily, floor_day, summary_ranges
from termgate.db.usage_hourly import UsageHourly

Usage = type[UsageEvent] | type[UsageHourly] | type[UsageDaily]
Stretch = tuple[Usage, Any, datetime, datetime]  # the table, its time column, [first, last)


def stretches(start: datetime, end: datetime) -> list[Stretch]:
    """[start, end) as the tables that answer each part of it exactly."""
    ranges = summary_ranges(start, end)
    found: list[Stretch] = [(UsageEvent, UsageEvent.at, *span) for span in ranges.events]
    found += [(UsageHourly, UsageHourly.hour, *span) for span in ranges.hours]
    if ranges.days is not None:
        found.append((UsageDaily, UsageDaily.day, *ranges.days))
    return found


async def day_end_if_quiet(session: AsyncSession, end: datetime) -> datetime:
    """`end`, or the UTC midnight after it when no stored event lies between the two (one probe
    of the `at` index). A read up to that midnight then counts what a read up to `end` counts,
    and takes `end`'s day whole from the daily tables (a row per group or party) instead of its
    hours and events: for a window that ends now, as the detectors' do, today costs what a whole
    day costs. A batch written while the reads run adds to them, as it already can before `end`."""
    midnight = floor_day(end)
    if midnight == end:
        return end
    midnight += DAY
    later = select(UsageEvent.id).where(UsageEvent.at >= end, UsageEvent.at < midnight).limit(1)
    return end if await session.scalar(later) is not None else midnight


def in_stretch(stretch: Stretch) -> list[ColumnElement[bool]]:
    """The stretch's rows of applications."""
    table, moment, first, last = stretch
    return [
        moment >= first,
        moment < last,
        table.application_id.is_not(None),
        table.application_id != "",
    ]


def count_requests(table: Usage) -> Any:
    """The requests of a group: its events, or the sum of its summary rows."""
    if table is UsageHourly or table is UsageDaily:
        return func.sum(table.requests)
    return func.count()


def count_where(condition: ColumnElement[bool]) -> Any:
    """The events of a group that meet `condition`."""
    return func.sum(case((condition, 1), else_=0))


def count_requests_where(table: Usage, condition: ColumnElement[bool]) -> Any:
    """The requests of a group that meet `condition` (on the group's columns)."""
    if table is UsageHourly or table is UsageDaily:
        return func.sum(case((condition, table.requests), else_=0))
    return count_where(condition)
