"""The gateway's access snapshot at registry scale: 100,000 applications and 1,000,000 keys.

    uv run python bench/snapshot_scale.py                       (a scratch SQLite file)
    uv run python bench/snapshot_scale.py --postgres            (also a scratch PostgreSQL db)
    uv run python bench/snapshot_scale.py --keys 100000 --applications 10000   (a quick run)

Generates developers, applications, one subscription per application (on one of two plans, one
with a cap on end users) and the keys, with bulk inserts into a database made for the run and
removed after it. Then measures, for each database:

- the full load (`load_snapshot`): wall and process CPU time, and the snapshot's memory
  (tracemalloc: what the loaded snapshot keeps allocated, per key);
- one revocation through the registry (`revoke_key`, which appends to the change feed) until the
  refresher (`SnapshotHolder.refresh_once`) has swapped in a snapshot without the key; the same
  for one application suspended (its ten keys);
- the identify step's key lookup (`snapshot.keys.get(hash_key(key))`), CPU ns per lookup, with
  every key loaded and with 1,000: it must not grow with the number of keys.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import random
import sqlite3
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncEngine

from termgate.core.secrets import hash_key
from termgate.db.engine import create_engine, session_factory
from termgate.db.migrate import upgrade_async
from termgate.db.models import (
    Application,
    Developer,
    Environment,
    Plan,
    Product,
    Status,
    Subscription,
    SubscriptionKey,
)
from termgate.gateway.snapshot import AccessSnapshot, SnapshotHolder, load_snapshot
from termgate.registry.keys import revoke_key
from termgate.registry.status import change_status

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
APPS_PER_DEVELOPER = 4


def secret_of(number: int) -> str:
    return f"tg_bench_{number:09d}"


# What the bulk rows leave out, as the models' defaults would fill it in.
FILL: dict[str, Any] = {
    "status": Status.ACTIVE,
    "created_at": datetime.now(UTC),
    "session_epoch": 0,
    "description": "",
    "use_case": "",
    "requested_scopes": "",
    "redirect_uris": "",
    "environment": Environment.SANDBOX,
    "operations": "*",
    "max_page_size": 100,
    "quota_period": "month",
    "price_cents_per_month": 0,
    "time_zone": "Europe/Amsterdam",
}


async def _bulk(
    engine: AsyncEngine, model: Any, names: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """Rows straight through the driver: executemany on SQLite, COPY on PostgreSQL; every value
    converted by its column's own type, as the ORM would store it."""
    table: Table = model.__table__
    dialect = engine.dialect
    columns = names + [c.name for c in table.columns if not c.nullable and c.name not in names]
    extra = tuple(FILL[name] for name in columns[len(names) :])
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]

    def converted(row: tuple[Any, ...]) -> tuple[Any, ...]:
        values = row + extra
        return tuple(p(v) if p else v for p, v in zip(processors, values, strict=True))

    records = [converted(row) for row in rows]
    if dialect.name == "sqlite":
        path = engine.url.database or ""
        with sqlite3.connect(path) as connection:
            marks = ", ".join("?" * len(columns))
            connection.executemany(
                f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", records
            )
        return
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(url)
    try:
        await connection.copy_records_to_table(table.name, records=records, columns=columns)
    finally:
        await connection.close()


