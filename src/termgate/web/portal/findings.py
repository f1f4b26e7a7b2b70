"""The developer's view of findings about their own applications (clause 4.1: monitoring is
visible to the party monitored), with the evidence that concerns them and no other party's, and
the least-privilege report (clause 3.3 e): per application, the scopes granted against the scopes
used over 30 and 90 days, and the narrower set to ask for."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.db.models import Developer
from termgate.monitoring.aggregate_scopes import scope_use
from termgate.monitoring.findings import developer_view, findings_of_developer
from termgate.monitoring.least_privilege import IDENTITY_SCOPES, narrower, unused
from termgate.monitoring.window import Window
from termgate.registry.applications import list_applications
from termgate.web.context import render, web
from termgate.web.pages import developer_page
from termgate.web.portal.home import portal_context


async def show_findings(request: Request, session: AsyncSession, developer: Developer) -> Response:
    findings = [developer_view(f) for f in await findings_of_developer(session, developer.id)]
    applications = {a.id: a.name for a in await list_applications(session, developer)}
    now = web(request).settings.now()
    window = Window(now - timedelta(days=90), now)
    report = [
        {
            "application_id": row.party.application_id,
            "name": applications.get(row.party.application_id or "", ""),
            "granted": sorted(row.granted - IDENTITY_SCOPES),
            "used_30": sorted(row.used_30),
            "used_90": sorted(row.used_90),
            "unused": unused(row.granted, row.used_90),
            "narrower": narrower(row.granted, row.used_90),
            "idle_keys": row.idle_keys,
        }
        for row in await scope_use(session, window, only=list(applications))
    ]
    return render(
        request,
        "portal/findings.html",
        here="findings",
        findings=findings,
        report=report,
        **await portal_context(session, developer),
    )


routes = [Route("/findings", developer_page(show_findings))]
