"""Products and their plans in the admin API (clause 4.4): list, create and change them.

Every change goes through the catalogue (`upsert_product`, `upsert_plan`), the same code that
`termgate apply` runs: audited with the administrator as the actor, and in force on every gateway
node within a second. A slug that names nothing is a 404, one that is taken a 409.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Response
from pydantic import BeforeValidator, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.models import Environment, Plan, Product
from termgate.registry.catalogue import (
    MAX_DESCRIPTION,
    MAX_OPERATIONS,
    OPERATION_ID,
    SLUG,
    PlanSpec,
    ProductSpec,
    check_operations,
    product_spec,
    upsert_plan,
    upsert_product,
)
from termgate.web.admin_api import models
from termgate.web.admin_api.access import Admin
from termgate.web.admin_api.models import ID_PATTERN, Line, Out, Text
from termgate.web.admin_api.plans import (
    PLAN_CHANGE_EXAMPLES,
    Cents,
    Limit,
    PlanChange,
    PlanFields,
    PlanOut,
    change_plan_with,
    checked_fields,
)
from termgate.web.admin_api.problems import NOT_FOUND_ID, REFUSED, InvalidRequestError, clause
from termgate.web.admin_api.programme import LOCATION

router = APIRouter(tags=["products"])
SLUG_PATTERN = rf"^{SLUG.pattern}$"
Slug = Annotated[str, Field(min_length=1, max_length=64, pattern=SLUG_PATTERN, examples=["gold"])]
SlugPath = Annotated[str, Path(min_length=1, max_length=64, pattern=ID_PATTERN)]
OperationId = Annotated[
    str, Field(min_length=1, max_length=200, pattern=rf"^(\*|{OPERATION_ID.pattern})$")
]
Operations = Annotated[list[OperationId], Field(min_length=1, max_length=MAX_OPERATIONS)]
Described = Annotated[Text, Field(max_length=MAX_DESCRIPTION)]
Env = Annotated[Environment, Field(strict=False)]


def _listed(value: Any) -> Any:
    return [part for part in value.split(",") if part] if isinstance(value, str) else value


class ProductOut(Out):
    id: str
    slug: str
    name: str
    description: str
    environment: str
    operations: Annotated[list[str], BeforeValidator(_listed)]
    plans: list[PlanFields]


class ProductListing(Out):
    data: list[ProductOut]


class PlanDraft(models.Body):
    """A new plan; a limit left out or null is no limit."""

    slug: Slug
    name: Line
    price_cents_per_month: Cents = 0
    rate_limit_per_minute: Limit = None
    developer_rate_limit_per_minute: Limit = None
    quota_per_period: Limit = None
    quota_period: Annotated[str, Field(max_length=16, examples=["month", "rolling:30"])] = "month"
    max_end_users: Limit = None
    max_debtors: Limit = None
    max_page_size: Annotated[int, Field(ge=1, le=100)] = 100
    bandwidth_bytes_per_day: Limit = None
    max_response_bytes: Limit = None
    max_in_flight: Annotated[int | None, Field(ge=1, le=100_000)] = None
    time_zone: Annotated[str, Field(max_length=64)] = "Europe/Amsterdam"


class ProductDraft(models.Body):
    """A new product: its environment decides who may use it (production: approved
    applications only, clause 3.2); `operations` lists the API's operation ids (`*`: all)."""

    slug: Slug
    name: Line
    environment: Env
    description: Described = ""
    operations: Operations = Field(default_factory=lambda: ["*"])
    plans: Annotated[list[PlanDraft], Field(max_length=20)] = Field(default_factory=list)


class ProductChange(models.Body):
    """What to change of a product; leave out what stays. Its environment stays what it was
    created as (clause 3.2: its subscriptions were granted for it); create a new product."""

    name: Line | None = None
    description: Described | None = None
    operations: Operations | None = None


PRODUCT_EXAMPLES = {
    "gold": {
        "summary": "A production product with one paid plan",
        "value": {
            "slug": "gold",
            "name": "Gold",
            "environment": "production",
            "description": "Every operation, higher limits.",
            "plans": [
                {
                    "slug": "monthly",
                    "name": "Gold monthly",
                    "priceCentsPerMonth": 9900,
                    "rateLimitPerMinute": 1200,
                    "quotaPerPeriod": 2000000,
                },
            ],
        },
    }
}
CHANGE_EXAMPLES = {
    "describe": {
        "summary": "A new name and description",
        "value": {"name": "Production", "description": "Your customers' real payroll data."},
    }
}
PLAN_EXAMPLES = {
    "plus": {
        "summary": "A paid plan with a higher rate",
        "value": {
            "slug": "plus",
            "name": "Plus",
            "priceCentsPerMonth": 2900,
            "rateLimitPerMinute": 300,
            "maxInFlight": 8,
        },
    }
}


async def _find(session: AsyncSession, slug: str) -> Product:
    query = (
        select(Product)
        .where(Product.slug == slug)
        .options(selectinload(Product.plans))
        .execution_options(populate_existing=True)
    )
    product = await session.scalar(query)
    if product is None:
        raise NotFoundError(f"no product {slug[:64]!r}")
    return product


async def _out(session: AsyncSession, slug: str) -> ProductOut:
    """The product as stored now (read again: the changes were made through the catalogue)."""
    product = await _find(session, slug)
    out = ProductOut.model_validate(product)
    out.plans.sort(key=lambda plan: plan.slug)
    return out


def _plan_spec(draft: PlanDraft) -> PlanSpec:
    checked_fields(draft.model_dump(exclude={"slug"}))
    return PlanSpec(**draft.model_dump())


