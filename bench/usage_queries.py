"""Usage-event queries at scale: the console's and the detectors' reads on a month of events.

Creates a scratch PostgreSQL database (dropped at the end), migrates it, fills `usage_events`
server-side with `--rows` events spread evenly over the last 30 days (`generate_series`: 2,000
applications with one key each, 100,000 end users, 20 operations), then times each query the
code runs over the table, as the code builds it, for each index layout of `--layouts`:

- `migrated`: the indexes the migrations create (what the table has today);
- `brin`: the same with the B-tree on `at` replaced by a BRIN index (PostgreSQL only);
- `brin+key+operation`: `brin` plus B-trees on `(key_id, at)` and `(operation, at)`.

Layouts apply in the order given, each on top of the previous one.

    python3 -m uv run python bench/usage_queries.py --rows 10000000 \
        --layouts migrated,brin,brin+key+operation
    python3 -m uv run python bench/usage_queries.py --rows 10000000 --layouts migrated \
        --ingest 200000          # then the writer's ingestion into the filled table
    python3 -m uv run python bench/usage_queries.py --rows 30000000 --layouts migrated \
        --only summaries,console  # only the reads whose name holds one of these
    python3 -m uv run python bench/usage_queries.py --rows 26666667 --days 8 --layouts migrated \
        --only "policy window,60 min"  # a week and a day at 100 million events a month

Each query runs three times after one warm-up; the median is printed with the rows it
returned. The hourly summary (`usage_hourly`, migration 0015) is filled from the events and the
daily one (`usage_daily`, migration 0020) from the hourly, as the migrations do
(`usage_fill.py`), and the quota seed and the announcements are timed again as the code now
makes them (`summaries: …`): whole UTC days from the daily summary, the whole hours beside them
from the hourly one, the cut hours from the events; the rows the monthly seed reads from each
table are counted. Sizes of the tables and of each index are printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import Select, and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

import usage_reads_before as before
from targets import ROOT
from termgate.db.engine import create_engine, session_factory
from termgate.db.migrate import alembic_config, upgrade
from termgate.db.models import UsageEvent
from termgate.db.usage_daily import UsageDaily, summary_ranges
from termgate.db.usage_hourly import UsageHourly
from termgate.gateway.traffic.quota_seed import ADMITTED_CODES, admitted_counts
from termgate.governance import analytics
from termgate.governance.analytics import UsageQuery, events_report, usage_report
from termgate.governance.announcements import _callers
from termgate.governance.sketch_hours import sketch_hours_over
from termgate.monitoring import (
    aggregate,
    aggregate_circumvention,
    aggregate_parties,
    aggregate_scopes,
)
from termgate.monitoring.policy import load_detector_policies
from termgate.monitoring.runner import DETECTORS
from termgate.monitoring.window import Window
from usage_fill import SUMMARIES, fill
from usage_ingest import RECORDERS, _server_cpu, make_rows, scratch_postgresql

APPLICATIONS, END_USERS, OPERATIONS = 2_000, 100_000, 20

LAYOUTS: dict[str, list[str]] = {
    "migrated": [],
    "brin": [
        "DROP INDEX IF EXISTS ix_usage_events_at",
        "CREATE INDEX ix_usage_events_at ON usage_events USING brin (at)",
    ],
    # brin, plus what the quota seed and the announcements would read by
    "brin+key+operation": [
        "DROP INDEX IF EXISTS ix_usage_events_at",
        "CREATE INDEX IF NOT EXISTS ix_usage_events_at ON usage_events USING brin (at)",
        "CREATE INDEX ix_usage_events_key_at ON usage_events (key_id, at)",
        "CREATE INDEX ix_usage_events_operation_at ON usage_events (operation, at)",
    ],
}


def app(n: int) -> str:
    return f"app{n:029d}"


def queries(now: datetime) -> dict[str, Callable[[], Select[Any]]]:
    """The reads the code makes, with this bench's ids; the module that makes each is named."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day - timedelta(days=29)
    keys = [f"key{n:029d}" for n in range(0, 2_000, 40)]  # 50 keys with a quota
    calls = [("GET", "/api/op3/{id}"), ("POST", "/api/op14/{id}")]
    user = f"user{4242:028d}"
    kind = func.coalesce(UsageEvent.data_category, UsageEvent.operation)
    per_day = func.date_trunc("day", UsageEvent.at)
    return {
        # gateway/traffic/quota_seed.py at a start: today's and this month's use per key
        "quota seed, day bucket, 50 keys": lambda: _quota(keys, day, now),
        "quota seed, month bucket, 50 keys": lambda: _quota(keys, month, now),
        # governance/announcements.py: applications that called an operation in 90 days
        "announcement: callers of 2 operations": lambda: (
            select(UsageEvent.application_id, UsageEvent.method, UsageEvent.operation)
            .where(
                UsageEvent.at >= now - timedelta(days=90),
                UsageEvent.at <= now,
                UsageEvent.application_id.is_not(None),
                or_(*(and_(UsageEvent.method == m, UsageEvent.operation == o) for m, o in calls)),
            )
            .distinct()
        ),
        # web/end_user/apps.py: the end user's connected-apps page and access-log export
        "end user: last reads per app": lambda: (
            select(UsageEvent.application_id, kind, func.max(UsageEvent.at))
            .where(UsageEvent.end_user_id == user, UsageEvent.status < 400)
            .group_by(UsageEvent.application_id, kind)
        ),
        "end user: access log export": lambda: (
            select(UsageEvent)
            .where(UsageEvent.end_user_id == user)
            .order_by(UsageEvent.at)
            .limit(10_000)
        ),
        # the console's views: one application per day over the month, all per operation today
        "console: one application per day": lambda: (
            select(per_day, func.count())
            .where(UsageEvent.application_id == app(17), UsageEvent.at >= month)
            .group_by(per_day)
        ),
        "console: all per operation, today": lambda: (
            select(UsageEvent.operation, func.count())
            .where(UsageEvent.at >= day)
            .group_by(UsageEvent.operation)
        ),
        "console: one application per operation, month": lambda: (
            select(UsageEvent.operation, func.count())
            .where(UsageEvent.application_id == app(17), UsageEvent.at >= month)
            .group_by(UsageEvent.operation)
        ),
        # monitoring/aggregate_parties.py before 2026-11-29: circumvention's "first request
        # ever" of the window's applications, grouped (the code now probes per application)
        "circumvention first seen, grouped (before)": lambda: (
            select(UsageEvent.application_id, func.min(UsageEvent.at))
            .where(UsageEvent.application_id.in_([app(n) for n in range(APPLICATIONS)]))
            .group_by(UsageEvent.application_id)
        ),
        # governance/retention.py: one batch of the events past their retention
        "retention: one delete batch's keys": lambda: (
            select(UsageEvent.id).where(UsageEvent.at < month + timedelta(days=1)).limit(1_000)
        ),
        # gateway/observe.py replay: which of a spool's 500 request ids are in the database
        "spool replay: 500 ids in 2 s": lambda: select(UsageEvent.request_id).where(
            UsageEvent.at.between(now - timedelta(days=3), now - timedelta(days=3, seconds=-2)),
            UsageEvent.request_id.in_([uuid.uuid4().hex for _ in range(500)]),
        ),
    }


