"""What SQLite's insert of one usage event costs, by pragma and with or without the indexes.

    uv run python bench/sqlite_insert_cost.py --events 100000

Raw `sqlite3` (no driver thread, no SQLAlchemy): the usage writer's statement and row format
(`usage_rows.SQLITE_INSERT`, `sqlite_time`), `executemany` in transactions of 5,000 events, into a
copy of a freshly migrated database per variant that already holds `--prefill` batches of
`--events`. Events as `usage_ingest.make_rows` makes them, with one application, developer and end
user as in bench/run.py (`--spread` keeps its 200 keys and 1,000 end users). Prints the user and
system CPU of the process (`os.times`) per event of the measured batch.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from termgate.db.migrate import upgrade
from termgate.gateway.usage_rows import SQLITE_INSERT, TABLE, UsageRow, sqlite_time
from usage_ingest import make_rows

INDEXES = ("ix_usage_events_application_at", "ix_usage_events_at", "ix_usage_events_end_user_at")
VARIANTS: dict[str, list[str]] = {
    "defaults": [],
    "synchronous=NORMAL": ["PRAGMA synchronous=NORMAL"],
    "cache_size 64 MB": ["PRAGMA cache_size=-65536"],
    "mmap_size 256 MB": ["PRAGMA mmap_size=268435456"],
    "wal_autocheckpoint=10000": ["PRAGMA wal_autocheckpoint=10000"],
    "without the 3 indexes": [f"DROP INDEX {name}" for name in INDEXES],
}


def batches(rows: list[UsageRow], number: int, spread: bool) -> list[UsageRow]:
    """The rows as the `number`th batch: later times, other request ids."""
    base, first = time.time(), rows[0]
    out: list[UsageRow] = []
    for index, row in enumerate(rows):
        at = base + (number * len(rows) + index) * 0.0001
        if spread:
            out.append((at, f"{number}-{row[1]}", *row[2:]))
        else:
            same = (first[2], first[3], first[4])
            out.append((at, f"{number}-{row[1]}", *same, *row[5:12], first[12], *row[13:]))
    return out


def insert(connection: sqlite3.Connection, rows: list[UsageRow]) -> None:
    for start in range(0, len(rows), 5_000):
        connection.execute("BEGIN")
        connection.executemany(
            SQLITE_INSERT, ((sqlite_time(r[0]), *r[1:]) for r in rows[start : start + 5_000])
        )
        connection.execute("COMMIT")


def measure(path: Path, pragmas: list[str], rows: list[UsageRow], args: argparse.Namespace) -> str:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        for pragma in pragmas:
            connection.execute(pragma)
        for number in range(args.prefill):
            insert(connection, batches(rows, number, args.spread))
        measured = batches(rows, args.prefill, args.spread)
        before = os.times()
        insert(connection, measured)
        after = os.times()
    finally:
        connection.close()
    user = (after.user - before.user) * 1e6 / len(rows)
    system = (after.system - before.system) * 1e6 / len(rows)
    return f"user {user:5.2f} + system {system:5.2f} = {user + system:5.2f} µs/event"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="per batch measured")
    parser.add_argument("--prefill", type=int, default=3, help="batches stored before")
    parser.add_argument("--spread", action="store_true", help="200 keys, 1,000 end users")
    args = parser.parse_args()
    rows = make_rows(args.events)
    with tempfile.TemporaryDirectory(prefix="termgate-insert-") as folder:
        migrated = Path(folder) / "migrated.db"
        upgrade(f"sqlite+aiosqlite:///{migrated}")
        for number, (name, pragmas) in enumerate([*VARIANTS.items(), ("defaults", [])]):
            copy = Path(folder) / f"variant-{number}.db"
            shutil.copy(migrated, copy)
            print(f"{name:26} {measure(copy, pragmas, rows, args)}", flush=True)
            copy.unlink()
    print(f"table {TABLE}, {args.events:,} events measured after {args.prefill} batches")


if __name__ == "__main__":
    main()
