"""Clause 4.1 (the provider monitors use): the usage analytics' queries, on SQLite and PostgreSQL.

The events are written here with known figures; every number the report gives is checked
against figures computed in the test from the same list.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.models import UsageEvent
from termgate.governance import analytics
from termgate.governance.analytics import (
    UsageQuery,
    latency_percentiles,
    per_operation_and_period,
    ranked_percentiles,
    usage_report,
)
from tests.support.usage_rows import add_with_summaries

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
EMPLOYEES = "/api/companies/{companyId}/employees"
PAYSLIPS = "/api/employees/{employeeId}/payslips"


def event(
    at: datetime,
    operation: str | None = EMPLOYEES,
    *,
    status: int = 200,
    code: int | None = None,
    latency: float = 10.0,
    end_user: str | None = "eu-1",
    employee: str | None = None,
    developer: str = "dev-a",
    application: str = "app-a",
    bytes_out: int = 100,
) -> UsageEvent:
    return UsageEvent(
        at=at,
        request_id=uuid.uuid4().hex,
        key_id="key",
        application_id=application,
        developer_id=developer,
        method="GET",
        operation=operation,
        status=status,
        code=code,
        bytes_in=10,
        bytes_out=bytes_out,
        latency_ms=latency,
        end_user_id=end_user,
        debtor_id="debtor-1" if employee else None,
        company_id="company-1" if employee else None,
        employee_id=employee,
    )


async def store(sessions: async_sessionmaker[AsyncSession], events: list[UsageEvent]) -> None:
    """The events with the summaries the usage writer keeps beside them (which ranges over all
    applications read, usage_summarized.py)."""
    async with sessions.begin() as session:
        add_with_summaries(session, events)


def continuous_percentile(values: list[float], fraction: float) -> float:
    """What PostgreSQL's percentile_cont computes: linear between the two nearest ranks."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    if low + 1 >= len(ordered):
        return ordered[low]
    return ordered[low] + (ordered[low + 1] - ordered[low]) * (position - low)


async def test_clause_4_1_report_counts_requests_refusals_bytes_and_end_users(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await store(
        sessions,
        [
            event(START + timedelta(minutes=5), end_user="eu-1", employee="e-1"),
            event(START + timedelta(minutes=6), end_user="eu-2", bytes_out=300, employee="e-2"),
            event(START + timedelta(minutes=7), PAYSLIPS, status=403, code=40303, end_user="eu-2"),
            event(START + timedelta(hours=2), PAYSLIPS, status=429, code=42908, end_user=None),
            event(START + timedelta(hours=2, minutes=1), None, status=401, code=40100),
            # the client went away mid-body: counted as a request, not as a refusal
            event(START + timedelta(hours=2, minutes=2), status=200, code=49900),
            # outside the range, and another developer's: in neither report below
            event(START - timedelta(minutes=1)),
            event(START + timedelta(minutes=8), developer="dev-b", application="app-b"),
        ],
    )
    query = UsageQuery(START, START + timedelta(hours=3), "hour", developer_id="dev-a")
    async with sessions() as session:
        report = await usage_report(session, query)

    totals = report.totals
    assert (totals.requests, totals.refusals, totals.end_users) == (6, 3, 2)
    assert totals.bytes_in == 60
    assert totals.bytes_out == 100 + 300 + 100 + 100 + 100 + 100
    assert [(row.period, row.counts.requests, row.counts.refusals) for row in report.over_time] == [
        ("2026-11-02 09", 3, 1),
        ("2026-11-02 10", 0, 0),
        ("2026-11-02 11", 3, 2),
    ]
    per_operation = {row.operation: row.counts for row in report.per_operation}
    assert set(per_operation) == {EMPLOYEES, PAYSLIPS, analytics.NO_OPERATION}
    assert per_operation[EMPLOYEES].requests == 3
    assert per_operation[EMPLOYEES].end_users == 2
    assert per_operation[EMPLOYEES].distinct == {
        "end_users": 2, "employees": 2, "companies": 1, "debtors": 1,
    }  # fmt: skip
    assert per_operation[PAYSLIPS].distinct["employees"] == 0
    assert per_operation[PAYSLIPS].refusals == 2
    assert report.per_operation[0].operation == EMPLOYEES  # busiest first
    refusals = [(row.code, row.clause, row.refusals) for row in report.refusals]
    assert sorted(refusals) == [(40100, "2", 1), (40303, "3.3 a", 1), (42908, "3.3 g or 4.4", 1)]


async def test_clause_4_1_days_and_filters_by_application_and_operation(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await store(
        sessions,
        [
            event(START, application="app-a"),
            event(START + timedelta(days=1), application="app-a"),
            event(START + timedelta(days=1), PAYSLIPS, application="app-a"),
            event(START + timedelta(days=1), application="app-c"),
        ],
    )
    since = START.replace(hour=0)
    query = UsageQuery(since, since + timedelta(days=3), "day", application_id="app-a")
    async with sessions() as session:
        report = await usage_report(session, query)
        narrowed = await usage_report(
            session,
            UsageQuery(since, since + timedelta(days=3), "day", operation=PAYSLIPS),
        )
    assert [(row.period, row.counts.requests) for row in report.over_time] == [
        ("2026-11-02", 1),
        ("2026-11-03", 2),
        ("2026-11-04", 0),
    ]
    assert narrowed.totals.requests == 1
    assert [row.operation for row in narrowed.per_operation] == [PAYSLIPS]


async def test_clause_4_1_latency_p50_and_p99_are_percentile_cont_on_both_databases(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    generator = random.Random(41)
    latencies = {
        EMPLOYEES: [round(generator.uniform(1, 500), 3) for _ in range(257)],
        PAYSLIPS: [round(generator.expovariate(0.05), 3) for _ in range(40)],
    }
    events = [
        event(START + timedelta(seconds=index), operation, latency=value)
        for operation, values in latencies.items()
        for index, value in enumerate(values)
    ]
    events.append(event(START, "/api/one", latency=7.5))  # a single value is its own p99
    latencies["/api/one"] = [7.5]
    await store(sessions, events)
    query = UsageQuery(START, START + timedelta(hours=1), "hour")
    keys = [analytics._operation()]
    async with sessions() as session:
        computed = await latency_percentiles(session, query, keys)
        portable = await ranked_percentiles(session, query, keys)
    for operation, values in latencies.items():
        for name, fraction in (("p50", 0.5), ("p99", 0.99)):
            expected = continuous_percentile(values, fraction)
            assert abs(computed[(operation,)][name] - expected) < 1e-6, (operation, name)
            # on PostgreSQL the portable way agrees with percentile_cont itself
            assert abs(portable[(operation,)][name] - expected) < 1e-6, (operation, name)


async def test_clause_4_1_per_operation_and_period_rows_for_the_export(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await store(
        sessions,
        [
            event(START, latency=4.0),
            event(START + timedelta(minutes=1), latency=8.0),
            event(START + timedelta(hours=1), PAYSLIPS, status=403, code=40303, latency=2.0),
        ],
    )
    query = UsageQuery(START, START + timedelta(hours=2), "hour")
    async with sessions() as session:
        rows = await per_operation_and_period(session, query)
    assert [(row.period, row.operation, row.counts.requests) for row in rows] == [
        ("2026-11-02 09", EMPLOYEES, 2),
        ("2026-11-02 10", PAYSLIPS, 1),
    ]
    assert rows[0].latency == {"p50": 6.0, "p99": 4.0 + 4.0 * 0.99}
    assert rows[1].counts.refusals == 1
