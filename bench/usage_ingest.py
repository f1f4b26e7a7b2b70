"""Usage ingestion: events per second the gateway's usage writer reaches into the database.

Runs the real writer (`UsageRecorder.flush`, one transaction per batch of `--batch` events, the
`usage_batch_size` setting) on a freshly migrated scratch database of each kind: a SQLite file in
a temporary folder and a PostgreSQL database created on the server at `--postgres` and dropped at
the end. `--method` compares the writer's PostgreSQL path (COPY, with the hourly summary's upsert
in the same transaction) with the alternatives measured for it: asyncpg `executemany` of a
one-row INSERT and one multi-row `INSERT … VALUES` per batch; `events-only` is the writer as it
was before the summary (COPY alone; executemany alone on SQLite), `hourly-only` as it was before
the daily summary (migration 0020: the events and the hourly upsert; PostgreSQL only, as SQLite's
daily summary is kept by triggers: compare an older checkout with `PYTHONPATH=…/src`).
Methods run interleaved (A, B, A, B …) on an emptied table so machine load hits them alike.

    python3 -m uv run python bench/usage_ingest.py --events 500000 --rounds 3
    python3 -m uv run python bench/usage_ingest.py --databases postgresql \
        --method copy,values,executemany --events 200000

Prints, per database, method and round: events, seconds, events/s (wall clock) and the client
process's CPU µs per event (`time.process_time`: all threads, so aiosqlite's writer too).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from inspect import signature
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from termgate.db.engine import create_engine
from termgate.db.migrate import upgrade
from termgate.db.usage_hourly import TABLE as HOURLY
from termgate.db.usage_hourly import add_hourly
from termgate.gateway.observe import UsageRecorder
from termgate.gateway.usage_rows import COLUMNS, SQLITE_INSERT, TABLE, UsageRow, sqlite_time

# By name: usage_flush_loop.py imports this module with older checkouts.
DAILY, PARTIES = "usage_daily", "usage_daily_parties"
POSTGRES_ADMIN = os.environ.get(
    "TERMGATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
OPERATIONS = [
    ("GET", "/api/companies/{companyId}/employees", "employee.personal"),
    ("GET", "/api/companies/{companyId}", "company.info"),
    ("GET", "/api/debtors/{debtorId}", "debtor.info"),
    ("POST", "/api/companies/{companyId}/employees", "employee.personal"),
    ("GET", "/api/debtors", None),
]


def make_rows(
    count: int, seed: int = 11, end_users: int = 1000, addresses: int = 256
) -> list[UsageRow]:
    """`count` events as `UsageRecorder.record` makes them: 200 keys, `end_users` end users,
    `addresses` client addresses (each event any of them)."""
    rng = random.Random(seed)
    keys = [
        (uuid.UUID(int=rng.getrandbits(128)).hex, f"app{k:029d}", f"dev{k % 40:029d}")
        for k in range(200)
    ]
    users = [uuid.UUID(int=rng.getrandbits(128)).hex for _ in range(end_users)]
    debtors = [
        (str(uuid.UUID(int=rng.getrandbits(128))), str(uuid.UUID(int=rng.getrandbits(128))))
        for _ in range(100)
    ]  # (debtor, company)
    start = time.time() - count / 50_000
    rows: list[UsageRow] = []
    for index in range(count):
        key_id, application_id, developer_id = keys[rng.randrange(len(keys))]
        method, operation, category = OPERATIONS[rng.randrange(len(OPERATIONS))]
        tenants = debtors[rng.randrange(len(debtors))]
        ok = rng.random() < 0.97
        address = rng.randrange(addresses)
        rows.append(
            (
                start + index / 50_000,
                uuid.UUID(int=rng.getrandbits(128)).hex,
                key_id,
                application_id,
                developer_id,
                method,
                operation,
                200 if ok else 429,
                None if ok else 42901,
                rng.randrange(0, 400),
                rng.randrange(200, 40_000),
                rng.uniform(0.5, 40.0),
                users[rng.randrange(len(users))] if rng.random() < 0.8 else None,
                category,
                f"client-{index}" if rng.random() < 0.1 else None,
                tenants[0] if operation.startswith("/api/debtors/") else None,
                tenants[1] if "{companyId}" in operation else None,
                None,
                f"198.51.{address // 256}.{address % 256}",
                f"{category}.read" if category else None,
            )
        )
    return rows


class EventsOnlyRecorder(UsageRecorder):
    """The writer as it was before the hourly summary (revision 0014): the events alone."""

    async def _insert(self, rows: list[UsageRow]) -> None:
        async with self.engine.begin() as connection:
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            if self.engine.dialect.name == "postgresql":
                await driver.copy_records_to_table(
                    TABLE, records=_pg_records(rows), columns=COLUMNS
                )
            else:
                records = [(sqlite_time(row[0]), *row[1:]) for row in rows]
                await driver.executemany(SQLITE_INSERT, records)


class HourlyOnlyRecorder(UsageRecorder):
    """The writer before the daily summary (revision 0019) on PostgreSQL: COPY and the hourly
    upsert."""

    async def _insert(self, rows: list[UsageRow]) -> None:
        async with self.engine.begin() as connection:
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            async with driver.transaction():  # as the writer: one commit, not one a statement
                await driver.copy_records_to_table(
                    TABLE, records=_pg_records(rows), columns=COLUMNS
                )
                await add_hourly(driver, rows)


class ExecutemanyRecorder(UsageRecorder):
    """asyncpg `executemany` of a one-row INSERT: one Bind/Execute per event, one round trip."""

    async def _insert(self, rows: list[UsageRow]) -> None:
        statement = (
            f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join(f'${n + 1}' for n in range(len(COLUMNS)))})"
        )
        async with self.engine.begin() as connection:
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            await driver.executemany(statement, _pg_records(rows))


class ValuesRecorder(UsageRecorder):
    """Multi-row `INSERT … VALUES (…), (…)`: one statement per 1,500 events of a batch (20
    parameters an event; PostgreSQL takes at most 32,767 per statement), one transaction."""

    async def _insert(self, rows: list[UsageRow]) -> None:
        async with self.engine.begin() as connection:
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            async with driver.transaction():  # as the writer: one commit, not one a statement
                for start in range(0, len(rows), VALUES_ROWS):
                    chunk = rows[start : start + VALUES_ROWS]
                    flat = [value for record in _pg_records(chunk) for value in record]
                    await driver.execute(_values_statement(len(chunk)), *flat)


VALUES_ROWS = 1_500


def _values_statement(count: int) -> str:
    width = len(COLUMNS)
    tuples = ", ".join(
        "(" + ", ".join(f"${r * width + c + 1}" for c in range(width)) + ")" for r in range(count)
    )
    return f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES {tuples}"


def _pg_records(rows: list[UsageRow]) -> list[tuple[Any, ...]]:
    from datetime import UTC, datetime

    return [(datetime.fromtimestamp(row[0], UTC), *row[1:]) for row in rows]


def server_writer(engine: AsyncEngine, **settings: Any) -> UsageRecorder:
    """The writer as the server makes it: on PostgreSQL on a thread of its own, where the
    checkout under test has one (`PYTHONPATH` may name an older one)."""
    if "writer_thread" in signature(UsageRecorder).parameters:
        settings["writer_thread"] = True
    return UsageRecorder(engine, **settings)


async def stop_writer(recorder: UsageRecorder) -> None:
    stop = getattr(recorder, "stop_thread", None)
    if stop is not None:
        await asyncio.to_thread(stop)


RECORDERS: dict[str, Callable[..., UsageRecorder]] = {
    "copy": server_writer,  # the writer itself: COPY on PostgreSQL, executemany on SQLite
    "events-only": EventsOnlyRecorder,  # the same without the hourly summary (before 0015)
    "hourly-only": HourlyOnlyRecorder,  # the same without the daily summary (before 0020)
    "executemany": ExecutemanyRecorder,
    "values": ValuesRecorder,
}


def _proc_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a local process, None if it is not on this machine."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _server_cpu(engine: AsyncEngine) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend serving this database (the server is local)."""
    if engine.dialect.name != "postgresql":
        return {}
    query = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
    async with engine.connect() as connection:
        pids = list((await connection.execute(query)).scalars())
    found: dict[int, float] = {}
    for pid in pids:
        seconds = _proc_cpu(pid)
        if seconds is not None:
            found[pid] = seconds
    return found


