"""The declarative catalogue: products and their plans as plain values, applied idempotently.

`upsert_product` brings the database to a `ProductSpec` and says what it changed, one readable
line per difference; nothing changed means no line, no audit entry and no change-feed row, so
applying the same catalogue twice leaves the audit trail as it was. Plans missing from a spec are
kept (developers may hold subscriptions to them): a catalogue adds and changes, it never deletes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from termgate.core.audit import record
from termgate.core.changes import record_access_change
from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.models import Environment, Plan, Product
from termgate.registry.plans import OPTIONAL_LIMITS, check_limit
from termgate.strict import control_character

SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
OPERATION_ID = re.compile(r"[A-Za-z0-9_.:-]{1,200}")
MAX_NAME = 200
MAX_DESCRIPTION = 4_000
MAX_OPERATIONS = 1_000
MAX_PRICE_CENTS = 100_000_000  # a million a month: beyond that it is a typo


@dataclass(frozen=True)
class PlanSpec:
    """A plan's limits and price; None means unlimited (see `registry.plans.check_limit`)."""

    slug: str
    name: str
    rate_limit_per_minute: int | None = None
    developer_rate_limit_per_minute: int | None = None
    quota_per_period: int | None = None
    quota_period: str = "month"
    max_end_users: int | None = None
    max_debtors: int | None = None
    max_page_size: int = 100
    bandwidth_bytes_per_day: int | None = None
    max_response_bytes: int | None = None
    max_in_flight: int | None = None
    price_cents_per_month: int = 0
    time_zone: str = "Europe/Amsterdam"


@dataclass(frozen=True)
class ProductSpec:
    slug: str
    name: str
    description: str = ""
    environment: Environment = Environment.SANDBOX
    operations: tuple[str, ...] = ("*",)  # operationIds of the upstream API; "*": all of them
    plans: tuple[PlanSpec, ...] = ()


# The plan's fields besides its slug, in the order they are shown and written.
PLAN_FIELDS = tuple(field.name for field in fields(PlanSpec) if field.name != "slug")
PRODUCT_FIELDS = ("name", "description", "environment", "operations")


def check_slug(value: Any) -> str:
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        raise RegistryError(
            "must be 1 to 64 lower-case letters, digits, '-' or '_', "
            "starting with a letter or digit"
        )
    return value


def check_text(value: Any, longest: int, *, required: bool, multiline: bool = False) -> str:
    if not isinstance(value, str):
        raise RegistryError("must be text")
    if required and not value.strip():
        raise RegistryError("must not be empty")
    if len(value) > longest:
        raise RegistryError(f"must be at most {longest} characters")
    found = control_character(value, multiline)
    if found is not None:
        raise RegistryError(f"must not contain control characters such as {found}")
    return value


def check_environment(value: Any) -> Environment:
    try:
        return Environment(value)
    except ValueError:
        choices = ", ".join(env.value for env in Environment)
        raise RegistryError(f"must be one of {choices}") from None