CIRCUMVENTION = load_detector_policies(ROOT / "terms")["circumvention"]


def policy_windows(now: datetime) -> dict[str, Callable[[Any], Any]]:
    """Each detector's aggregation over the window `terms/policy.toml` gives it (a day for
    probing and harvest, a week for circumvention, 90 days for least privilege, an hour for
    stability), as a pass of `serve` runs it."""
    policies = load_detector_policies(ROOT / "terms")
    reads: dict[str, Callable[[Any], Any]] = {}
    for name, policy in policies.items():
        aggregate_rows = DETECTORS[name][0]
        window = Window(now - policy.window, now)
        label = f"detector {name}, policy window ({policy.window}, every {policy.every})"
        reads[label] = lambda s, read=aggregate_rows, window=window, policy=policy: read(
            s, window, policy
        )
    return reads


def code_paths(now: datetime) -> dict[str, Callable[[Any], Any]]:
    """Reads as the code's own functions make them, on a session: the two slow reads now served
    by whole days from `usage_daily`, whole hours from `usage_hourly` and the cut hours from the
    events (`quota_seed.admitted_counts`, `announcements._callers`); each detector's aggregation
    over the last 60 minutes and over its window in `terms/policy.toml` (`policy_windows`,
    `monitoring/aggregate*.py`); and the console's usage page (`governance.analytics.usage_report`:
    totals, per period, per operation with latency percentiles, refusals) for one application
    over the month and for all of today, the latter's parts timed one by one."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day - timedelta(days=29)
    keys = [f"key{n:029d}" for n in range(0, 2_000, 40)]
    calls = [("GET", "/api/op3/{id}"), ("POST", "/api/op14/{id}")]
    hour = Window(now - timedelta(minutes=60), now)
    one_app = UsageQuery(month, now, "day", application_id=app(17))
    today = UsageQuery(day, now, "hour")
    week = UsageQuery(day - timedelta(days=6), now, "day")
    return {
        "summaries: quota seed, day bucket, 50 keys": lambda s: admitted_counts(s, keys, day, now),
        "summaries: quota seed, month bucket, 50 keys": lambda s: admitted_counts(
            s, keys, month, now
        ),
        "summaries: quota seed, month in UTC+5:30, 50 keys": lambda s: admitted_counts(
            s, keys, month - timedelta(hours=5, minutes=30), now
        ),
        "summaries: announcement: callers of 2 operations": lambda s: _callers(s, calls, now),
        "hourly (before 0020): quota seed, month bucket": lambda s: before.hourly_seed(
            s, keys, month, now
        ),
        "hourly (before 0020): announcement": lambda s: before.hourly_callers(s, calls, now),
        "detector probing (refusal counts), 60 min": lambda s: aggregate.refusal_counts(s, hour),
        "detector stability (loads), 60 min": lambda s: aggregate.application_loads(s, hour),
        "detector harvest (read volumes), 60 min": lambda s: aggregate_parties.read_volumes(
            s, hour
        ),
        "detector circumvention, 60 min": lambda s: aggregate_circumvention.observations(
            s, hour, CIRCUMVENTION
        ),
        "circumvention first seen, probed (now)": lambda s: aggregate_parties.first_seen_of(
            s, [app(n) for n in range(APPLICATIONS)]
        ),
        "detector least privilege (scope use), 60 min": lambda s: aggregate_scopes.scope_use(
            s, hour
        ),
        **policy_windows(now),
        "events (before 0021): least privilege, 90 days": lambda s: before.events_scope_use(
            s, now - timedelta(days=90), now
        ),
        "console usage page: one application, month": lambda s: _report(s, one_app),
        "console usage page: all, today by hour": lambda s: _report(s, today),
        "console usage page: all, 7 days by day": lambda s: _report(s, week),
        "console CSV export: all, 7 days by day": lambda s: analytics.per_operation_and_period(
            s, week
        ),
        # its parts: the three grouped counts, the percentiles per operation, the refusals
        "  its totals": lambda s: analytics._grouped(s, today, []),
        "  its per hour": lambda s: analytics._grouped(s, today, [_label(s, "hour")]),
        "  its per operation": lambda s: analytics._grouped(s, today, [analytics._operation()]),
        "  its p50/p99 per operation": lambda s: analytics.latency_percentiles(
            s, today, [analytics._operation()]
        ),
        "  its refusals by code": lambda s: analytics.refusals_by_code(s, today),
    }


def _label(session: Any, granularity: analytics.Granularity) -> Any:
    return analytics._period(session.get_bind().dialect.name, granularity)


async def rows_read(engine: AsyncEngine, now: datetime) -> None:
    """The rows the monthly quota seed reads from each table (its predicates, counted): the
    summaries' share stays bounded by groups × days (hours) as the events grow."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    keys = [f"key{n:029d}" for n in range(0, 2_000, 40)]
    ranges = summary_ranges(day - timedelta(days=29), now)
    counted = {
        "usage_daily": [(UsageDaily, UsageDaily.day, ranges.days)] if ranges.days else [],
        "usage_hourly": [(UsageHourly, UsageHourly.hour, span) for span in ranges.hours],
        "usage_events": [(UsageEvent, UsageEvent.at, span) for span in ranges.events],
    }
    async with engine.connect() as connection:
        for table, parts in counted.items():
            total = 0
            for model, column, (first, last) in parts:
                query = select(func.count()).where(
                    model.key_id.in_(keys), column >= first, column < last
                )
                total += int((await connection.execute(query)).scalar_one())
            print(f"  quota seed, month bucket, rows read from {table}: {total:,}", flush=True)


