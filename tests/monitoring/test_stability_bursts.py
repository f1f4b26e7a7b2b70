"""Clause 3.3 f: a client that stays under its per-minute rate limit by sending the minute's
allowance at once, minute after minute, degrades the API for everyone else (their requests wait
behind its hundreds); stability finds it from the events' seconds, on SQLite and PostgreSQL, and
leaves a steady client at the same count alone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.models import UsageEvent
from termgate.monitoring import stability
from termgate.monitoring.findings import evidence_of
from termgate.monitoring.policy import load_detector_policies
from termgate.monitoring.runner import run_pass
from termgate.monitoring.window import Party, Window
from termgate.settings import load_settings
from tests.support.factories import IssuedKey, issue_test_key, key_event

POLICIES = load_detector_policies(Path(__file__).parents[2] / "terms")
POLICY = POLICIES["stability"]
APP = Party("d" * 32, "a" * 32)


def loads(count: int, peak: int, step: int = 1) -> stability.ApplicationLoad:
    return stability.ApplicationLoad(
        APP, [stability.MinuteLoad(1000 + i * step, 500, 0.2, 10_000, peak) for i in range(count)]
    )


def test_clause_3_3_f_the_minutes_allowance_sent_at_once_minute_after_minute_is_found() -> None:
    window = Window(load_settings().now() - timedelta(hours=1), load_settings().now())
    assert stability.detect([loads(20, 9)], POLICY, window) == []  # steady, same count
    assert stability.detect([loads(5, 400)], POLICY, window) == []  # one short burst
    assert stability.detect([loads(20, 400, step=3)], POLICY, window) == []  # now and then
    [finding] = stability.detect([loads(12, 400)], POLICY, window)
    assert (finding.clause, finding.severity) == ("3.3 f", "major")  # never critical alone
    assert "in one second" in finding.summary
    assert finding.evidence["longest_burst_run_minutes"] == 12
    assert finding.evidence["peak_requests_per_second"] == 400


def at_once(key: IssuedKey, minutes: int, per_minute: int, spread: int) -> list[UsageEvent]:
    """`per_minute` requests each minute for `minutes` minutes, over its first `spread` seconds."""
    start = load_settings().now().replace(second=0, microsecond=0) - timedelta(minutes=minutes)
    return [
        key_event(
            key,
            start + timedelta(minutes=m, seconds=(n * spread) / per_minute),
            f"{key.key_id[:8]}-{m}-{n}",
            operation="/api/companies/{companyId}/employees/employments",
            status=200,
            latency_ms=5.0,
            bytes_out=30_000,
        )
        for m in range(minutes)
        for n in range(per_minute)
    ]


async def test_clause_3_3_f_bursts_are_found_from_real_events_and_a_steady_client_is_not(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    flooder = await issue_test_key(sessions)
    steady = await issue_test_key(sessions)
    async with sessions.begin() as session:
        session.add_all(at_once(flooder, 12, 300, spread=2))  # 150 a second, twice a minute
        session.add_all(at_once(steady, 12, 300, spread=60))  # the same 300, 5 a second
    async with sessions.begin() as session:
        result = await run_pass(session, POLICIES, load_settings().now())
    [finding] = [f for f in result.findings if f.detector == "stability"]
    assert finding.application_id == flooder.application_id
    evidence = evidence_of(finding)
    assert evidence["peak_requests_per_second"] == 150
    assert evidence["longest_burst_run_minutes"] == 12
    assert result.suspended == []
