"""The hourly usage summary (clauses 3.3 e, 4.1, 4.4, 4.5 a): per hour, key, application,
developer, method, operation, status, code and scope, the requests, bytes and latency of the
usage events.

The usage writer keeps it in the same transaction as the events it writes (`add_hourly`,
`add_sqlite_hourly`: one upsert of the batch's groups, which add to what the table holds), so
the two never disagree. The quota seed and the announcements read whole hours here and only the
hours cut by their time range from the events (`whole_hours`); least privilege reads the
scopes used the same way. The summary has one row per hour and group however many events the
group had, and is read by key, by operation or by hour (its indexes).

Absent values are stored as '' (and code 0) rather than NULL: NULLs are distinct in a unique
constraint, and the upsert's conflict target is the group. `NO_CODE` and `absent` read them back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from termgate.db.models import Base, UTCDateTime

HOUR = 3600
NO_CODE = 0
GROUP = (
    "hour",
    "key_id",
    "application_id",
    "developer_id",
    "method",
    "operation",
    "status",
    "code",
    "scope",
)
SUMS = ("requests", "bytes_in", "bytes_out", "latency_ms")
TABLE = "usage_hourly"

# Where the group's columns are in a usage writer's row (`gateway/usage_rows.COLUMNS`).
ROW_SCOPE = 19

_PG_TYPES = (
    "timestamptz",
    "text",
    "text",
    "text",
    "text",
    "text",
    "int",
    "int",
    "text",
    "bigint",
    "bigint",
    "bigint",
    "float8",
)


def upserts(table: str, group: tuple[str, ...]) -> tuple[str, str]:
    """The SQLite and the PostgreSQL upsert adding sums to a summary table whose group (its
    unique constraint) is `group`: the period's start, then the rest of `GROUP`."""
    update = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in SUMS)
    conflict = f"ON CONFLICT ({', '.join(group)}) DO UPDATE SET {update}"
    columns = ", ".join(group + SUMS)
    sqlite = f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' for _ in group + SUMS)}) "
    # PostgreSQL: one statement for the whole batch, the columns as arrays unnested server-side.
    arrays = ", ".join(f"${index}::{kind}[]" for index, kind in enumerate(_PG_TYPES, start=1))
    postgres = f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) "
    return sqlite + conflict, postgres + conflict


SQLITE_UPSERT, POSTGRES_UPSERT = upserts(TABLE, GROUP)
HOURS_TABLE = "usage_hours"
HOURS_SQLITE_UPSERT = (
    f"INSERT INTO {HOURS_TABLE} (hour, events) VALUES (?, ?) "
    "ON CONFLICT (hour) DO UPDATE SET events = events + excluded.events"
)
HOURS_POSTGRES_UPSERT = (
    f"INSERT INTO {HOURS_TABLE} (hour, events) "
    "SELECT * FROM unnest($1::timestamptz[], $2::bigint[]) ORDER BY 1 "
    f"ON CONFLICT (hour) DO UPDATE SET events = {HOURS_TABLE}.events + excluded.events"
)
REQUESTS = len(GROUP)  # where an item of `HourlySums.items` has its requests


class UsageSums:
    """The group and the sums of a usage summary's row (hourly here, daily in usage_daily)."""

    key_id: Mapped[str] = mapped_column(String(32), nullable=False)
    application_id: Mapped[str] = mapped_column(String(32), nullable=False)
    developer_id: Mapped[str] = mapped_column(String(32), nullable=False)
    method: Mapped[str] = mapped_column(String(8), nullable=False)
    operation: Mapped[str] = mapped_column(String(200), nullable=False)
    status: Mapped[int] = mapped_column(Integer, nullable=False)
    code: Mapped[int] = mapped_column(Integer, nullable=False)
    scope: Mapped[str] = mapped_column(String(64), nullable=False)
    requests: Mapped[int] = mapped_column(BigInteger, nullable=False)
    bytes_in: Mapped[int] = mapped_column(BigInteger, nullable=False)
    bytes_out: Mapped[int] = mapped_column(BigInteger, nullable=False)
    latency_ms: Mapped[float] = mapped_column(nullable=False)


class UsageHourly(UsageSums, Base):
    """The usage events of one hour and group, summed (see the module's docstring)."""

    __tablename__ = TABLE

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)

    __table_args__ = (
        UniqueConstraint(*GROUP, name="uq_usage_hourly_group"),
        # What the quota seed (a key's admitted requests in a period) and the announcements
        # (who called an operation in 90 days) read by. No sum is in an index: adding to a row
        # then changes no index (a HOT update on PostgreSQL, the table kept half-empty for it).
        Index("ix_usage_hourly_key_hour", "key_id", "hour", "code"),
        Index("ix_usage_hourly_operation_hour", "operation", "method", "hour", "application_id"),
        # Least privilege reads the whole hours beside the days of its 90 (at most two
        # stretches of under a day), and retention deletes by hour.
        Index("ix_usage_hourly_hour", "hour"),
    )


class UsageHour(Base):
    """How many events an hour has: the summary summed per hour, which the usage writer adds to
    beside it (`HOURS_SQLITE_UPSERT`, `HOURS_POSTGRES_UPSERT`), so that what needs an hour's
    count (the sketching of the hours over, the usage pages over all applications) reads a row
    rather than the hour's groups (tens of thousands on a busy hour)."""

    __tablename__ = HOURS_TABLE

    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    events: Mapped[int] = mapped_column(BigInteger, nullable=False)


def absent(value: str) -> str | None:
    return value or None


