"""Clauses 4.1, 4.4 and 4.5 a: the hourly and daily usage summaries the usage writer keeps beside
the events hold, for every hour (day) and group, exactly the sums of those events, however the
events are cut into batches and whatever their hours and days; the quota seed, the
announcements, least privilege (clause 3.3 e) and probing (3.3 c) read whole days from the
daily one, the whole hours at their ends from the hourly one and the cut hours from the events,
and count what the events alone would; circumvention (3.3 g) counts each application's requests
and throttlings, and finds its first moments and the end users and addresses, as the events
alone would (the end users and addresses of whole days from the daily parties)."""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from collections.abc import Awaitable
from dataclasses import astuple
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import and_, case, delete, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from termgate.db.models import UsageEvent
from termgate.db.usage_daily import Ranges, UsageDaily, summary_ranges
from termgate.db.usage_hourly import (
    HOUR,
    HourlySums,
    UsageHour,
    UsageHourly,
    rollup,
    sqlite_hour,
    whole_hours,
)
from termgate.db.usage_parties import (
    STORED_LIMIT,
    DailyParties,
    StoredParties,
    UsageDailyParty,
    day_number,
)
from termgate.db.usage_sketches import UsageHourlySketches
from termgate.gateway.observe import UsageRecorder
from termgate.gateway.traffic.quota_seed import ADMITTED_CODES, admitted_counts
from termgate.gateway.usage_rows import UsageRow, sqlite_rows, sqlite_time
from termgate.governance.analytics import UsageQuery, UsageReport, events_report
from termgate.governance.announcements import _callers
from termgate.governance.sketch_hours import sketch_hours_over
from termgate.governance.usage_summarized import summarized_report
from termgate.monitoring.aggregate import refusal_counts
from termgate.monitoring.aggregate_circumvention import observations
from termgate.monitoring.aggregate_scopes import ScopesUsed, scopes_used
from termgate.monitoring.aggregate_shared_parties import PARTY_COLUMNS, parties_per_application
from termgate.monitoring.circumvention import DeveloperActivity
from termgate.monitoring.policy import load_detector_policies
from termgate.monitoring.probing import RefusalCounts
from termgate.monitoring.window import Window

Sessions = async_sessionmaker[AsyncSession]
CIRCUMVENTION = load_detector_policies(Path(__file__).parents[2] / "terms")["circumvention"]
DAY_SECONDS = 24 * HOUR
BASE = 1_790_000_000.0 - 1_790_000_000.0 % DAY_SECONDS  # a UTC midnight, 2026-09-21
CALLS = [("GET", "/api/a/{id}"), ("POST", "/api/a/{id}")]
KEYS = ["k1", "k2", None]
SCOPES = ["employee.info.read", "payslip.read", "", None]
END_USERS = ["u-1", "u,2", "", None]  # a separator and the empty value are values too
ADDRESSES = ["192.0.2.7", "2001:db8::1", None]
# Answers and their codes, probing's refusals among them.
ANSWERS = [(200, None), (429, 42908), (502, 50201), (404, 0), (403, 40303), (401, 40102),
           (403, 40302), (404, 40401)]  # fmt: skip


@st.composite
def usage_rows(draw: st.DrawFn) -> list[UsageRow]:
    count = draw(st.integers(1, 40))
    rows: list[UsageRow] = []
    for index in range(count):
        key = draw(st.sampled_from(KEYS))
        # Seconds around hour boundaries either side of three midnights, the boundaries
        # themselves included.
        day = draw(st.sampled_from([0, 1, 2])) * DAY_SECONDS
        at = (
            BASE
            + day
            + draw(st.sampled_from([-2, 0, 1, 3])) * HOUR
            + draw(st.integers(-3, 3)) * 0.5
        )
        status, code = draw(st.sampled_from(ANSWERS))
        rows.append(
            (
                at,
                f"r{index}-{draw(st.integers(0, 10**9))}",
                key,
                None if key is None else f"app-{key}",
                None if key is None else "dev",
                draw(st.sampled_from(["GET", "POST"])),
                draw(st.sampled_from(["/api/a/{id}", None])),
                status,
                code or None,
                draw(st.integers(0, 10**6)),
                draw(st.integers(0, 2**40)),
                draw(st.integers(0, 4000)) / 8,  # exact in binary: the sums are compared exactly
                draw(st.sampled_from(END_USERS)),
                None,
                None,
                None,
                None,
                None,
                draw(st.sampled_from(ADDRESSES)),
                draw(st.sampled_from(SCOPES)),
            )
        )
    return rows


