"""Programme services: the audit chain (4.2), suspension (3.1), reviews (3.2), amendments (9)."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.audit import trail, verify_chain
from termgate.core.errors import RegistryError
from termgate.db.models import Environment, Status
from termgate.db.programme import AuditEntry, InboxMessage, OutboxMail
from termgate.registry.applications import create_application
from termgate.registry.developers import create_developer
from termgate.registry.reviews import decide, request_production, review_queue
from termgate.registry.status import change_status
from termgate.registry.terms import publish_reference_terms, publish_terms
from termgate.settings import load_settings

ADMIN = "admin@provider.example"


async def test_clause_3_1_suspension_needs_a_reason_is_audited_and_reversible(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        developer = await create_developer(
            session, email="ann@example.nl", name="Ann", actor="tests"
        )
        with pytest.raises(RegistryError, match="give a reason"):
            await change_status(session, "developer", developer.id, Status.SUSPENDED, " ", ADMIN)
        await change_status(session, "developer", developer.id, Status.SUSPENDED, "Abuse", ADMIN)
        with pytest.raises(RegistryError, match="already suspended"):
            await change_status(session, "developer", developer.id, Status.SUSPENDED, "x", ADMIN)
        await change_status(session, "developer", developer.id, Status.ACTIVE, "Cured", ADMIN)
        with pytest.raises(RegistryError, match="cannot be suspended"):
            await change_status(session, "terms", developer.id, Status.SUSPENDED, "x", ADMIN)
        entries = await trail(session, developer.id)
        assert [(e.action, e.reason, e.actor) for e in entries] == [
            ("reinstated", "Cured", ADMIN),
            ("suspended", "Abuse", ADMIN),
            ("created", "", "tests"),
        ]
        notices = await session.scalar(select(func.count()).select_from(InboxMessage))
        assert notices == 2
        assert await session.scalar(select(func.count()).select_from(OutboxMail)) == 2


async def test_clause_4_2_audit_chain_detects_an_altered_entry(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        developer = await create_developer(
            session, email="ann@example.nl", name="Ann", actor="tests"
        )
        for reason in ("first", "second", "third"):
            status = Status.SUSPENDED if reason != "second" else Status.ACTIVE
            await change_status(session, "developer", developer.id, status, reason, ADMIN)
        assert await verify_chain(session) is None
        second = (await trail(session, developer.id))[1]
        await session.execute(
            update(AuditEntry).where(AuditEntry.id == second.id).values(reason="rewritten")
        )
        session.expire_all()
        assert await verify_chain(session) == second.id


CHAINED = ("at", "actor", "action", "entity", "entity_id", "reason", "previous_hash", "hash")


async def three_audited_changes(sessions: async_sessionmaker[AsyncSession]) -> list[AuditEntry]:
    """Three entries written by three suspensions and reinstatements, in separate transactions,
    as an administrator makes them; oldest first."""
    async with sessions.begin() as session:
        developer = await create_developer(
            session, email="ann@example.nl", name="Ann", actor="tests"
        )
    for status, reason in ((Status.SUSPENDED, "a"), (Status.ACTIVE, "b"), (Status.SUSPENDED, "c")):
        async with sessions.begin() as session:
            await change_status(session, "developer", developer.id, status, reason, ADMIN)
    async with sessions() as session:
        created, *entries = reversed(await trail(session, developer.id))
        assert (created.action, created.actor) == ("created", "tests")
        assert [entry.reason for entry in entries] == ["a", "b", "c"]
        assert await verify_chain(session) is None
    return entries


async def test_clause_4_2_audit_chain_detects_a_deleted_entry(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first, second, third = await three_audited_changes(sessions)
    assert second.previous_hash == first.hash
    assert third.previous_hash == second.hash
    async with sessions.begin() as session:
        await session.execute(delete(AuditEntry).where(AuditEntry.id == second.id))
    async with sessions() as session:
        assert await verify_chain(session) == third.id


async def test_clause_4_2_audit_chain_detects_reordered_entries(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    _, second, third = await three_audited_changes(sessions)
    values = {
        entry.id: {name: getattr(entry, name) for name in CHAINED} for entry in (second, third)
    }
    async with sessions.begin() as session:  # swap the two rows' contents: the order changes
        rows = update(AuditEntry)
        await session.execute(rows.where(AuditEntry.id == second.id).values(hash="-"))
        await session.execute(rows.where(AuditEntry.id == third.id).values(**values[second.id]))
        await session.execute(rows.where(AuditEntry.id == second.id).values(**values[third.id]))
    async with sessions() as session:
        assert await verify_chain(session) == second.id


async def test_clause_3_2_review_is_decided_once_and_rejection_needs_a_reason(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        developer = await create_developer(
            session, email="ann@example.nl", name="Ann", actor="tests"
        )
        application = await create_application(session, developer, name="Sync", actor="tests")
        request = await request_production(session, application, "please", developer.email)
        assert [r.id for r, _ in await review_queue(session)] == [request.id]
        with pytest.raises(RegistryError, match="needs a reason"):
            await decide(session, request.id, approve=False, reason="", actor=ADMIN)
        await decide(session, request.id, approve=True, reason="Fits", actor=ADMIN)
        assert application.environment is Environment.PRODUCTION
        with pytest.raises(RegistryError, match="already approved"):
            await decide(session, request.id, approve=False, reason="no", actor=ADMIN)
        with pytest.raises(RegistryError, match="already has production access"):
            await request_production(session, application, "", developer.email)
        assert await review_queue(session) == []


async def test_clause_9_publishing_notifies_every_developer_and_versions_are_immutable(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    settings = load_settings()
    async with sessions.begin() as session:
        first = await publish_reference_terms(session, settings)
        assert first.reaccept_deadline is None  # nobody accepted anything before the first
        for name in ("ann", "bob", "cem"):
            await create_developer(session, email=f"{name}@example.nl", name=name, actor="tests")
        amended = await publish_terms(
            session,
            settings,
            version="2.0",
            title=first.title,
            body=first.body + "\nMore.",
            change_summary="More.",
            actor=ADMIN,
            reaccept_days=14,
        )
        assert amended.reaccept_deadline is not None
        assert (amended.reaccept_deadline - amended.published_at).days == 14
        inboxes = await session.scalars(select(InboxMessage.subject))
        assert sorted(inboxes) == [f"{first.title} 2.0: please review"] * 3
        with pytest.raises(RegistryError, match="immutable"):
            await publish_terms(
                session,
                settings,
                version="2.0",
                title="x",
                body="y",
                change_summary="",
                actor=ADMIN,
            )
