"""Usage analytics (clause 4.1: the provider monitors use; the developer sees their own).

Read from the usage events over a time range, per hour or per day, optionally narrowed to one
developer, application or operation: requests, refusals by code and clause, bytes, latency
p50/p99, end users served and distinct objects read, per operation and per period.

Percentiles are continuous (linear interpolation between the two nearest ranks), as PostgreSQL's
`percentile_cont` computes them. PostgreSQL computes them itself; SQLite has no such aggregate,
so there one query numbers each group's latencies with window functions and returns only the two
rows around each percentile's rank, and the interpolation is done here: exact, and at most four
rows per group leave the database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, String, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from termgate.db.models import UsageEvent
from termgate.problems import CLIENT_CLOSED, clause_of

Granularity = Literal["hour", "day"]
STEPS: dict[str, timedelta] = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
# Percentiles as whole-number fractions, so SQLite can find their ranks in integer arithmetic.
PERCENTILES: dict[str, tuple[int, int]] = {"p50": (50, 100), "p99": (99, 100)}
# Distinct objects read, one column each: the end users served and the tenants of the paths
# (the ids the gateway recorded for detection, clause 4.1).
OBJECTS_READ: dict[str, InstrumentedAttribute[Any]] = {
    "end_users": UsageEvent.end_user_id,
    "employees": UsageEvent.employee_id,
    "companies": UsageEvent.company_id,
    "debtors": UsageEvent.debtor_id,
}
NO_OPERATION = "(no operation)"  # a request that matched none (refused before it had one)

REFUSED = and_(UsageEvent.code.is_not(None), UsageEvent.code != CLIENT_CLOSED)


@dataclass(frozen=True, slots=True)
class UsageQuery:
    """A time range [since, until) in UTC, its period, and the optional narrowing filters."""

    since: datetime
    until: datetime
    granularity: Granularity = "day"
    developer_id: str | None = None
    application_id: str | None = None
    operation: str | None = None

    def periods(self) -> list[str]:
        """Every period's label in the range, oldest first ("2026-11-29" or "2026-11-29 16")."""
        step = STEPS[self.granularity]
        start = period_start(self.since, self.granularity)
        labels: list[str] = []
        while start < self.until:
            labels.append(period_label(start, self.granularity))
            start += step
        return labels


def period_start(moment: datetime, granularity: Granularity) -> datetime:
    moment = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if granularity == "day" else moment


def period_label(moment: datetime, granularity: Granularity) -> str:
    return moment.strftime("%Y-%m-%d" if granularity == "day" else "%Y-%m-%d %H")


@dataclass(frozen=True, slots=True)
class Counts:
    requests: int
    refusals: int
    bytes_in: int
    bytes_out: int
    distinct: dict[str, int]  # OBJECTS_READ's names → how many distinct ones

    @property
    def end_users(self) -> int:
        return self.distinct["end_users"]


@dataclass(frozen=True, slots=True)
class Row:
    """The counts and latency percentiles (milliseconds) of one operation, period or both."""

    period: str
    operation: str
    counts: Counts
    latency: dict[str, float]  # PERCENTILES' names → milliseconds


@dataclass(frozen=True, slots=True)
class RefusalCount:
    code: int
    clause: str
    refusals: int


@dataclass(frozen=True, slots=True)
class UsageReport:
    query: UsageQuery
    totals: Counts
    over_time: list[Row]  # every period of the range, zeros included
    per_operation: list[Row]  # busiest first
    refusals: list[RefusalCount]  # most frequent first


def _conditions(query: UsageQuery) -> list[ColumnElement[bool]]:
    conditions = [UsageEvent.at >= query.since, UsageEvent.at < query.until]
    if query.developer_id is not None:
        conditions.append(UsageEvent.developer_id == query.developer_id)
    if query.application_id is not None:
        conditions.append(UsageEvent.application_id == query.application_id)
    if query.operation is not None:
        conditions.append(UsageEvent.operation == query.operation)
    return conditions


def _period(dialect: str, granularity: Granularity) -> ColumnElement[str]:
    """The event's period label, computed by the database (times are stored in UTC)."""
    if dialect == "postgresql":
        pattern = "YYYY-MM-DD" if granularity == "day" else "YYYY-MM-DD HH24"
        utc = func.timezone("UTC", UsageEvent.at)
        return func.to_char(utc, pattern, type_=String)
    # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff": the label is its first 10 or 13 characters.
    return func.substr(UsageEvent.at, 1, 10 if granularity == "day" else 13, type_=String)


def _operation() -> ColumnElement[str]:
    return func.coalesce(UsageEvent.operation, NO_OPERATION)


def _count_columns() -> list[ColumnElement[Any]]:
    return [
        func.count().label("requests"),
        func.coalesce(func.sum(case((REFUSED, 1), else_=0)), 0).label("refusals"),
        func.coalesce(func.sum(UsageEvent.bytes_in), 0).label("bytes_in"),
        func.coalesce(func.sum(UsageEvent.bytes_out), 0).label("bytes_out"),
        *(func.count(column.distinct()).label(name) for name, column in OBJECTS_READ.items()),
    ]


def _counts(row: Any) -> Counts:
    mapping = row._mapping
    return Counts(
        int(mapping["requests"]),
        int(mapping["refusals"]),
        int(mapping["bytes_in"]),
        int(mapping["bytes_out"]),
        {name: int(mapping[name]) for name in OBJECTS_READ},
    )


GroupKey = tuple[str, ...]


