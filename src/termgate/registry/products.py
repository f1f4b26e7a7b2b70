"""Products and their plans: clause 4.4's limits as data (the gateway's limit step enforces them).

A database starts with none: the provider declares them in a catalogue file (`terms/catalogue.toml`
holds a Sandbox product, open to any application on fake data, and a Production product, real data
for approved applications: clause 3.2) and applies it (`registry.catalogue`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.changes import record_access_change
from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.models import Environment, Plan, Product
from termgate.registry.catalogue import upsert_plan, upsert_product
from termgate.registry.catalogue_toml import products_from_file


@dataclass(frozen=True)
class PlanTemplate:
    """A plan's limits; None means unlimited."""

    slug: str
    name: str
    rate_limit_per_minute: int | None = None
    quota_per_period: int | None = None
    max_end_users: int | None = None
    max_debtors: int | None = None
    bandwidth_bytes_per_day: int | None = None
    price_cents_per_month: int = 0
    max_page_size: int = 100
    # Across all of a developer's applications on the plan (clause 3.3 g); None: the same
    # number as per application, so extra applications or keys do not multiply the limit.
    developer_rate_limit_per_minute: int | None = None
    quota_period: str = "month"  # or "rolling:<days>"
    max_response_bytes: int | None = None  # clause 3.3 e
    max_in_flight: int | None = None  # clause 3.3 f, per application and gateway node
    time_zone: str = "Europe/Amsterdam"  # days and months of quotas and bandwidth


async def create_product(
    session: AsyncSession,
    *,
    slug: str,
    name: str,
    environment: Environment,
    description: str = "",
    operations: str = "*",
) -> Product:
    """A product; `operations` lists the API's operation ids it includes ("*": all of them)."""
    if await session.scalar(select(Product.id).where(Product.slug == slug)):
        raise RegistryError(f"a product {slug!r} already exists")
    product = Product(
        slug=slug,
        name=name,
        description=description,
        environment=environment,
        operations=operations,
    )
    session.add(product)
    await session.flush()
    return product


async def create_plan(session: AsyncSession, product: Product, template: PlanTemplate) -> Plan:
    plan = Plan(product_id=product.id, **vars(template))
    session.add(plan)
    await session.flush()
    record_access_change(session, "plan", plan.id)
    return plan


async def ensure_default_products(session: AsyncSession, actor: str = "system") -> None:
    """The products and plans of `terms/catalogue.toml` that are missing (the demo and tests
    start from them); existing ones stay as edited. A production install applies its own file
    instead (`termgate init --catalogue`, `termgate apply`)."""
    for spec in products_from_file():
        product = await session.scalar(select(Product).where(Product.slug == spec.slug))
        if product is None:
            await upsert_product(session, spec, actor)
            continue
        for plan in spec.plans:
            found = await session.scalar(
                select(Plan.id).where(Plan.product_id == product.id, Plan.slug == plan.slug)
            )
            if not found:
                await upsert_plan(session, spec.slug, plan, actor)


async def find_plan(session: AsyncSession, product_slug: str, plan_slug: str | None = None) -> Plan:
    """A product's plan by slug; without a plan slug, the product's first plan."""
    query = (
        select(Plan)
        .join(Product, Plan.product_id == Product.id)
        .where(Product.slug == product_slug)
        .order_by(Plan.price_cents_per_month, Plan.slug)
    )
    if plan_slug is not None:
        query = query.where(Plan.slug == plan_slug)
    plan = await session.scalar(query.limit(1))
    if plan is None:
        wanted = f"plan {plan_slug!r} of product" if plan_slug else "a plan of product"
        raise NotFoundError(f"no {wanted} {product_slug!r}")
    return plan


async def list_products(session: AsyncSession) -> list[Product]:
    return list(await session.scalars(select(Product).order_by(Product.environment, Product.slug)))
