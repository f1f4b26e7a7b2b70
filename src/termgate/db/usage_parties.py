"""Who each application dealt with, per UTC day (clause 3.3 g): the end users it called for and
the addresses it called from, one row per day, application and party, however many requests.

Circumvention asks, over a week, which end users and addresses each application shared with
others; the events hold one row per request, and a week of them is tens of millions of rows at
scale. Read from here, a week costs a row per day and pair: the whole UTC days of the window
come from this table, the rest (one day's worth in all, at the two ends) from the events.

The usage writer adds a batch's parties in the transaction that writes its events, as it adds
their sums to the hourly summary: it collects the batch's distinct (day, application, party,
value) as it walks the rows (`DailyParties.add`), leaves out those it stored earlier the same
day or the day before (`StoredParties`), then inserts the rest, a row already there left as it
is (PostgreSQL: one insert of arrays; SQLite: `INSERT OR IGNORE` per distinct party). A
trigger on the events did the same in the database, and doubled the writer's cost on SQLite
(two statements per event) and added 4 µs per event on PostgreSQL (docs/performance.md).
Migration 0022 fills the table from the stored events. Retention deletes a day of it with the
daily summary's rule: it holds end user ids (personal data) no longer than the events.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime
from itertools import islice
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
PARTIES: tuple[Party, Party] = (END_USER, ADDRESS)  # the order of DailyParties' two sets
DAY_SECONDS = 86_400
# How many stored parties one writer remembers: about 19 MB at most (tracemalloc: half of them
# 32-character end user ids, half addresses), a day of a few thousand busy applications.
STORED_LIMIT = 100_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
Known = AbstractSet[tuple[int, str, Party, str]]  # parties stored already (StoredParties)
Columns = tuple[list[int], list[str], list[str], list[str]]  # day, application, party, value
# Where a usage writer's row (`gateway/usage_rows.COLUMNS`) holds the application and the parties.
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
    formats them; on PostgreSQL beside the hourly sums). Kept per day and application, a set of
    end users and one of addresses each, so a row adds its strings to sets: a tuple per party
    and row cost the writer 3 µs per event, most of it the collector's (docs/performance.md)."""

    __slots__ = ("days",)

    def __init__(self) -> None:
        self.days: dict[int, dict[str, tuple[set[str], set[str]]]] = {}

    def add_all(self, rows: Sequence[Sequence[Any]]) -> DailyParties:
        add = self.add
        for row in rows:
            add(row)
        return self

    def add(self, row: Sequence[Any]) -> None:
        application = row[ROW_APPLICATION]
        if application is None:
            return
        day = day_number(row[0])
        applications = self.days.get(day)
        if applications is None:
            applications = self.days[day] = {}
        seen = applications.get(application)
        if seen is None:
            seen = applications[application] = (set(), set())
        if (end_user := row[ROW_END_USER]) is not None:
            seen[0].add(end_user)
        if (address := row[ROW_ADDRESS]) is not None:
            seen[1].add(address)

    def __iter__(self) -> Iterator[tuple[int, str, Party, str]]:
        for day, applications in self.days.items():
            for application, found in applications.items():
                for party, values in zip(PARTIES, found, strict=True):
                    for value in values:
                        yield day, application, party, value

    def __bool__(self) -> bool:
        return any(
            any(found) for applications in self.days.values() for found in applications.values()
        )

    def columns(self, known: Known = frozenset()) -> Columns:
        """Those not in `known` as four columns (day, application, party, value), for
        PostgreSQL's insert of arrays: built a set at a time, no tuple per party unless some are
        known."""
        days: list[int] = []
        applications: list[str] = []
        parties: list[str] = []
        values: list[str] = []
        for day, found in self.days.items():
            for application, sets in found.items():
                for party, party_values in zip(PARTIES, sets, strict=True):
                    kept = (
                        [v for v in party_values if (day, application, party, v) not in known]
                        if known
                        else party_values
                    )
                    count = len(kept)
                    days += [day] * count
                    applications += [application] * count
                    parties += [party] * count
                    values += kept
        return days, applications, parties, values

    def items(self, known: Known = frozenset()) -> list[tuple[int, str, Party, str]]:
        """Those not in `known`, sorted, so that they are inserted in one order (PostgreSQL sorts
        its own)."""
        return sorted(party for party in self if party not in known)

    def sqlite_items(self, known: Known = frozenset()) -> Iterator[tuple[str, str, str, str]]:
        """`items` as SQLite stores them. A generator: the driver's thread does the work as it
        inserts them, off the serving event loop."""
        for day, application, party, value in self.items(known):
            yield sqlite_hour(day * HOURS_A_DAY), application, party, value


class StoredParties:
    """The parties one writer stored today and yesterday (at most `limit` of them), so that a
    party seen again costs neither a row sent nor a lookup in the database: on a day of traffic
    most requests are for an end user and from an address already seen that day.

    Remembering them is safe because nothing deletes those two days' rows: retention keeps a
    day at the least and deletes the parties of days a day older than its cut-off. Another
    writer's rows are not known here; the database ignores a party stored twice."""

    __slots__ = ("known", "limit", "newest")

    def __init__(self, limit: int = STORED_LIMIT) -> None:
        self.known: set[tuple[int, str, Party, str]] = set()
        self.limit = limit
        self.newest = 0  # the newest day remembered

    def remember(self, parties: DailyParties) -> None:
        """`parties` are stored: their transaction committed."""
        if not parties.days:
            return
        newest = max(parties.days)
        if newest > self.newest:
            self.newest = newest
            self.known = {party for party in self.known if party[0] >= newest - 1}
        known = self.known
        fresh = (p for p in parties if p[0] >= self.newest - 1 and p not in known)
        known.update(islice(fresh, max(self.limit - len(known), 0)))


# Both inserts leave out the parties `stored` knows, which does not change before the events'
# transaction ends (`remember` follows it).


async def add_parties(driver: Any, parties: DailyParties, stored: StoredParties) -> None:
    """Add `parties` but those `stored` on the writer's raw asyncpg connection, in the events'
    transaction."""
    columns = parties.columns(stored.known)
    if columns[0]:
        await driver.execute(POSTGRES_INSERT, *columns)


async def add_sqlite_parties(driver: Any, parties: DailyParties, stored: StoredParties) -> None:
    """Add `parties` but those `stored` on the writer's aiosqlite connection, in the events'
    transaction: the driver's thread leaves them out (`sqlite_items` is a generator)."""
    if parties:
        await driver.executemany(SQLITE_INSERT, parties.sqlite_items(stored.known))
