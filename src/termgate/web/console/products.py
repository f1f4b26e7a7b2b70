"""Products and their plans (clause 4.4): list them, create a product, change it, add a plan.

Every change goes through the catalogue (`upsert_product`, `upsert_plan`), as in the admin API
and `termgate apply`: audited with the administrator, in force on every gateway node within a
second. A refused form is shown again with the message beside it and what was typed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.models import Environment, Product
from termgate.db.programme import Administrator
from termgate.registry.catalogue import (
    PlanSpec,
    ProductSpec,
    check_product_field,
    check_slug,
    product_spec,
    upsert_plan,
    upsert_product,
)
from termgate.web.console.common import page
from termgate.web.console.plans import LABELS as PLAN_LABELS
from termgate.web.console.plans import form_value
from termgate.web.context import checked_form, field, flash, redirect
from termgate.web.pages import console_page

HOME = "/console/products"
PRODUCT_LABELS = {
    "name": "Name",
    "description": "Description (developers read it)",
    "environment": "Environment",
    "operations": "Operations (operationIds separated by commas; * for all)",
}
# A product's environment stays what it was created as (clause 3.2).
CHANGEABLE = ("name", "description", "operations")
# A new plan starts as these; the limits themselves are edited on the Plans page too.
NEW_PLAN = {
    "slug": "",
    "name": "",
    "price_cents_per_month": "0",
    "rate_limit_per_minute": "60",
    "developer_rate_limit_per_minute": "",
    "quota_per_period": "10000",
    "quota_period": "month",
    "max_end_users": "",
    "max_debtors": "",
    "max_page_size": "100",
    "bandwidth_bytes_per_day": "",
    "max_response_bytes": "",
    "max_in_flight": "",
    "time_zone": "Europe/Amsterdam",
}
NEW_PRODUCT = {
    "slug": "",
    "name": "",
    "description": "",
    "environment": Environment.SANDBOX.value,
    "operations": "*",
}


async def _products(session: AsyncSession) -> list[Product]:
    query = select(Product).options(selectinload(Product.plans)).order_by(Product.slug)
    return list(await session.scalars(query))


async def show_products(
    request: Request, session: AsyncSession, admin: Administrator, error: str = ""
) -> Response:
    posted: dict[str, str] = {}  # a refused form's values, shown again in that form
    posted_to = request.url.path if request.method == "POST" else ""
    if posted_to:
        form = await request.form()
        posted = {name: str(value) for name, value in form.items() if name != "csrf_token"}
    return await page(
        request, session, admin, "products.html", "products",
        products=await _products(session), environments=[e.value for e in Environment],
        product_labels=PRODUCT_LABELS, plan_labels=PLAN_LABELS, new_plan=NEW_PLAN,
        new_product=NEW_PRODUCT, posted=posted, posted_to=posted_to, error=error,
    )  # fmt: skip


def _product_field(name: str, text: str) -> Any:
    value: Any = text.replace("\r\n", "\n")  # a browser's textarea sends CRLF
    if name == "operations":
        value = [part.strip() for part in text.split(",") if part.strip()]
    try:
        return check_product_field(name, value)
    except RegistryError as error:
        raise RegistryError(f"{PRODUCT_LABELS[name]}: {error}") from None


def _slug(what: str, text: str) -> str:
    try:
        return check_slug(text)
    except RegistryError as error:
        raise RegistryError(f"{what} slug: {error}") from None


async def create(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    form = await checked_form(request)
    slug = _slug("Product", field(form, "slug"))
    values = {name: _product_field(name, field(form, name)) for name in PRODUCT_LABELS}
    if await session.scalar(select(Product.id).where(Product.slug == slug)):
        raise RegistryError(f"a product {slug!r} already exists; change it below")
    await upsert_product(session, ProductSpec(slug=slug, **values), admin.email)
    flash(request, f"Product {values['name']} ({slug}) is created; add its first plan below.")
    return redirect(f"{HOME}#product-{slug}")


async def _product(session: AsyncSession, request: Request) -> Product:
    slug = request.path_params["slug"]
    query = select(Product).where(Product.slug == slug).options(selectinload(Product.plans))
    product = await session.scalar(query)
    if product is None:
        raise NotFoundError(f"no product {slug[:64]!r}")
    return product


async def change(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    form = await checked_form(request)
    product = await _product(session, request)
    values = {name: _product_field(name, field(form, name)) for name in CHANGEABLE}
    spec = replace(product_spec(product), plans=(), **values)
    lines = await upsert_product(session, spec, admin.email)
    done = "saved; in force within a second" if lines else "unchanged"
    flash(request, f"Product {product.slug}: {done}.")
    return redirect(f"{HOME}#product-{product.slug}")


async def add_plan(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    form = await checked_form(request)
    product = await _product(session, request)
    slug = _slug("Plan", field(form, "slug"))
    values = {name: form_value(name, field(form, name)) for name in PLAN_LABELS}
    if any(plan.slug == slug for plan in product.plans):
        raise RegistryError(f"{product.slug} already has a plan {slug!r}; change it on Plans")
    await upsert_plan(session, product.slug, PlanSpec(slug=slug, **values), admin.email)
    flash(request, f"Plan {product.slug}/{slug} is added; developers can subscribe to it.")
    return redirect(f"{HOME}#product-{product.slug}")


routes = [
    Route("/products", console_page(show_products)),
    Route("/products", console_page(create, show_products), methods=["POST"]),
    Route("/products/{slug}", console_page(change, show_products), methods=["POST"]),
    Route("/products/{slug}/plans", console_page(add_plan, show_products), methods=["POST"]),
]
