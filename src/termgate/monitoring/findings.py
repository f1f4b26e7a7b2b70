"""Findings: record (deduplicated while the behaviour continues), list, dismiss, mark actioned.

This is the interface the detectors write to and due process reads from. A finding is one row per
detector, party and subject while it is open: a detector that sees the same behaviour again
updates `last_seen`, `occurrences` and the evidence rather than adding a row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.monitoring import Finding, FindingState

Severity = Literal["info", "minor", "major", "critical"]
SEVERITIES: tuple[str, ...] = ("info", "minor", "major", "critical")
STATES: tuple[str, ...] = tuple(state.value for state in FindingState)
DETECTOR_ACTOR = "detector"
# Evidence members that name other parties: never shown to the developer a finding is about.
OTHER_PARTIES = frozenset({"other_accounts_at_same_addresses"})


@dataclass(frozen=True)
class FindingDraft:
    """What a detector saw, before it is stored: the party, the rule, the numbers."""

    detector: str
    clause: str
    severity: str
    developer_id: str | None
    application_id: str | None
    key_id: str | None
    subject: str
    summary: str
    evidence: dict[str, object] = field(default_factory=dict)


def evidence_of(finding: Finding) -> dict[str, object]:
    loaded = json.loads(finding.evidence or "{}")
    return loaded if isinstance(loaded, dict) else {}


def _same(draft: FindingDraft) -> Select[Finding]:
    return select(Finding).where(
        Finding.detector == draft.detector,
        Finding.subject == draft.subject,
        Finding.developer_id.is_(None)
        if draft.developer_id is None
        else Finding.developer_id == draft.developer_id,
        Finding.application_id.is_(None)
        if draft.application_id is None
        else Finding.application_id == draft.application_id,
        Finding.key_id.is_(None) if draft.key_id is None else Finding.key_id == draft.key_id,
    )


async def record_finding(
    session: AsyncSession, draft: FindingDraft, *, now: datetime, simulated: bool
) -> Finding:
    """Store a detector's finding, or update the open one about the same party and subject."""
    if draft.severity not in SEVERITIES:
        raise RegistryError(f"severity {draft.severity!r} is not one of {', '.join(SEVERITIES)}")
    evidence = json.dumps(draft.evidence, sort_keys=True, default=str)
    same_open = _same(draft).where(Finding.state == FindingState.OPEN.value)
    existing = (await session.scalars(same_open.limit(1))).first()
    if existing is not None:
        existing.last_seen = now
        existing.occurrences += 1
        existing.evidence = evidence
        existing.summary = draft.summary
        # A behaviour that grows worse raises the finding; it never quietly lowers it.
        if SEVERITIES.index(draft.severity) > SEVERITIES.index(existing.severity):
            existing.severity = draft.severity
        existing.simulated = existing.simulated and simulated
        await session.flush()
        return existing
    finding = Finding(
        detector=draft.detector,
        clause=draft.clause,
        severity=draft.severity,
        developer_id=draft.developer_id,
        application_id=draft.application_id,
        key_id=draft.key_id,
        subject=draft.subject[:200],
        summary=draft.summary,
        evidence=evidence,
        state=FindingState.OPEN.value,
        simulated=simulated,
        first_seen=now,
        last_seen=now,
        occurrences=1,
    )
    session.add(finding)
    await session.flush()
    if "chart" not in draft.evidence:
        finding.evidence = json.dumps(
            {**draft.evidence, "chart": f"/console/findings/{finding.id}/chart.svg"},
            sort_keys=True,
            default=str,
        )
    await record(
        session,
        DETECTOR_ACTOR + ":" + draft.detector,
        "finding_opened",
        "finding",
        finding.id,
        f"clause {draft.clause}, {draft.severity}: {draft.summary}",
    )
    return finding


async def closed_since(session: AsyncSession, draft: FindingDraft, since: datetime) -> bool:
    """Whether the same finding was dismissed or actioned after `since`: the events of a window
    already judged do not raise it again (a dismissed false positive stays dismissed)."""
    closed = _same(draft).where(
        Finding.state != FindingState.OPEN.value, Finding.last_seen >= since
    )
    return (await session.scalars(closed.limit(1))).first() is not None


