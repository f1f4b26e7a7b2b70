"""The developer's side of due process: report an incident (5.1), answer a verification with
evidence (4.3), close the account (6.2), and attest deletion through the mailed link (6.4)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.due_process_records import TerminationGround
from termgate.db.models import Developer
from termgate.due_process import incidents, verification
from termgate.due_process.attestations import (
    AttestationInput,
    attest,
    attestation_of,
    termination_for_link,
)
from termgate.due_process.termination import terminate
from termgate.due_process.uploads import MAX_FILES, Evidence, checked_evidence
from termgate.governance.errors import PolicyInputError
from termgate.registry.accounts import authenticate
from termgate.registry.applications import list_applications
from termgate.web.context import (
    checked_form,
    field,
    flash,
    named_field,
    redirect,
    render,
    web,
)
from termgate.web.pages import developer_page, public_page
from termgate.web.portal.home import portal_context

INCIDENT_FIELDS = (
    "application_id",
    "summary",
    "discovered_at",
    "affected_end_users",
    "data_categories",
    "containment",
)


async def show_incidents(
    request: Request, session: AsyncSession, developer: Developer, error: str = ""
) -> Response:
    form = await request.form() if request.method == "POST" else FormData()
    return render(
        request,
        "portal/incidents.html",
        here="incidents",
        incidents=await incidents.list_incidents(session, developer.id),
        applications=await list_applications(session, developer),
        form={name: field(form, name) for name in INCIDENT_FIELDS},
        error=error,
        **await portal_context(session, developer),
    )


async def report(request: Request, session: AsyncSession, developer: Developer) -> Response:
    form = await checked_form(request)
    given = incidents.IncidentInput(**{name: field(form, name) for name in INCIDENT_FIELDS})
    with named_field():
        incident = await incidents.report_incident(session, developer, given, web(request).settings)
    flash(request, f"Incident {incident.id} reported; the provider has been told.")
    return redirect("/portal/incidents")


async def show_verifications(
    request: Request, session: AsyncSession, developer: Developer
) -> Response:
    return render(
        request,
        "portal/verifications.html",
        here="verifications",
        requests=await verification.list_verifications(session, developer.id),
        **await portal_context(session, developer),
    )


async def show_verification(
    request: Request, session: AsyncSession, developer: Developer, error: str = ""
) -> Response:
    item = await verification.verification_of(session, request.path_params["request_id"])
    if item.developer_id != developer.id:
        raise NotFoundError("not this developer's request")
    return render(
        request,
        "portal/verification.html",
        here="verifications",
        item=item,
        questions=verification.questions_of(item),
        answers=verification.answers_of(item),
        uploads=await verification.uploads_of(session, item),
        max_files=MAX_FILES,
        error=error,
        **await portal_context(session, developer),
    )


async def _evidence(form: FormData, max_bytes: int) -> list[Evidence]:
    files = [item for item in form.getlist("evidence") if isinstance(item, UploadFile)]
    chosen = [item for item in files if item.filename]
    if len(chosen) > MAX_FILES:
        raise PolicyInputError("evidence", f"at most {MAX_FILES} files")
    evidence = []
    for upload in chosen:
        content = await upload.read(max_bytes + 1)
        evidence.append(checked_evidence(upload.filename or "", content, max_bytes))
    return evidence


async def answer(request: Request, session: AsyncSession, developer: Developer) -> Response:
    form = await checked_form(request)
    item = await verification.verification_of(session, request.path_params["request_id"])
    settings = web(request).settings
    given = {
        question["id"]: field(form, f"answer_{question['id']}")
        for question in verification.questions_of(item)
    }
    with named_field():
        evidence = await _evidence(form, settings.upload_max_bytes)
        await verification.answer(session, item, developer, given, evidence, settings.now())
    flash(request, "Your answers were sent to the provider.")
    return redirect(f"/portal/verifications/{item.id}")


async def show_close(
    request: Request, session: AsyncSession, developer: Developer, error: str = ""
) -> Response:
    return render(
        request,
        "portal/close.html",
        here="home",
        error=error,
        **await portal_context(session, developer),
    )


async def close(request: Request, session: AsyncSession, developer: Developer) -> Response:
    form = await checked_form(request)
    if field(form, "confirm") != "close":
        raise PolicyInputError("confirm", "confirm: tick the box to close the account")
    try:
        await authenticate(session, developer.email, field(form, "password"))
    except RegistryError:
        raise PolicyInputError("password", "password: that is not your password") from None
    reason = field(form, "reason") or "closed by the developer in the portal"
    with named_field():
        await terminate(
            session,
            developer.id,
            ground=TerminationGround.DEVELOPER_CLOSURE,
            reason=reason,
            actor=developer.email,
            settings=web(request).settings,
        )
    request.session.clear()
    flash(
        request, "Your account is closed. Attest the deletion of stored data by the link we sent."
    )
    return redirect("/portal")


async def show_attest(
    request: Request, session: AsyncSession, developer: Developer | None, error: str = ""
) -> Response:
    token = request.query_params.get("token", "")
    termination = await termination_for_link(session, request.path_params["termination_id"], token)
    form = await request.form() if request.method == "POST" else FormData()
    return render(
        request,
        "portal/attest.html",
        here="home",
        termination=termination,
        attestation=await attestation_of(session, termination),
        token=token,
        form={name: field(form, name) for name in ("statement", "deleted_on", "deleted_by")},
        error=error,
        area="portal",
        developer=None,
        unread=0,
    )


async def post_attest(
    request: Request, session: AsyncSession, _developer: Developer | None
) -> Response:
    form = await checked_form(request)
    token = request.query_params.get("token", "")
    termination = await termination_for_link(session, request.path_params["termination_id"], token)
    given = AttestationInput(
        field(form, "statement"), field(form, "deleted_on"), field(form, "deleted_by")
    )
    with named_field():
        await attest(session, termination, given, web(request).settings)
    flash(request, "Thank you: your deletion attestation is signed and recorded.")
    return redirect(f"/portal/attest/{termination.id}?token={token}")


routes = [
    Route("/incidents", developer_page(show_incidents), methods=["GET"]),
    Route("/incidents", developer_page(report, show_incidents), methods=["POST"]),
    Route("/verifications", developer_page(show_verifications)),
    Route("/verifications/{request_id}", developer_page(show_verification), methods=["GET"]),
    Route(
        "/verifications/{request_id}",
        developer_page(answer, show_verification),
        methods=["POST"],
    ),
    Route("/close", developer_page(show_close), methods=["GET"]),
    Route("/close", developer_page(close, show_close), methods=["POST"]),
    Route("/attest/{termination_id}", public_page(show_attest), methods=["GET"]),
    Route("/attest/{termination_id}", public_page(post_attest, show_attest), methods=["POST"]),
]
