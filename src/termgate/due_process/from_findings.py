"""Cases opened automatically from findings of the provider's monitoring, as the terms policy
says (clause 4.2): a finding needs only its id, clause, severity, party and summary.

- `info` findings open no case;
- `critical` findings (a plausible risk of damage) suspend the party at once, the notice after;
- otherwise the cited clause decides: its `critical` severity suspends at once, else a notice with
  the clause's cure period.

A party with a running case under the same clause gets the finding added to that case rather
than a second case. The scheduler's `finding-cases` job (`cases_from_findings`) takes each real
(not simulated) finding once: an open one, or a critical one a detector already acted on by
suspending its party (the notice and the case follow the suspension).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.db.due_process import Case, SchedulerRun
from termgate.db.monitoring import Finding
from termgate.due_process.cases import ACTIVE, add_event, open_case
from termgate.due_process.runs import BATCH, once
from termgate.monitoring.findings import mark_actioned
from termgate.registry.clauses import Policy, load_policy
from termgate.settings import get_settings

ACTOR = "monitoring"


@dataclass(frozen=True)
class FindingRef:
    """What a case needs of a finding (the `findings` table's columns of the same names)."""

    id: str
    clause: str
    severity: str
    developer_id: str | None
    application_id: str | None
    summary: str


async def _running_case(session: AsyncSession, finding: FindingRef) -> Case | None:
    query = select(Case).where(
        Case.developer_id == finding.developer_id,
        Case.state.in_([state.value for state in ACTIVE]),
        Case.clauses.contains(finding.clause),
    )
    if finding.application_id is None:
        query = query.where(Case.application_id.is_(None))
    else:
        query = query.where(Case.application_id == finding.application_id)
    for case in await session.scalars(query):
        if finding.clause in case.clauses.split("; "):
            return case
    return None


async def open_from_finding(
    session: AsyncSession, finding: FindingRef, *, now: datetime, policy: Policy
) -> Case | None:
    """The case the finding opened or joined; None for an `info` finding or one without a
    developer (nothing to notify)."""
    if finding.severity == "info" or finding.developer_id is None:
        return None
    running = await _running_case(session, finding)
    if running is not None:
        found = json.loads(running.finding_ids)
        if finding.id not in found:
            running.finding_ids = json.dumps([*found, finding.id])
            running.updated_at = now
            add_event(session, running, "finding", ACTOR, finding.summary, now, "provider")
            await record(session, ACTOR, "case-finding", "case", running.id, finding.id)
        return running
    return await open_case(
        session,
        developer_id=finding.developer_id,
        application_id=finding.application_id,
        clauses=[finding.clause],
        summary=finding.summary,
        actor=ACTOR,
        now=now,
        finding_ids=[finding.id],
        cure_days=0 if finding.severity == "critical" else None,
        policy=policy,
    )


FINDING_CASES = "finding-cases"


def _due_findings() -> Select[Finding]:
    acted_on = exists().where(SchedulerRun.job == FINDING_CASES, SchedulerRun.item == Finding.id)
    suspended_by_detector = and_(Finding.state == "actioned", Finding.action.like("suspended %"))
    return (
        select(Finding)
        .where(
            Finding.simulated.is_(False),
            Finding.severity != "info",
            or_(Finding.state == "open", suspended_by_detector),
            ~acted_on,
        )
        .order_by(Finding.first_seen, Finding.id)
        .limit(BATCH)
    )


async def cases_from_findings(session: AsyncSession, now: datetime) -> int:
    """The scheduler's job: each due finding opens or joins a case, once (clause 4.2)."""
    policy = load_policy(get_settings().terms_dir)
    acted = 0
    for finding in list(await session.scalars(_due_findings())):
        reference = FindingRef(
            finding.id,
            finding.clause,
            finding.severity,
            finding.developer_id,
            finding.application_id,
            finding.summary,
        )
        case = await open_from_finding(session, reference, now=now, policy=policy)
        outcome = "no developer to notify" if case is None else f"case {case.id}"
        await once(session, FINDING_CASES, finding.id, now, outcome)
        if case is not None and finding.state == "open":
            action = f"case {case.id} (clause 4.2: notice and cure)"
            await mark_actioned(session, finding.id, action=action, actor=ACTOR, now=now)
        acted += 1
    return acted
