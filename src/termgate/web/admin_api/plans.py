"""Plans in the admin API: their limits (clauses 3.3 e-h, 4.4), changed on every node within a
second. A limit set to null means no limit; a value that cannot be a limit is a 400 naming it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import Field

from termgate.core.errors import RegistryError
from termgate.registry.plans import change_limits, check_limit, find_plan_ref, list_plans
from termgate.web.admin_api import models
from termgate.web.admin_api.access import Admin
from termgate.web.admin_api.models import Id, Out, related
from termgate.web.admin_api.problems import REFUSED, InvalidRequestError, clause

router = APIRouter(tags=["plans"])
Limit = Annotated[int | None, Field(ge=1, le=10**15)]


class PlanOut(Out):
    id: str
    product: str = related("product", "slug")
    slug: str
    name: str
    environment: str = related("product", "environment")
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


class PlanChange(models.Body):
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


EXAMPLES = {
    "raise": {
        "summary": "A higher rate, no daily bandwidth cap, at most 16 calls in flight",
        "value": {"rateLimitPerMinute": 1200, "bandwidthBytesPerDay": None, "maxInFlight": 16},
    }
}


@router.get(
    "/plans",
    operation_id="listPlans",
    summary="Every plan with its limits",
    openapi_extra=clause("4.4"),
)
async def list_plans_op(admin: Admin) -> PlanListing:
    return PlanListing(data=await list_plans(admin.session))


@router.patch(
    "/plans/{plan_id}",
    operation_id="changePlanLimits",
    summary="Change a plan's limits; in force on every gateway node within a second",
    openapi_extra=clause("4.4"),
    responses=REFUSED,
)
async def change_plan(
    admin: Admin, plan_id: Id, body: Annotated[PlanChange, Body(openapi_examples=EXAMPLES)]
) -> PlanOut:
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
    plan = await find_plan_ref(admin.session, plan_id)
    return PlanOut.model_validate(await change_limits(admin.session, plan, changes, admin.actor))
