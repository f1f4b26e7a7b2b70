"""Clause 4.1 (issue 12 item 4): findings are recorded, deduplicated while the behaviour
continues, listed by filter, dismissed with a reason or marked actioned, each step audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.programme import AuditEntry
from termgate.monitoring.findings import (
    FindingDraft,
    dismiss_finding,
    evidence_of,
    list_findings,
    mark_actioned,
    record_finding,
)

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def draft(subject: str = "probing:40303", **changes: object) -> FindingDraft:
    values: dict[str, object] = {
        "detector": "probing",
        "clause": "3.3 c",
        "severity": "major",
        "developer_id": "d" * 32,
        "application_id": "a" * 32,
        "key_id": None,
        "subject": subject,
        "summary": "40 of 50 requests named tenants outside the consent",
        "evidence": {"refused": 40, "requests": 50},
    }
    values.update(changes)
    return FindingDraft(**values)  # type: ignore[arg-type]


async def test_clause_4_1_a_continuing_behaviour_updates_one_open_finding(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        first = await record_finding(session, draft(), now=NOW, simulated=False)
        again = await record_finding(
            session,
            draft(evidence={"refused": 90, "requests": 100}, severity="critical"),
            now=NOW + timedelta(minutes=1),
            simulated=False,
        )
        other_subject = await record_finding(session, draft("probing:401"), now=NOW, simulated=True)
        other_party = await record_finding(
            session, draft(application_id="b" * 32), now=NOW, simulated=False
        )
    assert again.id == first.id
    assert again.occurrences == 2
    assert again.last_seen == NOW + timedelta(minutes=1)
    assert again.first_seen == NOW
    assert again.severity == "critical"
    assert evidence_of(again) == {"refused": 90, "requests": 100}
    assert len({first.id, other_subject.id, other_party.id}) == 3
    assert other_subject.simulated is True
    async with sessions() as session:
        assert len(await list_findings(session)) == 3
        opened = await session.scalars(
            select(AuditEntry).where(AuditEntry.action == "finding_opened")
        )
        assert len(list(opened)) == 3


async def test_clause_4_1_filters_narrow_the_list(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await record_finding(session, draft(), now=NOW, simulated=False)
        await record_finding(
            session,
            draft("harvest:employees", detector="harvest", clause="3.3 d", developer_id="e" * 32),
            now=NOW + timedelta(hours=2),
            simulated=False,
        )
    async with sessions() as session:
        assert [f.detector for f in await list_findings(session, detector="harvest")] == ["harvest"]
        assert len(await list_findings(session, developer_id="d" * 32)) == 1
        assert len(await list_findings(session, since=NOW + timedelta(hours=1))) == 1
        assert len(await list_findings(session, application_id="a" * 32)) == 2
        assert await list_findings(session, state="dismissed") == []
        newest = await list_findings(session)
        assert newest[0].detector == "harvest"


async def test_clause_4_1_dismissal_needs_a_reason_and_closes_the_finding(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        finding = await record_finding(session, draft(), now=NOW, simulated=False)
    async with sessions.begin() as session:
        with pytest.raises(RegistryError, match="reason"):
            await dismiss_finding(session, finding.id, reason="  ", actor="admin@p", now=NOW)
    async with sessions.begin() as session:
        dismissed = await dismiss_finding(
            session, finding.id, reason="a migration job", actor="admin@p", now=NOW
        )
    assert dismissed.state == "dismissed"
    assert dismissed.state_reason == "a migration job"
    async with sessions.begin() as session:
        with pytest.raises(RegistryError, match="already dismissed"):
            await dismiss_finding(session, finding.id, reason="again", actor="admin@p", now=NOW)
        with pytest.raises(NotFoundError):
            await mark_actioned(session, "nope", action="x", actor="admin@p", now=NOW)
        # The behaviour seen again after a dismissal is a new finding, not the dismissed one.
        fresh = await record_finding(session, draft(), now=NOW, simulated=False)
    assert fresh.id != finding.id
    async with sessions() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "finding_dismissed")
        )
        assert entry is not None
        assert (entry.actor, entry.entity_id, entry.reason) == (
            "admin@p",
            finding.id,
            "a migration job",
        )


async def test_clause_4_2_actioned_finding_says_what_was_done(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        finding = await record_finding(session, draft(), now=NOW, simulated=False)
        done = await mark_actioned(
            session, finding.id, action="suspended application a", actor="detector", now=NOW
        )
    assert (done.state, done.action) == ("actioned", "suspended application a")
    async with sessions() as session:
        assert [f.id for f in await list_findings(session, state="actioned")] == [finding.id]


async def test_clause_4_1_unknown_severity_is_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        with pytest.raises(RegistryError, match="severity"):
            await record_finding(session, draft(severity="huge"), now=NOW, simulated=False)
