"""Migration 0015, clauses 4.4 and 4.5 a: a database at 0014 that holds usage events gets the
hourly summary of exactly those events (the quota seed and the announcements read it from
then on), on SQLite and PostgreSQL; a downgrade removes the summary and the new columns."""

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

EVENTS = [  # at, key, code, bytes_in, latency: two in one hour and group, one apart
    (datetime(2026, 11, 29, 9, 0, 0, tzinfo=UTC), "k1", None, 10, 1.5),
    (datetime(2026, 11, 29, 9, 59, 59, 999_999, tzinfo=UTC), "k1", None, 20, 2.25),
    (datetime(2026, 11, 29, 10, 0, 0, tzinfo=UTC), "k1", None, 5, 1.0),
    (datetime(2026, 11, 29, 9, 30, tzinfo=UTC), None, 40101, 0, 0.5),
]


@pytest.fixture(params=["sqlite", "postgresql"])
async def at_0014(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with database_at(request.param, tmp_path, "0014") as url:
        yield url


async def test_clause_4_4_upgrade_sums_the_stored_events_per_hour(at_0014: str) -> None:
    engine = create_engine(at_0014)
    try:
        async with engine.begin() as connection:
            for index, (at, key, code, bytes_in, latency) in enumerate(EVENTS):
                await connection.execute(
                    text(
                        "INSERT INTO usage_events (at, request_id, key_id, method, operation, "
                        "status, code, bytes_in, bytes_out, latency_ms) VALUES (:at, :id, :key, "
                        "'GET', '/api/x', :status, :code, :bytes_in, 7, :latency)"
                    ),
                    {
                        "at": at
                        if engine.dialect.name == "postgresql"
                        else at.replace(tzinfo=None),
                        "id": f"r{index}",
                        "key": key,
                        "status": 200 if code is None else 401,
                        "code": code,
                        "bytes_in": bytes_in,
                        "latency": latency,
                    },
                )
        await upgrade_async(at_0014, "0015")
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT hour, key_id, code, requests, bytes_in, bytes_out, latency_ms "
                        "FROM usage_hourly ORDER BY hour, key_id"
                    )
                )
            ).all()
        hours = [row[0] if isinstance(row[0], datetime) else datetime.fromisoformat(row[0])
                 for row in rows]  # fmt: skip
        assert [hour.replace(tzinfo=None) for hour in hours] == [
            datetime(2026, 11, 29, 9),
            datetime(2026, 11, 29, 9),
            datetime(2026, 11, 29, 10),
        ]
        assert [tuple(row[1:]) for row in rows] == [
            ("", 40101, 1, 0, 7, 0.5),
            ("k1", 0, 2, 30, 14, 3.75),
            ("k1", 0, 1, 5, 7, 1.0),
        ]
        await asyncio.to_thread(command.downgrade, alembic_config(at_0014), "0014")
        async with engine.connect() as connection:
            tables = await connection.run_sync(
                lambda sync: sync.dialect.get_table_names(sync)  # type: ignore[no-any-return]
            )
            columns = await connection.run_sync(
                lambda sync: [c["name"] for c in sync.dialect.get_columns(sync, "usage_events")]
            )
        assert "usage_hourly" not in tables
        assert "client_ip" not in columns
    finally:
        await engine.dispose()
