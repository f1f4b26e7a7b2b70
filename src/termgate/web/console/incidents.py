"""Incident reports in the console (clause 5.1): the clock from discovery, triage, one-click
containment and the notice to the affected end users."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.db.models import Application, Developer
from termgate.db.programme import Administrator
from termgate.due_process import incidents
from termgate.web.console.common import page
from termgate.web.console.developers import entries_about
from termgate.web.context import checked_form, field, flash, named_field, redirect, web
from termgate.web.pages import console_page


async def show_incidents(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    now = web(request).settings.now()
    rows = [
        (incident, incidents.clock(incident, now))
        for incident in await incidents.list_incidents(session)
    ]
    return await page(request, session, admin, "incidents.html", "incidents", rows=rows)


async def show_incident(
    request: Request, session: AsyncSession, admin: Administrator, error: str = ""
) -> Response:
    incident = await incidents.incident_of(session, request.path_params["incident_id"])
    return await page(
        request,
        session,
        admin,
        "incident.html",
        "incidents",
        incident=incident,
        clock=incidents.clock(incident, web(request).settings.now()),
        application=await session.get_one(Application, incident.application_id),
        developer=await session.get_one(Developer, incident.developer_id),
        affected=incidents.affected_ids(incident),
        entries=await entries_about(session, {incident.id}),
        error=error,
    )


async def triage(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    form = await checked_form(request)
    incident = await incidents.incident_of(session, request.path_params["incident_id"])
    with named_field():
        await incidents.triage(
            session,
            incident,
            field(form, "state"),
            field(form, "reason"),
            admin.email,
            web(request).settings.now(),
        )
    flash(request, f"The incident is {incident.state.value}.")
    return redirect(f"/console/incidents/{incident.id}")


async def contain(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    form = await checked_form(request)
    incident = await incidents.incident_of(session, request.path_params["incident_id"])
    with named_field():
        revoked = await incidents.contain(
            session,
            incident,
            field(form, "scope"),
            field(form, "reason"),
            admin.email,
            web(request).settings.now(),
        )
    flash(
        request,
        f"Contained: {revoked.keys} keys and {revoked.token_families} token families revoked; "
        "every gateway refuses them within a second.",
    )
    return redirect(f"/console/incidents/{incident.id}")


async def notify(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    form = await checked_form(request)
    incident = await incidents.incident_of(session, request.path_params["incident_id"])
    with named_field():
        told = await incidents.notify_affected(
            session, incident, field(form, "text"), admin.email, web(request).settings.now()
        )
    flash(request, f"{told} end users told, on their connected-apps page and by e-mail.")
    return redirect(f"/console/incidents/{incident.id}")


routes = [
    Route("/incidents", console_page(show_incidents)),
    Route("/incidents/{incident_id}", console_page(show_incident)),
    Route("/incidents/{incident_id}/triage", console_page(triage, show_incident), methods=["POST"]),
    Route(
        "/incidents/{incident_id}/contain", console_page(contain, show_incident), methods=["POST"]
    ),
    Route("/incidents/{incident_id}/notify", console_page(notify, show_incident), methods=["POST"]),
]
