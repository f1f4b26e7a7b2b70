"""Cases (clause 4.2): list, open by hand, read with the timeline, accept the cure, extend the
deadline, escalate, close. A refusal in the case's state is a 409; input that names a field
wrongly (an unknown clause or party, a bad number of days) is a 400 naming it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.due_process import Case
from termgate.due_process.cases import act, findings_of, get_case, list_cases, open_case, timeline
from termgate.due_process.replies import files_of
from termgate.registry.clauses import load_policy
from termgate.web.admin_api.access import Admin, Caller
from termgate.web.admin_api.case_models import (
    CaseDetail,
    CaseDraft,
    CaseEventOut,
    CaseFileOut,
    CaseFilter,
    CaseOut,
    Decision,
    Extension,
)
from termgate.web.admin_api.models import Id, Listing
from termgate.web.admin_api.parties import paged
from termgate.web.admin_api.problems import (
    NOT_FOUND_ID,
    REFUSED,
    Documented,
    InvalidRequestError,
    clause,
)

router = APIRouter()
FIELDS = ("developer_id", "application_id", "clauses", "summary", "cure_days", "finding_ids")
CREATED: Documented = {
    201: {"description": "the case, noticed (or suspended at once for a critical clause)"},
    400: {"description": "a field names no such party or clause (see invalid-params)"},
}


def _as_invalid(error: RegistryError, fields: tuple[str, ...]) -> Exception:
    """A refusal that names one of the body's fields is that field's 400; others stay 409."""
    name, _, reason = str(error).partition(":")
    if name in fields and reason:
        camel = name.split("_")[0] + "".join(p.title() for p in name.split("_")[1:])
        return InvalidRequestError([{"name": camel, "reason": reason.strip()}])
    return error


async def _detail(admin: Caller, case: Case) -> CaseDetail:
    files = [f for group in (await files_of(admin.session, case)).values() for f in group]
    return CaseDetail(
        **CaseOut.model_validate(case).model_dump(),
        finding_ids=findings_of(case),
        timeline=[CaseEventOut.model_validate(e) for e in await timeline(admin.session, case)],
        files=[CaseFileOut.model_validate(f) for f in files],
    )


@router.get(
    "/cases",
    operation_id="listCases",
    summary="List cases, newest first",
    tags=["cases"],
    openapi_extra=clause("4.2"),
)
async def list_cases_op(admin: Admin, query: Annotated[CaseFilter, Query()]) -> Listing[CaseOut]:
    try:
        found = await list_cases(admin.session, state=query.state, developer_id=query.developer_id)
    except RegistryError as error:
        raise InvalidRequestError([{"name": "state", "reason": str(error)}]) from None
    return paged(CaseOut, found, query)


@router.post(
    "/cases",
    operation_id="openCase",
    summary="Open a case and notify the developer",
    tags=["cases"],
    status_code=201,
    openapi_extra=clause("4.2"),
    responses=CREATED,
)
async def open_case_op(admin: Admin, body: CaseDraft) -> CaseDetail:
    try:
        case = await open_case(
            admin.session,
            developer_id=body.developer_id,
            application_id=body.application_id,
            clauses=body.clauses,
            summary=body.summary,
            actor=admin.actor,
            now=admin.settings.now(),
            finding_ids=body.finding_ids,
            cure_days=body.cure_days,
            policy=load_policy(admin.settings.terms_dir),
        )
    except RegistryError as error:
        raise _as_invalid(error, FIELDS) from None
    return await _detail(admin, case)


@router.get(
    "/cases/{case_id}",
    operation_id="getCase",
    summary="A case with its timeline and the developer's files",
    tags=["cases"],
    openapi_extra=clause("4.2"),
    responses=NOT_FOUND_ID,
)
async def get_case_op(admin: Admin, case_id: Id) -> CaseDetail:
    return await _detail(admin, await get_case(admin.session, case_id))


async def _decide(
    admin: Caller, case_id: str, action: str, reason: str, days: int | None = None
) -> CaseOut:
    await get_case(admin.session, case_id)  # 404 before anything else
    try:
        case = await act(
            admin.session,
            case_id,
            action,
            actor=admin.actor,
            reason=reason,
            now=admin.settings.now(),
            days=days,
        )
    except NotFoundError:
        raise
    except RegistryError as error:
        raise _as_invalid(error, ("reason", "days")) from None
    return CaseOut.model_validate(case)


@router.post(
    "/cases/{case_id}/accept",
    operation_id="acceptCure",
    summary="Accept the developer's remedy (a party this case suspended is reinstated)",
    tags=["cases"],
    openapi_extra=clause("4.2"),
    responses=REFUSED,
)
async def accept_op(admin: Admin, case_id: Id, body: Decision) -> CaseOut:
    return await _decide(admin, case_id, "accept", body.reason)


@router.post(
    "/cases/{case_id}/extend",
    operation_id="extendCureDeadline",
    summary="Give more time to cure",
    tags=["cases"],
    openapi_extra=clause("4.2"),
    responses=REFUSED,
)
async def extend_op(admin: Admin, case_id: Id, body: Extension) -> CaseOut:
    return await _decide(admin, case_id, "extend", body.reason, body.days)


@router.post(
    "/cases/{case_id}/escalate",
    operation_id="escalateCase",
    summary="The policy's next step now: suspend the party, or terminate a suspended case",
    tags=["cases"],
    openapi_extra=clause("4.2"),
    responses=REFUSED,
)
async def escalate_op(admin: Admin, case_id: Id, body: Decision) -> CaseOut:
    return await _decide(admin, case_id, "escalate", body.reason)


@router.post(
    "/cases/{case_id}/close",
    operation_id="closeCase",
    summary="Close the case without further action",
    tags=["cases"],
    openapi_extra=clause("4.2"),
    responses=REFUSED,
)
async def close_op(admin: Admin, case_id: Id, body: Decision) -> CaseOut:
    return await _decide(admin, case_id, "close", body.reason)
