"""Usage events added with the ORM, as tests make them, with the hourly and daily summary rows the
usage writer would have added for them (`termgate.db.usage_hourly.rollup`, `usage_daily.daily`)."""

from __future__ import annotations

from collections.abc import Iterable

from termgate.db.models import UsageEvent
from termgate.db.usage_daily import DAILY_GROUP, UsageDaily, daily, day_start
from termgate.db.usage_hourly import GROUP, SUMS, UsageHourly, hour_start, rollup


def writer_row(event: UsageEvent) -> tuple[object, ...]:
    """The event as the usage writer's row (`observe.COLUMNS` order, the first 12)."""
    return (
        event.at.timestamp(),
        event.request_id,
        event.key_id,
        event.application_id,
        event.developer_id,
        event.method,
        event.operation,
        event.status,
        event.code,
        event.bytes_in or 0,
        event.bytes_out or 0,
        event.latency_ms,
    )


def with_hourly(
    events: Iterable[UsageEvent], dialect: str
) -> list[UsageEvent | UsageHourly | UsageDaily]:
    """The events and their hourly and daily summary rows, to `session.add_all` together (on
    SQLite the daily rows are left to the hourly summary's triggers, as for the writer)."""
    given = list(events)
    summaries: list[UsageEvent | UsageHourly | UsageDaily] = []
    hours = rollup(writer_row(event) for event in given)
    for item in daily(hours) if dialect == "postgresql" else []:
        values = dict(zip(DAILY_GROUP + SUMS, item, strict=True))
        values["day"] = day_start(item[0])
        summaries.append(UsageDaily(**values))
    for item in hours:
        values = dict(zip(GROUP + SUMS, item, strict=True))
        values["hour"] = hour_start(item[0])
        summaries.append(UsageHourly(**values))
    return [*given, *summaries]
