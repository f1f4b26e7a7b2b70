"""Clause 4.2: findings open cases as the policy says (notice with cure, or suspension at once
for a critical finding); a further finding joins the running case; info findings open none."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.due_process import Case
from termgate.db.models import Application, Status, new_id, utcnow
from termgate.due_process.from_findings import FindingRef, open_from_finding
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
