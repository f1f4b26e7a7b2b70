"""Sketching the hours that are over (clause 4.1): each one's distinct objects, per operation and
for every operation together, counted and sketched, and each operation's latencies sketched,
into `usage_hourly_sketches` (db/usage_sketches.py).

Which hours: those `usage_hours` counts events for, within `LOOKBACK`, that ended `GRACE` ago
(the writers' buffers have reached the database by then), and whose count has changed since
they were sketched (each sketch keeps the count it was made at, read before the events): never
sketched, or given events since (a spool replayed after an outage). The usage writer adds to
`usage_hours` in the transaction of the events. A sketch is made from the events themselves, so
it is whole even where the count is not (events of a node of the version before it).
Newest first, `HOURS_PER_PASS` a pass, each hour in a transaction of its own, replacing the
hour's rows.

The reads stream the hour's outcomes (code, bytes, latency) and its distinct (operation, value)
pairs, so memory holds sums and sketches, not the events; the exact distinct count of every
operation together is the database's `count(DISTINCT)`.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncResult, AsyncSession, async_sessionmaker

from termgate.db.models import UsageEvent
from termgate.db.usage_hourly import floor_hour
from termgate.db.usage_sketches import (
    EVERY_OPERATION,
    OBJECTS_READ,
    Sums,
    UsageHourlySketches,
    events_per_hour,
    new_latencies,
    new_sketch,
    stored_sketch,
    unsketched,
)
from termgate.governance.usage_model import is_refusal, operation_of

HOUR = timedelta(hours=1)
GRACE = timedelta(minutes=2)
LOOKBACK = timedelta(days=35)  # a month's pages and the day it began in, whatever the zone
HOURS_PER_PASS = 6
STREAM_ROWS = 5_000
SKETCH_LOCK = 7_310_023  # advisory lock id of sketching an hour


async def hours_to_sketch(session: AsyncSession, now: datetime, limit: int) -> list[datetime]:
    """The hours over whose sketch is missing or lacks events, newest first."""
    first, last = floor_hour(now - LOOKBACK), floor_hour(now - GRACE)
    summed = await events_per_hour(session, first, last)
    sketched = await session.execute(
        select(UsageHourlySketches.hour, UsageHourlySketches.hour_events).where(
            UsageHourlySketches.operation == EVERY_OPERATION,
            UsageHourlySketches.hour >= first,
            UsageHourlySketches.hour < last,
        )
    )
    stale = unsketched(summed, {hour: int(events) for hour, events in sketched})
    return stale[::-1][:limit]


@dataclass
class Outcomes(Sums):
    """One operation's (or every operation's) events of the hour: counted, summed, sketched."""

    codes: Counter[int] = field(default_factory=Counter)  # refusals by code
    latencies: Any = None  # the quantiles sketch (none for every operation together)

    def add_code(self, code: int | None, events: int, bytes_in: int, bytes_out: int) -> None:
        """The hour's events of one code (None: no code), counted and summed by the database."""
        self.add(events, events if is_refusal(code) else 0, bytes_in, bytes_out)
        if is_refusal(code):
            self.codes[code] += events

    def columns(self) -> dict[str, Any]:
        return {
            "events": self.requests,
            "refusals": self.refusals,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "refusal_codes": json.dumps({str(code): n for code, n in sorted(self.codes.items())}),
            "latency_sketch": None if self.latencies is None else bytes(self.latencies.serialize()),
        }


async def sketch_hour(session: AsyncSession, hour: datetime) -> int:
    """Replace the hour's rows with its events' counts and sketches; returns its events."""
    in_hour = and_(UsageEvent.at >= hour, UsageEvent.at < hour + HOUR)
    counted = await events_per_hour(session, hour, hour + HOUR)  # before the events: see the row
    outcomes = await _outcomes(session, in_hour)
    counts, sketches = await _objects(session, in_hour)
    await session.execute(delete(UsageHourlySketches).where(UsageHourlySketches.hour == hour))
    rows = [
        {
            "hour": hour,
            "operation": name,
            "hour_events": counted.get(hour, 0),
            **outcome.columns(),
            **counts[name],
            **{
                f"{kind}_sketch": stored_sketch(sketches[name].get(kind) or new_sketch())
                for kind in OBJECTS_READ
            },
        }
        for name, outcome in outcomes.items()
        if outcome.requests
    ]
    if rows:
        await session.execute(insert(UsageHourlySketches), rows)
    return outcomes[EVERY_OPERATION].requests


