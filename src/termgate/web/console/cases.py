"""Cases in the console (clause 4.2): the list, opening one by hand, one case's timeline with
the developer's replies and files, and the provider's decisions: accept the cure, extend the
deadline, escalate, close, or add a note."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.models import Application, Developer
from termgate.db.programme import Administrator
from termgate.due_process.cases import (
    ACTIVE,
    CaseState,
    act,
    add_note,
    clauses_of,
    findings_of,
    get_case,
    list_cases,
    open_case,
    timeline,
)
from termgate.due_process.replies import case_file, files_of
from termgate.registry.clauses import load_policy
from termgate.registry.developers import find_developer
from termgate.strict import whole_number
from termgate.web.console.common import page
from termgate.web.console.developers import entries_about
from termgate.web.context import checked_form, field, flash, redirect, web
from termgate.web.download import file_download
from termgate.web.pages import console_page


async def show_cases(
    request: Request, session: AsyncSession, admin: Administrator, error: str = ""
) -> Response:
    state = request.query_params.get("state") or None
    if state is not None and state not in {s.value for s in CaseState}:
        state = None
    found = await list_cases(session, state=state)
    developers = {
        d.id: d
        for d in await session.scalars(
            select(Developer).where(Developer.id.in_({c.developer_id for c in found}))
        )
    }
    form = await request.form() if request.method == "POST" else None
    return await page(
        request,
        session,
        admin,
        "cases.html",
        "cases",
        status_code=400 if error else 200,
        cases=found,
        developers=developers,
        active={s.value for s in ACTIVE},
        states=[s.value for s in CaseState],
        state=state or "",
        clauses=load_policy(web(request).settings.terms_dir).clauses,
        values={k: str(v) for k, v in form.items()} if form else {},
        error=error,
    )


def _days(form_value: str, label: str) -> int | None:
    if not form_value:
        return None
    number = whole_number(form_value)
    if number is None:
        raise RegistryError(f"{label} must be a whole number of days")
    return number


async def open_by_hand(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    form = await checked_form(request)
    reference = field(form, "developer")
    if not reference:
        raise RegistryError("developer: give the developer's e-mail address or id")
    try:
        developer = await find_developer(session, reference)
    except NotFoundError as missing:
        raise RegistryError(f"developer: {missing}") from None
    settings = web(request).settings
    case = await open_case(
        session,
        developer_id=developer.id,
        application_id=field(form, "application_id") or None,
        clauses=field(form, "clauses").split(","),
        summary=field(form, "summary"),
        actor=admin.email,
        now=settings.now(),
        cure_days=_days(field(form, "cure_days"), "cure_days"),
        policy=load_policy(settings.terms_dir),
    )
    flash(request, f"Case opened; {developer.email} was told (state: {case.state}).")
    return redirect(f"/console/cases/{case.id}")


async def show_case(
    request: Request, session: AsyncSession, admin: Administrator, error: str = ""
) -> Response:
    case = await get_case(session, request.path_params["case_id"])
    developer = await session.get_one(Developer, case.developer_id)
    application = await session.get(Application, case.application_id or "")
    return await page(
        request,
        session,
        admin,
        "case.html",
        "cases",
        case=case,
        developer=developer,
        application=application,
        clauses=clauses_of(case),
        findings=findings_of(case),
        events=await timeline(session, case),
        files=await files_of(session, case),
        entries=await entries_about(session, {case.id}),
        open=CaseState(case.state) in ACTIVE,
        error=error,
    )


async def decide(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    form = await checked_form(request)
    case_id = request.path_params["case_id"]
    action = field(form, "action")
    now = web(request).settings.now()
    if action == "note":
        await add_note(session, case_id, actor=admin.email, text=field(form, "note"), now=now)
        flash(request, "Note added to the timeline.")
    else:
        days = _days(field(form, "days"), "days")
        case = await act(
            session,
            case_id,
            action,
            actor=admin.email,
            reason=field(form, "reason"),
            now=now,
            days=days,
        )
        flash(request, f"The case is now {case.state}; the step is in the audit trail.")
    return redirect(f"/console/cases/{case_id}")


async def download(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    case = await get_case(session, request.path_params["case_id"])
    return file_download(await case_file(session, case.id, request.path_params["file_id"]))


routes = [
    Route("/cases", console_page(show_cases)),
    Route("/cases", console_page(open_by_hand, show_cases), methods=["POST"]),
    Route("/cases/{case_id}", console_page(show_case)),
    Route("/cases/{case_id}/decide", console_page(decide, show_case), methods=["POST"]),
    Route("/cases/{case_id}/files/{file_id}", console_page(download)),
]
