"""The scratch month of usage events `bench/usage_queries.py` times the reads on: `--rows` events
spread evenly over the last 30 days (or `--days`), generated server-side (`generate_series`: 2,000
applications with one key each, 100,000 end users, 20 operations needing 10 scopes, half of
them naming a debtor, a company and an employee of 1,000,000), then the hourly summary summed
from them, each hour's events from it (as migration 0023 counts them), the daily summary from
the hourly (as migration 0021 rebuilds it), the daily parties (end users and addresses, as
migration 0022 fills them), the migrated secondary indexes built after (faster than maintained
row by row)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

FILL = """
INSERT INTO usage_events (at, request_id, key_id, application_id, developer_id, method,
    operation, status, code, bytes_in, bytes_out, latency_ms, end_user_id, data_category,
    client_request_id, scope, client_ip, debtor_id, company_id, employee_id)
SELECT CAST(:start AS timestamptz) + (n * CAST(:step AS bigint)) * interval '1 microsecond',
       md5(n::text),
       'key' || lpad((hash % 2000)::text, 29, '0'),
       'app' || lpad((hash % 2000)::text, 29, '0'),
       'dev' || lpad((hash % 2000 / 50)::text, 29, '0'),
       CASE WHEN hash / 2000 % 20 % 7 = 0 THEN 'POST' ELSE 'GET' END,
       '/api/op' || (hash / 2000 % 20)::text || '/{id}',
       CASE WHEN hash % 31 = 0 THEN 429 ELSE 200 END,
       CASE WHEN hash % 31 = 0 THEN 42901 END,
       hash % 400, 200 + hash % 40000, (hash % 4000) / 100.0,
       CASE WHEN hash % 5 = 0 THEN NULL
            WHEN CAST(:per_application AS bigint) = 0
            THEN 'user' || lpad((hash / 40000 % 100000)::text, 28, '0')
            ELSE 'user' || lpad((((hash % 2000) * 37 + hash / 40000 % :per_application)
                                 % 100000)::text, 28, '0') END,
       'category' || (hash / 2000 % 20 / 4)::text,
       NULL,
       'scope' || (hash / 2000 % 20 / 2)::text || '.read',
       '10.' || (hash % 2000 / 250)::text || '.' || (hash % 250)::text || '.'
           || (hash / 2000 % 4)::text,
       -- the tenants the paths of half the operations name: 2,000 debtors, 20,000 companies,
       -- 1,000,000 employees
       CASE WHEN hash / 2000 % 2 = 0 THEN 'debtor' || (hash / 3 % 2000)::text END,
       CASE WHEN hash / 2000 % 2 = 0 THEN 'company' || (hash / 5 % 20000)::text END,
       CASE WHEN hash / 2000 % 2 = 0 THEN 'employee' || (hash / 7 % 1000000)::text END
FROM (SELECT n, abs(hashint8(n)) AS hash
      FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS n) AS numbers
"""

# The hourly summary of the filled events, as migration 0021 builds it from stored events.
HOURLY_FILL = """
INSERT INTO usage_hourly (hour, key_id, application_id, developer_id, method, operation, status,
    code, scope, requests, bytes_in, bytes_out, latency_ms)
SELECT date_trunc('hour', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', coalesce(key_id, ''),
       coalesce(application_id, ''), coalesce(developer_id, ''), method,
       coalesce(operation, ''), status, coalesce(code, 0), coalesce(scope, ''), count(*),
       sum(bytes_in), sum(bytes_out), sum(latency_ms)
FROM usage_events GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
"""

# Each hour's events, as migration 0023 counts them.
HOURS_FILL = (
    "INSERT INTO usage_hours (hour, events) "
    "SELECT hour, sum(requests) FROM usage_hourly GROUP BY hour"
)

# The daily summary of the hourly one, as migration 0021 builds it.
DAILY_FILL = """
INSERT INTO usage_daily (day, key_id, application_id, developer_id, method, operation, status,
    code, scope, requests, bytes_in, bytes_out, latency_ms)
SELECT date_trunc('day', hour AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', key_id, application_id,
       developer_id, method, operation, status, code, scope, sum(requests), sum(bytes_in),
       sum(bytes_out), sum(latency_ms)
FROM usage_hourly GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
"""

# The daily parties of the filled events, as migration 0022 fills them.
PARTIES_FILL = """
INSERT INTO usage_daily_parties (day, application_id, party, value)
SELECT date_trunc('day', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', application_id,
       'end_user', end_user_id
FROM usage_events WHERE application_id IS NOT NULL AND end_user_id IS NOT NULL
UNION
SELECT date_trunc('day', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', application_id, 'address',
       client_ip
FROM usage_events WHERE application_id IS NOT NULL AND client_ip IS NOT NULL
"""

SUMMARIES = ("usage_events", "usage_hourly", "usage_hours", "usage_daily", "usage_daily_parties")


async def fill(
    engine: AsyncEngine,
    rows: int,
    now: datetime,
    end_users_per_application: int = 0,
    days: int = 30,
) -> None:
    """Rows in chunks of a million over the last `days`, the migrated secondary indexes built
    after (faster). Each event's end user is any of the 100,000, or with
    `end_users_per_application` one of its application's own that many (neighbouring
    applications sharing some). Fewer days than a month give a month's density of
    `rows * 30 / days` events for the reads of windows up to that long, without its size."""
    query = text(
        "SELECT indexname, indexdef FROM pg_indexes "
        "WHERE tablename IN ('usage_events', 'usage_hourly', 'usage_daily') "
        "AND indexname LIKE 'ix_%'"
    )
    async with engine.connect() as connection:
        indexes = (await connection.execute(query)).all()
        for name, _definition in indexes:
            await connection.execute(text(f"DROP INDEX {name}"))
    start = now - timedelta(days=days)
    step = int(days * 86_400 * 1e6 / rows)
    chunk = 1_000_000
    for first in range(0, rows, chunk):
        began = time.perf_counter()
        async with engine.connect() as connection:
            await connection.execute(
                text(FILL),
                {
                    "start": start,
                    "step": step,
                    "first": first,
                    "last": min(rows, first + chunk) - 1,
                    "per_application": end_users_per_application,
                },
            )
        print(
            f"  filled {min(rows, first + chunk):,} ({time.perf_counter() - began:.1f} s)",
            flush=True,
        )
    began = time.perf_counter()
    async with engine.connect() as connection:
        await connection.execute(text(HOURLY_FILL))
        await connection.execute(text(HOURS_FILL))
    print(f"  hourly summary filled ({time.perf_counter() - began:.1f} s)", flush=True)
    began = time.perf_counter()
    async with engine.connect() as connection:
        await connection.execute(text(DAILY_FILL))
    print(f"  daily summary filled ({time.perf_counter() - began:.1f} s)", flush=True)
    began = time.perf_counter()
    async with engine.connect() as connection:
        await connection.execute(text(PARTIES_FILL))
    print(f"  daily parties filled ({time.perf_counter() - began:.1f} s)", flush=True)
    began = time.perf_counter()
    async with engine.connect() as connection:
        for _name, definition in indexes:
            await connection.execute(text(definition))
        for table in SUMMARIES:
            await connection.execute(text(f"VACUUM ANALYZE {table}"))
    print(f"  indexes built, vacuumed ({time.perf_counter() - began:.1f} s)", flush=True)
