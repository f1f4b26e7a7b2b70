"""The usage report over all applications from the hours' sketches (clause 4.1;
db/usage_sketches.py says why): a day or a week of a busy API reads a few rows an hour, and the
events only of a few hours, whatever the volume.

A range of all applications (narrowed to an operation or not) of at least `MIN_HOURS` whole
hours, all of them sketched save at most `UNSKETCHED_HOURS` (the current hour, those the
monitoring thread sketches next, one given late events since) and some sketched, is read:

- requests, refusals (by code), bytes: exactly, from the sketched hours' rows and from the
  events of the rest (the cut hours at its ends, the hours not sketched);
- distinct objects and each operation's p50 and p99: from the same. An hour's period takes the
  hour's exact counts; a day, an operation or the range, made of several parts, the estimate of
  their sketches' union, and the percentiles are the quantile sketch's: `Counts.estimated` says
  so, and the pages mark it.

The CSV export's rows (each period and operation, `summarized_rows`) are read the same way: an
hour's row of an operation is its sketch's exact counts, a day's the union of its hours'.

Whether an hour's sketch is whole is `usage_hours`' to say (the events the usage writer counted
in it, against those counted when it was sketched). Other ranges, and those of one developer or
application (their events are found by an index of their own), are read from the events
(analytics.py): exact.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.models import UsageEvent
from termgate.db.usage_hourly import whole_hours
from termgate.db.usage_sketches import (
    EVERY_OPERATION,
    Distinct,
    Latencies,
    Sums,
    UsageHourlySketches,
    events_per_hour,
    unsketched,
)
from termgate.governance.usage_model import (
    NO_OPERATION,
    OBJECTS_READ,
    PERCENTILES,
    Counts,
    Row,
    UsageQuery,
    UsageReport,
    assembled_report,
    conditions,
    is_refusal,
    operation_of,
    period_label,
    period_of,
)

HOUR = timedelta(hours=1)
MIN_HOURS = 3
UNSKETCHED_HOURS = 3
SKETCHES = cast(Table, UsageHourlySketches.__table__)
FRACTIONS = {
    name: numerator / denominator for name, (numerator, denominator) in PERCENTILES.items()
}
Piece = tuple[datetime, datetime]


@dataclass
class Tally(Sums):
    """One group's sums, distinct objects and latencies, added up from its parts."""

    distinct: dict[str, Distinct] = field(
        default_factory=lambda: {k: Distinct() for k in OBJECTS_READ}
    )
    latencies: Latencies = field(default_factory=Latencies)

    def counts(self) -> Counts:
        return Counts(
            self.requests,
            self.refusals,
            self.bytes_in,
            self.bytes_out,
            {kind: distinct.count() for kind, distinct in self.distinct.items()},
            any(distinct.estimated for distinct in self.distinct.values())
            or self.latencies.estimated,
        )

    def row(self, period: str, operation: str) -> Row:
        return Row(period, operation, self.counts(), self.latencies.quantiles(FRACTIONS))


@dataclass
class Tallies:
    totals: Tally = field(default_factory=Tally)
    periods: defaultdict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    operations: defaultdict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    # each period's operations (the CSV export)
    cells: defaultdict[tuple[str, str], Tally] = field(default_factory=lambda: defaultdict(Tally))
    refusals: Counter[int] = field(default_factory=Counter)

    def add_events(self, label: str, operation: str, code: int | None, sums: Sequence[Any]) -> None:
        """Events of one period, operation and code, counted from the events themselves."""
        requests, bytes_in, bytes_out = (int(value or 0) for value in sums)
        refused = requests if is_refusal(code) else 0
        groups = (self.totals, self.periods[label], self.operations[operation])
        for tally in (*groups, self.cells[(label, operation)]):
            tally.add(requests, refused, bytes_in, bytes_out)
        if is_refusal(code):
            self.refusals[code] += requests


async def summarized_report(session: AsyncSession, query: UsageQuery) -> UsageReport | None:
    """The report from the sketches, or None where the events must be read."""
    tallies = await _tallies(session, query)
    return None if tallies is None else _report(query, tallies)


async def summarized_rows(session: AsyncSession, query: UsageQuery) -> list[Row] | None:
    """Each period's operations with requests (the CSV export) from the sketches, oldest first,
    or None where the events must be read."""
    tallies = await _tallies(session, query)
    if tallies is None:
        return None
    cells = sorted(tallies.cells.items(), key=lambda cell: cell[0])
    return [tally.row(period, operation) for (period, operation), tally in cells if tally.requests]


async def _tallies(session: AsyncSession, query: UsageQuery) -> Tallies | None:
    if query.developer_id is not None or query.application_id is not None:
        return None
    whole, _edges = whole_hours(query.since, query.until)
    if whole is None or query.operation == NO_OPERATION or whole[1] - whole[0] < MIN_HOURS * HOUR:
        return None
    columns = SKETCHES.c
    statement = select(SKETCHES).where(columns.hour >= whole[0], columns.hour < whole[1])
    if query.operation is not None:  # every operation's rows say which hours are sketched
        statement = statement.where(columns.operation.in_([EVERY_OPERATION, query.operation]))
    sketches = (await session.execute(statement)).all()
    current, missing = await _current_hours(session, whole, sketches)
    if len(missing) > UNSKETCHED_HOURS or not current:  # no sketch to read: the events, exactly
        return None

    def label_of(hour: datetime) -> str:
        return period_label(hour, query.granularity)

    tallies = Tallies()
    for row in sketches:
        if row.hour in current:
            _add_sketches(tallies, row, query.operation, label_of(row.hour))
    edges = [(query.since, whole[0]), (whole[1], query.until)]
    from_events = [*(piece for piece in edges if piece[0] < piece[1]), *_hours(missing)]
    await _add_events(session, tallies, query, from_events)
    return tallies


