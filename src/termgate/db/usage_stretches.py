"""A time range read exactly from the usage summaries and the events: whole UTC days from the
daily summary, the whole hours beside them from the hourly one, the cut hours at the two ends
from the events (`usage_daily.summary_ranges`). Each part is a stretch; a reader (the quota
seed, the announcements, the detectors) runs its grouped read on each and adds the results up,
counting exactly what the events alone would, from a row per group and hour (or day) instead of
a row per event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func

from termgate.db.models import UsageEvent
from termgate.db.usage_daily import UsageDaily, summary_ranges
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