async def event_sums(sessions: Sessions, daily: bool = False) -> dict[tuple[Any, ...], list[Any]]:
    """The events summed per hour (or day) and group, in Python from the stored rows."""
    sums: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0, 0, 0, 0.0])
    async with sessions() as session:
        for event in await session.scalars(select(UsageEvent)):
            period = event.at.replace(minute=0, second=0, microsecond=0)
            group = (
                period.replace(hour=0) if daily else period,
                event.key_id or "",
                event.application_id or "",
                event.developer_id or "",
                event.method,
                event.operation or "",
                event.status,
                event.code or 0,
                event.scope or "",
            )
            total = sums[group]
            total[0] += 1
            total[1] += event.bytes_in
            total[2] += event.bytes_out
            total[3] += event.latency_ms
    return dict(sums)


async def hourly_sums(sessions: Sessions) -> dict[tuple[Any, ...], list[Any]]:
    async with sessions() as session:
        return {
            (r.hour, r.key_id, r.application_id, r.developer_id, r.method, r.operation, r.status,
             r.code, r.scope): [r.requests, r.bytes_in, r.bytes_out, r.latency_ms]
            for r in await session.scalars(select(UsageHourly))
        }  # fmt: skip


async def daily_sums(sessions: Sessions) -> dict[tuple[Any, ...], list[Any]]:
    async with sessions() as session:
        return {
            (r.day, r.key_id, r.application_id, r.developer_id, r.method, r.operation, r.status,
             r.code, r.scope): [r.requests, r.bytes_in, r.bytes_out, r.latency_ms]
            for r in await session.scalars(select(UsageDaily))
        }  # fmt: skip


async def events_only_callers(sessions: Sessions, now: datetime) -> set[tuple[Any, ...]]:
    """What the announcements found before the summaries: the 90 days' events themselves."""
    async with sessions() as session:
        rows = await session.execute(
            select(UsageEvent.application_id, UsageEvent.method, UsageEvent.operation)
            .where(
                UsageEvent.at >= now - timedelta(days=90),
                UsageEvent.at <= now,
                UsageEvent.application_id.is_not(None),
                or_(*(and_(UsageEvent.method == m, UsageEvent.operation == o) for m, o in CALLS)),
            )
            .distinct()
        )
        return {tuple(row) for row in rows.all()}


async def events_only_counts(sessions: Sessions, start: datetime, end: datetime) -> dict[str, int]:
    """What the quota seed counted before the summary: the events themselves."""
    async with sessions() as session:
        rows = await session.execute(
            select(UsageEvent.key_id, func.count())
            .where(
                UsageEvent.at >= start,
                UsageEvent.at < end,
                UsageEvent.key_id.in_(["k1", "k2"]),
                or_(UsageEvent.code.is_(None), UsageEvent.code.in_(ADMITTED_CODES)),
            )
            .group_by(UsageEvent.key_id)
        )
        return {key: int(count) for key, count in rows.all() if key}


