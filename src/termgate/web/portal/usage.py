"""A developer's own usage (clause 4.1), per application of theirs, with its export.

The query is always narrowed to the signed-in developer; an application id that is not theirs
is a 404, the same page as an id that does not exist, so nothing tells whose it is.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.db.models import Developer
from termgate.governance.analytics import UsageQuery
from termgate.governance.usage_filters import read_usage_filters
from termgate.registry.applications import list_applications
from termgate.web.context import render, web
from termgate.web.pages import developer_page
from termgate.web.portal.applications import own_application
from termgate.web.portal.home import portal_context
from termgate.web.usage import usage_context, usage_csv


async def _query(request: Request, session: AsyncSession, developer: Developer) -> UsageQuery:
    query = read_usage_filters(request.query_params, web(request).settings.now(), developer.id)
    if query.application_id is not None:
        await own_application(session, developer, query.application_id)  # else 404
    return query


async def show_usage(request: Request, session: AsyncSession, developer: Developer) -> Response:
    query = await _query(request, session, developer)
    applications = await list_applications(session, developer)
    return render(
        request,
        "portal/usage.html",
        here="usage",
        applications=[(application.id, application.name) for application in applications],
        **await usage_context(session, query, "/portal/usage.csv"),
        **await portal_context(session, developer),
    )


async def export_usage(request: Request, session: AsyncSession, developer: Developer) -> Response:
    return await usage_csv(session, await _query(request, session, developer), "my-usage")


routes = [
    Route("/usage", developer_page(show_usage)),
    Route("/usage.csv", developer_page(export_usage)),
]