def check_operations(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise RegistryError('must be a list of operationIds, or ["*"] for all of them')
    if not 1 <= len(value) <= MAX_OPERATIONS:
        raise RegistryError(f"must list 1 to {MAX_OPERATIONS} operationIds")
    for item in value:
        if not isinstance(item, str) or not (item == "*" or OPERATION_ID.fullmatch(item)):
            shown = repr(item)[:40]
            raise RegistryError(f"{shown} is not an operationId (letters, digits, _ . : -)")
    if "*" in value and len(value) > 1:
        raise RegistryError('"*" already means every operation; list it alone')
    return tuple(dict.fromkeys(value))


def check_plan_field(name: str, value: Any) -> Any:
    """The value as stored; a RegistryError whose message follows the field's name."""
    if name == "name":
        return check_text(value, MAX_NAME, required=True)
    if name == "price_cents_per_month":
        if isinstance(value, bool) or not isinstance(value, int):
            raise RegistryError("must be a whole number of cents")
        if not 0 <= value <= MAX_PRICE_CENTS:
            raise RegistryError(f"must be 0 to {MAX_PRICE_CENTS} cents")
        return value
    if name not in PLAN_FIELDS:
        raise RegistryError(f"is not a field of a plan; choose from {', '.join(PLAN_FIELDS)}")
    try:
        return check_limit(name, value)
    except RegistryError as error:
        message = str(error).removeprefix(f"{name} ").replace("; empty for no cap", "")
        raise RegistryError(message) from None


def check_product_field(name: str, value: Any) -> Any:
    if name == "name":
        return check_text(value, MAX_NAME, required=True)
    if name == "description":
        return check_text(value, MAX_DESCRIPTION, required=False, multiline=True)
    if name == "environment":
        return check_environment(value)
    if name == "operations":
        return check_operations(value)
    raise RegistryError(f"is not a field of a product; choose from {', '.join(PRODUCT_FIELDS)}")


def _checked_plan(product_slug: str, spec: PlanSpec) -> dict[str, Any]:
    where = f"plan {product_slug}/{spec.slug}"
    try:
        check_slug(spec.slug)
    except RegistryError as error:
        raise RegistryError(f"{where}: slug {error}") from None
    values: dict[str, Any] = {}
    for name in PLAN_FIELDS:
        try:
            values[name] = check_plan_field(name, getattr(spec, name))
        except RegistryError as error:
            raise RegistryError(f"{where}: {name} {error}") from None
    return values


def _checked_product(spec: ProductSpec) -> dict[str, Any]:
    try:
        check_slug(spec.slug)
    except RegistryError as error:
        raise RegistryError(f"product {str(spec.slug)[:64]!r}: slug {error}") from None
    values: dict[str, Any] = {}
    for name in PRODUCT_FIELDS:
        try:
            values[name] = check_product_field(name, getattr(spec, name))
        except RegistryError as error:
            raise RegistryError(f"product {spec.slug}: {name} {error}") from None
    slugs = [plan.slug for plan in spec.plans]
    if len(set(slugs)) != len(slugs):
        raise RegistryError(f"product {spec.slug}: a plan slug appears twice")
    return values


def shown(name: str, value: Any) -> str:
    """A value as a person reads it in a change line or an audit reason."""
    if value is None:
        return "unlimited" if name in OPTIONAL_LIMITS else "none"
    if isinstance(value, Environment):
        return value.value
    if isinstance(value, tuple):
        return ", ".join(value)
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else f"{value[:57]!r}…"
    return str(value)


def describe_change(name: str, before: Any, after: Any) -> str:
    if name == "description":
        return "description changed"
    return f"{name} {shown(name, before)} → {shown(name, after)}"


def _operations_of(product: Product) -> tuple[str, ...]:
    names = tuple(part.strip() for part in product.operations.split(",") if part.strip())
    return ("*",) if not names or "*" in names else names


def _product_values(product: Product) -> dict[str, Any]:
    return {
        "name": product.name,
        "description": product.description,
        "environment": product.environment,
        "operations": _operations_of(product),
    }


async def _product(session: AsyncSession, slug: str) -> Product | None:
    found: Product | None = await session.scalar(select(Product).where(Product.slug == slug))
    return found


async def upsert_plan(
    session: AsyncSession, product_slug: str, spec: PlanSpec, actor: str
) -> list[str]:
    """Create or change one plan of an existing product; the lines describe what changed."""
    values = _checked_plan(product_slug, spec)
    product = await _product(session, product_slug)
    if product is None:
        raise NotFoundError(f"no product {product_slug!r}")
    return await _upsert_plan(session, product, spec.slug, values, actor)


async def _upsert_plan(
    session: AsyncSession, product: Product, slug: str, values: dict[str, Any], actor: str
) -> list[str]:
    where = f"plan {product.slug}/{slug}"
    plan = await session.scalar(
        select(Plan).where(Plan.product_id == product.id, Plan.slug == slug)
    )
    if plan is None:
        plan = Plan(product_id=product.id, slug=slug, **values)
        session.add(plan)
        await session.flush()
        summary = ", ".join(f"{name} {shown(name, values[name])}" for name in PLAN_FIELDS)
        await record(session, actor, "created-plan", "plan", plan.id, summary)
        record_access_change(session, "plan", plan.id)
        return [f"{where}: created"]
    changes = [
        describe_change(name, getattr(plan, name), value)
        for name, value in values.items()
        if getattr(plan, name) != value
    ]
    if not changes:
        return []
    for name, value in values.items():
        setattr(plan, name, value)
    await session.flush()
    await record(session, actor, "changed-plan", "plan", plan.id, "; ".join(changes))
    record_access_change(session, "plan", plan.id)
    return [f"{where}: {change}" for change in changes]


async def upsert_product(session: AsyncSession, spec: ProductSpec, actor: str) -> list[str]:
    """Create or change the product and its plans; [] when the database already matches."""
    values = _checked_product(spec)
    plans = [(plan.slug, _checked_plan(spec.slug, plan)) for plan in spec.plans]
    stored = {**values, "operations": ",".join(values["operations"])}
    product = await _product(session, spec.slug)
    lines: list[str] = []
    if product is None:
        product = Product(slug=spec.slug, **stored)
        session.add(product)
        await session.flush()
        summary = f"{values['name']!r}, {values['environment'].value}"
        await record(session, actor, "created-product", "product", product.id, summary)
        record_access_change(session, "product", product.id)
        lines.append(f"product {spec.slug}: created")
    else:
        before = _product_values(product)
        if before["environment"] is not values["environment"]:
            raise RegistryError(
                f"product {spec.slug}: environment cannot change from "
                f"{before['environment'].value} to {values['environment'].value}: its "
                "subscriptions were granted for one (clause 3.2); create a new product instead"
            )
        changes = [
            describe_change(name, before[name], values[name])
            for name in PRODUCT_FIELDS
            if before[name] != values[name]
        ]
        if changes:
            for name, value in stored.items():
                setattr(product, name, value)
            await session.flush()
            reason = "; ".join(changes)
            await record(session, actor, "changed-product", "product", product.id, reason)
            record_access_change(session, "product", product.id)
            lines.extend(f"product {spec.slug}: {change}" for change in changes)
    for slug, plan_values in plans:
        lines.extend(await _upsert_plan(session, product, slug, plan_values, actor))
    return lines


def plan_spec(plan: Plan) -> PlanSpec:
    return PlanSpec(slug=plan.slug, **{name: getattr(plan, name) for name in PLAN_FIELDS})


def product_spec(product: Product) -> ProductSpec:
    plans = sorted(product.plans, key=lambda plan: plan.slug)
    return ProductSpec(
        slug=product.slug,
        name=product.name,
        description=product.description,
        environment=product.environment,
        operations=_operations_of(product),
        plans=tuple(plan_spec(plan) for plan in plans),
    )


async def current_catalogue(session: AsyncSession) -> list[ProductSpec]:
    """Every product with its plans, as specs that `upsert_product` would leave unchanged."""
    products = await session.scalars(
        select(Product).options(selectinload(Product.plans)).order_by(Product.slug)
    )
    return [product_spec(product) for product in products]