async def _one_round(
    engine: AsyncEngine, method: str, rows: list[UsageRow], batch: int
) -> tuple[float, float, float]:
    async with engine.begin() as connection:
        present = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        for table in (name for name in (TABLE, HOURLY, DAILY, PARTIES) if name in present):
            empty = (
                f"DELETE FROM {table}" if engine.dialect.name == "sqlite" else f"TRUNCATE {table}"
            )
            await connection.execute(text(empty))
    recorder = RECORDERS[method](
        engine, flush_seconds=1.0, batch_size=batch, buffer_limit=max(len(rows), 1000)
    )
    recorder.buffer = list(rows)
    server = await _server_cpu(engine)
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        written = await recorder.flush()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        after = await _server_cpu(engine)  # the writer's own connection still open
    finally:
        await stop_writer(recorder)
    server_cpu = sum(seconds - server.get(pid, 0.0) for pid, seconds in after.items())
    async with engine.connect() as connection:
        stored = (await connection.execute(text(f"SELECT count(*) FROM {TABLE}"))).scalar_one()
    if written != len(rows) or stored != len(rows):
        raise SystemExit(f"{method}: wrote {written}, stored {stored} of {len(rows)}")
    return wall, cpu, server_cpu


async def _bench(
    url: str, kind: str, methods: list[str], rows: list[UsageRow], batches: list[int], rounds: int
) -> None:
    engine = create_engine(url)
    try:
        for round_ in range(1, rounds + 1):
            for batch, method in ((b, m) for b in batches for m in methods):
                wall, cpu, server = await _one_round(engine, method, rows, batch)
                served = f" server CPU {server * 1e6 / len(rows):5.1f} µs/event" if server else ""
                print(
                    f"{kind:10} {method:11} batch {batch:6} round {round_}: {len(rows):,} events "
                    f"{wall:6.2f} s {len(rows) / wall:9,.0f} events/s "
                    f"client CPU {cpu * 1e6 / len(rows):5.1f} µs/event{served}",
                    flush=True,
                )
    finally:
        await engine.dispose()


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def scratch_postgresql() -> Iterator[str]:
    """The URL of a freshly migrated database on the server at `POSTGRES_ADMIN`, dropped after."""
    name = f"termgate_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    try:
        base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        url = f"{base}/{name}"
        upgrade(url)
        yield url
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run_postgresql(methods: list[str], rows: list[UsageRow], batch: list[int], rounds: int) -> None:
    with scratch_postgresql() as url:
        asyncio.run(_bench(url, "postgresql", methods, rows, batch, rounds))


