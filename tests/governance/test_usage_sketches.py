"""Clause 4.1 (the provider monitors use): the distinct objects of the usage pages over all
applications, from the sketches of the hours that are over, on SQLite and PostgreSQL.

The events go through the usage writer (which keeps the hourly summary the sketching follows);
every figure is checked against the report read from the events alone: an hour's counts exactly,
a day's, an operation's and the range's within the sketches' error, and marked as estimates.
"""

from __future__ import annotations

import bisect
import dataclasses
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from termgate.db.models import UsageEvent
from termgate.db.usage_sketches import (
    EVERY_OPERATION,
    NO_OPERATION,
    Distinct,
    UsageHourlySketches,
    new_sketch,
    stored_sketch,
)
from termgate.gateway.observe import UsageRecorder
from termgate.gateway.usage_rows import UsageRow
from termgate.governance.analytics import (
    Counts,
    Row,
    UsageQuery,
    UsageReport,
    events_per_operation_and_period,
    per_operation_and_period,
    usage_report,
)
from termgate.governance.sketch_hours import hours_to_sketch, sketch_hours_over

Sessions = async_sessionmaker[AsyncSession]
START = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
EMPLOYEES = "/api/companies/{companyId}/employees"
PAYSLIPS = "/api/employees/{employeeId}/payslips"
OPERATIONS = (EMPLOYEES, PAYSLIPS, None)
MANY = 1_500  # distinct employees: enough that the sketches estimate rather than list them
TOLERANCE = 0.06  # about four of the sketches' relative standard errors (1.6 %)


def row(
    at: datetime,
    number: int,
    operation: str | None,
    end_user: str,
    employee: str,
    latency: float = 1.0,
) -> UsageRow:
    # every 13th refused for its tenant (clause 3.3 a), every 17th given up by its client
    status, code = (403, 40303) if number % 13 == 0 else (200, 49900 if number % 17 == 0 else None)
    return (
        at.timestamp(), f"r-{number}", "k1", f"app-{number % 3}", "dev", "GET", operation,
        status, code, 10, 100 + number % 7, latency, end_user, None, None, f"debtor-{number % 3}",
        f"company-{number % 10}", employee, "192.0.2.1", None,
    )  # fmt: skip


def traffic(hours: int, per_hour: int, seed: int = 7) -> Iterator[UsageRow]:
    """Events over `hours` hours from START: 40 end users, MANY employees, three operations."""
    chance = random.Random(seed)
    number = 0
    for hour in range(hours):
        for _ in range(per_hour):
            at = START + hour * HOUR + timedelta(seconds=chance.uniform(0, 3599))
            employee = f"employee-{chance.randrange(MANY)}"
            operation = chance.choice(OPERATIONS)
            latency = chance.lognormvariate(3, 1)
            yield row(at, number, operation, f"user-{chance.randrange(40)}", employee, latency)
            number += 1


async def write(engine: AsyncEngine, rows: Iterator[UsageRow]) -> None:
    recorder = UsageRecorder(engine, flush_seconds=60, batch_size=5_000, buffer_limit=50_000)
    await recorder._insert(list(rows))


async def sketch_every_hour_over(sessions: Sessions, now: datetime) -> None:
    while await sketch_hours_over(sessions, now):  # as the monitoring thread's passes do
        pass


async def report(sessions: Sessions, query: UsageQuery) -> UsageReport:
    async with sessions() as session:
        return await usage_report(session, query)


def assert_close(estimated: Counts, exact: Counts) -> None:
    """The same requests, refusals and bytes; the small distinct counts equal, the large within
    the sketches' error."""
    assert (estimated.requests, estimated.refusals, estimated.bytes_in, estimated.bytes_out) == (
        exact.requests,
        exact.refusals,
        exact.bytes_in,
        exact.bytes_out,
    )
    for kind, count in exact.distinct.items():
        if count < 100:
            assert estimated.distinct[kind] == count, kind
        else:
            assert abs(estimated.distinct[kind] - count) <= TOLERANCE * count, kind


