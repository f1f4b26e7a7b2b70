"""Clause 4.1 (the provider monitors use): the usage writer's bulk path (COPY on PostgreSQL,
executemany on SQLite) stores exactly the events it is given, and a batch the database refuses
keeps its events and the later ones for the next flush. The writer is made as the server makes
it: its work on the events runs off the serving loop's thread (PostgreSQL: a thread of its own,
usage_thread.py; SQLite: aiosqlite's, which rests after each chunk of a batch)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import termgate.gateway.usage_rows as usage_rows
from termgate.db.models import UsageEvent
from termgate.db.usage_hourly import HourlySums
from termgate.db.usage_parties import DailyParties
from termgate.gateway.observe import UsageRecorder
from termgate.gateway.usage_rows import COLUMNS, PACE_ROWS, PACE_SECONDS, UsageRow

AT = 1_790_000_000.0  # 2026-09-21, a fixed instant: the stored time is compared exactly


def _rows(prefix: str, count: int) -> list[UsageRow]:
    """Events that use every column's range: nulls, large numbers, non-ASCII, half-microseconds."""
    rows: list[UsageRow] = []
    for index in range(count):
        full = index % 2 == 0
        rows.append(
            (
                AT + index * 0.001_001 + (0.000_000_5 if index % 5 == 0 else 0.0),
                f"{prefix}{index:04d}",
                f"key{index:029d}" if full else None,
                f"app{index % 3:029d}" if full else None,
                f"dev{index % 2:029d}" if full else None,
                "POST" if index % 3 == 0 else "GET",
                "/api/bedrijven/{companyId}/medewerkers/ë" if full else None,
                200 if full else 404,
                None if full else 40401,
                index * 1_000,
                2**40 + index,  # beyond 32 bits: bytes_out is a BIGINT
                index + 0.123_456,
                f"user-{index}" if index % 4 == 0 else None,
                "employee.personal" if full else None,
                f"client \u00e9 {index}" if index % 7 == 0 else None,
                f"{index:08d}-0000-4000-8000-{index:012d}" if full else None,
                "c" * 64 if index % 3 == 0 else None,  # the columns' full width
                f"e-{index}" if index % 4 == 0 else None,
                "0000:0000:0000:0000:0000:ffff:255.255.255.255" if index % 2 else "10.0.0.7",
                "employee.info.read" if full else None,
            )
        )
    return rows


async def _stored(sessions: async_sessionmaker[AsyncSession], prefix: str) -> list[UsageRow]:
    columns = [getattr(UsageEvent, name) for name in COLUMNS]
    async with sessions() as session:
        result = await session.execute(
            select(*columns)
            .where(UsageEvent.request_id.like(f"{prefix}%"))
            .order_by(UsageEvent.request_id)
        )
        return [(row[0].timestamp(), *row[1:]) for row in result.all()]


def _as_stored(rows: list[UsageRow]) -> list[UsageRow]:
    """What the database should hold: the time to the microsecond as `fromtimestamp` rounds."""
    return [(datetime.fromtimestamp(row[0], UTC).timestamp(), *row[1:]) for row in rows]


MakeWriter = Callable[[int], UsageRecorder]


@pytest.fixture
async def writer(engine: AsyncEngine) -> AsyncIterator[MakeWriter]:
    """Writers as the server makes them (`writer_thread`), their threads stopped after."""
    made: list[UsageRecorder] = []

    def make(batch_size: int) -> UsageRecorder:
        recorder = UsageRecorder(
            engine, flush_seconds=60, batch_size=batch_size, buffer_limit=1000, writer_thread=True
        )
        made.append(recorder)
        return recorder

    yield make
    for recorder in made:
        await asyncio.to_thread(recorder.stop_thread)


