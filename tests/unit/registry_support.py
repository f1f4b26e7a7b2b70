"""Parties made the way users make them: the registry's own functions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.models import AccessChange, Application, Developer, Subscription
from termgate.registry.applications import create_application
from termgate.registry.developers import create_developer
from termgate.registry.keys import IssuedKey, issue_key, subscribe
from termgate.registry.products import ensure_default_products, find_plan
from termgate.registry.terms import accept_terms, publish_reference_terms
from termgate.settings import load_settings


@dataclass
class Parties:
    developer: Developer
    application: Application
    subscription: Subscription
    key: IssuedKey


async def parties(session: AsyncSession, email: str = "ann@example.nl") -> Parties:
    await ensure_default_products(session)
    developer = await create_developer(session, email=email, name="Ann Jansen", actor="tests")
    terms = await publish_reference_terms(session, load_settings())
    await accept_terms(session, developer, terms, "192.0.2.7", "pytest")
    application = await create_application(
        session, developer, name="Ann's payroll app", actor="tests"
    )
    subscription = await subscribe(
        session, application, await find_plan(session, "sandbox"), actor="tests"
    )
    return Parties(
        developer, application, subscription, await issue_key(session, subscription, actor="tests")
    )


async def changes(session: AsyncSession) -> list[tuple[str, str]]:
    rows = await session.scalars(select(AccessChange).order_by(AccessChange.id))
    return [(row.entity, row.entity_id) for row in rows]
