"""Applications: the list, and one application's review history, subscriptions, keys and audit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.core.errors import NotFoundError
from termgate.db.models import Application, Developer
from termgate.db.programme import Administrator
from termgate.registry.applications import USE_CASE_CATEGORIES
from termgate.registry.keys import subscriptions_of
from termgate.registry.reviews import requests_of
from termgate.web.console.common import page
from termgate.web.console.developers import entries_about
from termgate.web.pages import console_page


async def show_applications(
    request: Request, session: AsyncSession, admin: Administrator
) -> Response:
    rows = await session.execute(
        select(Application, Developer)
        .join(Developer, Application.developer_id == Developer.id)
        .order_by(Application.created_at.desc())
    )
    return await page(
        request,
        session,
        admin,
        "applications.html",
        "applications",
        applications=[(application, developer) for application, developer in rows],
        categories=USE_CASE_CATEGORIES,
    )


async def show_application(
    request: Request, session: AsyncSession, admin: Administrator, error: str = ""
) -> Response:
    application = await session.get(Application, request.path_params["application_id"])
    if application is None:
        raise NotFoundError("no such application")
    developer = await session.get_one(Developer, application.developer_id)
    subscriptions = await subscriptions_of(session, application)
    ids = {application.id, *(s.id for s in subscriptions)}
    ids |= {key.id for s in subscriptions for key in s.keys}
    return await page(
        request,
        session,
        admin,
        "application.html",
        "applications",
        app=application,
        developer=developer,
        reviews=await requests_of(session, application),
        subscriptions=subscriptions,
        categories=USE_CASE_CATEGORIES,
        entries=await entries_about(session, ids),
        error=error,
        error_for=request.path_params.get("party_id", ""),
    )


routes = [
    Route("/applications", console_page(show_applications)),
    Route("/applications/{application_id}", console_page(show_application)),
]