async def generate(engine: AsyncEngine, applications: int, keys: int) -> list[str]:
    """The registry; returns the key ids in order (key n's secret is `secret_of(n)`)."""
    product = uuid.uuid4().hex
    plans = [uuid.uuid4().hex, uuid.uuid4().hex]
    async with engine.begin() as connection:
        await connection.execute(
            insert(Product.__table__),
            [
                {
                    "id": product,
                    "slug": "bench",
                    "name": "Bench",
                    "environment": Environment.PRODUCTION,
                }
            ],
        )
        await connection.execute(
            insert(Plan.__table__),
            [
                {"id": plans[0], "product_id": product, "slug": "open", "name": "Open"},
                {
                    "id": plans[1],
                    "product_id": product,
                    "slug": "capped",
                    "name": "Capped",
                    "rate_limit_per_minute": 600,
                    "max_end_users": 100,
                },
            ],
        )
    developers = [uuid.uuid4().hex for _ in range(-(-applications // APPS_PER_DEVELOPER))]
    await _bulk(
        engine,
        Developer,
        ["id", "email", "name"],
        [(d, f"d{n}@bench.example", f"D{n}") for n, d in enumerate(developers)],
    )
    apps = [uuid.uuid4().hex for _ in range(applications)]
    await _bulk(
        engine,
        Application,
        ["id", "developer_id", "name"],
        [(a, developers[n // APPS_PER_DEVELOPER], f"A{n}") for n, a in enumerate(apps)],
    )
    await _bulk(
        engine,
        Subscription,
        ["id", "application_id", "plan_id"],
        [(a, a, plans[n % 2]) for n, a in enumerate(apps)],
    )
    key_ids = [uuid.uuid4().hex for _ in range(keys)]
    await _bulk(
        engine,
        SubscriptionKey,
        ["id", "subscription_id", "slot", "key_hash", "prefix"],
        [
            (
                k,
                apps[n % applications],
                f"s{n // applications}",
                hash_key(secret_of(n)),
                f"tg_{n:09d}"[:12],
            )
            for n, k in enumerate(key_ids)
        ],
    )
    return key_ids


def _timed(label: str, wall: float, cpu: float) -> None:
    print(f"  {label:<44} {wall * 1000:9.1f} ms wall {cpu * 1000:9.1f} ms CPU")


async def _measure_load(sessions: Any) -> AccessSnapshot:
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    async with sessions() as session:
        snapshot = await load_snapshot(session)
    _timed(
        f"full load ({len(snapshot.keys):,} keys)",
        time.perf_counter() - wall,
        time.process_time() - cpu,
    )
    del snapshot
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    async with sessions() as session:
        snapshot = await load_snapshot(session)
    gc.collect()
    kept = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    print(
        f"  snapshot memory (tracemalloc)                {kept / 2**20:9.1f} MiB"
        f" {kept / max(len(snapshot.keys), 1):9.0f} B per key"
    )
    return snapshot


async def _change_then_refresh(
    holder: SnapshotHolder, label: str, change: Callable[[Any], Awaitable[Any]]
) -> None:
    async with holder.sessions() as session:
        await change(session)
        await session.commit()
    wall, cpu = time.perf_counter(), time.process_time()
    assert await holder.refresh_once()
    _timed(label, time.perf_counter() - wall, time.process_time() - cpu)


def _lookup_ns(tables: list[tuple[dict[str, Any], list[str]]]) -> list[float]:
    """CPU ns per `keys.get(hash_key(secret))`, the identify step's lookup, per table: the best
    of 5 rounds, the tables taken in turn within each round (A, B, A, B) so load hits all alike."""
    best = [float("inf")] * len(tables)
    for _ in range(5):
        for index, (keys, secrets) in enumerate(tables):
            start = time.process_time_ns()
            for secret in secrets:
                if keys.get(hash_key(secret)) is None:
                    raise AssertionError("a generated key is missing from the snapshot")
            best[index] = min(best[index], (time.process_time_ns() - start) / len(secrets))
    return best


def _lookup_tables(
    keys: dict[str, Any], total: int, lookups: int
) -> list[tuple[dict[str, Any], list[str]]]:
    """The snapshot's key map, and maps of its first 100,000 and 1,000 keys, each with `lookups`
    secrets of keys in it, drawn at random."""
    tables = []
    for size in (total, 100_000, 1_000):
        if size > total:
            continue
        numbers = [n for n in range(size) if hash_key(secret_of(n)) in keys]
        table = {hash_key(secret_of(n)): keys[hash_key(secret_of(n))] for n in numbers}
        drawn = random.Random(size).choices(numbers, k=lookups)
        tables.append((table if size < total else keys, [secret_of(n) for n in drawn]))
    return tables


async def run(url: str, applications: int, keys: int, lookups: int) -> None:
    engine = create_engine(url)
    await upgrade_async(url)
    wall = time.perf_counter()
    key_ids = await generate(engine, applications, keys)
    print(
        f"  generated {applications:,} applications, {keys:,} keys in "
        f"{time.perf_counter() - wall:.1f} s"
    )
    sessions = session_factory(engine)
    snapshot = await _measure_load(sessions)
    holder = SnapshotHolder(sessions, 0.5)
    holder.current = snapshot
    victim = random.Random(1).randrange(keys)
    await _change_then_refresh(
        holder,
        "one key revoked → refreshed snapshot",
        lambda s: revoke_key(s, key_ids[victim], "bench", "bench"),
    )
    assert hash_key(secret_of(victim)) not in holder.current.keys
    application = await _application_of(holder, secret_of((victim + 1) % keys))
    await _change_then_refresh(
        holder,
        "one application suspended → refreshed",
        lambda s: change_status(s, "application", application, Status.SUSPENDED, "bench", "bench"),
    )
    tables = _lookup_tables(holder.current.keys, keys, lookups)
    for (table, _), ns in zip(tables, _lookup_ns(tables), strict=True):
        print(f"  {f'key lookup, {len(table):,} keys loaded':<44} {ns:9.0f} ns CPU")
    await engine.dispose()


async def _application_of(holder: SnapshotHolder, secret: str) -> str:
    return holder.current.keys[hashlib.sha256(secret.encode()).hexdigest()].application_id


async def _postgres(applications: int, keys: int, lookups: int) -> None:
    name = f"termgate_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        print(f"PostgreSQL ({name}, dropped after)")
        await run(
            f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}", applications, keys, lookups
        )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applications", type=int, default=100_000)
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=200_000)
    parser.add_argument("--postgres", action="store_true", help="also on a scratch PostgreSQL db")
    parser.add_argument("--no-sqlite", action="store_true")
    options = parser.parse_args()
    if not options.no_sqlite:
        with tempfile.TemporaryDirectory() as scratch:
            print(f"SQLite ({Path(scratch) / 'bench.db'})")
            url = f"sqlite+aiosqlite:///{Path(scratch) / 'bench.db'}"
            asyncio.run(run(url, options.applications, options.keys, options.lookups))
    if options.postgres:
        asyncio.run(_postgres(options.applications, options.keys, options.lookups))


if __name__ == "__main__":
    main()