async def events_only_scopes(sessions: Sessions, window: Window, since: datetime) -> ScopesUsed:
    """What least privilege read before the summaries held scopes: the window's events."""
    used = ScopesUsed()
    async with sessions() as session:
        rows = await session.execute(
            select(UsageEvent.application_id, UsageEvent.scope, UsageEvent.at).where(
                UsageEvent.at >= window.start,
                UsageEvent.at < window.end,
                UsageEvent.status < 400,
                UsageEvent.application_id.is_not(None),
            )
        )
        for application, scope, at in rows.all():
            used.add_scopes([(application, scope, 1)], recent=at >= since)
            used.add_days([(application, int(at.timestamp() // DAY_SECONDS))])
    return used


def scopes_of(used: ScopesUsed) -> tuple[dict[str, Any], ...]:
    return tuple(
        {application: values for application, values in table.items() if values}
        for table in (used.window, used.recent, used.requests, used.days)
    )


async def events_only_refusals(sessions: Sessions, window: Window) -> dict[Any, tuple[int, ...]]:
    """Probing's counts as it read them before the summaries: the window's events."""
    found: dict[Any, list[int]] = defaultdict(lambda: [0] * 6)
    async with sessions() as session:
        rows = await session.execute(
            select(UsageEvent.developer_id, UsageEvent.application_id, UsageEvent.status,
                   UsageEvent.code)
            .where(UsageEvent.at >= window.start, UsageEvent.at < window.end,
                   UsageEvent.application_id.is_not(None))
        )  # fmt: skip
        for developer, application, status, code in rows.all():
            counts = found[(developer, application)]
            for index, counted in enumerate(
                (True, status in (401, 403, 404), code in (40303, 40305), code == 40302,
                 code in (40101, 40102), code == 40401)
            ):  # fmt: skip
                counts[index] += counted
    return {party: tuple(counts) for party, counts in found.items()}


def refusals_of(rows: list[RefusalCounts]) -> dict[Any, tuple[int, ...]]:
    return {
        (row.party.developer_id, row.party.application_id): (
            row.requests, row.refused, row.foreign_tenant, row.refused_scope,
            row.invalid_token, row.outside_api,
        )
        for row in rows
    }  # fmt: skip


async def events_only_parties(
    sessions: Sessions, window: Window, column: Any
) -> dict[str, set[str]]:
    """Circumvention's end users or addresses per application as it read them before the daily
    parties: the window's events."""
    found: dict[str, set[str]] = defaultdict(set)
    async with sessions() as session:
        rows = await session.execute(
            select(UsageEvent.application_id, column).where(
                UsageEvent.at >= window.start,
                UsageEvent.at < window.end,
                UsageEvent.application_id.is_not(None),
                column.is_not(None),
            )
        )
        for application, value in rows.all():
            found[application].add(value)
    return dict(found)


async def events_only_activity(sessions: Sessions, window: Window) -> dict[Any, tuple[Any, ...]]:
    """Circumvention's per-application activity as it read it before the summaries: requests,
    throttled, first throttled and first request in the window, from the window's events."""
    throttled = UsageEvent.status == 429
    async with sessions() as session:
        rows = await session.execute(
            select(UsageEvent.developer_id, UsageEvent.application_id, func.count(),
                   func.sum(case((throttled, 1), else_=0)),
                   func.min(UsageEvent.at).filter(throttled), func.min(UsageEvent.at))
            .where(UsageEvent.at >= window.start, UsageEvent.at < window.end,
                   UsageEvent.application_id.is_not(None))
            .group_by(UsageEvent.developer_id, UsageEvent.application_id)
        )  # fmt: skip
        return {
            (developer, application): (requests, refused, first_refused, first)
            for developer, application, requests, refused, first_refused, first in rows.all()
            if developer is not None
        }


def activity_of(developers: list[DeveloperActivity]) -> dict[Any, tuple[Any, ...]]:
    return {
        (developer.developer_id, app.application_id): (
            app.requests, app.throttled, app.first_throttled_at, app.first_in_window,
        )
        for developer in developers
        for app in developer.applications
    }  # fmt: skip


def end_users_of(developers: list[DeveloperActivity]) -> dict[str, int]:
    return {
        app.application_id: app.end_users
        for developer in developers
        for app in developer.applications
        if app.end_users
    }


def most_per_end_user(
    activity: dict[Any, tuple[Any, ...]], end_users: dict[str, set[str]]
) -> dict[str, int]:
    """Per developer, the most of its applications with `min_requests` serving one end user."""
    least = CIRCUMVENTION.value("min_requests")
    served: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (developer, application), (requests, *_rest) in activity.items():
        if requests >= least:
            for end_user in end_users.get(application, ()):
                served[developer][end_user] += 1
    return {developer: max(counts.values()) for developer, counts in served.items()}


async def hour_counts(sessions: Sessions) -> dict[datetime, int]:
    async with sessions() as session:
        return {r.hour: r.events for r in await session.scalars(select(UsageHour))}


async def events_per_hour_of_the_summary(sessions: Sessions) -> dict[datetime, int]:
    counted: defaultdict[datetime, int] = defaultdict(int)
    for group, sums in (await hourly_sums(sessions)).items():
        counted[group[0]] += sums[0]
    return dict(counted)


def assert_summarized(summarized: UsageReport, exact: UsageReport) -> None:
    """Requests, refusals, bytes and every hour's distinct end users exactly as the events
    have them; the range's and each operation's end users within the sketches' error."""
    assert summarized.over_time == exact.over_time
    assert summarized.refusals == exact.refusals
    for estimated, counted in (
        (summarized.totals, exact.totals),
        *(
            (s.counts, e.counts)
            for s, e in zip(summarized.per_operation, exact.per_operation, strict=True)
        ),
    ):
        assert astuple(estimated)[:4] == astuple(counted)[:4]
        assert abs(estimated.end_users - counted.end_users) <= max(1, counted.end_users // 20)


async def clear(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        for model in (
            UsageEvent,
            UsageHourly,
            UsageHour,
            UsageDaily,
            UsageDailyParty,
            UsageHourlySketches,
        ):
            await session.execute(delete(model))


async def write_and_compare(
    engine: AsyncEngine,
    sessions: Sessions,
    rows: list[UsageRow],
    cuts: list[int],
    ranges: list[tuple[datetime, datetime]],
    remembered: int = STORED_LIMIT,
) -> None:
    await clear(sessions)
    recorder = UsageRecorder(engine, flush_seconds=60, batch_size=1000, buffer_limit=1000)
    # The parties a batch stored are left out of the next ones, as many as the writer remembers.
    recorder.stored_parties = StoredParties(remembered)
    bounds = sorted({0, len(rows), *(cut % (len(rows) + 1) for cut in cuts)})
    for first, last in itertools.pairwise(bounds):
        await recorder._insert(rows[first:last])  # each batch its own transaction and upserts
    assert await hourly_sums(sessions) == await event_sums(sessions)
    assert await daily_sums(sessions) == await event_sums(sessions, daily=True)
    assert await hour_counts(sessions) == await events_per_hour_of_the_summary(sessions)
    # The usage pages over all applications, once every hour is sketched (clause 4.1).
    while await sketch_hours_over(sessions, datetime.fromtimestamp(BASE + 4 * DAY_SECONDS, UTC)):
        pass
    for start, end in ranges:
        async with sessions() as session:
            query = UsageQuery(start, end, "hour")
            summarized, exact = (
                await summarized_report(session, query),
                await events_report(session, query),
            )
        if summarized is not None:
            assert_summarized(summarized, exact)
    for start, end in ranges:
        async with sessions() as session:
            seeded = await admitted_counts(session, ["k1", "k2"], start, end)
            callers = await _callers(session, CALLS, end)
        assert dict(seeded) == await events_only_counts(sessions, start, end)
        assert callers == await events_only_callers(sessions, end)
        # Least privilege's scopes used, the window's last quarter as its recent part.
        window, recent = Window(start, end), (end - start) / 4
        async with sessions() as session:
            used = await scopes_used(session, window, lambda _: true(), recent)
        expected = await events_only_scopes(sessions, window, max(start, end - recent))
        assert scopes_of(used) == scopes_of(expected)
        # Probing's counts (clause 3.3 c).
        async with sessions() as session:
            counted = await refusal_counts(session, window)
        assert refusals_of(counted) == await events_only_refusals(sessions, window)
        # Circumvention's requests, throttlings and first moments per application (3.3 g).
        async with sessions() as session:
            seen = await observations(session, window, CIRCUMVENTION)
        assert activity_of(seen) == await events_only_activity(sessions, window)
        # A pass's end users per application and the most applications of an account serving
        # one (today whole from the daily parties when no event is later than the window), as
        # the events alone would have them.
        served = await events_only_parties(sessions, window, UsageEvent.end_user_id)
        assert end_users_of(seen) == {app: len(users) for app, users in served.items()}
        most = {d.developer_id: d.most_applications_per_end_user for d in seen}
        expected = most_per_end_user(await events_only_activity(sessions, window), served)
        assert {developer: n for developer, n in most.items() if n} == expected
        # Circumvention's end users and addresses per application (clause 3.3 g).
        async with sessions() as session:
            parties = await parties_per_application(session, window)
        for party, column in PARTY_COLUMNS.items():
            read = {app: parties[party].values_of(app) for app in parties[party].read}
            assert read == await events_only_parties(sessions, window, column)


# A range's ends: any quarter of an hour from the day before the events to the day after them,
# so ranges hold whole days, whole hours beside them and cut hours (a time zone's month).
MOMENT = st.integers(-4 * 24, 4 * 4 * 24).map(
    lambda quarter: datetime.fromtimestamp(BASE - DAY_SECONDS + quarter * 900, UTC)
)
RANGE = st.tuples(MOMENT, MOMENT).map(lambda ends: (min(ends), max(ends)))


@pytest.mark.timeout(300)
async def test_clause_4_1_hourly_and_daily_sums_equal_the_events_sums_whatever_the_batches(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    loop = asyncio.get_running_loop()

    def run(coroutine: Awaitable[object]) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()  # type: ignore[arg-type]

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        rows=usage_rows(),
        cuts=st.lists(st.integers(0, 40), max_size=3),
        ranges=st.lists(RANGE, min_size=1, max_size=3),
        remembered=st.sampled_from([0, 3, STORED_LIMIT]),
    )
    def property(
        rows: list[UsageRow],
        cuts: list[int],
        ranges: list[tuple[datetime, datetime]],
        remembered: int,
    ) -> None:
        run(write_and_compare(engine, sessions, rows, cuts, ranges, remembered))

    await asyncio.to_thread(property)


async def test_clause_4_1_absent_and_empty_values_of_one_batch_add_to_one_summary_row(
    engine: AsyncEngine, sessions: Sessions
) -> None:
    """None and '' (a code of None and 0) are one group once stored: one batch holding both
    adds to one summary row, in one upsert that must not name that row twice."""
    await clear(sessions)
    rest = (None,) * 8
    rows: list[UsageRow] = [
        (BASE + 1.0, "e-1", "k1", "app-k1", "dev", "GET", None, 404, None, 10, 20, 0.5, *rest),
        (BASE + 2.0, "e-2", "k1", "app-k1", "dev", "GET", "", 404, 0, 30, 40, 1.5, *rest),
    ]
    recorder = UsageRecorder(engine, flush_seconds=60, batch_size=1000, buffer_limit=1000)
    await recorder._insert(rows)

    summary = await hourly_sums(sessions)
    assert summary == await event_sums(sessions)
    assert list(summary.values()) == [[2, 40, 60, 2.0]]
    assert list((await daily_sums(sessions)).values()) == [[2, 40, 60, 2.0]]


@settings(max_examples=200, deadline=None)
@given(rows=usage_rows())
def test_clause_4_1_the_sqlite_writer_hands_each_event_once_and_sums_it_once(
    rows: list[UsageRow],
) -> None:
    # The SQLite writer sums the summary inside the generator the driver's thread consumes
    # (off the serving event loop): every event goes to the insert exactly once, as SQLite
    # stores it, and into the sums exactly once, as a separate pass over the events would sum.
    sums, parties = HourlySums(), DailyParties()
    handed = list(sqlite_rows(rows, sums, parties))
    assert handed == [(sqlite_time(row[0]), *row[1:]) for row in rows]
    expected = rollup(rows)
    assert list(sums.sqlite_items()) == [[sqlite_hour(item[0]), *item[1:]] for item in expected]
    # Each application's end users and addresses of each day, once, the day as stored.
    assert set(parties.sqlite_items()) == {
        (sqlite_time(row[0])[:10] + " 00:00:00.000000", row[3], party, row[index])
        for row in rows
        for party, index in (("end_user", 12), ("address", 18))
        if row[3] is not None and row[index] is not None
    }


def test_clause_4_4_a_range_splits_into_whole_hours_and_its_cut_edges() -> None:
    at = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    hours, edges = whole_hours(at, at + timedelta(hours=3))
    assert hours == (at + timedelta(minutes=30), at + timedelta(hours=2, minutes=30))
    assert edges == [(at, hours[0]), (hours[1], at + timedelta(hours=3))]
    whole = at.replace(minute=0)
    assert whole_hours(whole, whole + timedelta(days=1)) == (
        (whole, whole + timedelta(days=1)),
        [],
    )
    assert whole_hours(at, at + timedelta(minutes=10)) == (None, [(at, at + timedelta(minutes=10))])
    assert whole_hours(at, at) == (None, [])


def test_clause_4_4_a_month_of_a_half_hour_zone_splits_into_days_hours_and_cut_hours() -> None:
    # November in Asia/Kolkata (UTC+5:30): 2026-10-31 18:30 to 2026-11-30 18:30 UTC.
    start, end = (
        datetime(2026, 10, 31, 18, 30, tzinfo=UTC),
        datetime(2026, 11, 30, 18, 30, tzinfo=UTC),
    )
    ranges = summary_ranges(start, end)
    assert ranges.days == (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC))
    assert ranges.hours == [
        (datetime(2026, 10, 31, 19, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)),
        (datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 11, 30, 18, tzinfo=UTC)),
    ]
    assert ranges.events == [
        (start, datetime(2026, 10, 31, 19, tzinfo=UTC)),
        (datetime(2026, 11, 30, 18, tzinfo=UTC), end),
    ]
    day = datetime(2026, 11, 2, tzinfo=UTC)
    assert summary_ranges(day, day + timedelta(days=1)) == Ranges(
        (day, day + timedelta(days=1)), [], []
    )
    assert summary_ranges(day, day + timedelta(hours=23)) == Ranges(
        None, [(day, day + timedelta(hours=23))], []
    )


def test_clause_3_3_g_an_events_day_is_the_day_it_is_stored_in() -> None:
    """Under half a microsecond before midnight, an event is stored (rounded) at midnight: its
    parties count on the next day, the one the events' reads see it in."""
    for at in (BASE - 4e-7, BASE - 7e-7, BASE, BASE + 0.5, BASE - 0.5):
        stored = datetime.fromisoformat(sqlite_time(at)).replace(tzinfo=UTC)
        assert day_number(at) == (stored - datetime(1970, 1, 1, tzinfo=UTC)).days
    assert day_number(BASE - 4e-7) == day_number(BASE) == day_number(BASE - 7e-7) + 1
