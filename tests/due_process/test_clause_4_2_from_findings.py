"""Clause 4.2: findings open cases as the policy says (notice with cure, or suspension at once
for a critical finding); a further finding joins the running case; info findings open none."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.audit import verify_chain
from termgate.db.due_process import Case, SchedulerRun
from termgate.db.models import Application, Status, new_id, utcnow
from termgate.db.monitoring import Finding
from termgate.due_process.from_findings import (
    FINDING_CASES,
    FindingRef,
    cases_from_findings,
    open_from_finding,
)
from termgate.monitoring.findings import FindingDraft, record_finding
from termgate.monitoring.runner import enforce
from termgate.registry.clauses import load_policy
from termgate.settings import TERMS_DIR
from tests.unit.registry_support import parties


def _finding(party_ids: tuple[str, str], clause: str, severity: str) -> FindingRef:
    developer_id, application_id = party_ids
    return FindingRef(new_id(), clause, severity, developer_id, application_id, f"{clause} seen")


async def test_clause_4_2_findings_open_cases_as_the_policy_says(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    policy = load_policy(TERMS_DIR)
    now = utcnow()
    async with sessions.begin() as session:
        party = await parties(session)
        ids = (party.developer.id, party.application.id)
        assert (
            await open_from_finding(session, _finding(ids, "3.3 d", "info"), now=now, policy=policy)
            is None
        )
        first = await open_from_finding(
            session, _finding(ids, "3.3 d", "major"), now=now, policy=policy
        )
        assert first is not None
        assert first.state == "noticed"
        again = _finding(ids, "3.3 d", "major")
        joined = await open_from_finding(session, again, now=now, policy=policy)
        assert joined is first
        assert again.id in first.finding_ids
        critical = await open_from_finding(
            session, _finding(ids, "3.3 f", "critical"), now=now, policy=policy
        )
        assert critical is not None
        assert critical.state == "suspended"
        application = await session.get_one(Application, party.application.id)
        assert application.status is Status.SUSPENDED
        assert await session.scalar(select(func.count()).select_from(Case)) == 2


def _draft(party_ids: tuple[str, str], detector: str, severity: str, clause: str) -> FindingDraft:
    developer_id, application_id = party_ids
    return FindingDraft(
        detector,
        clause,
        severity,
        developer_id,
        application_id,
        None,
        f"{detector}:application",
        f"{detector} seen",
        {"requests": 80},
    )


async def test_clause_4_2_the_scheduler_turns_each_real_finding_into_a_case_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = utcnow()
    async with sessions.begin() as session:
        party = await parties(session)
        ids = (party.developer.id, party.application.id)
        major = await record_finding(
            session, _draft(ids, "harvest", "major", "3.3 d"), now=now, simulated=False
        )
        rehearsed = await record_finding(
            session, _draft(ids, "stability", "major", "3.3 f"), now=now, simulated=True
        )
        critical = await record_finding(
            session, _draft(ids, "probing", "critical", "3.3 c"), now=now, simulated=False
        )
        # The detector's own enforcement: the party suspended, the finding actioned.
        await enforce(session, critical, now)
    for _ in range(2):  # a second run, as after a restart, acts on nothing more
        async with sessions.begin() as session:
            await cases_from_findings(session, now)
    async with sessions.begin() as session:
        cases = {case.clauses: case for case in await session.scalars(select(Case))}
        assert set(cases) == {"3.3 d", "3.3 c"}  # nothing from the simulated finding
        assert cases["3.3 d"].state == "noticed"
        assert major.id in cases["3.3 d"].finding_ids
        assert cases["3.3 c"].state == "suspended"
        assert critical.id in cases["3.3 c"].finding_ids
        stored = await session.get_one(Finding, major.id)
        assert stored.state == "actioned"
        assert stored.action is not None
        assert cases["3.3 d"].id in stored.action
        assert (await session.get_one(Finding, rehearsed.id)).state == "open"
        acted = await session.scalars(
            select(SchedulerRun.item).where(SchedulerRun.job == FINDING_CASES)
        )
        assert sorted(acted) == sorted([major.id, critical.id])
        assert await verify_chain(session) is None