def _operations(names: list[str]) -> tuple[str, ...]:
    try:
        return check_operations(names)
    except RegistryError as error:
        raise InvalidRequestError([{"name": "operations", "reason": str(error)}]) from None


@router.get(
    "/products",
    operation_id="listProducts",
    summary="Every product with its plans",
    openapi_extra=clause("4.4"),
)
async def list_products_op(admin: Admin) -> ProductListing:
    query = select(Product).options(selectinload(Product.plans)).order_by(Product.slug)
    products = [ProductOut.model_validate(p) for p in await admin.session.scalars(query)]
    for product in products:
        product.plans.sort(key=lambda plan: plan.slug)
    return ProductListing(data=products)


@router.get(
    "/products/{product_slug}",
    operation_id="getProduct",
    summary="One product with its plans",
    openapi_extra=clause("4.4"),
    responses=NOT_FOUND_ID,
)
async def get_product(admin: Admin, product_slug: SlugPath) -> ProductOut:
    return await _out(admin.session, product_slug)


@router.post(
    "/products",
    operation_id="createProduct",
    summary="Create a product, with its plans",
    status_code=201,
    openapi_extra=clause("4.4"),
    responses={201: {"headers": LOCATION}, **REFUSED},
)
async def create_product_op(
    admin: Admin,
    draft: Annotated[ProductDraft, Body(openapi_examples=PRODUCT_EXAMPLES)],
    response: Response,
) -> ProductOut:
    plans = tuple(_plan_spec(plan) for plan in draft.plans)
    if len({plan.slug for plan in plans}) != len(plans):
        raise RegistryError("two of the plans have the same slug")
    if await admin.session.scalar(select(Product.id).where(Product.slug == draft.slug)):
        raise RegistryError(f"a product {draft.slug!r} already exists; change it with PATCH")
    spec = ProductSpec(
        slug=draft.slug,
        name=draft.name,
        description=draft.description,
        environment=draft.environment,
        operations=_operations(draft.operations),
        plans=plans,
    )
    await upsert_product(admin.session, spec, admin.actor)
    response.headers["location"] = f"/admin/api/products/{draft.slug}"
    return await _out(admin.session, draft.slug)


@router.patch(
    "/products/{product_slug}",
    operation_id="changeProduct",
    summary="Change a product's name, description or operations",
    openapi_extra=clause("4.4"),
    responses=REFUSED,
)
async def change_product(
    admin: Admin,
    product_slug: SlugPath,
    body: Annotated[ProductChange, Body(openapi_examples=CHANGE_EXAMPLES)],
) -> ProductOut:
    changes = body.model_dump(exclude_unset=True)
    nulls = [{"name": name, "reason": "cannot be null"} for name, v in changes.items() if v is None]
    if nulls or not changes:
        raise InvalidRequestError(nulls or [{"name": "body", "reason": "name a member to change"}])
    if "operations" in changes:
        changes["operations"] = _operations(changes["operations"])
    product = await _find(admin.session, product_slug)
    spec = replace(product_spec(product), plans=(), **changes)
    await upsert_product(admin.session, spec, admin.actor)
    return await _out(admin.session, product_slug)


@router.post(
    "/products/{product_slug}/plans",
    operation_id="createPlan",
    summary="Add a plan to a product",
    status_code=201,
    openapi_extra=clause("4.4"),
    responses={201: {"headers": LOCATION}, **REFUSED},
)
async def create_plan_op(
    admin: Admin,
    product_slug: SlugPath,
    draft: Annotated[PlanDraft, Body(openapi_examples=PLAN_EXAMPLES)],
    response: Response,
) -> PlanOut:
    spec = _plan_spec(draft)
    product = await _find(admin.session, product_slug)
    if any(plan.slug == spec.slug for plan in product.plans):
        taken = f"{product.slug} already has a plan {spec.slug!r}; change it with PATCH"
        raise RegistryError(taken)
    await upsert_plan(admin.session, product.slug, spec, admin.actor)
    response.headers["location"] = f"/admin/api/products/{product.slug}/plans/{spec.slug}"
    return PlanOut.model_validate(await _plan(admin.session, product.slug, spec.slug))


async def _plan(session: AsyncSession, product_slug: str, plan_slug: str) -> Plan:
    plan = await session.scalar(
        select(Plan)
        .join(Product, Plan.product_id == Product.id)
        .where(Product.slug == product_slug, Plan.slug == plan_slug)
        .options(selectinload(Plan.product))
    )
    if plan is None:
        raise NotFoundError(f"no plan {plan_slug[:64]!r} of product {product_slug[:64]!r}")
    return plan


@router.get(
    "/products/{product_slug}/plans/{plan_slug}",
    operation_id="getPlan",
    summary="One plan of a product, with its limits and price",
    openapi_extra=clause("4.4"),
    responses=NOT_FOUND_ID,
)
async def get_plan(admin: Admin, product_slug: SlugPath, plan_slug: SlugPath) -> PlanOut:
    return PlanOut.model_validate(await _plan(admin.session, product_slug, plan_slug))


@router.patch(
    "/products/{product_slug}/plans/{plan_slug}",
    operation_id="changePlan",
    summary="Change a plan's limits, price or name; in force on every node within a second",
    openapi_extra=clause("4.4"),
    responses=REFUSED,
)
async def change_plan_op(
    admin: Admin,
    product_slug: SlugPath,
    plan_slug: SlugPath,
    body: Annotated[PlanChange, Body(openapi_examples=PLAN_CHANGE_EXAMPLES)],
) -> PlanOut:
    changes = checked_fields(body.model_dump(exclude_unset=True))
    plan = await _plan(admin.session, product_slug, plan_slug)
    return PlanOut.model_validate(await change_plan_with(admin.session, plan, changes, admin.actor))
