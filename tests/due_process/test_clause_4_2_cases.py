"""Clause 4.2 / 6.2 on the database: notice and cure, escalation, immediate suspension, each
transition audited, bad input refused with nothing changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.audit import trail, verify_chain
from termgate.core.errors import RegistryError
from termgate.db.due_process import Case, CaseEvent
from termgate.db.models import AccessChange, Application, Status, utcnow
from termgate.db.programme import InboxMessage, OutboxMail
from termgate.due_process.cases import (
    accept_cure,
    close_case,
    escalate,
    extend_deadline,
    open_case,
)
from tests.unit.registry_support import parties

Sessions = async_sessionmaker[AsyncSession]


async def _count(session: AsyncSession, model: type[object]) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_clause_4_2_a_case_notices_the_developer_and_a_cure_closes_it(
    sessions: Sessions,
) -> None:
    now = utcnow()
    async with sessions.begin() as session:
        party = await parties(session)
        case = await open_case(
            session,
            developer_id=party.developer.id,
            application_id=party.application.id,
            clauses=["3.3 d"],
            summary="12,000 employee records read in one night",
            actor="provider@example.nl",
            now=now,
            finding_ids=["f" * 32],
        )
    async with sessions.begin() as session:
        stored = await session.get_one(Case, case.id)
        assert stored.state == "noticed"
        assert stored.cure_deadline == now.replace(microsecond=now.microsecond) + timedelta(days=10)
        notice = await session.scalar(
            select(InboxMessage).where(InboxMessage.kind == "case-notice")
        )
        assert notice is not None
        assert "clause 3.3 d" in notice.body
        assert "12,000 employee records" in notice.body
        assert "f" * 32 in notice.body
        mail = await session.scalar(select(OutboxMail).where(OutboxMail.kind == "case-notice"))
        assert mail is not None
        assert mail.recipient == party.developer.email
        await accept_cure(
            session, case.id, actor="provider@example.nl", reason="rate capped", now=now
        )
    async with sessions.begin() as session:
        assert (await session.get_one(Case, case.id)).state == "cured"
        actions = [e.action for e in await trail(session, case.id)]
        assert actions == ["case-accept", "case-notice", "case-opened"]
        assert await verify_chain(session) is None


async def test_clause_4_2_escalation_suspends_the_application_and_a_cure_reinstates_it(
    sessions: Sessions,
) -> None:
    now = utcnow()
    async with sessions.begin() as session:
        party = await parties(session)
        case = await open_case(
            session,
            developer_id=party.developer.id,
            application_id=party.application.id,
            clauses=["3.3 f"],
            summary="bandwidth",
            actor="ops",
            now=now,
        )
        before = await _count(session, AccessChange)
        await escalate(session, case.id, actor="ops", reason="no answer", now=now)
    async with sessions.begin() as session:
        application = await session.get_one(Application, party.application.id)
        assert application.status is Status.SUSPENDED
        assert await _count(session, AccessChange) == before + 1
        stored = await session.get_one(Case, case.id)
        assert stored.state == "suspended"
        assert stored.terminate_at == now + timedelta(days=10)
        await accept_cure(session, case.id, actor="ops", reason="fixed", now=now)
    async with sessions.begin() as session:
        application = await session.get_one(Application, party.application.id)
        assert application.status is Status.ACTIVE
        actions = [e.action for e in reversed(await trail(session, case.id))]
        assert actions == [
            "case-opened",
            "case-notice",
            "case-escalate",
            "case-suspend",
            "case-accept",
        ]
        assert await verify_chain(session) is None


async def test_clause_4_2_a_critical_clause_suspends_at_once_with_notice_after(
    sessions: Sessions,
) -> None:
    async with sessions.begin() as session:
        party = await parties(session)
        case = await open_case(
            session,
            developer_id=party.developer.id,
            application_id=None,
            clauses=["3.3 c"],
            summary="cross-tenant probing",
            actor="ops",
            now=utcnow(),
        )
    async with sessions.begin() as session:
        stored = await session.get_one(Case, case.id)
        assert stored.state == "suspended"
        assert stored.cure_days == 0
        developer = await session.get_one(type(party.developer), party.developer.id)
        assert developer.status is Status.SUSPENDED
        kinds = set(await session.scalars(select(CaseEvent.kind)))
        assert {"opened", "escalate", "suspend", "case-suspended"} <= kinds


async def test_clause_4_2_extension_moves_the_deadline_and_close_ends_the_case(
    sessions: Sessions,
) -> None:
    now = utcnow()
    async with sessions.begin() as session:
        party = await parties(session)
        case = await open_case(
            session,
            developer_id=party.developer.id,
            application_id=None,
            clauses=["4.4"],
            summary="over quota",
            actor="ops",
            now=now,
            cure_days=5,
        )
        await extend_deadline(session, case.id, days=3, actor="ops", reason="asked", now=now)
        assert case.cure_deadline == now + timedelta(days=8)
        await close_case(session, case.id, actor="ops", reason="withdrawn", now=now)
        assert case.state == "closed"
        assert case.cure_deadline is None
        with pytest.raises(RegistryError, match="closed cannot be given 'escalate'"):
            await escalate(session, case.id, actor="ops", reason="x", now=now)


BAD = [
    ({"clauses": []}, "clauses"),
    ({"clauses": ["99.9"]}, "clauses: 99.9"),
    ({"summary": "  "}, "summary"),
    ({"summary": "bad\x1b[31m"}, "summary"),
    ({"cure_days": 91}, "cure_days"),
    ({"cure_days": -1}, "cure_days"),
    ({"developer_id": "nobody"}, "developer_id"),
    ({"application_id": "nothing"}, "application_id"),
    ({"finding_ids": ["x" * 33]}, "finding_ids"),
]


@pytest.mark.parametrize(("change", "field"), BAD, ids=[b[1] for b in BAD])
async def test_clause_4_2_bad_input_is_refused_naming_the_field_and_changes_nothing(
    sessions: Sessions, change: dict[str, object], field: str
) -> None:
    async with sessions.begin() as session:
        party = await parties(session)
    given: dict[str, object] = {
        "developer_id": party.developer.id,
        "application_id": party.application.id,
        "clauses": ["3.3 d"],
        "summary": "something",
        "actor": "ops",
        "now": utcnow(),
    } | change
    with pytest.raises(RegistryError, match=field):
        async with sessions.begin() as session:
            await open_case(session, **given)  # type: ignore[arg-type]
    async with sessions.begin() as session:
        assert await _count(session, Case) == 0
        assert await _count(session, CaseEvent) == 0
