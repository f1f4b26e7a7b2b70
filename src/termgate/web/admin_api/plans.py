"""Plans in the admin API: their limits (clauses 3.3 e-h, 4.4), changed on every node within a
second. A limit set to null means no limit; a value that cannot be a limit is a 400 naming it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from termgate.core.errors import RegistryError
from termgate.db.models import Plan
from termgate.registry.plans import change_limits, check_limit, find_plan_ref, list_plans
from termgate.web.admin_api.framework import Call
from termgate.web.admin_api.models import Body, Out
from termgate.web.admin_api.problems import InvalidRequestError

Limit = Annotated[int | None, Field(ge=1, le=10**15)]


class PlanOut(Out):
    id: str
    product: str
    slug: str
    name: str
    environment: str
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


class PlanListing(Out):
    data: list[PlanOut]


class PlanChange(Body):
    """The limits to change; leave out what stays, null for no limit."""

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


def plan_out(plan: Plan) -> PlanOut:
    return PlanOut(
        id=plan.id,
        product=plan.product.slug,
        slug=plan.slug,
        name=plan.name,
        environment=plan.product.environment.value,
        rate_limit_per_minute=plan.rate_limit_per_minute,
        developer_rate_limit_per_minute=plan.developer_rate_limit_per_minute,
        quota_per_period=plan.quota_per_period,
        quota_period=plan.quota_period,
        max_end_users=plan.max_end_users,
        max_debtors=plan.max_debtors,
        max_page_size=plan.max_page_size,
        bandwidth_bytes_per_day=plan.bandwidth_bytes_per_day,
        max_response_bytes=plan.max_response_bytes,
        max_in_flight=plan.max_in_flight,
        time_zone=plan.time_zone,
        price_cents_per_month=plan.price_cents_per_month,
    )


async def list_plans_op(call: Call) -> BaseModel:
    return PlanListing(data=[plan_out(plan) for plan in await list_plans(call.session)])


async def change_plan(call: Call) -> BaseModel:
    body = call.payload(PlanChange)
    changes = body.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name in ("quota_period", "time_zone", "max_page_size"):
            raise InvalidRequestError([{"name": name, "reason": "cannot be null"}])
        try:
            check_limit(name, value)
        except RegistryError as error:
            raise InvalidRequestError([{"name": name, "reason": str(error)}]) from None
    if not changes:
        raise InvalidRequestError([{"name": "body", "reason": "name at least one limit"}])
    plan = await find_plan_ref(call.session, call.path["plan_id"])
    return plan_out(await change_limits(call.session, plan, changes, call.actor))