async def _report(session: Any, query: UsageQuery) -> list[Any]:
    report = await usage_report(session, query)
    return report.per_operation


def _quota(keys: list[str], start: datetime, end: datetime) -> Select[Any]:
    return (
        select(UsageEvent.key_id, func.count())
        .where(
            UsageEvent.at >= start,
            UsageEvent.at < end,
            UsageEvent.key_id.in_(keys),
            or_(UsageEvent.code.is_(None), UsageEvent.code.in_(ADMITTED_CODES)),
        )
        .group_by(UsageEvent.key_id)
    )


async def sizes(engine: AsyncEngine) -> None:
    query = text(
        "SELECT relname, pg_size_pretty(pg_relation_size(oid)) FROM pg_class "
        "WHERE relname LIKE 'usage_%' OR relname LIKE 'ix_usage_%' OR relname LIKE 'uq_usage_%' "
        "ORDER BY relname"
    )
    async with engine.connect() as connection:
        for name, size in (await connection.execute(query)).all():
            print(f"  size {name}: {size}")


def chosen(names: list[str], only: list[str]) -> list[str]:
    """The reads whose name holds one of `only` (all of them if it is empty)."""
    return [name for name in names if not only or any(part in name for part in only)]


async def measure(engine: AsyncEngine, now: datetime, only: list[str]) -> None:
    built = queries(now)
    for name in chosen(list(built), only):
        build = built[name]
        times: list[float] = []
        count = 0
        for attempt in range(4):
            async with engine.connect() as connection:
                began = time.perf_counter()
                count = len((await connection.execute(build())).all())
                if attempt:
                    times.append(time.perf_counter() - began)
        print(f"  {name:48} {statistics.median(times) * 1000:9.1f} ms  {count:6} rows", flush=True)
    sessions = session_factory(engine)
    paths = code_paths(now)
    for name in chosen(list(paths), only):
        call = paths[name]
        times = []
        for attempt in range(4):
            async with sessions() as session:
                began = time.perf_counter()
                count = len(await call(session))
                if attempt:
                    times.append(time.perf_counter() - began)
        print(f"  {name:48} {statistics.median(times) * 1000:9.1f} ms  {count:6} rows", flush=True)


