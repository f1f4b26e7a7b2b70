"""Clause 4.2 / 6.2 deadlines acted on by the scheduler: each once, whatever the number of
ticks, with a moved clock."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from termgate.core.audit import verify_chain
from termgate.db.due_process import Case, SchedulerJob, SchedulerRun
from termgate.db.due_process_records import Termination, TerminationGround
from termgate.db.models import Application, Developer, Status, SubscriptionKey
from termgate.db.programme import InboxMessage
from termgate.due_process.cases import open_case
from termgate.due_process.scheduler import JOBS, ScheduledJob, Scheduler
from termgate.governance.maintenance_calendar import add_window
from termgate.registry.terms import publish_terms
from termgate.settings import load_settings
from tests.conftest import free_port
from tests.unit.registry_support import parties

DAY = 86_400.0


def _scheduler(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], days: float
) -> Scheduler:
    settings = load_settings(clock_offset_seconds=days * DAY, smtp_port=free_port())
    return Scheduler(engine, sessions, settings)


async def _tick(scheduler: Scheduler, times: int = 1) -> None:
    """Ticks as this leader, then leaves the leadership for the next day's scheduler."""
    try:
        for _ in range(times):
            await scheduler.tick()
    finally:
        await scheduler.close()


async def _kinds(session: AsyncSession) -> list[str]:
    return list(await session.scalars(select(InboxMessage.kind).order_by(InboxMessage.at)))


async def test_clause_4_2_reminders_then_suspension_then_termination_each_once(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    opened_at = _scheduler(engine, sessions, 0).settings.now()
    async with sessions.begin() as session:
        party = await parties(session)
        case = await open_case(
            session,
            developer_id=party.developer.id,
            application_id=party.application.id,
            clauses=["3.3 d"],
            summary="enumeration of employees",
            actor="ops",
            now=opened_at,
        )
    for day, expected in [(7.5, "noticed"), (9.5, "noticed"), (10.1, "suspended")]:
        await _tick(_scheduler(engine, sessions, day), times=3)  # later ticks: nothing more
        async with sessions.begin() as session:
            assert (await session.get_one(Case, case.id)).state == expected
    async with sessions.begin() as session:
        kinds = await _kinds(session)
        assert kinds.count("case-reminder") == 2  # 3 days and 1 day before
        application = await session.get_one(Application, party.application.id)
        assert application.status is Status.SUSPENDED
        stored = await session.get_one(Case, case.id)
        assert stored.terminate_at is not None
        assert stored.terminate_at - opened_at > timedelta(days=20)
    await _tick(_scheduler(engine, sessions, 21))
    await _tick(_scheduler(engine, sessions, 22))
    async with sessions.begin() as session:
        assert (await session.get_one(Case, case.id)).state == "terminated"
        # The application's licence ended (clause 6.4): revoked with its key and subscription;
        # the developer's account stays, so no developer termination is recorded.
        application = await session.get_one(Application, party.application.id)
        assert application.status is Status.REVOKED
        key = await session.get_one(SubscriptionKey, party.key.row.id)
        assert key.revoked_at is not None
        assert await session.scalar(select(func.count()).select_from(Termination)) == 0
        runs = list(await session.scalars(select(SchedulerRun.job).order_by(SchedulerRun.job)))
        assert runs == ["cure-deadlines", "cure-reminders", "cure-reminders", "terminations"]
        assert (await _kinds(session)).count("case-terminated") == 1
        jobs = {row.name: row for row in await session.scalars(select(SchedulerJob))}
        assert jobs["terminations"].last_acted == 0
        assert jobs["terminations"].failures == 0
        assert jobs["terminations"].next_run_at is not None
        assert await verify_chain(session) is None
        assert await session.scalar(select(func.count()).select_from(Case)) == 1


async def test_clause_6_2_an_uncured_case_against_a_developer_terminates_the_account(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    opened_at = _scheduler(engine, sessions, 0).settings.now()
    async with sessions.begin() as session:
        party = await parties(session)
        case = await open_case(
            session,
            developer_id=party.developer.id,
            application_id=None,
            clauses=["3.3 d"],
            summary="one account behind many harvesting applications",
            actor="ops",
            now=opened_at,
        )
    for day in (10.1, 21, 22):
        await _tick(_scheduler(engine, sessions, day))
    async with sessions.begin() as session:
        assert (await session.get_one(Case, case.id)).state == "terminated"
        [termination] = await session.scalars(select(Termination))
        assert termination.developer_id == party.developer.id
        assert termination.ground is TerminationGround.UNCURED_BREACH
        assert case.id in termination.reason
        assert termination.keys_revoked == 1
        developer = await session.get_one(Developer, party.developer.id)
        assert developer.status is Status.REVOKED
        assert await verify_chain(session) is None


async def test_clause_9_and_8_terms_reminders_and_maintenance_notices_go_out_once(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    settings = _scheduler(engine, sessions, 0).settings
    now = settings.now()
    async with sessions.begin() as session:
        party = await parties(session)  # accepted version 1.0
        await publish_terms(
            session,
            settings,
            version="1.1",
            title="Payroll API Terms of Use",
            body="Amended text.",
            change_summary="Shorter cure period.",
            actor="tests",
            reaccept_days=10,
        )
        await add_window(session, now + timedelta(days=5), 30, "database upgrade", "tests", now)
    reminders = []
    for day in (1, 3.5, 4, 9.5, 9.6):
        await _tick(_scheduler(engine, sessions, day))
        async with sessions.begin() as session:
            kinds = await _kinds(session)
            reminders.append(kinds.count("terms"))
            maintenance = kinds.count("maintenance")
            assert maintenance == (0 if day < 1 else 1), day
    # The amendment's own notice, then one reminder 7 days and one 1 day before the deadline.
    assert reminders == [1, 2, 2, 3, 3]
    async with sessions.begin() as session:
        runs = list(await session.scalars(select(SchedulerRun.job).order_by(SchedulerRun.job)))
        assert runs == ["maintenance-notices", "terms-reminders", "terms-reminders"]
        developer = await session.get_one(type(party.developer), party.developer.id)
        assert developer.status is Status.ACTIVE


async def _broken(session: AsyncSession, now: datetime) -> int:
    raise RuntimeError("the relay's certificate expired")


async def test_clause_4_2_a_failing_job_is_recorded_and_the_others_still_run(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    settings = load_settings(smtp_port=free_port())
    table = (ScheduledJob("broken", _broken, "fails"), *JOBS)
    scheduler = Scheduler(engine, sessions, settings, table)
    try:
        for _ in range(2):
            done = await scheduler.tick()
    finally:
        await scheduler.close()
    assert set(done) == {"broken", *(job.name for job in JOBS)}
    async with sessions.begin() as session:
        states = {row.name: row for row in await session.scalars(select(SchedulerJob))}
        assert states["broken"].failures == 2
        assert states["broken"].last_error == "RuntimeError: the relay's certificate expired"
        assert states["cure-deadlines"].failures == 0
        assert states["cure-deadlines"].last_finished_at is not None


async def test_clause_4_2_on_postgresql_one_scheduler_leads_until_it_stops(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's; on SQLite the single node leads")
    settings = load_settings(smtp_port=free_port())
    first = Scheduler(engine, sessions, settings)
    second = Scheduler(engine, sessions, settings)
    try:
        assert await first.tick() != {}
        assert await second.tick() == {}
        await first.close()
        assert await second.tick() != {}
        assert await first.tick() == {}
    finally:
        await first.close()
        await second.close()
