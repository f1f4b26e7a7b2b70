"""Plans, their limits and prices (clauses 3.3 e-h, 4.4): change them here and every gateway
node applies them within a second. An empty field means no limit. A change goes through the
catalogue (`upsert_plan`), as in the admin API and `termgate apply`."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.core.errors import RegistryError
from termgate.db.programme import Administrator
from termgate.registry.catalogue import check_plan_field, plan_spec, upsert_plan
from termgate.registry.plans import OPTIONAL_LIMITS, find_plan_ref, list_plans
from termgate.strict import whole_number
from termgate.web.console.common import page
from termgate.web.context import checked_form, field, flash, redirect
from termgate.web.pages import console_page

HOME = "/console/plans"
LABELS = {
    "name": "Name",
    "price_cents_per_month": "Price per month, in cents (0: free)",
    "rate_limit_per_minute": "Requests per minute, per application",
    "developer_rate_limit_per_minute": "Requests per minute, per developer (empty: as per app)",
    "quota_per_period": "Requests per quota period",
    "quota_period": "Quota period (month or rolling:<days>)",
    "max_end_users": "End users served, per application",
    "max_debtors": "Customers (debtors) served, per application",
    "max_page_size": "Largest pageSize",
    "bandwidth_bytes_per_day": "Bytes sent per application per day",
    "max_response_bytes": "Bytes in one response",
    "max_in_flight": "Requests under way at once, per application and gateway node",
    "time_zone": "Time zone of quota months and bandwidth days",
}


async def show_plans(
    request: Request, session: AsyncSession, admin: Administrator, error: str = ""
) -> Response:
    return await page(
        request, session, admin, "plans.html", "plans",
        plans=await list_plans(session), labels=LABELS, optional=OPTIONAL_LIMITS, error=error,
    )  # fmt: skip


def form_value(name: str, text: str) -> Any:
    """A plan field read from its form text and checked; a refusal names the field's label."""
    value: Any = text
    if name in OPTIONAL_LIMITS or name in ("max_page_size", "price_cents_per_month"):
        value = whole_number(text)
        if value is None and (text or name not in OPTIONAL_LIMITS):
            empty = ", or empty for no limit" if name in OPTIONAL_LIMITS else ""
            raise RegistryError(f"{LABELS[name]}: a whole number{empty}")
    try:
        return check_plan_field(name, value)
    except RegistryError as error:
        raise RegistryError(f"{LABELS[name]}: {error}") from None


async def save_plan(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    form = await checked_form(request)
    plan = await find_plan_ref(session, request.path_params["plan_id"])
    changes = {name: form_value(name, field(form, name)) for name in LABELS}
    lines = await upsert_plan(
        session, plan.product.slug, replace(plan_spec(plan), **changes), admin.email
    )
    done = "saved; in force within a second" if lines else "unchanged"
    flash(request, f"{plan.product.name} · {plan.name}: {done}.")
    return redirect(HOME)


routes = [
    Route("/plans", console_page(show_plans)),
    Route("/plans/{plan_id}", console_page(save_plan, show_plans), methods=["POST"]),
]
