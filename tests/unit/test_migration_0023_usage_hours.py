"""Migration 0023, clause 4.1: a database at 0022 whose hourly summary holds events gets each
hour's count in `usage_hours`, and an empty table of sketches; the usage writer then adds to
the hours' counts; a downgrade removes both tables and keeps the summary. On SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from termgate.db.engine import create_engine
from termgate.db.migrate import alembic_config, upgrade_async
from termgate.gateway.observe import UsageRecorder
from termgate.gateway.usage_rows import UsageRow
from tests.support.migrated import database_at

TEN = datetime(2026, 11, 28, 10, tzinfo=UTC)
ELEVEN = datetime(2026, 11, 28, 11, tzinfo=UTC)
# hour, operation, status, requests: two groups of one hour, one of the next
SUMMARY = [(TEN, "/api/a", 200, 3), (TEN, "/api/a", 429, 2), (ELEVEN, "/api/b", 200, 4)]


@pytest.fixture(params=["sqlite", "postgresql"])
async def at_0022(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with database_at(request.param, tmp_path, "0022") as url:
        yield url


async def summarize(engine: AsyncEngine) -> None:
    postgres = engine.dialect.name == "postgresql"
    async with engine.begin() as connection:
        for hour, operation, status, requests in SUMMARY:
            await connection.execute(
                text(
                    "INSERT INTO usage_hourly (hour, key_id, application_id, developer_id, "
                    "method, operation, status, code, scope, requests, bytes_in, bytes_out, "
                    "latency_ms) VALUES (:hour, 'k', 'a', 'd', 'GET', :operation, :status, 0, "
                    "'', :requests, 0, 0, 1.0)"
                ),
                {
                    "hour": hour if postgres else hour.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    "operation": operation,
                    "status": status,
                    "requests": requests,
                },
            )


async def hours(engine: AsyncEngine) -> list[tuple[str, int]]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT hour, events FROM usage_hours ORDER BY 1"))
        return [(str(hour)[:13], int(events)) for hour, events in rows]


def writer_row(at: datetime) -> UsageRow:
    return (at.timestamp(), f"w-{at.timestamp()}", None, None, None, "GET", None, 200, None, 0,
            0, 1.0, None, None, None, None, None, None, None, None)  # fmt: skip


@pytest.fixture
async def upgraded(at_0022: str) -> AsyncIterator[AsyncEngine]:
    """The database at 0022 with SUMMARY in its hourly summary, then upgraded to 0023."""
    engine = create_engine(at_0022)
    try:
        await summarize(engine)
        await upgrade_async(at_0022, "0023")
        yield engine
    finally:
        await engine.dispose()


async def test_clause_4_1_upgrade_counts_each_hour_and_the_writer_adds_to_it(
    upgraded: AsyncEngine,
) -> None:
    assert await hours(upgraded) == [("2026-11-28 10", 5), ("2026-11-28 11", 4)]
    async with upgraded.connect() as connection:
        sketched = "SELECT count(*) FROM usage_hourly_sketches"
        assert await connection.scalar(text(sketched)) == 0

    recorder = UsageRecorder(upgraded, flush_seconds=60, batch_size=10, buffer_limit=10)
    await recorder._insert([writer_row(ELEVEN.replace(minute=5)), writer_row(ELEVEN)])
    assert await hours(upgraded) == [("2026-11-28 10", 5), ("2026-11-28 11", 6)]


async def test_clause_4_1_downgrade_removes_the_hours_and_sketches_and_keeps_the_summary(
    at_0022: str, upgraded: AsyncEngine
) -> None:
    await asyncio.to_thread(command.downgrade, alembic_config(at_0022), "0022")
    async with upgraded.connect() as connection:
        assert await connection.scalar(text("SELECT sum(requests) FROM usage_hourly")) == 9
    for table in ("usage_hours", "usage_hourly_sketches"):
        with pytest.raises(Exception, match=table):
            async with upgraded.connect() as connection:
                await connection.execute(text(f"SELECT * FROM {table}"))
