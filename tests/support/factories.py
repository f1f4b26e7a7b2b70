"""Registry rows for gateway tests: a developer, application, plan, subscription and key."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.models import (
    AccessChange,
    Application,
    Developer,
    Plan,
    Product,
    Subscription,
    SubscriptionKey,
    new_id,
)
from termgate.registry.secrets import display_prefix, generate_key, hash_key


@dataclass(frozen=True)
class IssuedKey:
    key: str
    key_id: str
    application_id: str
    developer_id: str


async def issue_test_key(
    sessions: async_sessionmaker[AsyncSession], *, operations: str = "*", max_page_size: int = 100
) -> IssuedKey:
    suffix = new_id()[:8]
    key = generate_key()
    async with sessions.begin() as session:
        developer = Developer(email=f"dev-{suffix}@example.nl", name=f"Developer {suffix}")
        product = Product(slug=f"p-{suffix}", name="Test product", operations=operations)
        session.add_all([developer, product])
        await session.flush()
        application = Application(developer_id=developer.id, name=f"App {suffix}")
        plan = Plan(product_id=product.id, slug="test", name="Test", max_page_size=max_page_size)
        session.add_all([application, plan])
        await session.flush()
        subscription = Subscription(application_id=application.id, plan_id=plan.id)
        session.add(subscription)
        await session.flush()
        row = SubscriptionKey(
            subscription_id=subscription.id, key_hash=hash_key(key), prefix=display_prefix(key)
        )
        session.add(row)
        await session.flush()
        session.add(AccessChange(entity="subscription_key", entity_id=row.id))
    return IssuedKey(key, row.id, application.id, developer.id)