async def _current_hours(
    session: AsyncSession, whole: Piece, sketches: Sequence[Any]
) -> tuple[set[datetime], list[datetime]]:
    """The hours whose sketches hold all their events, and those with events they lack (or
    without sketches), by the events `usage_hours` counts (an hour it does not name had none)."""
    events = await events_per_hour(session, *whole)
    sketched = {row.hour: row.hour_events for row in sketches if row.operation == EVERY_OPERATION}
    missing = unsketched(events, sketched)
    return set(events).difference(missing), missing


def _hours(hours: Iterable[datetime]) -> list[Piece]:
    return [(hour, hour + HOUR) for hour in hours]


def _in_pieces(query: UsageQuery, pieces: Iterable[Piece]) -> list[ColumnElement[bool]] | None:
    """The query's conditions with its range narrowed to the pieces (None if there are none)."""
    ranges = [and_(UsageEvent.at >= start, UsageEvent.at < end) for start, end in pieces]
    if not ranges:
        return None
    return [*conditions(query), or_(*ranges)]


async def _add_events(
    session: AsyncSession, tallies: Tallies, query: UsageQuery, pieces: list[Piece]
) -> None:
    """The pieces' counts, distinct values and latencies, read from the events, as a part."""
    where = _in_pieces(query, pieces)
    if where is None:
        return
    label = period_of(session.get_bind().dialect.name, query.granularity)
    await _add_event_counts(session, tallies, where, label)
    await _add_event_values(session, tallies, where, label)


async def _add_event_counts(
    session: AsyncSession,
    tallies: Tallies,
    where: list[ColumnElement[bool]],
    label: ColumnElement[str],
) -> None:
    keys = (label, operation_of(), UsageEvent.code)
    sums = (func.count(), func.sum(UsageEvent.bytes_in), func.sum(UsageEvent.bytes_out))
    grouped = select(*keys, *sums).where(*where).group_by(*keys)
    for period, operation, code, *values in await session.execute(grouped):
        tallies.add_events(period, operation, code, values)


def _add_sketches(tallies: Tallies, row: Any, operation: str | None, label: str) -> None:
    """A sketched hour's row as a part: over every operation, the totals, its period and the
    refusals by code take the row of every operation, and each operation its own; narrowed to
    an operation, all of them take that operation's row (every operation's is only read for
    which hours are sketched)."""
    every = row.operation == EVERY_OPERATION
    if every and operation is not None:
        return
    makes_totals = every or operation is not None
    groups = [tallies.totals, tallies.periods[label]] if makes_totals else []
    if not every:
        for tally in (tallies.operations[row.operation], tallies.cells[(label, row.operation)]):
            groups.append(tally)
            tally.latencies.add_stored(row.latency_sketch)
    for tally in groups:
        tally.add(row.events, row.refusals, row.bytes_in, row.bytes_out)
        for kind, distinct in tally.distinct.items():
            distinct.add_stored(getattr(row, f"{kind}_sketch"), getattr(row, kind))
    if makes_totals:
        for code, refusals in json.loads(row.refusal_codes).items():
            tallies.refusals[int(code)] += refusals


async def _add_event_values(
    session: AsyncSession,
    tallies: Tallies,
    where: list[ColumnElement[bool]],
    label: ColumnElement[str],
) -> None:
    operation = operation_of()
    for kind, column in OBJECTS_READ.items():
        found = await session.execute(
            select(label, operation, column).where(*where, column.is_not(None)).distinct()
        )
        every: set[str] = set()
        by_period: defaultdict[str, set[str]] = defaultdict(set)
        by_operation: defaultdict[str, set[str]] = defaultdict(set)
        by_cell: defaultdict[tuple[str, str], set[str]] = defaultdict(set)
        for period, name, value in found:
            every.add(value)
            by_period[period].add(value)
            by_operation[name].add(value)
            by_cell[(period, name)].add(value)
        tallies.totals.distinct[kind].add_values(every)
        for period, values in by_period.items():
            tallies.periods[period].distinct[kind].add_values(values)
        for name, values in by_operation.items():
            tallies.operations[name].distinct[kind].add_values(values)
        for cell, values in by_cell.items():
            tallies.cells[cell].distinct[kind].add_values(values)
    latencies: defaultdict[tuple[str, str], list[float]] = defaultdict(list)
    for period, name, latency in await session.execute(
        select(label, operation, UsageEvent.latency_ms).where(*where)
    ):
        latencies[(period, name)].append(latency)
    for (period, name), measured in latencies.items():
        tallies.operations[name].latencies.add_values(measured)
        tallies.cells[(period, name)].latencies.add_values(measured)


def _report(query: UsageQuery, tallies: Tallies) -> UsageReport:
    per_operation = [
        tally.row("", name) for name, tally in tallies.operations.items() if tally.requests
    ]
    return assembled_report(
        query,
        tallies.totals.counts(),
        {label: tally.counts() for label, tally in tallies.periods.items()},
        per_operation,
        tallies.refusals.items(),
    )
