"""The console's Findings pages (clause 4.1): the detectors' findings, filtered by state,
detector, severity and party; one finding with its evidence, the chart of the party's traffic in
the window and sample request ids; dismissal as a false positive with a required reason."""

from __future__ import annotations

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.db.programme import Administrator
from termgate.monitoring.chart import party_series, svg
from termgate.monitoring.findings import (
    SEVERITIES,
    STATES,
    dismiss_finding,
    evidence_of,
    get_finding,
    list_findings,
)
from termgate.monitoring.runner import DETECTORS
from termgate.web.console.common import page
from termgate.web.context import checked_form, field, flash, redirect, web
from termgate.web.pages import console_page

SHOWN = 500


def _choice(request: Request, name: str, allowed: tuple[str, ...] | list[str]) -> str | None:
    value = request.query_params.get(name, "")
    return value if value in allowed else None


async def findings(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    state = _choice(request, "state", STATES)
    detector = _choice(request, "detector", sorted(DETECTORS))
    severity = _choice(request, "severity", SEVERITIES)
    party = request.query_params.get("party", "").strip()[:64] or None
    rows = await list_findings(
        session, state=state, detector=detector, severity=severity, limit=SHOWN
    )
    if party is not None:
        rows = [f for f in rows if party in (f.developer_id, f.application_id, f.key_id)]
    return await page(
        request,
        session,
        admin,
        "findings.html",
        "findings",
        findings=rows,
        filters={"state": state, "detector": detector, "severity": severity, "party": party},
        states=STATES,
        detectors=sorted(DETECTORS),
        severities=SEVERITIES,
    )


async def show(
    request: Request, session: AsyncSession, admin: Administrator, error: str = ""
) -> Response:
    finding = await get_finding(session, request.path_params["finding_id"])
    evidence = evidence_of(finding)
    samples = evidence.pop("sample_request_ids", [])
    chart = svg(await party_series(session, finding), f"{finding.detector} finding")
    return await page(
        request,
        session,
        admin,
        "finding.html",
        "findings",
        status_code=400 if error else 200,
        finding=finding,
        evidence=evidence,
        samples=samples if isinstance(samples, list) else [],
        chart=Markup(chart),
        error=error,
    )


async def chart(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    finding = await get_finding(session, request.path_params["finding_id"])
    image = svg(await party_series(session, finding), f"{finding.detector} finding")
    return Response(image, media_type="image/svg+xml")


async def dismiss(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    form = await checked_form(request)
    finding_id = request.path_params["finding_id"]
    now = web(request).settings.now()
    await dismiss_finding(
        session, finding_id, reason=field(form, "reason"), actor=admin.email, now=now
    )
    flash(
        request, "The finding is dismissed as a false positive; the reason is in the audit trail."
    )
    return redirect(f"/console/findings/{finding_id}")


async def refused(
    request: Request, session: AsyncSession, admin: Administrator, error: str
) -> Response:
    return await show(request, session, admin, error)


routes = [
    Route("/findings", console_page(findings)),
    Route("/findings/{finding_id}", console_page(show)),
    Route("/findings/{finding_id}/chart.svg", console_page(chart)),
    Route("/findings/{finding_id}/dismiss", console_page(dismiss, refused), methods=["POST"]),
]
