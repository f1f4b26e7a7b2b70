"""`termgate plan list|set`: the limits of each plan (clauses 3.3 e-h, 4.4)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.cli.common import cli_actor, console, fail, in_session
from termgate.db.models import Plan
from termgate.registry.plans import change_limits, find_plan_ref, list_plans
from termgate.strict import whole_number

plans = typer.Typer(help="Plans and their limits.", no_args_is_help=True)
Limit = Annotated[
    str | None, typer.Option(help="a whole number, or 'none' for no limit", show_default=False)
]


def _number(name: str, text: str) -> int | None:
    if text.lower() in ("none", "unlimited"):
        return None
    number = whole_number(text)
    if number is None:
        fail(f"--{name.replace('_', '-')} takes a whole number or 'none', not {text!r}")
    return number


def _shown(value: object) -> str:
    return "no limit" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


@plans.command("list")
def plan_list() -> None:
    """Every plan with its limits."""
    table = Table("plan", "rate/min", "developer/min", "quota", "end users", "debtors",
                  "page", "bytes/day", "response bytes", "in flight", "time zone")  # fmt: skip
    for plan in in_session(list_plans):
        table.add_row(
            f"{plan.product.slug}/{plan.slug}",
            _shown(plan.rate_limit_per_minute),
            _shown(plan.developer_rate_limit_per_minute or plan.rate_limit_per_minute),
            f"{_shown(plan.quota_per_period)} per {plan.quota_period}",
            _shown(plan.max_end_users),
            _shown(plan.max_debtors),
            str(plan.max_page_size),
            _shown(plan.bandwidth_bytes_per_day),
            _shown(plan.max_response_bytes),
            _shown(plan.max_in_flight),
            plan.time_zone,
        )
    console.print(table)


@plans.command("set")
def plan_set(
    plan: Annotated[str, typer.Argument(help="product/plan (e.g. production/standard) or id")],
    rate: Limit = None,
    developer_rate: Limit = None,
    quota: Limit = None,
    quota_period: Annotated[str | None, typer.Option(help="month or rolling:<days>")] = None,
    end_users: Limit = None,
    debtors: Limit = None,
    page_size: Annotated[int | None, typer.Option(help="largest pageSize, 1-100")] = None,
    bandwidth: Limit = None,
    response_bytes: Limit = None,
    in_flight: Limit = None,
    time_zone: Annotated[str | None, typer.Option(help="e.g. Europe/Amsterdam")] = None,
) -> None:
    """Change limits; every gateway node applies them within a second."""
    numbers = {
        "rate_limit_per_minute": rate,
        "developer_rate_limit_per_minute": developer_rate,
        "quota_per_period": quota,
        "max_end_users": end_users,
        "max_debtors": debtors,
        "bandwidth_bytes_per_day": bandwidth,
        "max_response_bytes": response_bytes,
        "max_in_flight": in_flight,
    }
    changes: dict[str, Any] = {
        name: _number(name, text) for name, text in numbers.items() if text is not None
    }
    for name, value in (
        ("quota_period", quota_period),
        ("max_page_size", page_size),
        ("time_zone", time_zone),
    ):
        if value is not None:
            changes[name] = value

    async def work(session: AsyncSession) -> Plan:
        found = await find_plan_ref(session, plan)
        return await change_limits(session, found, changes, cli_actor())

    changed = in_session(work)
    console.print(f"plan {changed.product.slug}/{changed.slug} changed: {', '.join(changes)}")
