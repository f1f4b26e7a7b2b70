"""Plans and their limits (clauses 3.3 e-h, 4.4): change them here and every gateway node
applies them within a second. An empty field means no limit."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.core.errors import RegistryError
from termgate.db.programme import Administrator
from termgate.registry.plans import OPTIONAL_LIMITS, change_limits, find_plan_ref, list_plans
from termgate.strict import whole_number
from termgate.web.console.common import page
from termgate.web.context import checked_form, field, flash, redirect
from termgate.web.pages import console_page

HOME = "/console/plans"
LABELS = {
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


def _value(name: str, text: str) -> Any:
    if name in OPTIONAL_LIMITS:
        if not text:
            return None
        number = whole_number(text)
        if number is None:
            raise RegistryError(f"{LABELS[name]}: a whole number, or empty for no limit")
        return number
    if name == "max_page_size":
        number = whole_number(text)
        if number is None:
            raise RegistryError(f"{LABELS[name]}: a whole number from 1 to 100")
        return number
    return text


async def save_plan(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    form = await checked_form(request)
    plan = await find_plan_ref(session, request.path_params["plan_id"])
    changes = {name: _value(name, field(form, name)) for name in LABELS}
    await change_limits(session, plan, changes, admin.email)
    flash(request, f"{plan.product.name} · {plan.name}: limits saved; in force within a second.")
    return redirect(HOME)


routes = [
    Route("/plans", console_page(show_plans)),
    Route("/plans/{plan_id}", console_page(save_plan, show_plans), methods=["POST"]),
]