@lru_cache(maxsize=64)
def hour_start(hour: int) -> datetime:
    """The UTC start of hour number `hour` since the epoch."""
    return datetime.fromtimestamp(hour * HOUR, UTC)


class HourlySums:
    """The summary's groups of some usage rows, summed one row at a time (`add`), so that a
    writer can sum them where it already walks the rows: in the SQLite driver's thread, as it
    formats them (gateway/usage_rows.py), not in a second pass on the serving event loop."""

    __slots__ = ("groups",)

    def __init__(self) -> None:
        self.groups: dict[tuple[Any, ...], list[Any]] = {}

    def add(self, row: Sequence[Any]) -> None:
        group = (
            int(row[0] // HOUR),
            row[2] or "",
            row[3] or "",
            row[4] or "",
            row[5],
            row[6] or "",
            row[7],
            row[8] or NO_CODE,
            row[ROW_SCOPE] or "",
        )
        sums = self.groups.get(group)
        if sums is None:
            self.groups[group] = [1, row[9], row[10], row[11]]
        else:
            sums[0] += 1
            sums[1] += row[9]
            sums[2] += row[10]
            sums[3] += row[11]

    def items(self) -> list[list[Any]]:
        """Each group with its sums, sorted by group so that concurrent writers lock the rows
        they share in one order (no deadlock): the hour's number, the rest of the group, then
        the sums."""
        groups = self.groups
        return [[*group, *groups[group]] for group in sorted(groups)]

    def sqlite_hours(self) -> Iterator[tuple[str, int]]:
        """Each hour's events, as `HOURS_SQLITE_UPSERT` takes them (a generator, as below;
        from the groups as they are: `items` sorts and copies them for the summary's upsert)."""
        counted = ((group[0], sums[0]) for group, sums in self.groups.items())
        for hour, events in hour_totals(counted):
            yield sqlite_hour(hour), events

    def sqlite_items(self) -> Iterator[list[Any]]:
        """`items` as the SQLite upsert (`SQLITE_UPSERT`) takes them; a generator, so that
        the driver's thread sorts and formats them when it runs the statement."""
        for item in self.items():
            item[0] = sqlite_hour(item[0])
            yield item


def rollup(rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
    """The usage writer's rows (`usage_rows.COLUMNS` order) summed per hour and group
    (`HourlySums.items`)."""
    sums = HourlySums()
    add = sums.add
    for row in rows:
        add(row)
    return sums.items()


def hour_totals(counted: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """(hour's number, events) pairs summed per hour, in the hours' order (the order concurrent
    writers lock `usage_hours`' rows in)."""
    totals: dict[int, int] = {}
    for hour, events in counted:
        totals[hour] = totals.get(hour, 0) + events
    return sorted(totals.items())


def items_per_hour(items: Iterable[Sequence[Any]]) -> list[tuple[int, int]]:
    """Each hour's events of summary items (`HourlySums.items` form)."""
    return hour_totals((item[0], item[REQUESTS]) for item in items)


async def add_postgres_hours(driver: Any, items: Iterable[Sequence[Any]]) -> None:
    """Add the items' events per hour to `usage_hours` (the writer's asyncpg connection)."""
    totals = items_per_hour(items)
    hours = [hour_start(hour) for hour, _events in totals]
    await driver.execute(HOURS_POSTGRES_UPSERT, hours, [events for _hour, events in totals])


async def add_hourly(driver: Any, rows: Sequence[Sequence[Any]]) -> None:
    """Add the rows' sums to the summary on the writer's raw asyncpg connection, inside the
    transaction that writes the events themselves (PostgreSQL: one upsert of arrays)."""
    summed = rollup(rows)
    if not summed:
        return
    await add_postgres_hours(driver, summed)
    for item in summed:
        item[0] = hour_start(item[0])
    await driver.execute(POSTGRES_UPSERT, *(list(column) for column in zip(*summed, strict=True)))


async def add_sqlite_hourly(driver: Any, sums: HourlySums) -> None:
    """Add `sums` to the summary and its hours' events to `usage_hours` on the writer's
    aiosqlite connection, in the events' transaction: the driver's thread sorts and formats
    them as it runs the upserts."""
    await driver.executemany(SQLITE_UPSERT, sums.sqlite_items())
    await driver.executemany(HOURS_SQLITE_UPSERT, sums.sqlite_hours())


@lru_cache(maxsize=64)
def sqlite_hour(hour: int) -> str:
    """SQLAlchemy's SQLite storage of the hour's UTC start (as `UTCDateTime` writes it)."""
    return hour_start(hour).strftime("%Y-%m-%d %H:%M:%S.%f")


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


def whole_hours(
    start: datetime, end: datetime
) -> tuple[tuple[datetime, datetime] | None, list[tuple[datetime, datetime]]]:
    """[start, end) split into the whole hours in it (read from the summary; None if none)
    and the at most two pieces of cut hours at its edges (read from the events)."""
    return whole_periods(start, end, floor_hour, timedelta(hours=1))


def whole_periods(
    start: datetime,
    end: datetime,
    floor: Callable[[datetime], datetime],
    length: timedelta,
) -> tuple[tuple[datetime, datetime] | None, list[tuple[datetime, datetime]]]:
    """[start, end) split into the whole periods in it (those `floor` starts, `length` long;
    None if none) and the at most two cut pieces at its edges."""
    first = floor(start)
    if first < start:
        first += length
    last = floor(end)
    if first >= last:
        return None, [(start, end)] if start < end else []
    edges = [(start, first)] if start < first else []
    if last < end:
        edges.append((last, end))
    return (first, last), edges
