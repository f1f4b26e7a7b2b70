"""Clauses 1 and 2: keys are personal to one application, shown once, revocable at once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.errors import NotFoundError, RegistryError
from termgate.core.secrets import hash_key
from termgate.db.models import AccessChange, Application, Status, Subscription, SubscriptionKey
from termgate.registry.applications import create_application
from termgate.registry.developers import create_developer
from termgate.registry.keys import issue_key, revoke_key, subscribe
from termgate.registry.products import ensure_default_products, find_plan
from termgate.registry.terms import accept_terms, publish_reference_terms
from termgate.settings import load_settings


async def sandbox_app(
    session: AsyncSession, email: str = "ann@example.nl", *, accept: bool = True
) -> Application:
    await ensure_default_products(session)
    developer = await create_developer(session, email=email, name="Ann Jansen", actor="tests")
    terms = await publish_reference_terms(session, load_settings())
    if accept:
        await accept_terms(session, developer, terms, "192.0.2.7", "pytest")
    return await create_application(session, developer, name="Ann's payroll app", actor="tests")


async def test_clause_1_no_credential_before_the_terms_are_accepted(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        application = await sandbox_app(session, accept=False)
        subscription = await subscribe(
            session, application, await find_plan(session, "sandbox"), actor="tests"
        )
        with pytest.raises(RegistryError, match=r"not accepted .*clause 1"):
            await issue_key(session, subscription, actor="tests")
        assert await session.scalar(select(func.count()).select_from(SubscriptionKey)) == 0


async def head(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.coalesce(func.max(AccessChange.id), 0))) or 0)


async def test_clause_2_key_is_stored_as_a_hash_and_moves_the_change_feed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        before = await head(session)
        application = await sandbox_app(session)
        subscription = await subscribe(
            session, application, await find_plan(session, "sandbox"), actor="tests"
        )
        issued = await issue_key(session, subscription, actor="tests")
    async with sessions() as session:
        row = await session.get(SubscriptionKey, issued.row.id)
        assert row is not None
        assert row.key_hash == hash_key(issued.secret) != issued.secret
        assert issued.secret.startswith(row.prefix)
        assert await head(session) > before


async def test_clause_2_regenerating_primary_leaves_secondary_working(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        application = await sandbox_app(session)
        subscription = await subscribe(
            session, application, await find_plan(session, "sandbox"), actor="tests"
        )
        first = await issue_key(session, subscription, "primary", actor="tests")
        secondary = await issue_key(session, subscription, "secondary", actor="tests")
        second = await issue_key(session, subscription, "primary", actor="tests")
    async with sessions() as session:
        statuses = {row.id: row.status for row in await session.scalars(select(SubscriptionKey))}
    assert statuses[first.row.id] is Status.REVOKED
    assert statuses[second.row.id] is Status.ACTIVE
    assert statuses[secondary.row.id] is Status.ACTIVE


async def test_clause_2_subscribing_twice_reuses_the_subscription(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        application = await sandbox_app(session)
        plan = await find_plan(session, "sandbox")
        assert (await subscribe(session, application, plan, actor="tests")).id == (
            await subscribe(session, application, plan, actor="tests")
        ).id


async def test_clause_3_2_sandbox_application_cannot_subscribe_to_production(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        application = await sandbox_app(session)
        production = await find_plan(session, "production")
        with pytest.raises(RegistryError, match=r"clause 3\.2"):
            await subscribe(session, application, production, actor="tests")
        count = await session.scalar(select(func.count()).select_from(Subscription))
        assert count == 0


async def test_clause_1_revoking_twice_or_an_unknown_key_is_refused(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        application = await sandbox_app(session)
        subscription = await subscribe(
            session, application, await find_plan(session, "sandbox"), actor="tests"
        )
        issued = await issue_key(session, subscription, actor="tests")
        revoked = await revoke_key(session, issued.row.prefix, "left the programme")
        assert revoked.status is Status.REVOKED
        assert revoked.revoked_at is not None
        with pytest.raises(RegistryError, match="already revoked"):
            await revoke_key(session, issued.row.id, "again")
        with pytest.raises(NotFoundError):
            await revoke_key(session, "tg_nothere", "nothing")


async def test_clause_1_developer_e_mail_is_unique_and_well_formed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        await create_developer(session, email="Ann@Example.nl", name="Ann", actor="tests")
        with pytest.raises(RegistryError, match="already exists"):
            await create_developer(session, email="ann@example.nl", name="Ann again", actor="tests")
        with pytest.raises(RegistryError, match="not an e-mail address"):
            await create_developer(session, email="ann at example", name="Ann", actor="tests")
        with pytest.raises(RegistryError, match="must not be empty"):
            await create_developer(session, email="bob@example.nl", name="  ", actor="tests")
