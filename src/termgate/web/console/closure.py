"""Terminations and deletion attestations (6.2-6.4), verification requests (4.3) and the case
file of each, in the console."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from termgate.core.errors import NotFoundError
from termgate.db.models import Status
from termgate.db.programme import Administrator
from termgate.due_process import verification
from termgate.due_process.attestations import outstanding
from termgate.due_process.case_file import KINDS, as_html, as_pdf, case_file
from termgate.due_process.termination import (
    PROVIDER_GROUNDS,
    list_terminations,
    provider_ground,
    terminate,
)
from termgate.governance.errors import PolicyInputError
from termgate.registry.applications import list_applications
from termgate.registry.developers import list_developers
from termgate.strict import whole_number
from termgate.web.console.common import page
from termgate.web.console.developers import entries_about
from termgate.web.context import checked_form, field, flash, named_field, redirect, web
from termgate.web.pages import console_page


async def show_terminations(
    request: Request, session: AsyncSession, admin: Administrator, error: str = ""
) -> Response:
    developers = [d for d in await list_developers(session) if d.status is not Status.REVOKED]
    return await page(
        request,
        session,
        admin,
        "terminations.html",
        "terminations",
        terminations=await list_terminations(session),
        outstanding=await outstanding(session),
        developers=developers,
        grounds=[ground.value for ground in PROVIDER_GROUNDS],
        now=web(request).settings.now(),
        error=error,
    )


async def post_termination(
    request: Request, session: AsyncSession, admin: Administrator
) -> Response:
    form = await checked_form(request)
    developer_id = field(form, "developer_id")
    with named_field():
        try:
            termination = await terminate(
                session,
                developer_id,
                ground=provider_ground(field(form, "ground")),
                reason=field(form, "reason"),
                actor=admin.email,
                settings=web(request).settings,
            )
        except NotFoundError:  # a form field, not the page's own resource: a 400, as elsewhere
            raise PolicyInputError("developer_id", "choose a developer of the list") from None
    flash(
        request,
        f"Terminated: {termination.keys_revoked} keys, {termination.token_families_revoked} token "
        f"families and {termination.consents_withdrawn} consents revoked; "
        f"{termination.end_users_told} end users told.",
    )
    return redirect("/console/terminations")


async def show_verifications(
    request: Request, session: AsyncSession, admin: Administrator, error: str = ""
) -> Response:
    return await page(
        request,
        session,
        admin,
        "verifications.html",
        "verifications",
        requests=await verification.list_verifications(session),
        applications=await list_applications(session),
        error=error,
    )


async def post_verification(
    request: Request, session: AsyncSession, admin: Administrator
) -> Response:
    form = await checked_form(request)
    days_text = field(form, "days")
    days = whole_number(days_text) if days_text else None
    with named_field():
        if days_text and days is None:
            raise PolicyInputError("days", "a whole number of days")
        item = await verification.request_verification(
            session,
            field(form, "application_id"),
            note=field(form, "note"),
            questions=field(form, "questions").splitlines(),
            days=days,
            actor=admin.email,
            settings=web(request).settings,
        )
    flash(request, "The developer was asked; the deadline is in the audit trail.")
    return redirect(f"/console/verifications/{item.id}")


async def show_verification(
    request: Request, session: AsyncSession, admin: Administrator, error: str = ""
) -> Response:
    item = await verification.verification_of(session, request.path_params["request_id"])
    return await page(
        request,
        session,
        admin,
        "verification.html",
        "verifications",
        item=item,
        questions=verification.questions_of(item),
        answers=verification.answers_of(item),
        uploads=await verification.uploads_of(session, item),
        entries=await entries_about(session, {item.id}),
        error=error,
    )


async def decide(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    form = await checked_form(request)
    item = await verification.verification_of(session, request.path_params["request_id"])
    decision = field(form, "decision")
    if decision not in ("accept", "escalate"):
        raise PolicyInputError("decision", "decision: accept or escalate")
    with named_field():
        await verification.decide(
            session,
            item,
            accept=decision == "accept",
            reason=field(form, "reason"),
            actor=admin.email,
            now=web(request).settings.now(),
        )
    flash(request, f"The verification is {item.state.value}.")
    return redirect(f"/console/verifications/{item.id}")


async def download_case_file(
    request: Request, session: AsyncSession, _admin: Administrator
) -> Response:
    kind, record_id, suffix = (
        request.path_params["kind"],
        request.path_params["record_id"],
        request.path_params["format"],
    )
    if kind not in KINDS or suffix not in ("json", "html", "pdf"):
        raise NotFoundError("no such case file")
    document = await case_file(session, kind, record_id, web(request).settings.now())
    if suffix == "html":
        return HTMLResponse(as_html(document))
    if suffix == "pdf":
        name = f"case-file-{kind}-{record_id}.pdf"
        return Response(
            as_pdf(document),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return JSONResponse(document)


routes = [
    Route("/terminations", console_page(show_terminations), methods=["GET"]),
    Route("/terminations", console_page(post_termination, show_terminations), methods=["POST"]),
    Route("/verifications", console_page(show_verifications), methods=["GET"]),
    Route("/verifications", console_page(post_verification, show_verifications), methods=["POST"]),
    Route("/verifications/{request_id}", console_page(show_verification)),
    Route(
        "/verifications/{request_id}/decide",
        console_page(decide, show_verification),
        methods=["POST"],
    ),
    Route("/case-files/{kind}/{record_id}.{format}", console_page(download_case_file)),
]
