"""Retention of usage events and spent credentials, on SQLite and PostgreSQL: what is older than the
retention goes in bounded batches, what is newer and the provider's evidence stay."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.changes import record_access_change
from termgate.db.models import AccessChange, Plan, UsageEvent, new_id
from termgate.db.oauth import AuthorizationCode, Consent, RefreshToken
from termgate.db.programme import AuditEntry, TermsAcceptance
from termgate.db.usage_daily import UsageDaily
from termgate.db.usage_hourly import UsageHourly
from termgate.db.usage_parties import UsageDailyParty
from termgate.db.usage_sketches import UsageHourlySketches
from termgate.governance.retention import prune, prune_daily, quota_days
from termgate.governance.sketch_hours import sketch_hour
from tests.support.factories import issue_test_key, issue_test_token
from tests.support.usage_rows import add_with_summaries

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
Sessions = async_sessionmaker[AsyncSession]


def event(age: timedelta) -> UsageEvent:
    return UsageEvent(
        at=NOW - age,
        request_id=new_id(),
        application_id="app-1",
        end_user_id="u-1",  # with the address: two rows of the daily parties a day
        client_ip="192.0.2.1",
        method="GET",
        operation="/api/debtors",
        status=200,
        latency_ms=1.0,
    )


async def add_events(sessions: Sessions, *ages_in_days: float) -> None:
    async with sessions.begin() as session:
        session.add_all(event(timedelta(days=days)) for days in ages_in_days)


async def event_ages(sessions: Sessions) -> list[int]:
    async with sessions() as session:
        times = (await session.scalars(select(UsageEvent.at).order_by(UsageEvent.at))).all()
    return sorted(round((NOW - at) / timedelta(days=1)) for at in times)


async def rows(sessions: Sessions, model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def usage(report: list) -> int:  # type: ignore[type-arg]
    return next(item.rows for item in report if item.table == "usage_events")


async def test_usage_events_older_than_the_retention_go_newer_stay(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        ages = (401, 402, 500, 900, 1200, 399, 30, 0)
        add_with_summaries(session, (event(timedelta(days=days)) for days in ages))

    report = await prune(sessions, NOW, 400, batch_size=2)  # several batches

    assert usage(report) == 5
    assert await event_ages(sessions) == [0, 30, 399]
    # The days wholly past the cut-off, their end user and address each, by the composite key.
    assert {item.table: item.rows for item in report}["usage_daily_parties"] == 10
    assert await rows(sessions, UsageDailyParty) == 6


async def test_the_hourly_summary_and_sketches_go_with_their_events(sessions: Sessions) -> None:
    ages = (401, 402, 30, 0)
    async with sessions.begin() as session:
        add_with_summaries(session, (event(timedelta(days=days)) for days in ages))
    async with sessions.begin() as session:  # as the monitoring thread sketches hours over
        for days in ages:
            await sketch_hour(session, NOW - timedelta(days=days))

    report = await prune(sessions, NOW - timedelta(minutes=20), 400)  # a cut-off within an hour

    assert {item.table: item.rows for item in report if item.table.startswith("usage")} == {
        "usage_events": 2,
        "usage_hourly": 2,
        "usage_daily": 2,
        "usage_daily_parties": 4,  # the end user and the address of each of those two days
        "usage_hourly_sketches": 4,  # every operation's row and /api/debtors' of those two hours
        "usage_hours": 2,
    }
    async with sessions() as session:
        hours = sorted((await session.scalars(select(UsageHourly.hour))).all())
        sketched = set((await session.scalars(select(UsageHourlySketches.hour))).all())
    assert hours == [NOW - timedelta(days=30), NOW]
    assert sketched == set(hours)


async def test_clause_4_4_a_day_of_the_daily_summary_goes_once_all_of_it_is_past_the_cut_off(
    sessions: Sessions,
) -> None:
    # NOW - 400 days is 12:00; the cut-off at 400 days falls in that day, after this event.
    async with sessions.begin() as session:
        add_with_summaries(session, [event(timedelta(days=400, hours=2))])

    report = await prune(sessions, NOW, 400)

    assert {item.table: item.rows for item in report if item.table.startswith("usage")} == {
        "usage_events": 1,
        "usage_hourly": 1,
        "usage_daily": 0,  # its day reaches past the cut-off: kept, and read by nothing
        "usage_daily_parties": 0,
        "usage_hourly_sketches": 0,
        "usage_hours": 1,
    }
    report = await prune(sessions, NOW + timedelta(hours=12), 400)  # the day is over
    assert {item.table: item.rows for item in report}["usage_daily"] == 1
    assert {item.table: item.rows for item in report}["usage_daily_parties"] == 2
    assert await rows(sessions, UsageDaily) == 0
    assert await rows(sessions, UsageDailyParty) == 0


async def test_dry_run_counts_and_deletes_nothing(sessions: Sessions) -> None:
    await add_events(sessions, 401, 500, 10)

    report = await prune(sessions, NOW, 400, dry_run=True)

    assert usage(report) == 2
    assert await event_ages(sessions) == [10, 401, 500]


async def test_retention_zero_keeps_usage_events_forever(sessions: Sessions) -> None:
    await add_events(sessions, 5000, 1)

    report = await prune(sessions, NOW, 0)

    assert "usage_events" not in {item.table for item in report}
    assert await event_ages(sessions) == [1, 5000]


async def test_clause_4_4_events_a_rolling_quota_reads_are_kept(sessions: Sessions) -> None:
    """Quota counters are seeded from usage events at start: a retention shorter than a plan's
    rolling period would let a restart forget part of the quota used."""
    await issue_test_key(sessions)
    async with sessions.begin() as session:
        await session.execute(update(Plan).values(quota_period="rolling:366"))
    await add_events(sessions, 100, 300, 366, 368)

    report = await prune(sessions, NOW, 30)

    assert usage(report) == 1
    assert await event_ages(sessions) == [100, 300, 366]
    assert "367 days" in next(item.why for item in report if item.table == "usage_events")


async def test_clause_4_5_a_announcements_still_find_the_last_90_days_callers(
    sessions: Sessions,
) -> None:
    await add_events(sessions, 89, 92)

    await prune(sessions, NOW, 7)

    assert await event_ages(sessions) == [89]


def test_quota_days_of_each_period_form() -> None:
    assert quota_days("month") == 31
    assert quota_days("rolling:366") == 366
    assert quota_days("rolling:x") == 31
    assert quota_days("rolling:99999999999999") == 366


async def test_spent_credentials_go_evidence_stays(sessions: Sessions) -> None:
    key = await issue_test_key(sessions)
    token = await issue_test_token(sessions, key.application_id, now=NOW - timedelta(days=90))
    async with sessions.begin() as session:
        for days in (31, 29):  # expired that long ago
            expired = NOW - timedelta(days=days)
            session.add(
                RefreshToken(
                    token_hash=new_id() * 2,
                    family_id=token.family_id,
                    scope="x",
                    issued_at=expired - timedelta(days=30),
                    expires_at=expired,
                )
            )
            session.add(
                AuthorizationCode(
                    code_hash=new_id() * 2,
                    family_id=token.family_id,
                    redirect_uri="https://client.example/cb",
                    scope="x",
                    issued_at=expired,
                    expires_at=expired,
                )
            )
    evidence = {
        model: await rows(sessions, model) for model in (AuditEntry, Consent, TermsAcceptance)
    }

    report = {item.table: item.rows for item in await prune(sessions, NOW, 400)}

    assert report["refresh_tokens"] == 1
    assert report["authorization_codes"] == 1
    assert await rows(sessions, RefreshToken) == 1
    assert await rows(sessions, AuthorizationCode) == 1
    assert all(count > 0 for count in evidence.values())
    assert {model: await rows(sessions, model) for model in evidence} == evidence


async def test_the_change_feed_keeps_its_newest_row(sessions: Sessions) -> None:
    """Nodes compare the feed's newest id: it must survive however old it is."""
    async with sessions.begin() as session:
        for _ in range(3):
            record_access_change(session, "key", new_id())
    async with sessions.begin() as session:
        await session.execute(update(AccessChange).values(at=NOW - timedelta(days=10)))
        head = await session.scalar(select(func.max(AccessChange.id)))

    await prune(sessions, NOW, 400)

    async with sessions() as session:
        assert (await session.scalars(select(AccessChange.id))).all() == [head]


async def test_two_nodes_pruning_at_once_delete_each_row_once(sessions: Sessions) -> None:
    await add_events(sessions, *([500] * 40), 1)

    reports = await asyncio.gather(*(prune(sessions, NOW, 400, batch_size=3) for _ in range(2)))

    assert sum(usage(report) for report in reports) == 40
    assert await event_ages(sessions) == [1]


async def test_serve_job_prunes_and_logs_what_it_deleted(
    sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    await add_events(sessions, 401, 1)
    caplog.set_level(logging.INFO, "termgate.governance.retention")

    job = asyncio.create_task(prune_daily(sessions, lambda: NOW, 400, first_delay=0))
    try:
        for _ in range(200):
            if "retention pruning deleted" in caplog.text:
                break
            await asyncio.sleep(0.05)
    finally:
        job.cancel()
        await asyncio.gather(job, return_exceptions=True)

    assert await event_ages(sessions) == [1]
    assert "retention pruning deleted 1 usage_events" in caplog.text