async def ingest(
    engine: AsyncEngine, events: int, methods: list[str], batches: list[int], rounds: int
) -> None:
    """The usage writer (`--method`, as bench/usage_ingest.py names them) adding `events` to the
    filled table, its indexes as large as the fill made them; per method and batch size,
    interleaved: CPU µs per event of this process and of the server."""
    rows = make_rows(events)
    for round_ in range(1, rounds + 1):
        for batch, method in ((b, m) for b in batches for m in methods):
            recorder = RECORDERS[method](
                engine, flush_seconds=1.0, batch_size=batch, buffer_limit=len(rows)
            )
            recorder.buffer = list(rows)
            server = await _server_cpu(engine)
            wall, cpu = time.perf_counter(), time.process_time()
            written = await recorder.flush()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            after = await _server_cpu(engine)
            spent = sum(seconds - server.get(pid, 0.0) for pid, seconds in after.items())
            print(
                f"  ingest into the filled table, {method:11} batch {batch:6} round {round_}: "
                f"{written:,} events {written / wall:9,.0f} events/s client CPU "
                f"{cpu * 1e6 / written:5.1f} µs/event server CPU {spent * 1e6 / written:5.1f}"
                " µs/event",
                flush=True,
            )


async def sketch_and_measure(engine: AsyncEngine, now: datetime, days: int) -> None:
    """The monitoring thread's sketching of the hours over of the last `days` days (timed, per
    hour), then the console's pages over all applications again: from the sketches now."""
    sessions = session_factory(engine)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = UsageQuery(day - timedelta(days=6), now, "day")
    async with sessions() as session:
        exact = await events_report(session, week)
    began, cpu, hours = time.perf_counter(), time.process_time(), 0
    while sketched := await sketch_hours_over(sessions, now, limit=24):
        hours += len(sketched)
        if now - sketched[-1] > timedelta(days=days):
            break
    spent, cpu = time.perf_counter() - began, time.process_time() - cpu
    print(
        f"  sketched {hours} hours over in {spent:.1f} s, {spent / max(hours, 1) * 1000:.0f} ms "
        f"an hour ({cpu / max(hours, 1) * 1000:.0f} ms of this process's CPU)",
        flush=True,
    )
    await measure(engine, now, ["console usage page: all", "console CSV export: all"])
    async with sessions() as session:
        print_errors(await usage_report(session, week), exact)


def print_errors(sketched: Any, exact: Any) -> None:
    """How far the week's estimates are from the events' exact figures: each distinct count of
    the totals, and the largest relative error over the operations of each distinct count and
    of p50 and p99."""
    if not sketched.totals.estimated:
        print("  7 days: not read from the sketches (hours missing?)", flush=True)
        return
    for kind, count in exact.totals.distinct.items():
        estimate = sketched.totals.distinct[kind]
        print(f"  7 days, distinct {kind}: {estimate:,} estimated, {count:,} exact", flush=True)
    pairs = list(zip(sketched.per_operation, exact.per_operation, strict=True))
    figures = {
        **{
            f"distinct {kind}": [
                (s.counts.distinct[kind], e.counts.distinct[kind]) for s, e in pairs
            ]
            for kind in exact.totals.distinct
        },
        **{
            f"latency {name}": [(s.latency[name], e.latency[name]) for s, e in pairs]
            for name in ("p50", "p99")
        },
    }
    for name, values in figures.items():
        worst = max((abs(got - want) / want for got, want in values if want), default=0.0)
        print(f"  7 days per operation, {name}: largest relative error {worst:.2%}", flush=True)


