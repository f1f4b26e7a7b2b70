"""What one flush of the usage writer costs the serving event loop's thread.

    uv run python bench/usage_flush_loop.py                    # this checkout, SQLite
    uv run python bench/usage_flush_loop.py --database postgresql   # a scratch database
    PYTHONPATH=../other/src uv run python bench/usage_flush_loop.py   # another checkout's writer

Runs the real writer (`UsageRecorder.flush`, made as the server makes it) on a freshly migrated
SQLite file (or a PostgreSQL database created on the server at `usage_ingest.POSTGRES_ADMIN` and
dropped after), `--flushes` times with `--events` events each (made as `UsageRecorder.record`
makes them, `usage_ingest.py`), and prints the CPU of the thread that runs the event loop
(`time.thread_time`) and of the whole process (`time.process_time`: the driver's or the
writer's thread too; not PostgreSQL's server), µs per event, median and minimum over the
flushes. Thread CPU time does not depend on how busy the machine is, the wall clock does: the
loop thread's figure is how long the loop cannot serve requests while a flush runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import termgate.gateway.observe as observe
from termgate.db.engine import create_engine
from termgate.db.migrate import upgrade
from usage_ingest import make_rows, scratch_postgresql, server_writer, stop_writer


async def flushes(url: str, events: int, count: int) -> tuple[list[float], list[float]]:
    engine = create_engine(url)
    rows = make_rows(events)
    loop_us: list[float] = []
    process_us: list[float] = []
    try:
        for flush in range(count):
            recorder = server_writer(
                engine, flush_seconds=1.0, batch_size=5_000, buffer_limit=10 * events
            )
            # Each flush a later hour and other request ids: new summary rows, as in a day.
            recorder.buffer = [(r[0] + flush * 3600, f"{flush}-{r[1]}", *r[2:]) for r in rows]
            thread, process = time.thread_time(), time.process_time()
            await recorder.flush()
            loop_us.append((time.thread_time() - thread) * 1e6 / events)
            process_us.append((time.process_time() - process) * 1e6 / events)
            await stop_writer(recorder)
    finally:
        await engine.dispose()
    return loop_us, process_us


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000, help="per flush")
    parser.add_argument("--flushes", type=int, default=10)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    if args.database == "postgresql":
        with scratch_postgresql() as url:
            loop_us, process_us = asyncio.run(flushes(url, args.events, args.flushes))
    else:
        with tempfile.TemporaryDirectory(prefix="termgate-flush-") as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'usage.db'}"
            upgrade(url)
            loop_us, process_us = asyncio.run(flushes(url, args.events, args.flushes))
    print(
        f"{observe.__file__} on {args.database}: {args.flushes} flushes of {args.events:,} "
        "events; event loop's "
        f"thread {statistics.median(loop_us):.2f} µs/event (min {min(loop_us):.2f}), process "
        f"{statistics.median(process_us):.2f} µs/event (min {min(process_us):.2f})"
    )


if __name__ == "__main__":
    main()
