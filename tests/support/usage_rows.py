"""Usage events added with the ORM, as tests make them, with the hourly and daily summary rows and
the daily parties the usage writer would have added for them (`termgate.db.usage_hourly.rollup`,
`usage_daily.daily`, `usage_parties.DailyParties`)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.models import UsageEvent
from termgate.db.usage_daily import DAILY_GROUP, UsageDaily, daily, day_start
from termgate.db.usage_hourly import (
    GROUP,
    SUMS,
    UsageHour,
    UsageHourly,
    hour_start,
    items_per_hour,
    rollup,
)
from termgate.db.usage_parties import DailyParties, UsageDailyParty
from termgate.gateway.usage_rows import COLUMNS


def writer_row(event: UsageEvent) -> tuple[object, ...]:
    """The event as the usage writer's row (`usage_rows.COLUMNS` order)."""
    values = {name: getattr(event, name) for name in COLUMNS}
    values |= {
        "at": event.at.timestamp(),
        "bytes_in": event.bytes_in or 0,
        "bytes_out": event.bytes_out or 0,
    }
    return tuple(values[name] for name in COLUMNS)


def with_hourly(
    events: Iterable[UsageEvent], dialect: str
) -> list[UsageEvent | UsageHourly | UsageHour | UsageDaily | UsageDailyParty]:
    """The events, their hourly and daily summary rows and their daily parties, to
    `session.add_all` together (on SQLite the daily rows are left to the hourly summary's
    triggers, as for the writer)."""
    given = list(events)
    summaries: list[UsageEvent | UsageHourly | UsageHour | UsageDaily | UsageDailyParty] = []
    rows = [writer_row(event) for event in given]
    hours = rollup(rows)
    for item in daily(hours) if dialect == "postgresql" else []:
        values = dict(zip(DAILY_GROUP + SUMS, item, strict=True))
        values["day"] = day_start(item[0])
        summaries.append(UsageDaily(**values))
    for item in hours:
        values = dict(zip(GROUP + SUMS, item, strict=True))
        values["hour"] = hour_start(item[0])
        summaries.append(UsageHourly(**values))
    for hour, events in items_per_hour(hours):
        summaries.append(UsageHour(hour=hour_start(hour), events=events))
    for day, application, party, value in DailyParties().add_all(rows).items():
        summaries.append(UsageDailyParty(day=day_start(day), application_id=application,
                                         party=party, value=value))  # fmt: skip
    return [*given, *summaries]


def add_with_summaries(session: AsyncSession, events: Iterable[UsageEvent]) -> None:
    """Add the events and their summary rows to the session (`with_hourly`): all the events of
    a transaction at once, since a second call would add its hours' rows a second time."""
    session.add_all(with_hourly(events, session.get_bind().dialect.name))