def run_sqlite(methods: list[str], rows: list[UsageRow], batch: list[int], rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="termgate-bench-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'usage.db'}"
        upgrade(url)
        kinds = [m for m in methods if m in ("copy", "events-only")] or ["copy"]
        asyncio.run(_bench(url, "sqlite", kinds, rows, batch, rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument(
        "--batch", default="50000", help="usage_batch_size: one or more, 5000,50000"
    )
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument(
        "--end-users",
        type=int,
        default=1000,
        help="the events' end users (each event any of them, one in five none)",
    )
    parser.add_argument("--addresses", type=int, default=256, help="the events' client addresses")
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument("--method", default="copy", help="PostgreSQL: copy,values,executemany")
    args = parser.parse_args()
    methods = [m for m in args.method.split(",") if m]
    try:
        batches = [int(b) for b in args.batch.split(",")]
    except ValueError:
        parser.error("--batch: whole numbers, comma-separated")
    unknown = set(methods) - set(RECORDERS)
    if unknown or min(args.events, args.end_users, args.addresses, *batches) < 1:
        parser.error(
            f"unknown method {sorted(unknown)}"
            if unknown
            else "events, batch, end users, addresses ≥ 1"
        )
    rows = make_rows(args.events, end_users=args.end_users, addresses=args.addresses)
    print(f"load: {os.getloadavg()[0]:.2f} (1-min)", flush=True)
    for kind in args.databases.split(","):
        if kind == "postgresql":
            run_postgresql(methods, rows, batches, args.rounds)
        elif kind == "sqlite":
            run_sqlite(methods, rows, batches, args.rounds)
        else:
            parser.error(f"unknown database {kind!r}")


if __name__ == "__main__":
    main()
