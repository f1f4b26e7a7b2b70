"""Who each application dealt with, per UTC day (clause 3.3 g): the end users it called for and
the addresses it called from, one row per day, application and party, however many requests.

Circumvention asks, over a week, which end users and addresses each application shared with
others; the events hold one row per request, and a week of them is tens of millions of rows at
scale. Read from here, a week costs a row per day and pair: the whole UTC days of the window
come from this table, the rest (one day's worth in all, at the two ends) from the events.

The usage writer adds a batch's parties in the transaction that writes its events, as it adds
their sums to the hourly summary: it collects the batch's distinct (day, application, party,
value) as it walks the rows (`DailyParties.add`), then inserts them, a row already there left as
it is (PostgreSQL: one insert of arrays; SQLite: `INSERT OR IGNORE` per distinct party). A
trigger on the events did the same in the database, and doubled the writer's cost on SQLite
(two statements per event) and added 4 µs per event on PostgreSQL (docs/performance.md).
Migration 0022 fills the table from the stored events. Retention deletes a day of it with the
daily summary's rule: it holds end user ids (personal data) no longer than the events.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from termgate.db.models import Base, UTCDateTime
from termgate.db.usage_daily import HOURS_A_DAY
from termgate.db.usage_hourly import sqlite_hour

TABLE = "usage_daily_parties"
Party = Literal["end_user", "address"]
END_USER: Party = "end_user"
ADDRESS: Party = "address"
DAY_SECONDS = 86_400
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Where a usage writer's row (`observe.COLUMNS`) holds the application and the parties.
ROW_APPLICATION, ROW_END_USER, ROW_ADDRESS = 3, 12, 18
COLUMNS = "day, application_id, party, value"
SQLITE_INSERT = f"INSERT OR IGNORE INTO {TABLE} ({COLUMNS}) VALUES (?, ?, ?, ?)"
# The days as numbers and sorted by the server (cheaper than datetimes and a sort in Python):
# concurrent writers adding the same new rows lock them in one order.
POSTGRES_INSERT = (
    f"INSERT INTO {TABLE} ({COLUMNS}) "
    f"SELECT to_timestamp(day * {DAY_SECONDS}), application, party, value "
    "FROM unnest($1::int[], $2::text[], $3::text[], $4::text[]) "
    "AS parties (day, application, party, value) ORDER BY 1, 2, 3, 4 "
    "ON CONFLICT DO NOTHING"
)


class UsageDailyParty(Base):
    """One application, one day, one end user or address it dealt with that day."""

    __tablename__ = TABLE

    day: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    application_id: Mapped[str] = mapped_column(String(32), nullable=False)
    party: Mapped[str] = mapped_column(String(8), nullable=False)
    value: Mapped[str] = mapped_column(String(64), nullable=False)

    # Read by day (a week's whole days), deleted by day (retention): the key starts with it.
    __table_args__ = (
        PrimaryKeyConstraint(
            "day", "application_id", "party", "value", name="pk_usage_daily_parties"
        ),
    )


def day_number(at: float) -> int:
    """The UTC day (since the epoch) of a writer's timestamp as the events store it: rounded to
    the microsecond, so an event under half a microsecond before midnight is the next day's."""
    day = int(at // DAY_SECONDS)
    if (day + 1) * DAY_SECONDS - at < 1e-6:
        return (datetime.fromtimestamp(at, UTC) - EPOCH).days
    return day


class DailyParties:
    """The distinct parties of some usage rows, collected one row at a time (`add`), so that a
    writer collects them where it already walks the rows (in SQLite's driver thread as it
    formats them; on PostgreSQL beside the hourly sums)."""

    __slots__ = ("found",)

    def __init__(self) -> None:
        self.found: set[tuple[int, str, str, str]] = set()

    def add(self, row: Sequence[Any]) -> None:
        application = row[ROW_APPLICATION]
        if application is None:
            return
        day = day_number(row[0])
        if (end_user := row[ROW_END_USER]) is not None:
            self.found.add((day, application, END_USER, end_user))
        if (address := row[ROW_ADDRESS]) is not None:
            self.found.add((day, application, ADDRESS, address))

    def items(self) -> list[tuple[int, str, str, str]]:
        """Sorted, so that they are inserted in one order (PostgreSQL sorts its own)."""
        return sorted(self.found)

    def sqlite_items(self) -> list[tuple[str, str, str, str]]:
        return [
            (sqlite_hour(day * HOURS_A_DAY), application, party, value)
            for day, application, party, value in self.items()
        ]


async def add_parties(driver: Any, rows: Sequence[Sequence[Any]]) -> None:
    """Add the rows' parties on the writer's raw asyncpg connection, in the events' transaction."""
    parties = DailyParties()
    add = parties.add
    for row in rows:
        add(row)
    if parties.found:
        await driver.execute(POSTGRES_INSERT, *zip(*parties.found, strict=True))


async def add_sqlite_parties(driver: Any, parties: DailyParties) -> None:
    """Add `parties` on the writer's aiosqlite connection, in the events' transaction."""
    if parties.found:
        await driver.executemany(SQLITE_INSERT, parties.sqlite_items())