async def test_clause_4_1_the_bulk_writer_stores_every_column_of_every_event_given(
    writer: MakeWriter, sessions: async_sessionmaker[AsyncSession]
) -> None:
    prefix = f"w-{uuid.uuid4().hex[:8]}-"
    rows = _rows(prefix, 23)
    recorder = writer(7)  # three full batches and a partial one
    recorder.buffer = list(rows)

    assert await recorder.flush() == 23

    assert await _stored(sessions, prefix) == _as_stored(rows)
    assert recorder.written == 23
    assert recorder.buffer == []


async def test_clause_4_1_a_refused_batch_keeps_its_events_and_the_later_ones_for_retry(
    writer: MakeWriter, sessions: async_sessionmaker[AsyncSession]
) -> None:
    prefix = f"f-{uuid.uuid4().hex[:8]}-"
    rows = _rows(prefix, 20)
    bad = list(rows[12])
    bad[5] = None  # no method: the NOT NULL column refuses the second batch on both databases
    given = [*rows[:12], tuple(bad), *rows[13:]]
    recorder = writer(10)
    recorder.buffer = list(given)  # type: ignore[arg-type]

    with pytest.raises((sqlite3.IntegrityError, asyncpg.NotNullViolationError)):
        await recorder.flush()

    assert recorder.written == 10
    assert recorder.buffer == given[10:]  # the whole refused batch and what followed it
    assert await _stored(sessions, prefix) == _as_stored(rows[:10])  # none of batch two

    recorder.buffer[2] = rows[12]  # the next flush retries them
    assert await recorder.flush() == 10
    assert await _stored(sessions, prefix) == _as_stored(rows)
    assert recorder.buffer == []


async def test_clause_4_1_the_writer_works_on_the_events_off_the_serving_loops_thread(
    engine: AsyncEngine,
    writer: MakeWriter,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A flush must not stop the loop that serves requests for its batch's formatting and
    # encoding (~10 µs per event on PostgreSQL when asyncpg ran on it).
    threads: set[int] = set()
    copy_records = asyncpg.Connection.copy_records_to_table
    sqlite_rows = usage_rows.sqlite_rows

    async def copy_spied(connection: Any, *args: Any, **kwargs: Any) -> Any:
        threads.add(threading.get_ident())
        return await copy_records(connection, *args, **kwargs)

    def rows_spied(*args: Any) -> Iterator[tuple[Any, ...]]:
        threads.add(threading.get_ident())  # as the driver's thread takes the first row
        yield from sqlite_rows(*args)

    monkeypatch.setattr(asyncpg.Connection, "copy_records_to_table", copy_spied)
    monkeypatch.setattr(usage_rows, "sqlite_rows", rows_spied)
    prefix = f"t-{uuid.uuid4().hex[:8]}-"
    rows = _rows(prefix, 12)
    recorder = writer(5)
    recorder.buffer = list(rows)

    assert await recorder.flush() == 12

    assert await _stored(sessions, prefix) == _as_stored(rows)
    assert threads
    assert threading.get_ident() not in threads
    if engine.dialect.name == "postgresql":
        assert recorder.thread is not None
        assert recorder.thread.running
        await asyncio.to_thread(recorder.stop_thread)  # at the server's stop
        assert not recorder.thread.running
    else:
        assert recorder.thread is None  # aiosqlite's thread is the driver's own


def test_clause_4_1_the_sqlite_writer_rests_after_each_chunk_of_a_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A second's events go into SQLite in chunks with a rest after each, on the driver's thread:
    # not in one burst that takes a shared core from the serving loop for ~100 ms.
    handed: list[tuple[Any, ...]] = []
    rests: list[tuple[int, float]] = []
    monkeypatch.setattr(usage_rows, "sleep", lambda seconds: rests.append((len(handed), seconds)))
    rows = _rows("t-", 2 * PACE_ROWS + 1)

    handed.extend(usage_rows.sqlite_rows(rows, HourlySums(), DailyParties()))

    assert rests == [(PACE_ROWS, PACE_SECONDS), (2 * PACE_ROWS, PACE_SECONDS)]
    assert [row[1] for row in handed] == [row[1] for row in rows]
