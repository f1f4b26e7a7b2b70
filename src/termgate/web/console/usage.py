"""Usage analytics of the whole API (clause 4.1: the provider monitors use), with its export."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.db.models import Application, Developer
from termgate.db.programme import Administrator
from termgate.governance.analytics import UsageQuery
from termgate.governance.usage_filters import read_usage_filters
from termgate.web.console.common import page
from termgate.web.context import web
from termgate.web.pages import console_page
from termgate.web.usage import usage_context, usage_csv


def _query(request: Request) -> UsageQuery:
    return read_usage_filters(request.query_params, web(request).settings.now())


async def show_usage(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    query = _query(request)
    applications = await session.execute(
        select(Application.id, Application.name, Developer.email)
        .join(Developer, Application.developer_id == Developer.id)
        .order_by(Application.name)
    )
    return await page(
        request,
        session,
        admin,
        "usage.html",
        "usage",
        applications=[(app_id, f"{name} ({email})") for app_id, name, email in applications],
        **await usage_context(session, query, "/console/usage.csv"),
    )


async def export_usage(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    return await usage_csv(session, _query(request), "usage")


routes = [
    Route("/usage", console_page(show_usage)),
    Route("/usage.csv", console_page(export_usage)),
]