async def test_clause_4_1_the_hours_over_are_sketched_newest_first_and_again_when_they_grow(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    await write(engine, traffic(5, 40))  # hours 0 to 4
    async with sessions() as session:
        # At 04:01 hour 3 ended a minute ago: its events may still be in a writer's buffer.
        assert await hours_to_sketch(session, START + 4 * HOUR + timedelta(minutes=1), 6) == [
            START + 2 * HOUR,
            START + HOUR,
            START,
        ]
    now = START + 4 * HOUR + timedelta(minutes=3)
    assert await sketch_hours_over(sessions, now, limit=2) == [START + 3 * HOUR, START + 2 * HOUR]
    assert await sketch_hours_over(sessions, now) == [START + HOUR, START]
    assert await sketch_hours_over(sessions, now) == []

    async with sessions() as session:
        stored = (await session.scalars(select(UsageHourlySketches))).all()
    every = {row.hour: row for row in stored if row.operation == EVERY_OPERATION}
    assert sorted(every) == [START + hour * HOUR for hour in range(4)]
    hour_one = [
        row
        for row in traffic(5, 40)
        if START + HOUR <= datetime.fromtimestamp(row[0], UTC) < START + 2 * HOUR
    ]
    assert every[START + HOUR].events == 40
    assert every[START + HOUR].end_users == len({row[12] for row in hour_one})
    assert every[START + HOUR].employees == len({row[17] for row in hour_one})
    by_operation = {row.operation: row for row in stored if row.hour == START + HOUR}
    for operation in OPERATIONS:
        mine = [row for row in hour_one if row[6] == operation]
        stored_row = by_operation[operation or NO_OPERATION]
        assert stored_row.events == len(mine)
        assert stored_row.debtors == len({row[15] for row in mine})

    # A late event of hour 1 (a spool replayed after an outage): the hour is sketched again.
    await write(
        engine, iter([row(START + HOUR + timedelta(minutes=5), 10**6, None, "late", "e-late")])
    )
    assert await sketch_hours_over(sessions, now) == [START + HOUR]
    async with sessions() as session:
        again = await session.get(UsageHourlySketches, (START + HOUR, EVERY_OPERATION))
    assert again is not None
    assert (again.events, again.hour_events) == (41, 41)
    assert again.end_users == every[START + HOUR].end_users + 1
    assert await sketch_hours_over(sessions, now) == []

    # An event written without its hour's count (by a node of the version before the count):
    # the hour is not known to have changed; sketched again for another reason, it is whole,
    # and not sketched over and over for the count it cannot match.
    async with sessions.begin() as session:
        session.add(
            UsageEvent(
                at=START + HOUR + timedelta(minutes=6), request_id="old-node", method="GET",
                status=200, latency_ms=1.0, end_user_id="older",
            )
        )  # fmt: skip
    await write(engine, iter([row(START + HOUR + timedelta(minutes=7), 10**6 + 1, None, "u", "e")]))
    assert await sketch_hours_over(sessions, now) == [START + HOUR]
    async with sessions() as session:
        whole = await session.get(UsageHourlySketches, (START + HOUR, EVERY_OPERATION))
    assert whole is not None
    assert (whole.events, whole.hour_events) == (43, 42)
    assert await sketch_hours_over(sessions, now) == []


async def test_clause_4_1_all_applications_by_hour_from_the_sketches_as_from_the_events(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    rows = list(traffic(8, 300))
    await write(engine, iter(rows))
    # A range cut at both ends: its first and last hours are read from the events.
    query = UsageQuery(
        START + timedelta(minutes=30), START + 7 * HOUR + timedelta(minutes=10), "hour"
    )
    exact = await report(sessions, query)  # nothing sketched yet: read from the events
    assert not exact.totals.estimated
    await sketch_every_hour_over(sessions, START + 9 * HOUR)

    sketched = await report(sessions, query)

    assert sketched.totals.estimated  # the range is made of several hours' sketches
    assert_close(sketched.totals, exact.totals)
    assert exact.totals.distinct["employees"] > 1_000  # the sketches do estimate here
    # Every hour's row is that hour's exact count, whether sketched or read from the events.
    assert [(row.period, row.counts) for row in sketched.over_time] == [
        (row.period, row.counts) for row in exact.over_time
    ]
    operations = {row.operation: row.counts for row in sketched.per_operation}
    for row in exact.per_operation:
        assert operations[row.operation].estimated
        assert_close(operations[row.operation], row.counts)
    assert sketched.refusals == exact.refusals
    latencies = [row[11] for row in rows]
    for estimated, measured in zip(sketched.per_operation, exact.per_operation, strict=True):
        operation = None if measured.operation == NO_OPERATION else measured.operation
        mine = sorted(row[11] for row in rows if row[6] == operation and query_holds(query, row))
        assert rank_of(estimated.latency["p50"], mine) == pytest.approx(0.5, abs=0.02)
        assert rank_of(estimated.latency["p99"], mine) == pytest.approx(0.99, abs=0.005)
    assert latencies


async def test_clause_4_1_the_export_over_all_applications_from_the_sketches_as_from_the_events(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    rows = list(traffic(8, 300))
    await write(engine, iter(rows))
    await sketch_every_hour_over(sessions, START + 9 * HOUR)
    by_hour = UsageQuery(START + timedelta(minutes=30), START + 8 * HOUR, "hour")
    by_day = UsageQuery(START, START + 8 * HOUR, "day")

    async with sessions() as session:
        hourly, exact_hourly = (
            await per_operation_and_period(session, by_hour),
            await events_per_operation_and_period(session, by_hour),
        )
        daily, exact_daily = (
            await per_operation_and_period(session, by_day),
            await events_per_operation_and_period(session, by_day),
        )

    # Each hour's operation: its counts exactly (distinct ones too), its latencies the sketch's.
    assert [cell(row) for row in hourly] == [cell(row) for row in exact_hourly]
    assert [dataclasses.replace(row.counts, estimated=False) for row in hourly] == [
        row.counts for row in exact_hourly
    ]
    assert all(row.counts.estimated for row in hourly)
    assert not any(row.counts.estimated for row in exact_hourly)
    for estimated, measured in zip(hourly, exact_hourly, strict=True):
        mine = sorted(
            event[11]
            for event in rows
            if query_holds(by_hour, event)
            and event[0] // 3600 == hour_of(measured.period)
            and (event[6] or NO_OPERATION) == measured.operation
        )
        assert rank_of(estimated.latency["p50"], mine) == pytest.approx(0.5, abs=0.1)
    # A day's operation: the union of its hours' sketches.
    assert [cell(row) for row in daily] == [cell(row) for row in exact_daily]
    for estimated, measured in zip(daily, exact_daily, strict=True):
        assert estimated.counts.estimated
        assert_close(estimated.counts, measured.counts)


def cell(row: Row) -> tuple[str, str, int]:
    return row.period, row.operation, row.counts.requests


def hour_of(period: str) -> float:
    return datetime.strptime(period, "%Y-%m-%d %H").replace(tzinfo=UTC).timestamp() // 3600


def query_holds(query: UsageQuery, row: UsageRow) -> bool:
    return query.since.timestamp() <= row[0] < query.until.timestamp()


def rank_of(value: float, ordered: list[float]) -> float:
    """Where `value` falls among the measured latencies, as a fraction of them."""
    return bisect.bisect_left(ordered, value) / len(ordered)


async def test_clause_4_1_a_day_an_operation_and_unsketched_last_hours(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    await write(engine, traffic(8, 300))
    by_day = UsageQuery(START, START + 8 * HOUR, "day")
    one_operation = UsageQuery(START, START + 8 * HOUR, "hour", operation=PAYSLIPS)
    exact_day, exact_operation = (
        await report(sessions, by_day),
        await report(sessions, one_operation),
    )
    # The monitoring thread has not reached the last two hours yet: read from the events.
    assert len(await sketch_hours_over(sessions, START + 6 * HOUR + timedelta(minutes=5))) == 6

    day = await report(sessions, by_day)
    assert day.over_time[0].counts.estimated
    assert_close(day.over_time[0].counts, exact_day.over_time[0].counts)
    assert_close(day.totals, exact_day.totals)

    operation = await report(sessions, one_operation)
    assert [row.counts for row in operation.over_time] == [
        row.counts for row in exact_operation.over_time
    ]
    assert [row.operation for row in operation.per_operation] == [PAYSLIPS]
    assert_close(operation.totals, exact_operation.totals)
    assert operation.totals.estimated


async def test_clause_4_1_without_the_sketches_the_events_are_read_exactly(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    await write(engine, traffic(8, 50))
    everything = UsageQuery(START, START + 8 * HOUR, "hour")
    one_application = UsageQuery(START, START + 8 * HOUR, "hour", application_id="app-1")
    short = UsageQuery(START, START + 2 * HOUR, "day")
    exact = [await report(sessions, query) for query in (everything, one_application, short)]
    await sketch_every_hour_over(sessions, START + 9 * HOUR)
    # One application's range and a short one are read from the events, sketches or not.
    assert await report(sessions, one_application) == exact[1]
    assert await report(sessions, short) == exact[2]
    # An hour whose sketch is missing (say a late spool, not sketched again yet): read from
    # its events, the rest from the sketches.
    await forget_sketches(sessions, [START + HOUR])
    one_missing = await report(sessions, everything)
    assert one_missing.totals.estimated
    assert [row.counts for row in one_missing.over_time] == [
        row.counts for row in exact[0].over_time
    ]
    # More than three such hours: the whole range is read from the events.
    await forget_sketches(sessions, [START + hour * HOUR for hour in (2, 3, 4)])
    assert await report(sessions, everything) == exact[0]


async def forget_sketches(sessions: Sessions, hours: list[datetime]) -> None:
    async with sessions.begin() as session:
        await session.execute(
            delete(UsageHourlySketches).where(UsageHourlySketches.hour.in_(hours))
        )


def test_clause_4_1_one_part_is_exact_several_are_an_estimate_empty_parts_do_not_count() -> None:
    one = Distinct()
    one.add_values({"a", "b", "c"})
    assert (one.count(), one.estimated) == (3, False)

    several = Distinct()
    sketch = new_sketch()
    for value in ("a", "b"):
        sketch.update(value)
    several.add_stored(stored_sketch(new_sketch()), 0)  # an hour without any: not a part
    several.add_stored(stored_sketch(sketch), 2)
    assert (several.count(), several.estimated) == (2, False)
    several.add_values({"b", "c", "d"})
    assert (several.count(), several.estimated) == (4, True)

    large = Distinct()
    for part in range(4):
        large.add_values({f"value-{n}" for n in range(part * 5_000, part * 5_000 + 10_000)})
    assert large.estimated
    assert abs(large.count() - 25_000) <= TOLERANCE * 25_000


def test_clause_4_1_a_distinct_of_no_parts_counts_none() -> None:
    assert (Distinct().count(), Distinct().estimated) == (0, False)
