"""Clauses 4.1 and 3.3 g: a batch of the usage writer is one transaction, its events, their
summaries and their daily parties together; the writer remembers the end users and addresses it
stored today and yesterday, so a party seen again costs no row to send; what it remembers is
bounded, forgets the days before yesterday, and never holds a party whose transaction failed.
A window that ends after every stored event is read to its day's end. (That the daily parties
hold exactly the events' parties however the batches fall and whatever the writer remembers,
and that a pass reads what the events alone would, is the property test of
test_usage_hourly.py.)"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from termgate.db.models import UsageEvent
from termgate.db.usage_parties import (
    ADDRESS,
    END_USER,
    TABLE,
    DailyParties,
    Party,
    StoredParties,
    UsageDailyParty,
)
from termgate.db.usage_stretches import day_end_if_quiet
from termgate.gateway.observe import UsageRecorder
from termgate.gateway.usage_rows import UsageRow

DAY_SECONDS = 86_400
MIDNIGHT = 1_790_000_000.0 - 1_790_000_000.0 % DAY_SECONDS  # 2026-09-21 UTC
TODAY = int(MIDNIGHT // DAY_SECONDS)


def row(at: float, application: str, end_user: str | None, address: str | None) -> UsageRow:
    return (
        at, f"r-{at}-{application}", "k1", application, "dev", "GET", "/api/a/{id}", 200, None,
        0, 10, 1.0, end_user, None, None, None, None, None, address, None,
    )  # fmt: skip


def stored_and_remembered(
    stored: StoredParties, rows: list[UsageRow]
) -> list[tuple[int, str, Party, str]]:
    """What a writer would store of `rows` (sorted), remembered as stored."""
    parties = DailyParties().add_all(rows)
    sent = parties.items(stored.known)
    assert sorted(zip(*parties.columns(stored.known), strict=True)) == sent  # PostgreSQL's
    stored.remember(parties)
    return sent


def test_clause_3_3_g_a_party_stored_today_is_left_out_of_the_next_batch() -> None:
    stored = StoredParties()
    stored_and_remembered(stored, [row(MIDNIGHT + 10, "a1", "u1", "192.0.2.1")])
    again = stored_and_remembered(
        stored,
        [
            row(MIDNIGHT + 20, "a1", "u1", "192.0.2.1"),  # both stored already
            row(MIDNIGHT + 30, "a1", "u2", "192.0.2.1"),  # a new end user, a known address
            row(MIDNIGHT + 40, "a2", "u1", None),  # the same end user, another application
            row(MIDNIGHT + DAY_SECONDS, "a1", "u1", None),  # the same party, the next day
        ],
    )
    assert again == [
        (TODAY, "a1", END_USER, "u2"),
        (TODAY, "a2", END_USER, "u1"),
        (TODAY + 1, "a1", END_USER, "u1"),
    ]
    assert not stored_and_remembered(stored, [row(MIDNIGHT + 50, "a2", "u1", None)])


def test_clause_3_3_g_a_writer_remembers_no_more_parties_than_its_limit() -> None:
    stored = StoredParties(limit=3)
    rows = [row(MIDNIGHT + n, "a1", f"u{n}", None) for n in range(5)]
    stored_and_remembered(stored, rows)
    assert len(stored.known) == 3
    assert len(stored_and_remembered(stored, rows)) == 2  # the two it could not keep
    assert len(stored.known) == 3


def test_clause_3_3_g_a_new_day_forgets_the_parties_of_the_days_before_yesterday() -> None:
    stored = StoredParties()
    for day in range(3):
        stored_and_remembered(stored, [row(MIDNIGHT + day * DAY_SECONDS, "a1", "u1", None)])
    assert {party[0] for party in stored.known} == {TODAY + 1, TODAY + 2}
    # A late batch of an older day (a replayed spool) is stored and not remembered: retention
    # may delete that day's parties while the writer runs.
    late = stored_and_remembered(stored, [row(MIDNIGHT, "a1", "u1", None)])
    assert late == [(TODAY, "a1", END_USER, "u1")]
    assert {party[0] for party in stored.known} == {TODAY + 1, TODAY + 2}


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
    assert recorder.stored_parties.known == set()
    async with sessions() as session:  # the batch's events went with it: one transaction
        assert await session.scalar(select(func.count()).select_from(UsageEvent)) == 0
    await recorder._insert(rows)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(UsageEvent)) == 1
        stored = await session.execute(select(UsageDailyParty.party, UsageDailyParty.value))
        parties = sorted(tuple(party) for party in stored)
        assert parties == [(ADDRESS, "192.0.2.1"), (END_USER, "u1")]
    assert len(recorder.stored_parties.known) == 2


async def test_clause_3_3_g_a_window_ending_after_every_event_is_read_to_its_day_end(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    recorder = UsageRecorder(engine, flush_seconds=60, batch_size=100, buffer_limit=100)
    await recorder._insert([row(MIDNIGHT + 3_600, "a1", "u1", None)])  # 01:00
    midnight = datetime.fromtimestamp(MIDNIGHT, UTC)
    async with sessions() as session:
        # Nothing stored after 02:00: the day can be read whole, to the next midnight.
        two = midnight + timedelta(hours=2)
        assert await day_end_if_quiet(session, two) == midnight + timedelta(days=1)
        # An event at 01:00 lies after 00:30: read to 00:30 only.
        half_past = midnight + timedelta(minutes=30)
        assert await day_end_if_quiet(session, half_past) == half_past
        # An event after the day does not keep a day from being read whole; a midnight is one.
        assert await day_end_if_quiet(session, midnight - timedelta(hours=1)) == midnight
        assert await day_end_if_quiet(session, midnight) == midnight
