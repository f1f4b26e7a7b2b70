"""The developer's cases (clause 4.2): the notice, the deadline, the timeline, and the reply with
text and files. The provider's own notes are not shown here."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.core.errors import RegistryError
from termgate.db.models import Application, Developer
from termgate.due_process.cases import ACTIVE, CaseState, clauses_of, list_cases, timeline
from termgate.due_process.replies import (
    MAX_FILE_BYTES,
    MAX_FILES,
    Upload,
    case_file,
    developer_case,
    files_of,
    reply,
)
from termgate.strict import whole_number
from termgate.web.context import checked_form, field, flash, redirect, render, web
from termgate.web.download import file_download
from termgate.web.pages import developer_page
from termgate.web.portal.home import portal_context

# A reply's whole body: its files and some room for the text and the form's other fields.
MAX_BODY = MAX_FILES * MAX_FILE_BYTES + 64 * 1024


async def show_cases(request: Request, session: AsyncSession, developer: Developer) -> Response:
    return render(
        request,
        "portal/cases.html",
        here="cases",
        cases=await list_cases(session, developer_id=developer.id),
        active={state.value for state in ACTIVE},
        **await portal_context(session, developer),
    )


async def show_case(
    request: Request, session: AsyncSession, developer: Developer, error: str = ""
) -> Response:
    case = await developer_case(session, developer, request.path_params["case_id"])
    application = await session.get(Application, case.application_id or "")
    events = [e for e in await timeline(session, case) if e.kind != "note"]
    return render(
        request,
        "portal/case.html",
        here="cases",
        case=case,
        application=application,
        clauses=clauses_of(case),
        events=events,
        files=await files_of(session, case),
        open=CaseState(case.state) in ACTIVE,
        max_files=MAX_FILES,
        max_kib=MAX_FILE_BYTES // 1024,
        error=error,
        **await portal_context(session, developer),
    )


async def _uploads(request: Request) -> list[Upload]:
    size = whole_number(request.headers.get("content-length", ""))
    if size is None or size > MAX_BODY:
        raise RegistryError(f"files: the reply may carry at most {MAX_BODY // 1024} KiB in all")
    form = await request.form(max_files=MAX_FILES, max_fields=20)
    uploads = []
    for value in form.getlist("files"):
        if isinstance(value, UploadFile):
            data = await value.read(MAX_FILE_BYTES + 1)
            uploads.append(Upload(value.filename or "", data))
    return uploads


async def post_reply(request: Request, session: AsyncSession, developer: Developer) -> Response:
    uploads = await _uploads(request)
    form = await checked_form(request)
    case_id = request.path_params["case_id"]
    now = web(request).settings.now()
    await reply(session, developer, case_id, text=field(form, "body"), files=uploads, now=now)
    flash(request, "Your reply was sent to the provider.")
    return redirect(f"/portal/cases/{case_id}")


async def download(request: Request, session: AsyncSession, developer: Developer) -> Response:
    case = await developer_case(session, developer, request.path_params["case_id"])
    return file_download(await case_file(session, case.id, request.path_params["file_id"]))


routes = [
    Route("/cases", developer_page(show_cases)),
    Route("/cases/{case_id}", developer_page(show_case)),
    Route("/cases/{case_id}/reply", developer_page(post_reply, show_case), methods=["POST"]),
    Route("/cases/{case_id}/files/{file_id}", developer_page(download)),
]
