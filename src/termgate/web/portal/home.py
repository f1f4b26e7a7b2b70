"""The portal's front page (the API, or the developer's dashboard), plans and the inbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.db.models import Developer, Product
from termgate.notify.inbox import inbox, mark_read, unread_count
from termgate.registry.applications import USE_CASE_CATEGORIES, list_applications
from termgate.registry.terms import current_terms, has_accepted_current
from termgate.web.context import checked_form, redirect, render, web
from termgate.web.pages import developer_page, public_page


async def portal_context(session: AsyncSession, developer: Developer | None) -> dict[str, Any]:
    """What the portal's navigation shows on every page."""
    unread = await unread_count(session, developer) if developer else 0
    return {"area": "portal", "developer": developer, "unread": unread}


async def front(request: Request, session: AsyncSession, developer: Developer | None) -> Response:
    terms = await current_terms(session)
    context = await portal_context(session, developer)
    if developer is None:
        scopes = web(request).scopes
        return render(
            request, "portal/landing.html", here="home", terms=terms, scopes=scopes, **context
        )
    return render(
        request,
        "portal/dashboard.html",
        here="home",
        terms=terms,
        accepted=await has_accepted_current(session, developer),
        applications=await list_applications(session, developer),
        categories=USE_CASE_CATEGORIES,
        **context,
    )


async def plans(request: Request, session: AsyncSession, developer: Developer | None) -> Response:
    products = await session.scalars(
        select(Product).options(selectinload(Product.plans)).order_by(Product.environment)
    )
    return render(
        request,
        "portal/plans.html",
        here="plans",
        products=list(products),
        **await portal_context(session, developer),
    )


async def show_inbox(
    request: Request, session: AsyncSession, developer: Developer, error: str = ""
) -> Response:
    messages = await inbox(session, developer)
    context = await portal_context(session, developer)
    return render(
        request, "portal/inbox.html", here="inbox", messages=messages, error=error, **context
    )


async def read_message(request: Request, session: AsyncSession, developer: Developer) -> Response:
    await checked_form(request)
    message = await mark_read(session, developer, request.path_params["message_id"])
    if message is not None and request.headers.get("hx-request") == "true":
        return render(request, "portal/_message.html", message=message)  # swapped in place
    return redirect("/portal/inbox")


front_page = public_page(front)
routes = [
    Route("/", front_page),
    Route("/plans", public_page(plans)),
    Route("/inbox", developer_page(show_inbox)),
    Route("/inbox/{message_id}/read", developer_page(read_message, show_inbox), methods=["POST"]),
]
