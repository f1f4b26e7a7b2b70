"""Migration 0021, clause 3.3 e: a database at 0020 whose usage summaries hold its events' sums
without their scopes gets both summaries rebuilt from the events, per scope too, so least
privilege reads the scopes used from them; the usage writer then adds to the rebuilt rows (and
on SQLite the triggers carry its sums to the day); a downgrade sums the scopes away again. On
SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import text, true
from sqlalchemy.ext.asyncio import AsyncEngine

from termgate.db.engine import create_engine, session_factory
from termgate.db.migrate import alembic_config, upgrade_async
from termgate.db.models import UsageEvent
from termgate.gateway.observe import UsageRecorder
from termgate.monitoring.aggregate_scopes import scopes_used
from termgate.monitoring.window import Window
from tests.support.migrated import database_at
from tests.support.usage_rows import writer_row

READ, PAYSLIPS = "employee.info.read", "payslip.read"
EVENTS = [  # at, status, code, scope, bytes out
    (datetime(2026, 11, 28, 10, 15, tzinfo=UTC), 200, None, READ, 100),
    (datetime(2026, 11, 28, 10, 45, tzinfo=UTC), 200, None, PAYSLIPS, 200),
    (datetime(2026, 11, 28, 10, 50, tzinfo=UTC), 429, 42901, None, 0),
    (datetime(2026, 11, 28, 11, 5, tzinfo=UTC), 200, None, READ, 300),
    (datetime(2026, 11, 29, 3, 0, tzinfo=UTC), 200, None, READ, 400),
]
# What 0020's writer summed them to: one row per hour and group, whatever the scopes.
HOURLY_AT_0020 = [
    ("2026-11-28 10:00:00", 200, 0, 2, 300),
    ("2026-11-28 10:00:00", 429, 42901, 1, 0),
    ("2026-11-28 11:00:00", 200, 0, 1, 300),
    ("2026-11-29 03:00:00", 200, 0, 1, 400),
]


def event(number: int, at: datetime, status: int, code: int | None, scope: str | None) -> Any:
    return UsageEvent(
        at=at,
        request_id=f"r{number}",
        key_id="k1",
        application_id="a1",
        developer_id="d1",
        method="GET",
        operation="/api/employees/{employeeId}",
        status=status,
        code=code,
        latency_ms=1.0,
        scope=scope,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
async def at_0020(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with database_at(request.param, tmp_path, "0020") as url:
        yield url


async def stored_at_0020(engine: AsyncEngine) -> None:
    postgres = engine.dialect.name == "postgresql"
    async with session_factory(engine).begin() as session:
        for number, (at, status, code, scope, bytes_out) in enumerate(EVENTS):
            row = event(number, at, status, code, scope)
            row.bytes_out = bytes_out
            session.add(row)
    async with engine.begin() as connection:
        for hour, status, code, requests, bytes_out in HOURLY_AT_0020:
            await connection.execute(
                text(
                    "INSERT INTO usage_hourly (hour, key_id, application_id, developer_id, "
                    "method, operation, status, code, requests, bytes_in, bytes_out, latency_ms) "
                    "VALUES (:hour, 'k1', 'a1', 'd1', 'GET', '/api/employees/{employeeId}', "
                    ":status, :code, :requests, 0, :bytes_out, :latency)"
                ),
                {
                    "hour": datetime.fromisoformat(hour).replace(tzinfo=UTC)
                    if postgres
                    else f"{hour}.000000",
                    "status": status,
                    "code": code,
                    "requests": requests,
                    "bytes_out": bytes_out,
                    "latency": float(requests),
                },
            )


async def summary(
    engine: AsyncEngine, table: str, period: str, scoped: bool
) -> list[tuple[Any, ...]]:
    scope = ", scope" if scoped else ""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                f"SELECT {period}, status, code{scope}, requests, bytes_out, latency_ms "
                f"FROM {table} ORDER BY {period}, status{scope}"
            )
        )
        return [
            (str(row[0])[:13], *row[1:]) for row in rows.all()
        ]  # the hour (or day) as 'YYYY-MM-DD HH' on either dialect


async def test_clause_3_3_e_upgrade_rebuilds_the_summaries_per_scope_and_downgrade_sums_them(
    at_0020: str,
) -> None:
    engine = create_engine(at_0020)
    try:
        await stored_at_0020(engine)
        await upgrade_async(at_0020, "0021")
        assert await summary(engine, "usage_hourly", "hour", scoped=True) == [
            ("2026-11-28 10", 200, 0, READ, 1, 100, 1.0),
            ("2026-11-28 10", 200, 0, PAYSLIPS, 1, 200, 1.0),
            ("2026-11-28 10", 429, 42901, "", 1, 0, 1.0),
            ("2026-11-28 11", 200, 0, READ, 1, 300, 1.0),
            ("2026-11-29 03", 200, 0, READ, 1, 400, 1.0),
        ]
        assert await summary(engine, "usage_daily", "day", scoped=True) == [
            ("2026-11-28 00", 200, 0, READ, 2, 400, 2.0),
            ("2026-11-28 00", 200, 0, PAYSLIPS, 1, 200, 1.0),
            ("2026-11-28 00", 429, 42901, "", 1, 0, 1.0),
            ("2026-11-29 00", 200, 0, READ, 1, 400, 1.0),
        ]
        # The writer adds to a rebuilt row (its conflict target is the new group) and, on
        # SQLite, the trigger carries the sums to the day. Today's writer needs the newest
        # schema (its daily parties, migration 0022; its hours' counts, 0023), which leaves
        # the summaries as they are.
        await upgrade_async(at_0020)
        later = event(9, datetime(2026, 11, 29, 3, 30, tzinfo=UTC), 200, None, READ)
        later.bytes_in, later.bytes_out = 0, 50
        recorder = UsageRecorder(engine, flush_seconds=60, batch_size=10, buffer_limit=10)
        await recorder._insert([writer_row(later)])
        hourly = await summary(engine, "usage_hourly", "hour", scoped=True)
        daily = await summary(engine, "usage_daily", "day", scoped=True)
        assert hourly[-1] == ("2026-11-29 03", 200, 0, READ, 2, 450, 2.0)
        assert daily[-1] == ("2026-11-29 00", 200, 0, READ, 2, 450, 2.0)
        async with session_factory(engine)() as session:
            window = Window(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC))
            used = await scopes_used(session, window, lambda _: true())
        assert used.window == {"a1": {READ, PAYSLIPS}}
        assert (used.requests["a1"], len(used.days["a1"])) == (5, 2)

        await asyncio.to_thread(command.downgrade, alembic_config(at_0020), "0020")
        assert await summary(engine, "usage_hourly", "hour", scoped=False) == [
            ("2026-11-28 10", 200, 0, 2, 300, 2.0),
            ("2026-11-28 10", 429, 42901, 1, 0, 1.0),
            ("2026-11-28 11", 200, 0, 1, 300, 1.0),
            ("2026-11-29 03", 200, 0, 2, 450, 2.0),
        ]
        assert (await summary(engine, "usage_daily", "day", scoped=False))[0] == (
            "2026-11-28 00",
            200,
            0,
            3,
            600,
            3.0,
        )
    finally:
        await engine.dispose()
