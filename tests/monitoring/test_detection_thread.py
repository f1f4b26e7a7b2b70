"""Clause 4.1 (and 4.2 through it): `serve`'s detection passes run in a thread of their own, on
their own event loop and database engine, so that a pass over a long window never holds the
serving event loop, and at a lower priority than it; there they find and act as a pass does, and
they stop with the server."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.monitoring import Finding
from termgate.monitoring.detection_thread import LEAST_PRIORITY, NICENESS, DetectionThread
from termgate.monitoring.findings import list_findings
from termgate.monitoring.policy import load_detector_policies
from termgate.settings import load_settings
from tests.support.factories import IssuedAccess, issue_test_access, probing_events
from tests.support.usage_rows import add_with_summaries


async def _prober_suspended(
    sessions: async_sessionmaker[AsyncSession], detection: DetectionThread
) -> list[Finding]:
    """Wait for a pass in the thread to find and act on the prober."""
    deadline = time.monotonic() + 15
    while True:
        async with sessions() as session:
            found = await list_findings(session, detector="probing", state="actioned")
        if found:
            return found
        assert detection.alive, "the detection thread ended"
        assert time.monotonic() < deadline, "no pass in the detection thread found the prober"
        await asyncio.sleep(0.02)


def _nice_values() -> dict[int, int]:
    """Each thread of this process and its nice value (/proc: the field after the priority)."""
    values = {}
    for task in Path("/proc/self/task").iterdir():
        stat = (task / "stat").read_text()
        values[int(task.name)] = int(stat[stat.rindex(")") + 2 :].split()[16])
    return values


async def _started_over_a_prober(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> tuple[IssuedAccess, DetectionThread]:
    """A prober's events stored, and a detection thread started with a pass every 50 ms."""
    prober = await issue_test_access(sessions)
    async with sessions.begin() as session:
        add_with_summaries(session, probing_events(prober, 300))
    settings = load_settings(database_url=database_url, detect_interval_seconds=0.05)
    detection = DetectionThread(settings, load_detector_policies(settings.terms_dir))
    detection.start()
    return prober, detection


async def test_clause_4_1_detection_runs_in_its_own_thread_finds_and_stops_with_the_server(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    prober, detection = await _started_over_a_prober(database_url, sessions)
    try:
        found = await _prober_suspended(sessions, detection)
        assert found[0].application_id == prober.key.application_id
        assert (found[0].action or "").startswith("suspended application")
    finally:
        await asyncio.to_thread(detection.stop)
    assert not detection.alive


async def test_clause_4_1_detection_passes_run_below_the_serving_loops_priority(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # A pass has 30 s; a request has milliseconds: on a shared core the pass takes what the
    # serving loop leaves. The SQLite driver's threads the pass starts inherit the priority.
    serving = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    lowered = min(serving + NICENESS, LEAST_PRIORITY)
    before = set(_nice_values())  # threads of earlier tests may still be winding down
    _, detection = await _started_over_a_prober(database_url, sessions)
    try:
        await _prober_suspended(sessions, detection)
        nice = _nice_values()
    finally:
        await asyncio.to_thread(detection.stop)
    assert detection.native_id is not None
    assert nice[detection.native_id] == lowered
    assert nice[threading.get_native_id()] == serving
    lowered_threads = [
        thread for thread, value in nice.items() if value == lowered and thread not in before
    ]
    # SQLite: the pass's driver threads too; asyncpg runs on the thread's own loop.
    if database_url.startswith("sqlite"):
        assert len(lowered_threads) >= 2  # the pass's thread and its engine's driver thread
    else:
        assert lowered_threads == [detection.native_id]
