"""Probing's day on a dense SQLite day: its read from the summaries against the day's events.

Writes `--events` usage events spread over the 24 hours before a fixed moment, from
`--applications` applications (a quarter of the answers refused with probing's codes), through
the real usage writer (`UsageRecorder`, so the hourly and daily summaries are kept as in
production) into a freshly migrated SQLite file in a temporary folder; then times, alternated,
probing's read as the code makes it (`aggregate.refusal_counts`: the day's whole hours from
`usage_hourly`, the cut hours from the events) and as it was before (the day's events,
`usage_reads_before.events_refusals`), best of `--rounds`, and checks both count the same.

    python3 -m uv run python bench/probing_day.py --events 2000000 --applications 20
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import usage_reads_before as before
from termgate.db.engine import create_engine, session_factory
from termgate.db.migrate import upgrade
from termgate.gateway.observe import UsageRecorder
from termgate.gateway.usage_rows import UsageRow
from termgate.monitoring.aggregate import refusal_counts
from termgate.monitoring.window import Window

NOW = datetime(2026, 11, 30, 10, 30, tzinfo=UTC)  # half an hour in: both ends cut an hour
ANSWERS = [(200, None)] * 9 + [(403, 40303), (401, 40102), (404, 40401)]
BATCH = 50_000


def rows(count: int, applications: int) -> list[UsageRow]:
    rng = random.Random(7)
    start = NOW.timestamp() - 86_400
    made: list[UsageRow] = []
    for i in range(count):
        app = rng.randrange(applications)
        status, code = rng.choice(ANSWERS)
        made.append(
            (start + i * 86_400 / count, f"r{i}", f"k{app}", f"a{app}", f"d{app // 2}", "GET",
             "/api/employees/{employeeId}", status, code, 0, 2_000, 3.0, f"u{rng.randrange(500)}",
             None, None, None, None, None, "192.0.2.1", "employee.info.read")
        )  # fmt: skip
    return made


async def run(url: str, events: int, applications: int, rounds: int) -> None:
    engine = create_engine(url)
    try:
        recorder = UsageRecorder(engine, flush_seconds=60, batch_size=BATCH, buffer_limit=BATCH)
        made = rows(events, applications)
        began = time.perf_counter()
        for first in range(0, len(made), BATCH):
            await recorder._insert(made[first : first + BATCH])
        print(f"{events:,} events written in {time.perf_counter() - began:.1f} s", flush=True)
        window = Window(NOW - timedelta(days=1), NOW)
        best = {"summaries (now)": float("inf"), "events (before)": float("inf")}
        counts = {}
        async with session_factory(engine)() as session:
            for _ in range(rounds):
                for name, read in (
                    ("summaries (now)", lambda: refusal_counts(session, window)),
                    ("events (before)", lambda: before.events_refusals(session, window)),
                ):
                    began = time.perf_counter()
                    found = await read()
                    best[name] = min(best[name], time.perf_counter() - began)
                    counts[name] = sorted(
                        (r.party.application_id, r.requests, r.refused, r.foreign_tenant)
                        for r in found
                    )
        for name, seconds in best.items():
            print(f"  probing's day, {name:16} {seconds * 1000:8.1f} ms (best of {rounds})")
        same = counts["summaries (now)"] == counts["events (before)"]
        print(f"  the same counts: {same}")
        if not same:
            raise SystemExit("the two reads disagree")
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--applications", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'termgate.db'}"
        upgrade(url)
        asyncio.run(run(url, args.events, args.applications, args.rounds))


if __name__ == "__main__":
    main()