async def _outcomes(session: AsyncSession, in_hour: ColumnElement[bool]) -> dict[str, Outcomes]:
    """Each operation's and every operation's outcomes (summed by the database per operation
    and code), each operation's latencies sketched (streamed: the one per-event read)."""
    every = Outcomes()
    outcomes: dict[str, Outcomes] = {EVERY_OPERATION: every}
    event, operation = UsageEvent, operation_of()
    summed = await session.execute(
        select(
            operation,
            event.code,
            func.count(),
            func.sum(event.bytes_in),
            func.sum(event.bytes_out),
        )
        .where(in_hour)
        .group_by(operation, event.code)
    )
    for name, code, *sums in summed:
        events, bytes_in, bytes_out = (int(value) for value in sums)
        if name not in outcomes:
            outcomes[name] = Outcomes(latencies=new_latencies())
        outcomes[name].add_code(code, events, bytes_in, bytes_out)
        every.add_code(code, events, bytes_in, bytes_out)
    streamed = await _stream(session, select(operation, event.latency_ms).where(in_hour))
    async for rows in streamed.partitions(STREAM_ROWS):  # a row a step costs ~4 times more
        for name, latency in rows:
            outcome = outcomes.get(name)
            if outcome is not None:  # else a late event since the sums: sketched again later
                outcome.latencies.update(latency)
    return outcomes


async def _objects(
    session: AsyncSession, in_hour: ColumnElement[bool]
) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, Any]]]:
    """Each operation's (and every operation's) distinct objects: counted and sketched. The
    database makes the pairs distinct, so memory holds sketches, not values."""
    operation = operation_of()
    every = (
        await session.execute(
            select(*(func.count(column.distinct()) for column in OBJECTS_READ.values())).where(
                in_hour
            )
        )
    ).one()
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(OBJECTS_READ, 0))
    counts[EVERY_OPERATION] = dict(zip(OBJECTS_READ, (int(n) for n in every), strict=True))
    sketches: dict[str, dict[str, Any]] = defaultdict(dict)
    for kind, column in OBJECTS_READ.items():
        every_sketch = sketches[EVERY_OPERATION][kind] = new_sketch()
        pairs = await _stream(
            session, select(operation, column).where(in_hour, column.is_not(None)).distinct()
        )
        async for rows in pairs.partitions(STREAM_ROWS):
            for name, value in rows:
                sketch = sketches[name].get(kind)
                if sketch is None:
                    sketch = sketches[name][kind] = new_sketch()
                sketch.update(value)
                every_sketch.update(value)
                counts[name][kind] += 1
    return counts, sketches


async def _stream(session: AsyncSession, statement: Select[str, Any]) -> AsyncResult[str, Any]:
    """The pairs of a Core statement, streamed on the session's connection (no ORM loading)."""
    connection = await session.connection()
    result: AsyncResult[str, Any] = await connection.stream(statement)
    return result


async def sketch_hours_over(
    sessions: async_sessionmaker[AsyncSession], now: datetime, limit: int = HOURS_PER_PASS
) -> list[datetime]:
    """Sketch up to `limit` hours that need it, each in its own transaction; returns them."""
    async with sessions() as session:
        hours = await hours_to_sketch(session, now, limit)
    done: list[datetime] = []
    for hour in hours:
        async with sessions.begin() as session:
            if await _sketching_alone(session):
                await sketch_hour(session, hour)
                done.append(hour)
    return done


async def _sketching_alone(session: AsyncSession) -> bool:
    """On PostgreSQL, one node sketches at a time (the others' passes skip the hour)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    query = text("SELECT pg_try_advisory_xact_lock(:id)")
    return bool(await session.scalar(query, {"id": SKETCH_LOCK}))
