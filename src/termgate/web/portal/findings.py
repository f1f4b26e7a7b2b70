"""The developer's view of findings about their own applications (clause 4.1: monitoring is
visible to the party monitored), with the evidence that concerns them and no other party's."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.db.models import Developer
from termgate.monitoring.findings import developer_view, findings_of_developer
from termgate.web.context import render
from termgate.web.pages import developer_page
from termgate.web.portal.home import portal_context


async def show_findings(request: Request, session: AsyncSession, developer: Developer) -> Response:
    findings = [developer_view(f) for f in await findings_of_developer(session, developer.id)]
    return render(
        request,
        "portal/findings.html",
        here="findings",
        findings=findings,
        **await portal_context(session, developer),
    )


routes = [Route("/findings", developer_page(show_findings))]
