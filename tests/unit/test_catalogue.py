"""The declarative catalogue (registry.catalogue): create, change, describe, and nothing twice."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.models import AccessChange, Environment, Product
from termgate.db.programme import AuditEntry
from termgate.registry.catalogue import (
    PlanSpec,
    ProductSpec,
    current_catalogue,
    upsert_plan,
    upsert_product,
)
from termgate.registry.plans import change_limits, find_plan_ref

Sessions = async_sessionmaker[AsyncSession]

STANDARD = PlanSpec(
    "standard", "Standard", rate_limit_per_minute=600, quota_per_period=1_000_000,
    price_cents_per_month=4_900,
)  # fmt: skip
PRODUCTION = ProductSpec(
    "production", "Production", "Real data.", Environment.PRODUCTION, ("*",), (STANDARD,)
)


async def _counts(session: AsyncSession) -> tuple[int, int]:
    audits = await session.scalar(select(func.count()).select_from(AuditEntry))
    feed = await session.scalar(select(func.count()).select_from(AccessChange))
    return int(audits or 0), int(feed or 0)


async def test_upsert_creates_then_changes_nothing_and_audits_nothing(db: Sessions) -> None:
    async with db.begin() as session:
        created = await upsert_product(session, PRODUCTION, "cli:ann")
        assert created == ["product production: created", "plan production/standard: created"]
        before = await _counts(session)
        assert before[0] == 2
        assert await upsert_product(session, PRODUCTION, "cli:ann") == []
        assert await _counts(session) == before
        assert await current_catalogue(session) == [PRODUCTION]


async def test_plan_change_reads_unlimited_not_none(db: Sessions) -> None:
    async with db.begin() as session:
        await upsert_product(session, PRODUCTION, "cli:ann")
        changed = replace(STANDARD, rate_limit_per_minute=900, quota_per_period=None)
        lines = await upsert_plan(session, "production", changed, "cli:ann")
        assert lines == [
            "plan production/standard: rate_limit_per_minute 600 → 900",
            "plan production/standard: quota_per_period 1000000 → unlimited",
        ]
        back = replace(changed, max_end_users=5)
        lines = await upsert_plan(session, "production", back, "cli:ann")
        assert lines == ["plan production/standard: max_end_users unlimited → 5"]
        last = await session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        assert last is not None
        assert (last.actor, last.action, last.reason) == (
            "cli:ann",
            "changed-plan",
            "max_end_users unlimited → 5",
        )
        assert "None" not in last.reason


async def test_product_change_is_described_and_fed_to_the_gateway(db: Sessions) -> None:
    async with db.begin() as session:
        await upsert_product(session, PRODUCTION, "cli:ann")
        _, feed = await _counts(session)
        narrower = replace(PRODUCTION, name="Live", operations=("listEmployees", "getEmployee"))
        lines = await upsert_product(session, narrower, "cli:ann")
        assert lines == [
            "product production: name 'Production' → 'Live'",
            "product production: operations * → listEmployees, getEmployee",
        ]
        assert (await _counts(session))[1] == feed + 1
        product = await session.scalar(select(Product))
        assert product is not None
        assert product.operations == "listEmployees,getEmployee"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (replace(PRODUCTION, slug="Prod uction"), "slug must be 1 to 64 lower-case"),
        (replace(PRODUCTION, name=" "), "product production: name must not be empty"),
        (replace(PRODUCTION, name="a\x1b[2J"), "name must not contain control characters"),
        (replace(PRODUCTION, operations=("*", "x")), '"*" already means every operation'),
        (
            replace(PRODUCTION, plans=(replace(STANDARD, rate_limit_per_minute=0),)),
            "plan production/standard: rate_limit_per_minute must be a whole number of at least 1",
        ),
        (
            replace(PRODUCTION, plans=(replace(STANDARD, price_cents_per_month=-1),)),
            "plan production/standard: price_cents_per_month must be 0 to",
        ),
        (
            replace(PRODUCTION, plans=(replace(STANDARD, time_zone="Mars/Base"),)),
            "plan production/standard: time_zone 'Mars/Base' is not a time zone",
        ),
        (replace(PRODUCTION, plans=(STANDARD, STANDARD)), "a plan slug appears twice"),
    ],
)
async def test_invalid_spec_is_refused_and_changes_nothing(
    db: Sessions, spec: ProductSpec, message: str
) -> None:
    async with db.begin() as session:
        with pytest.raises(RegistryError, match=message.replace("*", r"\*")):
            await upsert_product(session, spec, "cli:ann")
        assert await _counts(session) == (0, 0)
        assert await current_catalogue(session) == []


async def test_clause_3_2_product_environment_cannot_change(db: Sessions) -> None:
    """A sandbox product turned production would let unapproved applications at real data."""
    async with db.begin() as session:
        await upsert_product(session, replace(PRODUCTION, environment=Environment.SANDBOX), "a")
        before = await _counts(session)
        with pytest.raises(RegistryError, match="environment cannot change from sandbox to prod"):
            await upsert_product(session, PRODUCTION, "cli:ann")
        assert await _counts(session) == before


async def test_upsert_plan_of_unknown_product_is_refused(db: Sessions) -> None:
    async with db.begin() as session:
        with pytest.raises(NotFoundError, match="no product 'nowhere'"):
            await upsert_plan(session, "nowhere", STANDARD, "cli:ann")


async def test_plan_set_reason_reads_unlimited_not_none(db: Sessions) -> None:
    async with db.begin() as session:
        await upsert_product(session, PRODUCTION, "cli:ann")
        plan = await find_plan_ref(session, "production/standard")
        await change_limits(session, plan, {"max_debtors": 5, "quota_per_period": None}, "cli:ann")
        last = await session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        assert last is not None
        assert last.reason == "max_debtors unlimited → 5; quota_per_period 1000000 → unlimited"
