"""Public and portal pages of the traffic policy: `GET /status` and `GET /maintenance.ics`
(clause 8, for API users' automation), and `/portal/changes`, the announcements that affect the
signed-in developer with which of their applications (clause 4.5 a)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from termgate.db.models import Developer
from termgate.governance.announcements import changes_for
from termgate.governance.feeds import FEED_HORIZON, ical_feed, status_document
from termgate.governance.maintenance_calendar import upcoming
from termgate.web.context import render, unit_of_work, web
from termgate.web.pages import developer_page
from termgate.web.portal.home import portal_context

NO_STORE = {"cache-control": "no-cache"}


async def status(request: Request) -> Response:
    now = web(request).settings.now()
    async with unit_of_work(request) as session:
        found = await upcoming(session, now)
    return JSONResponse(status_document(found, now), headers=NO_STORE)


async def maintenance_feed(request: Request) -> Response:
    now = web(request).settings.now()
    async with unit_of_work(request) as session:
        found = await upcoming(session, now, FEED_HORIZON)
    return Response(
        ical_feed(found, now),
        media_type="text/calendar; charset=utf-8",
        headers={**NO_STORE, "content-disposition": 'inline; filename="maintenance.ics"'},
    )


async def changes(request: Request, session: AsyncSession, developer: Developer) -> Response:
    return render(
        request,
        "governance/changes.html",
        here="changes",
        changes=await changes_for(session, developer.id),
        **await portal_context(session, developer),
    )


def routes() -> list[BaseRoute]:
    return [
        Route("/status", status, methods=["GET"]),
        Route("/maintenance.ics", maintenance_feed, methods=["GET"]),
        Route("/portal/changes", developer_page(changes), methods=["GET"]),
    ]
