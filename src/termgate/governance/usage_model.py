"""What the usage pages ask and are given (clause 4.1): the query, its periods, the counts of a
group, the rows and the report; and the SQL that picks a query's events and names their
period and operation, shared by the two ways a report is read (analytics.py from the events,
usage_summarized.py from the summaries and sketches)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeGuard

from sqlalchemy import ColumnElement, String, and_, func

from termgate.db.models import UsageEvent
from termgate.db.usage_sketches import NO_OPERATION, OBJECTS_READ
from termgate.problems import CLIENT_CLOSED, clause_of

__all__ = ["NO_OPERATION", "OBJECTS_READ"]

Granularity = Literal["hour", "day"]
STEPS: dict[str, timedelta] = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
# Percentiles as whole-number fractions, so SQLite can find their ranks in integer arithmetic.
PERCENTILES: dict[str, tuple[int, int]] = {"p50": (50, 100), "p99": (99, 100)}

REFUSED = and_(UsageEvent.code.is_not(None), UsageEvent.code != CLIENT_CLOSED)


def is_refusal(code: int | None) -> TypeGuard[int]:
    """`REFUSED` of one event's code: a problem code, not a client that went away mid-body."""
    return code is not None and code != CLIENT_CLOSED


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
    # `distinct` and the latency percentiles of the rows are estimates (usage_summarized.py)
    estimated: bool = False

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


def assembled_report(
    query: UsageQuery,
    totals: Counts,
    by_period: Mapping[str, Counts],
    per_operation: Iterable[Row],
    refusals: Iterable[tuple[int, int]],
) -> UsageReport:
    """The report in the pages' order, however it was read: every period of the range (zeros
    where it had none), the operations busiest first, the refusals by code most frequent first
    with the clause each enforces."""
    empty = Counts(0, 0, 0, 0, dict.fromkeys(OBJECTS_READ, 0))
    over_time = [Row(label, "", by_period.get(label, empty), {}) for label in query.periods()]
    operations = sorted(per_operation, key=lambda row: (-row.counts.requests, row.operation))
    codes = [RefusalCount(code, clause_of(code), count) for code, count in refusals]
    codes.sort(key=lambda row: (-row.refusals, row.code))
    return UsageReport(query, totals, over_time, operations, codes)


def conditions(query: UsageQuery) -> list[ColumnElement[bool]]:
    conditions = [UsageEvent.at >= query.since, UsageEvent.at < query.until]
    if query.developer_id is not None:
        conditions.append(UsageEvent.developer_id == query.developer_id)
    if query.application_id is not None:
        conditions.append(UsageEvent.application_id == query.application_id)
    if query.operation is not None:
        conditions.append(UsageEvent.operation == query.operation)
    return conditions


def period_of(dialect: str, granularity: Granularity) -> ColumnElement[str]:
    """The event's period label, computed by the database (times are stored in UTC)."""
    if dialect == "postgresql":
        pattern = "YYYY-MM-DD" if granularity == "day" else "YYYY-MM-DD HH24"
        utc = func.timezone("UTC", UsageEvent.at)
        return func.to_char(utc, pattern, type_=String)
    # SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff": the label is its first 10 or 13 characters.
    return func.substr(UsageEvent.at, 1, 10 if granularity == "day" else 13, type_=String)


def operation_of() -> ColumnElement[str]:
    return func.coalesce(UsageEvent.operation, NO_OPERATION)
