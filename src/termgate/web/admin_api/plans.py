"""Plans in the admin API: their limits (clauses 3.3 e-h, 4.4) and prices, changed on every node
within a second. A limit set to null means no limit; a value that cannot be a limit is a 400 naming
it. A change goes through the catalogue (`upsert_plan`): audited with the administrator, and a
change to what the plan already is changes and audits nothing."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.errors import RegistryError
from termgate.db.models import Plan
from termgate.registry.catalogue import MAX_PRICE_CENTS, check_plan_field, plan_spec, upsert_plan
from termgate.registry.plans import find_plan_ref, list_plans
from termgate.web.admin_api import models
from termgate.web.admin_api.access import Admin
from termgate.web.admin_api.models import Id, Line, Out, related
from termgate.web.admin_api.problems import REFUSED, InvalidRequestError, clause

router = APIRouter(tags=["plans"])
Limit = Annotated[int | None, Field(ge=1, le=10**15)]
Cents = Annotated[int, Field(ge=0, le=MAX_PRICE_CENTS, description="the monthly price in cents")]
NOT_NULL = ("quota_period", "time_zone", "max_page_size", "name", "price_cents_per_month")


class PlanFields(Out):
    id: str
    slug: str
    name: str
    rate_limit_per_minute: int | None
    developer_rate_limit_per_minute: int | None
    quota_per_period: int | None
    quota_period: str
    max_end_users: int | None
    max_debtors: int | None
    max_page_size: int
    bandwidth_bytes_per_day: int | None
    max_response_bytes: int | None
    max_in_flight: int | None
    time_zone: str
    price_cents_per_month: int


class PlanOut(PlanFields):
    product: str = related("product", "slug")
    environment: str = related("product", "environment")


class PlanListing(Out):
    data: list[PlanOut]


class PlanChange(models.Body):
    """The limits, price or name to change; leave out what stays, null for no limit."""

    name: Line | None = None
    price_cents_per_month: Cents | None = None
    rate_limit_per_minute: Limit = None
    developer_rate_limit_per_minute: Limit = None
    quota_per_period: Limit = None
    quota_period: Annotated[str | None, Field(max_length=16, examples=["month", "rolling:30"])] = (
        None
    )
    max_end_users: Limit = None
    max_debtors: Limit = None
    max_page_size: Annotated[int | None, Field(ge=1, le=100)] = None
    bandwidth_bytes_per_day: Limit = None
    max_response_bytes: Limit = None
    max_in_flight: Annotated[int | None, Field(ge=1, le=100_000)] = None
    time_zone: Annotated[str | None, Field(max_length=64)] = None


PLAN_CHANGE_EXAMPLES = {
    "raise": {
        "summary": "A higher rate, no daily bandwidth cap, at most 16 calls in flight",
        "value": {"rateLimitPerMinute": 1200, "bandwidthBytesPerDay": None, "maxInFlight": 16},
    },
    "price": {"summary": "A new monthly price", "value": {"priceCentsPerMonth": 5900}},
}


@router.get(
    "/plans",
    operation_id="listPlans",
    summary="Every plan with its limits",
    openapi_extra=clause("4.4"),
)
async def list_plans_op(admin: Admin) -> PlanListing:
    return PlanListing(data=await list_plans(admin.session))


def checked_fields(changes: dict[str, Any]) -> dict[str, Any]:
    """The plan's fields as stored, or a 400 naming the first that cannot be one."""
    if not changes:
        raise InvalidRequestError([{"name": "body", "reason": "name at least one limit or price"}])
    checked = {}
    for name, value in changes.items():
        if value is None and name in NOT_NULL:
            raise InvalidRequestError([{"name": name, "reason": "cannot be null"}])
        try:
            checked[name] = check_plan_field(name, value)
        except RegistryError as error:
            raise InvalidRequestError([{"name": name, "reason": f"{name} {error}"}]) from None
    return checked


async def change_plan_with(
    session: AsyncSession, plan: Plan, changes: dict[str, Any], actor: str
) -> Plan:
    """The plan with the (checked) changes made and audited."""
    wanted = replace(plan_spec(plan), **changes)
    await upsert_plan(session, plan.product.slug, wanted, actor)
    return plan


@router.patch(
    "/plans/{plan_id}",
    operation_id="changePlanLimits",
    summary="Change a plan's limits or price; in force on every gateway node within a second",
    openapi_extra=clause("4.4"),
    responses=REFUSED,
)
async def change_plan(
    admin: Admin,
    plan_id: Id,
    body: Annotated[PlanChange, Body(openapi_examples=PLAN_CHANGE_EXAMPLES)],
) -> PlanOut:
    changes = checked_fields(body.model_dump(exclude_unset=True))
    plan = await find_plan_ref(admin.session, plan_id)
    return PlanOut.model_validate(await change_plan_with(admin.session, plan, changes, admin.actor))
