"""Registry rows for gateway tests, made through the registry's own functions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.models import Environment, new_id
from termgate.registry.applications import create_application
from termgate.registry.developers import create_developer
from termgate.registry.keys import issue_key, subscribe
from termgate.registry.products import PlanTemplate, create_plan, create_product
from termgate.registry.reviews import decide, request_production
from termgate.registry.terms import accept_terms, publish_reference_terms
from termgate.settings import load_settings


@dataclass(frozen=True)
class IssuedKey:
    key: str
    key_id: str
    application_id: str
    developer_id: str


async def issue_test_key(
    sessions: async_sessionmaker[AsyncSession],
    *,
    operations: str = "*",
    max_page_size: int = 100,
    environment: Environment = Environment.SANDBOX,
) -> IssuedKey:
    """A fresh developer, application and product (with its own plan) and a live key; for a
    production product the application is approved through the review first."""
    suffix = new_id()[:8]
    async with sessions.begin() as session:
        developer = await create_developer(
            session, email=f"dev-{suffix}@example.nl", name=f"Developer {suffix}"
        )
        terms = await publish_reference_terms(session, load_settings())
        await accept_terms(session, developer, terms, "127.0.0.1", "tests")
        application = await create_application(session, developer, name=f"App {suffix}")
        if environment is Environment.PRODUCTION:
            request = await request_production(session, application, "", developer.email)
            await decide(session, request.id, approve=True, reason="", actor="tests")
        product = await create_product(
            session,
            slug=f"p-{suffix}",
            name="Test product",
            environment=environment,
            operations=operations,
        )
        plan = await create_plan(
            session, product, PlanTemplate("test", "Test", max_page_size=max_page_size)
        )
        issued = await issue_key(session, await subscribe(session, application, plan))
    return IssuedKey(issued.secret, issued.row.id, application.id, developer.id)
