"""The daily usage summary (clauses 3.3 e, 4.1, 4.4): the hourly summary's groups per UTC day,
so a read over a month reads at most ~31 rows per group however many events or hours it had.

On PostgreSQL the usage writer adds to it in the same transaction and from the same sums as the
hourly summary (`add_summaries`: one upsert of arrays each); on SQLite two triggers on the hourly
summary add each hourly row's sums (or what an upsert added to one) to its day (migration 0021),
so the writer binds no second upsert row by row. Either way the events, their hours and their
days never disagree. A range is read as its whole UTC days from here, the whole hours at its two
ends from the hourly summary and the at most two cut hours from the events (`summary_ranges`):
exact. Its columns and conventions are the hourly summary's (`usage_hourly`), `day` for `hour`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from termgate.db.models import Base, UTCDateTime
from termgate.db.usage_hourly import (
    GROUP,
    UsageSums,
    add_postgres_hours,
    hour_start,
    rollup,
    upserts,
    whole_hours,
    whole_periods,
)
from termgate.db.usage_hourly import (
    POSTGRES_UPSERT as HOURLY_UPSERT,
)

HOURS_A_DAY = 24
DAY = timedelta(days=1)
TABLE = "usage_daily"
DAILY_GROUP = ("day", *GROUP[1:])
POSTGRES_UPSERT = upserts(TABLE, DAILY_GROUP)[1]  # SQLite: triggers (see above)


class UsageDaily(UsageSums, Base):
    """The usage events of one UTC day and group, summed (see the module's docstring)."""

    __tablename__ = TABLE

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    day: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        UniqueConstraint(*DAILY_GROUP, name="uq_usage_daily_group"),
        # The quota seed's and the announcements' reads, as on the hourly summary; no sum in
        # an index, so adding to a row is a HOT update on PostgreSQL.
        Index("ix_usage_daily_key_day", "key_id", "day", "code"),
        Index("ix_usage_daily_operation_day", "operation", "method", "day", "application_id"),
    )


def daily(hourly: Iterable[Sequence[Any]]) -> list[list[Any]]:
    """Hourly sums (`HourlySums.items` form: the hour's number first) summed per UTC day, the
    day's number first, sorted by group (concurrent writers lock shared rows in one order)."""
    days: dict[tuple[Any, ...], list[Any]] = {}
    width = len(GROUP)
    for item in hourly:
        group = (item[0] // HOURS_A_DAY, *item[1:width])
        sums = days.get(group)
        if sums is None:
            days[group] = list(item[width:])
        else:
            for index, value in enumerate(item[width:]):
                sums[index] += value
    return [[*group, *days[group]] for group in sorted(days)]


@lru_cache(maxsize=16)
def day_start(day: int) -> datetime:
    return hour_start(day * HOURS_A_DAY)


def _columns(items: list[list[Any]]) -> list[list[Any]]:
    return [list(column) for column in zip(*items, strict=True)]


async def add_summaries(driver: Any, rows: Sequence[Sequence[Any]]) -> None:
    """Add the rows' sums to the hourly and the daily summary on the writer's raw asyncpg
    connection, inside the events' transaction: one upsert of arrays each."""
    hours = rollup(rows)
    if not hours:
        return
    days = daily(hours)
    await add_postgres_hours(driver, hours)
    for item in hours:
        item[0] = hour_start(item[0])
    for item in days:
        item[0] = day_start(item[0])
    await driver.execute(HOURLY_UPSERT, *_columns(hours))
    await driver.execute(POSTGRES_UPSERT, *_columns(days))


def floor_day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def whole_days(
    start: datetime, end: datetime
) -> tuple[tuple[datetime, datetime] | None, list[tuple[datetime, datetime]]]:
    """[start, end) split into the whole UTC days in it (None if none) and the at most two cut
    pieces at its edges."""
    return whole_periods(start, end, floor_day, DAY)


@dataclass(frozen=True, slots=True)
class Ranges:
    """[start, end) as what each table answers exactly: whole UTC days (the daily summary),
    whole hours (the hourly summary: at most two stretches, before and after the days) and
    cut hours (the events: at most two pieces). Half-open [first, last) pairs."""

    days: tuple[datetime, datetime] | None
    hours: list[tuple[datetime, datetime]]
    events: list[tuple[datetime, datetime]]


def summary_ranges(start: datetime, end: datetime) -> Ranges:
    hours, edges = whole_hours(start, end)
    if hours is None:
        return Ranges(None, [], edges)
    first, last = hours
    first_day = floor_day(first)
    if first_day < first:
        first_day += DAY
    last_day = floor_day(last)
    if first_day >= last_day:
        return Ranges(None, [hours], edges)
    stretches = [(first, first_day)] if first < first_day else []
    if last_day < last:
        stretches.append((last_day, last))
    return Ranges((first_day, last_day), stretches, edges)
