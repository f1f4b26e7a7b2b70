"""Due process through the admin API: incident reports and their containment (5.1), termination
and deletion attestations (6.2-6.4), verification requests (4.3), and case files of each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic.alias_generators import to_camel
from starlette.responses import HTMLResponse, JSONResponse, Response

from termgate.core.errors import NotFoundError
from termgate.db.due_process_records import (
    IncidentReport,
    Termination,
    TerminationGround,
    VerificationRequest,
)
from termgate.db.models import Developer
from termgate.due_process import incidents, verification
from termgate.due_process.attestations import attestation_of, outstanding
from termgate.due_process.case_file import as_html, as_pdf, case_file
from termgate.due_process.termination import (
    list_terminations,
    provider_ground,
    terminate,
    termination_of,
)
from termgate.governance.errors import PolicyInputError
from termgate.web.admin_api.access import Admin, Caller
from termgate.web.admin_api.due_process_models import (
    Containment,
    ContainmentOut,
    Decision,
    EndUserNotice,
    IncidentOut,
    NoticeOut,
    OutstandingAttestation,
    Question,
    TerminationOut,
    TerminationRequest,
    Triage,
    UploadOut,
    VerificationDraft,
    VerificationOut,
)
from termgate.web.admin_api.models import Id
from termgate.web.admin_api.problems import NOT_FOUND_ID, REFUSED, clause

router = APIRouter()


@contextmanager
def camel_fields() -> Iterator[None]:
    """A refusal names the field as the body spells it (`applicationId`)."""
    try:
        yield
    except PolicyInputError as refusal:
        raise PolicyInputError(to_camel(refusal.field), str(refusal)) from None


def incident_out(incident: IncidentReport, admin: Caller) -> IncidentOut:
    left = incidents.clock(incident, admin.settings.now())
    return IncidentOut.model_validate(
        {
            **{
                column: getattr(incident, column)
                for column in IncidentOut.model_fields
                if hasattr(incident, column) and column != "affected_end_users"
            },
            "notify_by": left.deadline,
            "clock": left.words,
            "overdue": left.overdue,
            "affected_end_users": incidents.affected_ids(incident),
            "state": incident.state.value,
        }
    )


@router.get(
    "/incidents",
    operation_id="listIncidents",
    summary="List incident reports",
    tags=["incidents"],
    openapi_extra=clause("5.1"),
)
async def list_incidents_op(admin: Admin) -> list[IncidentOut]:
    return [incident_out(i, admin) for i in await incidents.list_incidents(admin.session)]


@router.get(
    "/incidents/{incident_id}",
    operation_id="getIncident",
    summary="An incident report with its notification clock",
    tags=["incidents"],
    openapi_extra=clause("5.1"),
    responses=NOT_FOUND_ID,
)
async def get_incident(admin: Admin, incident_id: Id) -> IncidentOut:
    return incident_out(await incidents.incident_of(admin.session, incident_id), admin)


@router.post(
    "/incidents/{incident_id}/triage",
    operation_id="triageIncident",
    summary="Mark an incident triaged or closed",
    tags=["incidents"],
    openapi_extra=clause("5.1"),
    responses=REFUSED,
)
async def triage_op(admin: Admin, incident_id: Id, body: Triage) -> IncidentOut:
    incident = await incidents.incident_of(admin.session, incident_id)
    with camel_fields():
        await incidents.triage(
            admin.session, incident, body.state, body.reason, admin.actor, admin.settings.now()
        )
    return incident_out(incident, admin)


@router.post(
    "/incidents/{incident_id}/contain",
    operation_id="containIncident",
    summary="Revoke the application's keys and tokens, or the affected end users' tokens",
    tags=["incidents"],
    openapi_extra=clause("5.1"),
    responses=REFUSED,
)
async def contain_op(admin: Admin, incident_id: Id, body: Containment) -> ContainmentOut:
    incident = await incidents.incident_of(admin.session, incident_id)
    with camel_fields():
        revoked = await incidents.contain(
            admin.session, incident, body.scope, body.reason, admin.actor, admin.settings.now()
        )
    return ContainmentOut(
        incident=incident_out(incident, admin),
        keys_revoked=revoked.keys,
        token_families_revoked=revoked.token_families,
    )


@router.post(
    "/incidents/{incident_id}/notify",
    operation_id="notifyIncidentEndUsers",
    summary="Tell the affected end users, in the provider's words",
    tags=["incidents"],
    openapi_extra=clause("5.1"),
    responses=REFUSED,
)
async def notify_op(admin: Admin, incident_id: Id, body: EndUserNotice) -> NoticeOut:
    incident = await incidents.incident_of(admin.session, incident_id)
    with camel_fields():
        told = await incidents.notify_affected(
            admin.session, incident, body.text, admin.actor, admin.settings.now()
        )
    return NoticeOut(incident=incident_out(incident, admin), end_users_told=told)


async def termination_out(admin: Caller, termination: Termination) -> TerminationOut:
    shown = TerminationOut.model_validate(termination)
    shown.ground = termination.ground.value
    shown.attested = await attestation_of(admin.session, termination) is not None
    return shown


@router.post(
    "/developers/{developer_id}/terminate",
    operation_id="terminateDeveloper",
    summary="Terminate a developer's licence: every key, secret, token and consent ends",
    tags=["terminations"],
    openapi_extra=clause("6.2"),
    responses=REFUSED,
)
async def terminate_op(admin: Admin, developer_id: Id, body: TerminationRequest) -> TerminationOut:
    if await admin.session.get(Developer, developer_id) is None:
        raise NotFoundError(f"no developer {developer_id!r}")
    with camel_fields():
        termination = await terminate(
            admin.session,
            developer_id,
            ground=_ground(body.ground),
            reason=body.reason,
            actor=admin.actor,
            settings=admin.settings,
        )
    return await termination_out(admin, termination)


def _ground(value: str) -> TerminationGround:
    return provider_ground(value)


@router.get(
    "/terminations",
    operation_id="listTerminations",
    summary="List terminations, the newest first",
    tags=["terminations"],
    openapi_extra=clause("6.2"),
)
async def list_terminations_op(admin: Admin) -> list[TerminationOut]:
    return [await termination_out(admin, t) for t in await list_terminations(admin.session)]


@router.get(
    "/terminations/{termination_id}",
    operation_id="getTermination",
    summary="A termination and whether its deletion was attested",
    tags=["terminations"],
    openapi_extra=clause("6.4"),
    responses=NOT_FOUND_ID,
)
async def get_termination(admin: Admin, termination_id: Id) -> TerminationOut:
    return await termination_out(admin, await termination_of(admin.session, termination_id))


@router.get(
    "/attestations/outstanding",
    operation_id="listOutstandingAttestations",
    summary="Who has not attested the deletion of stored content",
    tags=["terminations"],
    openapi_extra=clause("6.4"),
)
async def outstanding_op(admin: Admin) -> list[OutstandingAttestation]:
    now = admin.settings.now()
    return [
        OutstandingAttestation(
            termination_id=termination.id,
            developer_id=developer.id,
            developer_email=developer.email,
            attestation_due_at=termination.attestation_due_at,
            overdue=termination.attestation_due_at <= now,
        )
        for termination, developer in await outstanding(admin.session)
    ]


async def verification_out(admin: Caller, request: VerificationRequest) -> VerificationOut:
    answers = verification.answers_of(request)
    columns = set(VerificationOut.model_fields) - {"questions", "evidence", "state"}
    return VerificationOut(
        **{column: getattr(request, column) for column in columns},
        state=request.state.value,
        questions=[
            Question(id=q["id"], question=q["question"], answer=answers.get(q["id"]))
            for q in verification.questions_of(request)
        ],
        evidence=[
            UploadOut.model_validate(upload)
            for upload in await verification.uploads_of(admin.session, request)
        ],
    )


@router.post(
    "/verifications",
    operation_id="requestVerification",
    summary="Ask a developer for evidence about an application, by a deadline",
    tags=["verifications"],
    openapi_extra=clause("4.3"),
    responses=REFUSED,
)
async def request_verification_op(admin: Admin, body: VerificationDraft) -> VerificationOut:
    with camel_fields():
        request = await verification.request_verification(
            admin.session,
            body.application_id,
            note=body.note,
            questions=body.questions,
            days=body.days,
            actor=admin.actor,
            settings=admin.settings,
        )
    return await verification_out(admin, request)


@router.get(
    "/verifications",
    operation_id="listVerifications",
    summary="List verification requests, the newest first",
    tags=["verifications"],
    openapi_extra=clause("4.3"),
)
async def list_verifications_op(admin: Admin) -> list[VerificationOut]:
    requests = await verification.list_verifications(admin.session)
    return [await verification_out(admin, request) for request in requests]


@router.get(
    "/verifications/{verification_id}",
    operation_id="getVerification",
    summary="A verification request with its answers and evidence",
    tags=["verifications"],
    openapi_extra=clause("4.3"),
    responses=NOT_FOUND_ID,
)
async def get_verification(admin: Admin, verification_id: Id) -> VerificationOut:
    request = await verification.verification_of(admin.session, verification_id)
    return await verification_out(admin, request)


async def _decide(
    admin: Caller, verification_id: str, body: Decision, accept: bool
) -> VerificationOut:
    request = await verification.verification_of(admin.session, verification_id)
    with camel_fields():
        await verification.decide(
            admin.session,
            request,
            accept=accept,
            reason=body.reason,
            actor=admin.actor,
            now=admin.settings.now(),
        )
    return await verification_out(admin, request)


@router.post(
    "/verifications/{verification_id}/accept",
    operation_id="acceptVerification",
    summary="Accept the developer's answers",
    tags=["verifications"],
    openapi_extra=clause("4.3"),
    responses=REFUSED,
)
async def accept_op(admin: Admin, verification_id: Id, body: Decision) -> VerificationOut:
    return await _decide(admin, verification_id, body, accept=True)


@router.post(
    "/verifications/{verification_id}/escalate",
    operation_id="escalateVerification",
    summary="Escalate the verification to a case",
    tags=["verifications"],
    openapi_extra=clause("4.3"),
    responses=REFUSED,
)
async def escalate_op(admin: Admin, verification_id: Id, body: Decision) -> VerificationOut:
    return await _decide(admin, verification_id, body, accept=False)


@router.get(
    "/case-files/{kind}/{record_id}",
    operation_id="exportCaseFile",
    summary="A case, incident, termination or verification as one document: JSON, HTML or PDF",
    tags=["case files"],
    openapi_extra=clause("4.2"),
    responses={
        **NOT_FOUND_ID,
        200: {"content": {"application/json": {}, "text/html": {}, "application/pdf": {}}},
    },
)
async def case_file_op(
    admin: Admin,
    kind: Literal["case", "incident", "termination", "verification"],
    record_id: Id,
    format: Annotated[Literal["json", "html", "pdf"], Query()] = "json",
) -> Response:
    document = await case_file(admin.session, kind, record_id, admin.settings.now())
    name = f"case-file-{kind}-{record_id}"
    if format == "html":
        return HTMLResponse(as_html(document))
    if format == "pdf":
        return Response(
            as_pdf(document),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
        )
    return JSONResponse(document)
