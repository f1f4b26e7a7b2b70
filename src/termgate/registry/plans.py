"""Changing a plan's limits (clauses 3.3 e-h, 4.4): validated, audited, and in force on every
gateway node within a second (the change feed moves in the same transaction)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from termgate.core.audit import record
from termgate.core.changes import record_access_change
from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.models import Plan, Product
from termgate.strict import time_zone, whole_number

# The limits an administrator may change; None means "no limit" where the column allows it.
OPTIONAL_LIMITS = (
    "rate_limit_per_minute",
    "developer_rate_limit_per_minute",
    "quota_per_period",
    "max_end_users",
    "max_debtors",
    "bandwidth_bytes_per_day",
    "max_response_bytes",
    "max_in_flight",
)
LIMITS = (*OPTIONAL_LIMITS, "max_page_size", "quota_period", "time_zone")
LARGEST = 10**15
MOST_IN_FLIGHT = 100_000  # a cap on concurrent requests beyond this means none


def _whole(name: str, value: Any, least: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= LARGEST:
        raise RegistryError(f"{name} must be a whole number of at least {least}")
    return value


def check_limit(name: str, value: Any) -> Any:
    """The value as stored, or a refusal naming the limit."""
    if name == "max_in_flight" and value is not None and _whole(name, value) > MOST_IN_FLIGHT:
        raise RegistryError(f"max_in_flight may be at most {MOST_IN_FLIGHT}; empty for no cap")
    if name in OPTIONAL_LIMITS:
        return None if value is None else _whole(name, value)
    if name == "max_page_size":
        if _whole(name, value) > 100:
            raise RegistryError("max_page_size may be at most 100, the API's own maximum")
        return value
    if name == "quota_period":
        period = str(value)
        if period == "month":
            return period
        days = whole_number(period.removeprefix("rolling:"))
        if not period.startswith("rolling:") or days is None:
            raise RegistryError("quota_period must be 'month' or 'rolling:<days>'")
        if not 1 <= days <= 366:
            raise RegistryError("a rolling quota period lasts 1 to 366 days")
        return f"rolling:{days}"
    if name == "time_zone":
        if time_zone(str(value)) is None:
            raise RegistryError(f"{str(value)[:64]!r} is not a time zone (e.g. Europe/Amsterdam)")
        return str(value)
    raise RegistryError(f"{name!r} is not a limit of a plan; choose from {', '.join(LIMITS)}")


def readable(value: Any) -> str:
    """A limit as a person reads it in an audit reason: "unlimited", never "None"."""
    return "unlimited" if value is None else str(value)


async def list_plans(session: AsyncSession) -> list[Plan]:
    query = (
        select(Plan)
        .join(Product, Plan.product_id == Product.id)
        .options(selectinload(Plan.product))
        .order_by(Product.environment, Product.slug, Plan.slug)
    )
    return list(await session.scalars(query))


async def find_plan_ref(session: AsyncSession, reference: str) -> Plan:
    """By id, or as `product/plan` (e.g. `production/standard`)."""
    product, _, slug = reference.partition("/")
    query = select(Plan).options(selectinload(Plan.product))
    if slug:
        query = query.join(Product).where(Product.slug == product, Plan.slug == slug)
    else:
        query = query.where(Plan.id == reference)
    plan = await session.scalar(query)
    if plan is None:
        raise NotFoundError(f"no plan {reference!r} (give its id or product/plan)")
    return plan


async def change_limits(
    session: AsyncSession, plan: Plan, changes: dict[str, Any], actor: str
) -> Plan:
    """Applies every change or none; the audit entry lists what changed from what."""
    checked = {name: check_limit(name, value) for name, value in changes.items()}
    if not checked:
        raise RegistryError("name at least one limit to change")
    described = [
        f"{name} {readable(getattr(plan, name))} → {readable(value)}"
        for name, value in checked.items()
        if getattr(plan, name) != value
    ]
    for name, value in checked.items():
        setattr(plan, name, value)
    await record(session, actor, "changed-plan", "plan", plan.id, "; ".join(described))
    record_access_change(session, "plan", plan.id)
    return plan
