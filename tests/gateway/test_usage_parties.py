"""Clauses 4.1 and 3.3 g: a batch of the usage writer is one transaction, its events, their
summaries and their daily parties together."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from termgate.db.models import UsageEvent
from termgate.db.usage_parties import ADDRESS, END_USER, TABLE, UsageDailyParty
from termgate.gateway.observe import UsageRecorder, UsageRow

DAY_SECONDS = 86_400
MIDNIGHT = 1_790_000_000.0 - 1_790_000_000.0 % DAY_SECONDS  # 2026-09-21 UTC


def row(at: float, application: str, end_user: str | None, address: str | None) -> UsageRow:
    return (
        at, f"r-{at}-{application}", "k1", application, "dev", "GET", "/api/a/{id}", 200, None,
        0, 10, 1.0, end_user, None, None, None, None, None, address, None,
    )  # fmt: skip


async def test_clause_4_1_a_failed_batch_writes_nothing_and_a_retry_writes_it_once(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    recorder = UsageRecorder(engine, flush_seconds=60, batch_size=100, buffer_limit=100)
    rows = [row(MIDNIGHT + 5, "a1", "u1", "192.0.2.1")]
    async with engine.begin() as connection:  # the parties' insert fails, so the batch does
        await connection.execute(text(f"ALTER TABLE {TABLE} RENAME TO parties_away"))
    try:
        with pytest.raises((asyncpg.UndefinedTableError, sqlite3.OperationalError)):
            await recorder._insert(rows)  # the drivers' own errors: the writer uses them raw
    finally:
        async with engine.begin() as connection:
            await connection.execute(text(f"ALTER TABLE parties_away RENAME TO {TABLE}"))
    async with sessions() as session:  # the batch's events went with it: one transaction
        assert await session.scalar(select(func.count()).select_from(UsageEvent)) == 0
    await recorder._insert(rows)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(UsageEvent)) == 1
        stored = await session.execute(select(UsageDailyParty.party, UsageDailyParty.value))
        assert sorted(stored.tuples()) == [(ADDRESS, "192.0.2.1"), (END_USER, "u1")]
