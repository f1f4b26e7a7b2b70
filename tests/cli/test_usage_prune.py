"""`termgate usage prune [--dry-run]` through the real command line: the counts it prints, what it
deletes, and a bad retention setting refused with one line; `termgate usage sketch` sketching
the hours over once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from termgate.cli import app
from termgate.db.engine import create_engine, session_factory
from termgate.db.models import UsageEvent, new_id
from termgate.db.usage_hourly import UsageHour
from termgate.db.usage_sketches import UsageHourlySketches
from termgate.gateway.observe import UsageRecorder
from termgate.settings import get_settings
from tests.support.usage_rows import writer_row


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("TERMGATE_DATABASE_URL", database_url)
    monkeypatch.delenv("COLUMNS", raising=False)  # no terminal: lines must not be cut
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def with_events(database_url: str, *ages_in_days: int) -> None:
    async def run() -> None:
        engine = create_engine(database_url)
        now = datetime.now(UTC)
        try:
            async with session_factory(engine).begin() as session:
                await session.execute(UsageEvent.__table__.delete())
                session.add_all(
                    UsageEvent(
                        at=now - timedelta(days=days),
                        request_id=new_id(),
                        method="GET",
                        status=200,
                        latency_ms=1.0,
                    )
                    for days in ages_in_days
                )
        finally:
            await engine.dispose()

    asyncio.run(run())


def events(database_url: str) -> int:
    async def run() -> int:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                return int(await session.scalar(select(func.count(UsageEvent.id))) or 0)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_dry_run_prints_the_count_and_deletes_nothing(cli: CliRunner, database_url: str) -> None:
    with_events(database_url, 401, 420, 5)

    result = cli.invoke(app, ["usage", "prune", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "usage_events: 2 would be deleted (before " in result.output
    assert "400 days)" in result.output
    assert events(database_url) == 3


def test_prune_deletes_what_the_retention_setting_names(
    cli: CliRunner, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERMGATE_USAGE_RETENTION_DAYS", "100")
    with_events(database_url, 101, 150, 99, 5)

    result = cli.invoke(app, ["usage", "prune", "--batch-size", "1"])

    assert result.exit_code == 0, result.output
    assert "usage_events: 2 deleted" in result.output
    assert "refresh_tokens: 0 deleted" in result.output
    assert events(database_url) == 2


def test_retention_zero_says_events_are_kept(
    cli: CliRunner, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERMGATE_USAGE_RETENTION_DAYS", "0")
    with_events(database_url, 9000)

    result = cli.invoke(app, ["usage", "prune"])

    assert result.exit_code == 0, result.output
    assert "kept forever (TERMGATE_USAGE_RETENTION_DAYS is 0)" in result.output
    assert events(database_url) == 1


@pytest.mark.parametrize("value", ["-1", "forever", "36501", "1e3", "٣"])
def test_a_bad_retention_is_refused_with_one_line(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("TERMGATE_USAGE_RETENTION_DAYS", value)

    result = cli.invoke(app, ["usage", "prune"])

    assert result.exit_code == 2
    assert "TERMGATE_USAGE_RETENTION_DAYS:" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_an_unmigrated_database_is_one_line_saying_what_to_do(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TERMGATE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()

    result = cli.invoke(app, ["usage", "prune", "--dry-run"])

    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        "error: the database has no termgate schema yet; run `termgate db upgrade` first"
    ]


def test_clause_4_1_usage_sketch_sketches_the_hours_over_once(
    cli: CliRunner, database_url: str
) -> None:
    async def written() -> None:  # through the usage writer, which counts each hour's events
        engine = create_engine(database_url)
        try:
            async with session_factory(engine).begin() as session:
                for model in (UsageEvent, UsageHour, UsageHourlySketches):
                    await session.execute(delete(model))
            hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            rows = [writer_row(event(hour - timedelta(hours=n))) for n in (2, 3, 3, 5)]
            recorder = UsageRecorder(engine, flush_seconds=60, batch_size=10, buffer_limit=10)
            await recorder._insert(rows)
        finally:
            await engine.dispose()

    def event(at: datetime) -> UsageEvent:
        return UsageEvent(
            at=at, request_id=new_id(), method="GET", status=200, latency_ms=1.0, bytes_in=0,
            bytes_out=0,
        )  # fmt: skip

    asyncio.run(written())
    first = cli.invoke(app, ["usage", "sketch"])
    again = cli.invoke(app, ["usage", "sketch"])

    assert first.exit_code == 0, first.output
    assert first.output.startswith("3 hour(s) sketched, ")
    assert again.exit_code == 0, again.output
    assert "no hour to sketch" in again.output
    assert cli.invoke(app, ["usage", "sketch", "--hours", "0"]).exit_code == 2  # refused