async def list_findings(
    session: AsyncSession,
    *,
    state: str | None = None,
    detector: str | None = None,
    developer_id: str | None = None,
    application_id: str | None = None,
    since: datetime | None = None,
    severity: str | None = None,
    limit: int | None = None,
) -> list[Finding]:
    """Findings, the most recently seen first, narrowed by whichever filters are given."""
    query = select(Finding).order_by(Finding.last_seen.desc(), Finding.id)
    if state is not None:
        query = query.where(Finding.state == state)
    if detector is not None:
        query = query.where(Finding.detector == detector)
    if developer_id is not None:
        query = query.where(Finding.developer_id == developer_id)
    if application_id is not None:
        query = query.where(Finding.application_id == application_id)
    if severity is not None:
        query = query.where(Finding.severity == severity)
    if since is not None:
        query = query.where(Finding.last_seen >= since)
    if limit is not None:
        query = query.limit(limit)
    return list(await session.scalars(query))


async def get_finding(session: AsyncSession, finding_id: str) -> Finding:
    finding = await session.get(Finding, finding_id)
    if finding is None:
        raise NotFoundError(f"no finding {finding_id!r}")
    return finding


async def _close(session: AsyncSession, finding_id: str, state: FindingState) -> Finding:
    finding = await get_finding(session, finding_id)
    if finding.state != FindingState.OPEN.value:
        raise RegistryError(f"finding {finding_id} is already {finding.state}")
    finding.state = state.value
    return finding


async def dismiss_finding(
    session: AsyncSession, finding_id: str, *, reason: str, actor: str, now: datetime
) -> Finding:
    """A false positive: closed with the reason, kept for the record (and for tuning)."""
    why = reason.strip()
    if not why:
        raise RegistryError("give a reason for the dismissal; it is recorded")
    finding = await _close(session, finding_id, FindingState.DISMISSED)
    finding.state_reason = why
    finding.last_seen = max(finding.last_seen, now)
    await record(session, actor, "finding_dismissed", "finding", finding.id, why)
    await session.flush()
    return finding


async def mark_actioned(
    session: AsyncSession, finding_id: str, *, action: str, actor: str, now: datetime
) -> Finding:
    """Something was done about it (a suspension, a case); the finding says what."""
    what = action.strip()
    if not what:
        raise RegistryError("say what was done; it is recorded")
    finding = await _close(session, finding_id, FindingState.ACTIONED)
    finding.action = what
    finding.state_reason = what
    finding.last_seen = max(finding.last_seen, now)
    await record(session, actor, "finding_actioned", "finding", finding.id, what)
    await session.flush()
    return finding


def as_record(finding: Finding) -> dict[str, object]:
    """A finding as the admin API, the CLI and the portal show it (evidence as an object)."""
    return {
        "id": finding.id,
        "detector": finding.detector,
        "clause": finding.clause,
        "severity": finding.severity,
        "state": finding.state,
        "developer_id": finding.developer_id,
        "application_id": finding.application_id,
        "key_id": finding.key_id,
        "subject": finding.subject,
        "summary": finding.summary,
        "evidence": evidence_of(finding),
        "state_reason": finding.state_reason,
        "action": finding.action,
        "simulated": finding.simulated,
        "first_seen": finding.first_seen.isoformat(),
        "last_seen": finding.last_seen.isoformat(),
        "occurrences": finding.occurrences,
    }


def developer_view(finding: Finding) -> dict[str, object]:
    """The finding as the developer it is about sees it: no other party's data."""
    shown = as_record(finding)
    evidence = {k: v for k, v in evidence_of(finding).items() if k not in OTHER_PARTIES}
    evidence.pop("chart", None)  # the provider's console link
    return {**shown, "evidence": evidence}


async def findings_of_developer(session: AsyncSession, developer_id: str) -> list[Finding]:
    """What the portal shows a developer: the findings about them that are not simulated."""
    rows = await list_findings(session, developer_id=developer_id, limit=200)
    return [finding for finding in rows if not finding.simulated]
