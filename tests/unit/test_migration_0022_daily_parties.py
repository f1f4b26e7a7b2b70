"""Migration 0022, clause 3.3 g: a database at 0021 whose usage events name end users and
addresses gets, per day and application, exactly the distinct ones they name; events the usage
writer writes afterwards add theirs, once; a downgrade removes the table and keeps the events.
On SQLite and PostgreSQL."""

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

Event = tuple[datetime, str | None, str | None, str | None]
# at, application, end user, address: two of one day and pair, a day apart, absent values.
EVENTS: list[Event] = [
    (datetime(2026, 11, 28, 0, 0, 1, tzinfo=UTC), "a1", "u1", "192.0.2.1"),
    (datetime(2026, 11, 28, 23, 59, 59, 999999, tzinfo=UTC), "a1", "u1", "192.0.2.2"),
    (datetime(2026, 11, 29, 0, 0, tzinfo=UTC), "a1", "u1", None),
    (datetime(2026, 11, 28, 9, tzinfo=UTC), "a2", None, "192.0.2.1"),
    (datetime(2026, 11, 28, 9, tzinfo=UTC), None, "u9", "192.0.2.9"),  # no application
]
STORED = {
    ("2026-11-28", "a1", "address", "192.0.2.1"),
    ("2026-11-28", "a1", "address", "192.0.2.2"),
    ("2026-11-28", "a1", "end_user", "u1"),
    ("2026-11-29", "a1", "end_user", "u1"),
    ("2026-11-28", "a2", "address", "192.0.2.1"),
}


@pytest.fixture(params=["sqlite", "postgresql"])
async def at_0021(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with database_at(request.param, tmp_path, "0021") as url:
        yield url


async def insert(engine: AsyncEngine, events: list[Event]) -> None:
    postgres = engine.dialect.name == "postgresql"
    async with engine.begin() as connection:
        for number, (at, application, end_user, address) in enumerate(events):
            await connection.execute(
                text(
                    "INSERT INTO usage_events (at, request_id, application_id, method, status, "
                    "bytes_in, bytes_out, latency_ms, end_user_id, client_ip) VALUES (:at, :id, "
                    ":application, 'GET', 200, 0, 0, 1.0, :end_user, :address)"
                ),
                {
                    # As SQLAlchemy and the usage writer store a UTC time on SQLite.
                    "at": at if postgres else at.strftime("%Y-%m-%d %H:%M:%S.%f"),
                    "id": f"r{number}-{at.timestamp()}",
                    "application": application,
                    "end_user": end_user,
                    "address": address,
                },
            )


def writer_row(at: datetime, application: str | None, end_user: str | None,
               address: str | None) -> UsageRow:  # fmt: skip
    """An event as the usage writer's row (`usage_rows.COLUMNS`), the rest of it plain."""
    return (at.timestamp(), f"w-{at.timestamp()}", None, application, None, "GET", None, 200,
            None, 0, 0, 1.0, end_user, None, None, None, None, None, address, None)  # fmt: skip


async def parties(engine: AsyncEngine) -> set[tuple[str, str, str, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT day, application_id, party, value FROM usage_daily_parties")
        )
        return {(str(day)[:10], *rest) for day, *rest in rows.all()}


async def test_clause_3_3_g_upgrade_fills_the_daily_parties_and_new_events_add_theirs(
    at_0021: str,
) -> None:
    engine = create_engine(at_0021)
    try:
        await insert(engine, EVENTS)
        await upgrade_async(at_0021, "0022")
        assert await parties(engine) == STORED

        await upgrade_async(at_0021)  # what today's writer needs (its hours' counts, 0023)
        later: list[Event] = [
            (datetime(2026, 11, 29, 8, tzinfo=UTC), "a1", "u1", "192.0.2.3"),  # u1 known
            (datetime(2026, 11, 29, 9, tzinfo=UTC), "a3", "u1", None),
        ]
        recorder = UsageRecorder(engine, flush_seconds=60, batch_size=10, buffer_limit=10)
        await recorder._insert([writer_row(*event) for event in later])
        assert await parties(engine) == STORED | {
            ("2026-11-29", "a1", "address", "192.0.2.3"),
            ("2026-11-29", "a3", "end_user", "u1"),
        }
        if engine.dialect.name == "sqlite":  # stored as the ORM reads a UTC time back
            async with engine.connect() as connection:
                day = await connection.scalar(text("SELECT min(day) FROM usage_daily_parties"))
            assert day == "2026-11-28 00:00:00.000000"
    finally:
        await engine.dispose()


async def test_clause_3_3_g_downgrade_removes_the_parties_and_keeps_the_events(
    at_0021: str,
) -> None:
    engine = create_engine(at_0021)
    try:
        await insert(engine, EVENTS[:1])
        await upgrade_async(at_0021, "0022")
        await asyncio.to_thread(command.downgrade, alembic_config(at_0021), "0021")
        async with engine.connect() as connection:
            assert await connection.scalar(text("SELECT count(*) FROM usage_events")) == 1
        with pytest.raises(Exception, match="usage_daily_parties"):
            await parties(engine)
    finally:
        await engine.dispose()
