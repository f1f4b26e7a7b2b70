"""A database that goes away under a running gateway: one line when the fault begins, a count at
most every minute, one line when it is back; no traceback for a fault the operator expects."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy.exc import OperationalError

from termgate.core.faults import FaultLog
from termgate.db.migrate import upgrade_async
from tests.conftest import POSTGRES_ADMIN, _postgres_reachable, _postgres_url, free_port
from tests.support.processes import gateway_env, spawn, stop, wait_until_answering

LOGGER = "termgate.test.faults"


def records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == LOGGER]


def database_down() -> OperationalError:
    refused = ConnectionRefusedError(111, "Connect call failed ('10.0.0.9', 5432)")
    return OperationalError("SELECT 1", {}, refused)


def test_repeated_database_faults_are_one_line_then_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    faults = FaultLog(logging.getLogger(LOGGER), "access snapshot refresh", every=3600)
    with caplog.at_level(logging.INFO, LOGGER):
        for _ in range(37):
            faults.failed(database_down(), "keeping version 4")
    (first,) = records(caplog)
    assert first.getMessage() == (
        "access snapshot refresh failed: ConnectionRefusedError: "
        "[Errno 111] Connect call failed ('10.0.0.9', 5432); keeping version 4"
    )
    assert first.exc_info is None


def test_a_summary_counts_what_was_not_logged_and_recovery_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    faults = FaultLog(logging.getLogger(LOGGER), "writing usage events", every=0.05)
    with caplog.at_level(logging.INFO, LOGGER):
        for _ in range(5):
            faults.failed(database_down())
        time.sleep(0.06)
        faults.failed(database_down())
        faults.succeeded()
        faults.succeeded()
    lines = [record.getMessage() for record in records(caplog)]
    assert len(lines) == 3, lines
    assert lines[1].startswith("writing usage events still failing: 5 more times in ")
    assert lines[2].startswith("writing usage events works again after 6 failures in ")


def test_an_unexpected_fault_keeps_its_traceback_once(caplog: pytest.LogCaptureFixture) -> None:
    faults = FaultLog(logging.getLogger(LOGGER), "access snapshot refresh", every=3600)
    with caplog.at_level(logging.INFO, LOGGER):
        for _ in range(3):
            faults.failed(KeyError("plan"))
        faults.failed(database_down())  # another kind: said at once
    first, second = records(caplog)
    assert first.exc_info is not None
    assert first.getMessage() == "access snapshot refresh failed: KeyError: 'plan'"
    assert second.exc_info is None


@pytest.fixture
async def own_postgres() -> AsyncIterator[str]:
    """A migrated PostgreSQL database of this test alone (its connections are cut below)."""
    reason = await _postgres_reachable()
    if reason:
        pytest.skip(reason)
    name = f"termgate_faults_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = _postgres_url(name)
        await upgrade_async(url)
        yield name
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def cut_off(name: str, seconds: float) -> None:
    """Refuse every connection to the database for `seconds`, then let them in again."""
    admin = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", name
        )
        await asyncio.sleep(seconds)
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    finally:
        await admin.close()


async def test_database_outage_under_a_running_gateway_leaves_no_traceback(
    own_postgres: str,
) -> None:
    port = free_port()
    env = gateway_env(
        _postgres_url(own_postgres),
        port,
        f"http://127.0.0.1:{free_port()}",
        log_level="info",
        snapshot_refresh_seconds="0.1",
    )
    process = spawn(["-m", "termgate.server"], env)
    try:
        await asyncio.to_thread(wait_until_answering, f"http://127.0.0.1:{port}/healthz", process)
        await cut_off(own_postgres, 3.0)  # about 30 refresh attempts fail
        await asyncio.sleep(2.0)
    finally:
        output = await asyncio.to_thread(stop, process)
    assert "Traceback" not in output, output
    failed = [line for line in output.splitlines() if "access snapshot refresh failed" in line]
    assert len(failed) == 1, output
    back = [line for line in output.splitlines() if "access snapshot refresh works again" in line]
    assert len(back) == 1, output
