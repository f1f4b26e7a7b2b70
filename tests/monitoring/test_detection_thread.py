"""Clause 4.1 (and 4.2 through it): `serve`'s detection passes run in a thread of their own, on
their own event loop and database engine, so that a pass over a long window never holds the
serving event loop; there they find and act as a pass does, and they stop with the server."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.monitoring.detection_thread import DetectionThread
from termgate.monitoring.findings import list_findings
from termgate.monitoring.policy import load_detector_policies
from termgate.settings import load_settings
from tests.support.factories import issue_test_access, probing_events
from tests.support.usage_rows import add_with_summaries


async def test_clause_4_1_detection_runs_in_its_own_thread_finds_and_stops_with_the_server(
    database_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    prober = await issue_test_access(sessions)
    async with sessions.begin() as session:
        add_with_summaries(session, probing_events(prober, 300))
    settings = load_settings(database_url=database_url, detect_interval_seconds=0.05)
    detection = DetectionThread(settings, load_detector_policies(settings.terms_dir))
    detection.start()
    try:
        deadline = time.monotonic() + 15
        while True:
            async with sessions() as session:
                found = await list_findings(session, detector="probing", state="actioned")
            if found:
                break
            assert detection.alive, "the detection thread ended"
            assert time.monotonic() < deadline, "no pass in the detection thread found the prober"
            await asyncio.sleep(0.02)
        assert found[0].application_id == prober.key.application_id
        assert (found[0].action or "").startswith("suspended application")
    finally:
        await asyncio.to_thread(detection.stop)
    assert not detection.alive