async def time_migration(url: str, revision: str) -> None:
    """A migration on the filled table, down to the one before it and up to the newest again,
    each timed: 0021 rebuilds both summaries from the events (without scopes, then per scope),
    0022 drops the daily parties and the index of the throttled events, then fills and builds
    them again."""
    config = alembic_config(url)
    previous = f"{int(revision) - 1:04d}"
    for step, run_step in (
        (f"downgrade to {previous}", lambda: command.downgrade(config, previous)),
        ("upgrade to the newest", lambda: upgrade(url)),
    ):
        began = time.perf_counter()
        await asyncio.to_thread(run_step)
        print(f"  migration: {step} ({time.perf_counter() - began:.1f} s)", flush=True)
    engine = create_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:  # as the fill leaves them, and autovacuum
            for table in SUMMARIES:
                await connection.execute(text(f"VACUUM ANALYZE {table}"))
    finally:
        await engine.dispose()


async def run(
    url: str,
    rows: int,
    layouts: list[str],
    events: int,
    writers: tuple[list[str], list[int]],
    only: list[str],
    migration: str = "",
    end_users_per_application: int = 0,
    days: int = 30,
    sketch_days: int = 0,
) -> None:
    now = datetime.now(UTC)
    engine = create_engine(url)
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    try:
        await fill(autocommit, rows, now, end_users_per_application, days)
        if migration:
            await time_migration(url, migration)
        for layout in layouts:
            async with autocommit.connect() as connection:
                for statement in LAYOUTS[layout]:
                    await connection.execute(text(statement))
                await connection.execute(text("ANALYZE usage_events"))
            month = f" (a month of {rows * 30 // days:,})" if days != 30 else ""
            print(f"layout {layout}, {rows:,} events over {days} days{month}:", flush=True)
            await sizes(engine)
            await rows_read(engine, now)
            await measure(engine, now, only)
        if sketch_days:
            await sketch_and_measure(engine, now, sketch_days)
        if events:
            await ingest(engine, events, *writers, rounds=2)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--layouts", default="migrated,brin")
    parser.add_argument(
        "--ingest", type=int, default=0, help="then write this many events with the usage writer"
    )
    parser.add_argument("--batch", default="5000,50000", help="the writer's batch sizes (--ingest)")
    parser.add_argument("--method", default="copy", help="the writers (--ingest): copy,events-only")
    parser.add_argument(
        "--only", default="", help="time only the reads whose name holds one of these, a,b"
    )
    parser.add_argument(
        "--migration",
        default="",
        help="after the fill, time this migration (0021, 0022) down and up",
    )
    parser.add_argument(
        "--end-users-per-application",
        type=int,
        default=0,
        help="each application's events for its own this many end users (0: any of 100,000)",
    )
    parser.add_argument(
        "--days",
        type=int,
        default=30,
        help="spread the events over the last this many days: a month's density of rows * 30 / "
        "days for the reads whose window is no longer",
    )
    parser.add_argument(
        "--sketch-days",
        type=int,
        default=0,
        help="then sketch the hours over of this many days and time the console's pages again",
    )
    args = parser.parse_args()
    batches = [int(b) for b in args.batch.split(",") if b]
    only = [part for part in args.only.split(",") if part]
    layouts = [layout for layout in args.layouts.split(",") if layout]
    if (
        args.rows < 1_000
        or set(layouts) - set(LAYOUTS)
        or args.end_users_per_application < 0
        or not 1 <= args.days <= 30
        or args.migration not in ("", "0021", "0022")
    ):
        parser.error(
            f"rows ≥ 1000; end users ≥ 0; days 1-30; migration 0021 or 0022; layouts among "
            f"{sorted(LAYOUTS)}"
        )
    with scratch_postgresql() as url:
        print(f"load: {os.getloadavg()[0]:.2f} (1-min)", flush=True)
        writers = (args.method.split(","), batches)
        asyncio.run(
            run(
                url,
                args.rows,
                layouts,
                args.ingest,
                writers,
                only,
                args.migration,
                args.end_users_per_application,
                args.days,
                args.sketch_days,
            )
        )


if __name__ == "__main__":
    main()
