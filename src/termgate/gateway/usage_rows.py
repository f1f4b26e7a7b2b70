"""The usage event's row (clause 4.1): its columns, and how a batch of rows goes into each
database together with what is summed from it (the hourly and daily summaries, the daily
parties), in one transaction: they never disagree with the events."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from time import sleep
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from termgate.db.models import UsageEvent
from termgate.db.usage_daily import add_summaries
from termgate.db.usage_hourly import HourlySums, add_sqlite_hourly
from termgate.db.usage_parties import (
    DailyParties,
    StoredParties,
    add_parties,
    add_sqlite_parties,
)

UsageRow = tuple[
    float,
    str,
    str | None,
    str | None,
    str | None,
    str,
    str | None,
    int,
    int | None,
    int,
    int,
    float,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
    str | None,
]
TABLE = UsageEvent.__tablename__
COLUMNS = (
    "at",
    "request_id",
    "key_id",
    "application_id",
    "developer_id",
    "method",
    "operation",
    "status",
    "code",
    "bytes_in",
    "bytes_out",
    "latency_ms",
    "end_user_id",
    "data_category",
    "client_request_id",
    "debtor_id",
    "company_id",
    "employee_id",
    "client_ip",
    "scope",
)
# Spools written before the detection columns existed hold rows of this many columns; they are
# replayed with those columns empty.
FIRST_COLUMNS = COLUMNS.index("debtor_id")
SPOOLED_WIDTHS = frozenset({FIRST_COLUMNS, len(COLUMNS)})
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"
# SQLite's driver thread rests PACE_SECONDS after each PACE_ROWS rows of a batch, so a second's
# events go in over a few hundred milliseconds rather than in one burst of ~100 ms that, on a
# core the serving loop shares, halves the loop's speed for as long: the chain's p99 falls by a
# fifth (docs/performance.md, "The SQLite usage writer paced"). The writer still takes ~37,000
# events a second (200 keys, 1,000 end users; 2-core machine), about three times what one process
# serves.
PACE_ROWS = 128
PACE_SECONDS = 0.001
SQLITE_INSERT = (
    f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
)


@lru_cache(maxsize=8)
def _sqlite_second(second: int) -> str:
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%d %H:%M:%S")


def sqlite_time(at: float) -> str:
    """`datetime.fromtimestamp(at, UTC).strftime(SQLITE_TIME)`, a quarter of its cost.

    The flush formats one timestamp per event; the seconds part repeats, so it is cached, and the
    microseconds are rounded half-even as `fromtimestamp` rounds them.
    """
    fraction, whole = math.modf(at)
    micros = round(fraction * 1e6)
    if micros >= 1_000_000:
        micros -= 1_000_000
        whole += 1.0
    return f"{_sqlite_second(int(whole))}.{micros:06d}"


def sqlite_rows(
    rows: Iterable[UsageRow], sums: HourlySums, parties: DailyParties
) -> Iterator[tuple[Any, ...]]:
    """The rows as SQLite stores them (SQLAlchemy's text format for UTC timestamps), each added
    to `sums` and `parties` as it goes by; paced (PACE_ROWS) on the thread that consumes them."""
    add, meet = sums.add, parties.add
    for number, row in enumerate(rows):
        if number and not number % PACE_ROWS:
            sleep(PACE_SECONDS)  # in the transaction: other writers wait, readers do not (WAL)
        add(row)
        meet(row)
        yield (sqlite_time(row[0]), *row[1:])


async def insert_rows(engine: AsyncEngine, rows: list[UsageRow], stored: StoredParties) -> None:
    """One batch of events with their summaries and the daily parties not in `stored` yet."""
    # The driver's own bulk path: COPY on PostgreSQL, executemany on SQLite. The ORM's insert
    # costs more CPU per event than the whole request path it observes.
    async with engine.begin() as connection:
        raw = await connection.get_raw_connection()
        driver: Any = raw.driver_connection
        if engine.dialect.name == "postgresql":
            records: list[tuple[Any, ...]] = [
                (datetime.fromtimestamp(row[0], UTC), *row[1:]) for row in rows
            ]
            parties = DailyParties().add_all(rows)
            # SQLAlchemy begins asyncpg's transaction at its own first statement, and sends none
            # here: without this each statement would commit on its own, and a batch that failed
            # half-way would be retried over its committed events.
            async with driver.transaction():
                await driver.copy_records_to_table(TABLE, records=records, columns=COLUMNS)
                await add_summaries(driver, rows)
                await add_parties(driver, parties, stored)
        else:
            # Generators: the driver's thread formats the rows and sums the hourly summary as it
            # inserts them, then sorts and formats the sums and the parties not stored yet: none
            # of it on the serving event loop (which stopped for ~1 µs per event for the sums,
            # and ~1.4 for a busy batch's parties).
            sums, parties = HourlySums(), DailyParties()
            await driver.executemany(SQLITE_INSERT, sqlite_rows(rows, sums, parties))
            await add_sqlite_hourly(driver, sums)  # its triggers add to the daily one
            await add_sqlite_parties(driver, parties, stored)
    stored.remember(parties)
