"""Clause 3.3 d over real events, on SQLite and PostgreSQL: two applications read the same 80
people's records each day for three days, for two logins (below the breadth threshold); the one
whose declared use case is a birthday screen is a harvest, the declared nightly sync is not."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.models import Application
from termgate.monitoring.findings import evidence_of
from termgate.monitoring.policy import load_detector_policies
from termgate.monitoring.runner import run_pass
from termgate.settings import load_settings
from tests.monitoring.test_detection_pass_parties import read
from tests.support.factories import issue_test_key

POLICIES = load_detector_policies(Path(__file__).parents[2] / "terms")


async def test_clause_3_3_d_daily_full_rereads_are_judged_by_the_declared_use_case(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    birthdays = await issue_test_key(sessions)
    sync = await issue_test_key(sessions)
    now = load_settings().now()
    async with sessions.begin() as session:
        for key, use_case in (
            (birthdays, "Shows a team its colleagues' birthdays on an office screen."),
            (sync, "Keeps the customer's HR system in step with its employees each night."),
        ):
            application = await session.get(Application, key.application_id)
            assert application is not None
            application.use_case = use_case
            for day in (2, 1, 0):
                night = now - timedelta(days=day, hours=2)
                session.add_all(
                    read(key, night + timedelta(seconds=i), f"p{i}", end_user_id=f"u{i % 2}")
                    for i in range(80)
                )
    async with sessions.begin() as session:
        result = await run_pass(session, POLICIES, now)
    found = [f for f in result.findings if f.detector == "harvest"]
    assert [f.application_id for f in found] == [birthdays.application_id]
    assert "80 of the 80 employees" in found[0].summary
    assert evidence_of(found[0])["employees_by_days_read"] == {"3": 80}
