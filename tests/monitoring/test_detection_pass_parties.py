"""Clauses 3.3 d, e, g: harvest, least privilege and circumvention passes over real usage events
and real registry rows, on SQLite and PostgreSQL; honest traffic beside them gets nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.models import Application, Developer, SubscriptionKey, UsageEvent
from termgate.monitoring.findings import evidence_of
from termgate.monitoring.policy import load_detector_policies
from termgate.monitoring.runner import run_pass
from termgate.registry.applications import create_application
from termgate.settings import load_settings
from tests.support.factories import IssuedKey, issue_test_key, issue_test_token
from tests.support.usage_rows import add_with_summaries

POLICIES = load_detector_policies(Path(__file__).parents[2] / "terms")


def read(
    key: IssuedKey,
    at: datetime,
    employee: str,
    *,
    application_id: str | None = None,
    **more: object,
) -> UsageEvent:
    values: dict[str, object] = {
        "status": 200,
        "latency_ms": 15.0,
        "company_id": "c-" + employee[-1],
        "end_user_id": "u-" + key.key_id[:6],
    }
    values.update(more)
    return UsageEvent(
        at=at,
        request_id=f"{key.key_id[:6]}-{employee}-{at.timestamp()}",
        key_id=key.key_id,
        application_id=application_id or key.application_id,
        developer_id=key.developer_id,
        method="GET",
        operation="/api/employees/{employeeId}",
        employee_id=employee,
        **values,
    )


async def test_clause_3_3_d_a_walk_through_employees_is_found_and_a_nightly_sync_is_not(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    harvester = await issue_test_key(sessions)
    sync = await issue_test_key(sessions)
    now = load_settings().now()
    async with sessions.begin() as session:
        for day in (3, 2, 1, 0):
            night = now - timedelta(days=day, hours=1)
            session.add_all(read(sync, night, f"s{i}") for i in range(40))
        session.add_all(
            read(harvester, now - timedelta(days=3, minutes=i % 600), f"e{i}") for i in range(1000)
        )
        session.add_all(
            read(harvester, now - timedelta(minutes=1 + i % 1200), f"e{i}")
            for i in range(1000, 1500)
        )
    async with sessions.begin() as session:
        result = await run_pass(session, POLICIES, now)
    found = [f for f in result.findings if f.detector == "harvest"]
    assert [f.application_id for f in found] == [harvester.application_id]
    evidence = evidence_of(found[0])
    assert (evidence["new_employees"], evidence["known_employees"]) == (500, 1000)
    assert "walk through the identifiers" in found[0].summary
    assert found[0].severity == "major"
    assert result.suspended == []


async def test_clause_3_3_g_an_application_started_while_another_is_throttled_is_found(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = await issue_test_key(sessions)
    bystander = await issue_test_key(sessions)
    now = load_settings().now()
    async with sessions.begin() as session:
        developer = await session.get_one(Developer, first.developer_id)
        second = await create_application(session, developer, name="Second", actor="tests")
        add_with_summaries(
            session,
            [
                *(read(first, now - timedelta(hours=6, minutes=i), f"a{i}") for i in range(50)),
                *(
                    read(first, now - timedelta(hours=3, seconds=i), f"a{i}", status=429,
                         code=42908)
                    for i in range(30)
                ),
                *(
                    read(first, now - timedelta(hours=2, seconds=i), f"b{i}",
                         application_id=second.id)
                    for i in range(40)
                ),
                *(read(bystander, now - timedelta(hours=1, seconds=i), f"z{i}") for i in range(80)),
            ],
        )  # fmt: skip
    async with sessions.begin() as session:
        result = await run_pass(session, POLICIES, now)
    found = [f for f in result.findings if f.detector == "circumvention"]
    assert [f.developer_id for f in found] == [first.developer_id]
    assert (
        f"application {second.id} started sending after {first.application_id}" in found[0].summary
    )
    assert found[0].clause == "3.3 g"


async def test_clause_3_3_e_scopes_granted_and_never_used_are_reported_with_the_narrower_set(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    over_scoped = await issue_test_key(sessions)
    fitting = await issue_test_key(sessions)
    await issue_test_token(
        sessions,
        over_scoped.application_id,
        scope="employee.info.read company.info.read payslip.read debtor.info.read",
    )
    await issue_test_token(sessions, fitting.application_id, scope="employee.info.read")
    now = load_settings().now()
    async with sessions.begin() as session:
        add_with_summaries(
            session,
            (
                read(key, now - timedelta(minutes=i), f"x{i}", scope="employee.info.read")
                for key in (over_scoped, fitting)
                for i in range(40)
            ),
        )
    later = now + timedelta(days=29)
    async with sessions.begin() as session:
        young = await run_pass(session, POLICIES, now)
        result = await run_pass(session, POLICIES, later)
    assert [f for f in young.findings if f.detector == "least_privilege"] == []
    [found] = [f for f in result.findings if f.detector == "least_privilege"]
    assert found.application_id == over_scoped.application_id
    evidence = evidence_of(found)
    assert evidence["unused"] == ["company.info.read", "debtor.info.read", "payslip.read"]
    assert evidence["narrower_set"] == ["employee.info.read"]
    assert found.severity == "minor"


async def test_clause_3_3_e_a_key_idle_for_90_days_is_reported_and_one_used_60_days_ago_is_not(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    idle, used = await issue_test_key(sessions), await issue_test_key(sessions)
    now = load_settings().now()
    long_ago = now - timedelta(days=120)
    async with sessions.begin() as session:
        for issued in (idle, used):
            (await session.get_one(SubscriptionKey, issued.key_id)).created_at = long_ago
            (await session.get_one(Application, issued.application_id)).created_at = long_ago
        # Sixty days ago is a whole day of the window: read from the daily summary.
        add_with_summaries(session, [read(used, now - timedelta(days=60), "e1")])
    async with sessions.begin() as session:
        result = await run_pass(session, {"least_privilege": POLICIES["least_privilege"]}, now)
    found = [f for f in result.findings if f.subject == "least_privilege:credentials"]
    assert [f.application_id for f in found] == [idle.application_id]
    assert found[0].summary.startswith("unused for 90 days: key ")
    assert found[0].severity == "info"
