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
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.models import UsageEvent
from termgate.governance.usage_model import (
    NO_OPERATION,
    OBJECTS_READ,
    PERCENTILES,
    REFUSED,
    STEPS,
    Counts,
    Granularity,
    RefusalCount,
    Row,
    UsageQuery,
    UsageReport,
    assembled_report,
    period_label,
    period_start,
)
from termgate.governance.usage_model import conditions as _conditions
from termgate.governance.usage_model import operation_of as _operation
from termgate.governance.usage_model import period_of as _period
from termgate.governance.usage_summarized import summarized_report, summarized_rows

__all__ = [
    "NO_OPERATION",
    "OBJECTS_READ",
    "PERCENTILES",
    "STEPS",
    "Counts",
    "Granularity",
    "RefusalCount",
    "Row",
    "UsageQuery",
    "UsageReport",
    "period_label",
    "period_start",
]

GroupKey = tuple[str, ...]


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
    """Everything the usage pages show: over all applications, from the hours' sketches where
    they serve (usage_summarized.py); else from the events, in a handful of grouped queries."""
    summarized = await summarized_report(session, query)
    return summarized if summarized is not None else await events_report(session, query)


async def events_report(session: AsyncSession, query: UsageQuery) -> UsageReport:
    """The report read from the events alone: exact."""
    dialect = session.get_bind().dialect.name
    period, operation = _period(dialect, query.granularity), _operation()
    totals = (await _grouped(session, query, []))[()]
    by_period = {
        key[0]: counts for key, counts in (await _grouped(session, query, [period])).items()
    }
    by_operation = await _grouped(session, query, [operation])
    latency = await latency_percentiles(session, query, [operation])
    per_operation = [
        Row("", key[0], counts, latency.get(key, {})) for key, counts in by_operation.items()
    ]
    refusals = await refusals_by_code(session, query)
    return assembled_report(query, totals, by_period, per_operation, refusals)


async def refusals_by_code(session: AsyncSession, query: UsageQuery) -> list[tuple[int, int]]:
    """Each refusal code of the query's events and its refusals."""
    statement = (
        select(UsageEvent.code, func.count())
        .where(*_conditions(query), REFUSED)
        .group_by(UsageEvent.code)
    )
    return [
        (int(code), int(count))
        for code, count in await session.execute(statement)
        if code is not None
    ]


async def per_operation_and_period(session: AsyncSession, query: UsageQuery) -> list[Row]:
    """One row per operation per period that had requests (the CSV export), oldest first: from
    the hours' sketches where `summarized_rows` can (all applications, a long range), else from
    the events."""
    summarized = await summarized_rows(session, query)
    if summarized is not None:
        return summarized
    return await events_per_operation_and_period(session, query)


async def events_per_operation_and_period(session: AsyncSession, query: UsageQuery) -> list[Row]:
    """`per_operation_and_period` read from the events: exact."""
    dialect = session.get_bind().dialect.name
    keys = [_period(dialect, query.granularity), _operation()]
    counts = await _grouped(session, query, keys)
    latency = await latency_percentiles(session, query, keys)
    rows = [Row(key[0], key[1], value, latency.get(key, {})) for key, value in counts.items()]
    return sorted(rows, key=lambda row: (row.period, row.operation))
