"""Clause 4.1 and 4.2: a detection pass over real usage events on SQLite and PostgreSQL records
findings, leaves honest traffic alone, and a critical finding suspends its party through the
console's path (status, audit, change feed) and says so in the finding."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.models import AccessChange, Application, Status, UsageEvent
from termgate.db.programme import AuditEntry
from termgate.monitoring.findings import evidence_of, list_findings
from termgate.monitoring.policy import load_detector_policies
from termgate.monitoring.runner import run_pass
from termgate.monitoring.sign_ins import application_of, record_sign_in_failure
from termgate.settings import load_settings
from tests.support.factories import IssuedKey, issue_test_key, key_event
from tests.support.usage_rows import add_with_summaries

POLICIES = load_detector_policies(Path(__file__).parents[2] / "terms")


def events(
    key: IssuedKey,
    count: int,
    *,
    status: int = 200,
    code: int | None = None,
    every: float = 1.0,
    **more: object,
) -> list[UsageEvent]:
    """`count` requests of the key, one each `every` seconds, ending now."""
    now = load_settings().now()
    latency = float(more.pop("latency_ms", 20.0))  # type: ignore[arg-type]
    return [
        key_event(
            key,
            now - timedelta(seconds=(count - i) * every),
            f"{key.key_id[:8]}-{status}-{i}",
            operation="/api/companies/{companyId}/employees",
            status=status,
            code=code,
            latency_ms=latency,
            **more,
        )
        for i in range(count)
    ]


async def test_clause_4_2_cross_tenant_probing_suspends_the_application_at_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    prober = await issue_test_key(sessions)
    honest = await issue_test_key(sessions)
    async with sessions.begin() as session:
        # With their summary rows: probing reads the day's whole hours from the hourly one
        # (the probes span three hours, two of them or more whole).
        add_with_summaries(
            session,
            [
                *events(prober, 30),
                *events(prober, 300, status=403, code=40303, every=36.0),
                *events(honest, 400),
                *events(honest, 4, status=401, code=40102),
            ],
        )
    now = load_settings().now()
    async with sessions.begin() as session:
        changes_before = await session.scalar(select(func.count()).select_from(AccessChange))
        result = await run_pass(session, POLICIES, now)
    assert result.ran
    assert len(result.suspended) == 1
    async with sessions() as session:
        [finding] = await list_findings(session)
        assert (finding.detector, finding.clause, finding.severity) == (
            "probing",
            "3.3 c",
            "critical",
        )
        assert finding.application_id == prober.application_id
        assert finding.state == "actioned"
        assert (
            finding.action
            == f"suspended application {prober.application_id} (clause 4.2, plausible risk)"
        )
        evidence = evidence_of(finding)
        assert evidence["foreign_tenant"] == 300
        assert len(evidence["sample_request_ids"]) == 5  # type: ignore[arg-type]
        assert evidence["chart"] == f"/console/findings/{finding.id}/chart.svg"
        application = await session.get_one(Application, prober.application_id)
        assert application.status is Status.SUSPENDED
        assert "plausible risk" in (application.status_reason or "")
        assert (await session.get_one(Application, honest.application_id)).status is Status.ACTIVE
        changes = await session.scalar(select(func.count()).select_from(AccessChange))
        assert changes == (changes_before or 0) + 1
        actions = list(
            await session.scalars(
                select(AuditEntry.action).where(AuditEntry.actor == "detector:probing")
            )
        )
        assert actions == ["finding_opened", "suspended", "finding_actioned"]
    # The same events in the next pass were judged already: no second finding, no second action.
    async with sessions.begin() as session:
        again = await run_pass(session, POLICIES, now + timedelta(seconds=30))
    assert again.findings == []


async def test_clause_3_3_f_sustained_concurrency_is_found_from_minute_buckets(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    heavy = await issue_test_key(sessions)
    light = await issue_test_key(sessions)
    # 20 requests a minute, each under way for a whole minute: 20 at once, 15 minutes running.
    loads = events(heavy, 15 * 20, latency_ms=60_000.0)
    minute = load_settings().now().replace(second=0, microsecond=0)
    for index, event in enumerate(loads):
        event.at = minute - timedelta(minutes=15 - index // 20) + timedelta(seconds=index % 20)
    async with sessions.begin() as session:
        add_with_summaries(session, [*loads, *events(light, 300)])
    async with sessions.begin() as session:
        result = await run_pass(session, POLICIES, load_settings().now())
        again = await run_pass(session, POLICIES, load_settings().now() + timedelta(seconds=30))
    [finding] = result.findings
    assert (finding.detector, finding.severity, finding.application_id) == (
        "stability",
        "major",
        heavy.application_id,
    )
    assert evidence_of(finding)["longest_concurrency_run_minutes"] >= 14  # type: ignore[operator]
    assert [f.id for f in again.findings] == [finding.id]
    assert again.findings[0].occurrences == 2
    assert result.suspended == []


async def test_clause_3_3_c_failed_sign_ins_at_the_consent_page_are_found_per_application(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    stuffed = await issue_test_key(sessions)
    now = load_settings().now()
    async with sessions.begin() as session:
        for i in range(60):
            record_sign_in_failure(
                session,
                at=now - timedelta(minutes=i),
                application_id=application_of(
                    f"/connect/authorize?response_type=code&client_id={stuffed.application_id}"
                ),
                client_ip="203.0.113.9",
            )
        record_sign_in_failure(session, at=now, application_id=None, client_ip=None)
    async with sessions.begin() as session:
        result = await run_pass(session, POLICIES, now + timedelta(seconds=1))
    [finding] = result.findings
    assert (finding.detector, finding.application_id) == ("probing", stuffed.application_id)
    assert finding.developer_id == stuffed.developer_id
    assert evidence_of(finding)["failed_sign_ins"] == 60
