"""Migration 0020, clause 4.4: a database at 0019 whose hourly usage summary holds some hours
gets the daily summary of exactly those hours (the quota seed and the announcements read whole
days from it from then on), on SQLite and PostgreSQL; a downgrade removes it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from termgate.db.engine import create_engine
from termgate.db.migrate import alembic_config, upgrade_async
from tests.support.migrated import database_at

HOURS = [  # hour, key, code, requests, bytes_in, latency: two in one day and group, others apart
    (datetime(2026, 11, 28, 0, tzinfo=UTC), "k1", 0, 2, 10, 1.5),
    (datetime(2026, 11, 28, 23, tzinfo=UTC), "k1", 0, 3, 20, 2.25),
    (datetime(2026, 11, 29, 0, tzinfo=UTC), "k1", 0, 1, 5, 1.0),
    (datetime(2026, 11, 28, 9, tzinfo=UTC), "", 40101, 4, 0, 0.5),
]


@pytest.fixture(params=["sqlite", "postgresql"])
async def at_0019(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with database_at(request.param, tmp_path, "0019") as url:
        yield url


async def test_clause_4_4_upgrade_sums_the_stored_hours_per_day(at_0019: str) -> None:
    engine = create_engine(at_0019)
    postgres = engine.dialect.name == "postgresql"
    try:
        async with engine.begin() as connection:
            for hour, key, code, requests, bytes_in, latency in HOURS:
                await connection.execute(
                    text(
                        "INSERT INTO usage_hourly (hour, key_id, application_id, developer_id, "
                        "method, operation, status, code, requests, bytes_in, bytes_out, "
                        "latency_ms) VALUES (:hour, :key, '', '', 'GET', '/api/x', 200, :code, "
                        ":requests, :bytes_in, 7, :latency)"
                    ),
                    {
                        # As SQLAlchemy stores a UTC time on SQLite.
                        "hour": hour if postgres else hour.strftime("%Y-%m-%d %H:%M:%S.%f"),
                        "key": key,
                        "code": code,
                        "requests": requests,
                        "bytes_in": bytes_in,
                        "latency": latency,
                    },
                )
        await upgrade_async(at_0019, "0020")
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT day, key_id, code, requests, bytes_in, bytes_out, latency_ms "
                        "FROM usage_daily ORDER BY day, key_id"
                    )
                )
            ).all()
        days = [row[0] if isinstance(row[0], datetime) else datetime.fromisoformat(row[0])
                for row in rows]  # fmt: skip
        assert [day.replace(tzinfo=None) for day in days] == [
            datetime(2026, 11, 28),
            datetime(2026, 11, 28),
            datetime(2026, 11, 29),
        ]
        assert [tuple(row[1:]) for row in rows] == [
            ("", 40101, 4, 0, 7, 0.5),
            ("k1", 0, 5, 30, 14, 3.75),
            ("k1", 0, 1, 5, 7, 1.0),
        ]
        if not postgres:  # stored as the writer and the ORM store a UTC time
            async with engine.connect() as connection:
                stored = await connection.scalar(text("SELECT min(day) FROM usage_daily"))
            assert stored == "2026-11-28 00:00:00.000000"
        await asyncio.to_thread(command.downgrade, alembic_config(at_0019), "0019")
        async with engine.connect() as connection:
            tables = await connection.run_sync(
                lambda sync: sync.dialect.get_table_names(sync)  # type: ignore[no-any-return]
            )
        assert "usage_daily" not in tables
        async with engine.begin() as connection:  # no trigger left behind on SQLite
            await connection.execute(text("UPDATE usage_hourly SET requests = requests + 1"))
    finally:
        await engine.dispose()
