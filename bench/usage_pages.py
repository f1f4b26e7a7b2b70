"""The usage pages over all applications on SQLite (the embedded default), from the events and
from the hours' sketches (governance/usage_summarized.py).

    uv run python bench/usage_pages.py --events 2000000 --days 8

Makes a scratch SQLite database (a temporary file), writes `--events` events spread evenly over
the last `--days` days through the usage writer (`UsageRecorder`, batches of 50,000: the events,
their summaries and each hour's count, as the gateway writes them; `usage_ingest.make_rows`: 200
keys, 1,000 end users, 100 debtors and companies), times the console's page over all
applications for the last 24 hours by hour and the last 7 days by day read from the events, and
their CSV export's rows, sketches the hours that are over as the monitoring thread does (timed),
and times the pages and the exports again. Each figure is the median of 3 runs after one warm-up.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.engine import create_engine, session_factory
from termgate.db.migrate import upgrade_async
from termgate.gateway.observe import UsageRecorder
from termgate.gateway.usage_rows import UsageRow
from termgate.governance.analytics import (
    Row,
    UsageQuery,
    UsageReport,
    events_per_operation_and_period,
    events_report,
    per_operation_and_period,
    usage_report,
)
from termgate.governance.sketch_hours import sketch_hours_over
from usage_ingest import make_rows

BATCH = 50_000


def spread(rows: list[UsageRow], now: float, days: int) -> list[UsageRow]:
    """The rows evenly over the last `days` days before `now`, oldest first."""
    step = days * 86_400 / len(rows)
    start = now - days * 86_400
    return [(start + index * step, *row[1:]) for index, row in enumerate(rows)]


Read = Callable[[AsyncSession, UsageQuery], Awaitable[UsageReport | list[Row]]]
# What is timed: each read from the events alone, and as the console reads it.
READS: dict[str, tuple[Read, Read]] = {
    "page": (events_report, usage_report),
    "CSV export": (events_per_operation_and_period, per_operation_and_period),
}


def estimated(read: UsageReport | list[Row]) -> bool:
    if isinstance(read, UsageReport):
        return read.totals.estimated
    return any(row.counts.estimated for row in read)


async def timed(
    sessions: async_sessionmaker[AsyncSession], query: UsageQuery, read: Read, sketched: bool
) -> float:
    times = []
    for attempt in range(4):
        async with sessions() as session:
            began = time.perf_counter()
            found = await read(session, query)
            if attempt:
                times.append(time.perf_counter() - began)
    assert estimated(found) == sketched, "read from the sketches only once sketched"
    return statistics.median(times) * 1000


async def time_reads(
    sessions: async_sessionmaker[AsyncSession], pages: dict[str, UsageQuery], sketched: bool
) -> None:
    source = "the sketches" if sketched else "the events"
    for name, query in pages.items():
        for kind, (from_events, as_read) in READS.items():
            figure = await timed(sessions, query, as_read if sketched else from_events, sketched)
            print(f"  all applications, {name}, {kind}, from {source}: {figure:9.1f} ms")


async def run(events: int, days: int) -> None:
    with tempfile.TemporaryDirectory(prefix="termgate-usage-pages-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'usage.db'}"
        await upgrade_async(url)
        engine = create_engine(url)
        sessions = session_factory(engine)
        now = datetime.now(UTC)
        rows = spread(make_rows(events), now.timestamp(), days)
        writer = UsageRecorder(engine, flush_seconds=60, batch_size=BATCH, buffer_limit=events)
        began = time.perf_counter()
        for start in range(0, len(rows), BATCH):
            await writer._insert(rows[start : start + BATCH])
        spent = time.perf_counter() - began
        print(f"wrote {events:,} events over {days} days: {events / spent:,.0f} events/s")
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        pages = {
            # (today's page has no whole hour to sketch just after midnight)
            "24 hours by hour": UsageQuery(now - timedelta(hours=24), now, "hour"),
            "7 days by day": UsageQuery(day - timedelta(days=6), now, "day"),
        }
        await time_reads(sessions, pages, False)
        began, hours = time.perf_counter(), 0
        while sketched := await sketch_hours_over(sessions, now, limit=24):
            hours += len(sketched)
        spent = time.perf_counter() - began
        each = spent / max(hours, 1) * 1000
        print(f"sketched {hours} hours in {spent:.1f} s, {each:.0f} ms an hour")
        await time_reads(sessions, pages, True)
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--days", type=int, default=8)
    args = parser.parse_args()
    if args.events < 1_000 or not 1 <= args.days <= 30:
        parser.error("events ≥ 1000; days 1-30")
    asyncio.run(run(args.events, args.days))


if __name__ == "__main__":
    main()