async def _grouped(
    session: AsyncSession, query: UsageQuery, keys: Sequence[ColumnElement[str]]
) -> dict[GroupKey, Counts]:
    statement = select(*keys, *_count_columns()).where(*_conditions(query))
    if keys:
        statement = statement.group_by(*keys)
    result = await session.execute(statement)
    return {tuple(row[: len(keys)]): _counts(row) for row in result}


async def latency_percentiles(
    session: AsyncSession, query: UsageQuery, keys: Sequence[ColumnElement[str]]
) -> dict[GroupKey, dict[str, float]]:
    """Each group's p50 and p99 latency in milliseconds, computed as `percentile_cont` does."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return await _percentile_cont(session, query, keys)
    return await ranked_percentiles(session, query, keys)


async def _percentile_cont(
    session: AsyncSession, query: UsageQuery, keys: Sequence[ColumnElement[str]]
) -> dict[GroupKey, dict[str, float]]:
    columns = [
        func.percentile_cont(numerator / denominator)
        .within_group(UsageEvent.latency_ms)
        .label(name)
        for name, (numerator, denominator) in PERCENTILES.items()
    ]
    statement = select(*keys, *columns).where(*_conditions(query))
    if keys:
        statement = statement.group_by(*keys)
    result = await session.execute(statement)
    answer: dict[GroupKey, dict[str, float]] = {}
    for row in result:
        values = row[len(keys) :]
        if values[0] is not None:
            answer[tuple(row[: len(keys)])] = {
                name: float(value) for name, value in zip(PERCENTILES, values, strict=True)
            }
    return answer


async def ranked_percentiles(
    session: AsyncSession, query: UsageQuery, keys: Sequence[ColumnElement[str]]
) -> dict[GroupKey, dict[str, float]]:
    """The portable way: rank each group's latencies, keep the rows next to each percentile's
    rank (integer arithmetic: floor((n - 1) * p)), and interpolate between them here."""
    key_labels = [key.label(f"key_{index}") for index, key in enumerate(keys)]
    partition = list(keys) or None
    ranked = (
        select(
            *key_labels,
            UsageEvent.latency_ms.label("latency"),
            (
                func.row_number().over(partition_by=partition, order_by=UsageEvent.latency_ms) - 1
            ).label("rank"),
            func.count().over(partition_by=partition).label("size"),
        )
        .where(*_conditions(query))
        .subquery()
    )
    rank, size = ranked.c["rank"], ranked.c["size"]
    wanted = []
    for numerator, denominator in PERCENTILES.values():
        floor = (size - 1) * numerator // denominator
        wanted += [rank == floor, rank == floor + 1]
    near = select(*(ranked.c[label.name] for label in key_labels), ranked.c.latency, rank, size)
    result = await session.execute(near.where(or_(*wanted)))
    ranks: dict[GroupKey, dict[int, float]] = defaultdict(dict)
    sizes: dict[GroupKey, int] = {}
    for row in result:
        key = tuple(row[: len(keys)])
        ranks[key][int(row.rank)] = float(row.latency)
        sizes[key] = int(row.size)
    return {key: interpolate(ranks[key], sizes[key]) for key in ranks}


def interpolate(values_at_rank: dict[int, float], size: int) -> dict[str, float]:
    """`percentile_cont` from the values at the ranks around each percentile's position."""
    answer: dict[str, float] = {}
    for name, (numerator, denominator) in PERCENTILES.items():
        floor, remainder = divmod((size - 1) * numerator, denominator)
        low = values_at_rank[floor]
        if remainder == 0:
            answer[name] = low
        else:
            high = values_at_rank[floor + 1]
            answer[name] = low + (high - low) * remainder / denominator
    return answer


async def usage_report(session: AsyncSession, query: UsageQuery) -> UsageReport:
    """Everything the usage pages show, in a handful of grouped queries."""
    dialect = session.get_bind().dialect.name
    period, operation = _period(dialect, query.granularity), _operation()
    totals = (await _grouped(session, query, []))[()]
    by_period = await _grouped(session, query, [period])
    empty = Counts(0, 0, 0, 0, dict.fromkeys(OBJECTS_READ, 0))
    over_time = [Row(label, "", by_period.get((label,), empty), {}) for label in query.periods()]
    by_operation = await _grouped(session, query, [operation])
    latency = await latency_percentiles(session, query, [operation])
    per_operation = [
        Row("", key[0], counts, latency.get(key, {})) for key, counts in by_operation.items()
    ]
    per_operation.sort(key=lambda row: (-row.counts.requests, row.operation))
    return UsageReport(
        query, totals, over_time, per_operation, await refusals_by_code(session, query)
    )


async def refusals_by_code(session: AsyncSession, query: UsageQuery) -> list[RefusalCount]:
    statement = (
        select(UsageEvent.code, func.count())
        .where(*_conditions(query), REFUSED)
        .group_by(UsageEvent.code)
    )
    rows = [
        RefusalCount(int(code), clause_of(int(code)), int(count))
        for code, count in await session.execute(statement)
        if code is not None
    ]
    return sorted(rows, key=lambda row: (-row.refusals, row.code))


async def per_operation_and_period(session: AsyncSession, query: UsageQuery) -> list[Row]:
    """One row per operation per period that had requests (the CSV export), oldest first."""
    dialect = session.get_bind().dialect.name
    keys = [_period(dialect, query.granularity), _operation()]
    counts = await _grouped(session, query, keys)
    latency = await latency_percentiles(session, query, keys)
    rows = [Row(key[0], key[1], value, latency.get(key, {})) for key, value in counts.items()]
    return sorted(rows, key=lambda row: (row.period, row.operation))
