"""Production reviews (3.2), terms versions and their acceptances (9), the audit trail (4.2)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Body, Query, Response
from sqlalchemy import func, select

from termgate.core.audit import verify_chain
from termgate.core.errors import NotFoundError
from termgate.db.models import Application
from termgate.db.programme import AuditEntry, ProductionRequest, TermsVersion
from termgate.registry.reviews import decide, review_queue
from termgate.registry.terms import acceptances, all_versions, current_terms, publish_terms
from termgate.web.admin_api.access import Admin, Caller
from termgate.web.admin_api.models import (
    AcceptanceOut,
    Approval,
    AuditEntryOut,
    AuditListing,
    Id,
    Listing,
    Page,
    Rejection,
    ReviewOut,
    TermsDetail,
    TermsDraft,
    TermsOut,
)
from termgate.web.admin_api.parties import paged, pagination, window
from termgate.web.admin_api.problems import NOT_FOUND_ID, REFUSED, clause

router = APIRouter()
LOCATION = {"Location": {"description": "where the new resource is", "schema": {"type": "string"}}}


def review_out(request: ProductionRequest, application: Application) -> ReviewOut:
    return ReviewOut(
        id=request.id,
        application_id=application.id,
        application_name=application.name,
        developer_id=application.developer_id,
        use_case=application.use_case,
        requested_scopes=application.requested_scopes.split(),
        note=request.note,
        state=request.state.value,
        requested_at=request.requested_at,
        decided_at=request.decided_at,
        decided_by=request.decided_by,
        reason=request.reason,
    )


@router.get(
    "/reviews",
    operation_id="listReviews",
    summary="Production requests waiting for a decision",
    tags=["reviews"],
    openapi_extra=clause("3.2"),
)
async def list_reviews(admin: Admin, page: Annotated[Page, Query()]) -> Listing[ReviewOut]:
    pending = [review_out(r, a) for r, a in await review_queue(admin.session)]
    return paged(ReviewOut, pending, page)


async def _decide(admin: Caller, review_id: str, *, approve: bool, reason: str) -> ReviewOut:
    request = await decide(
        admin.session, review_id, approve=approve, reason=reason, actor=admin.actor
    )
    return review_out(request, await admin.session.get_one(Application, request.application_id))


@router.post(
    "/reviews/{review_id}/approve",
    operation_id="approveReview",
    summary="Approve production access; the developer is told",
    tags=["reviews"],
    openapi_extra=clause("3.2"),
    responses=REFUSED,
)
async def approve_review(
    admin: Admin, review_id: Id, body: Annotated[Approval | None, Body()] = None
) -> ReviewOut:
    reason = body.reason if body else ""
    return await _decide(admin, review_id, approve=True, reason=reason)


@router.post(
    "/reviews/{review_id}/reject",
    operation_id="rejectReview",
    summary="Reject production access with a reason the developer reads",
    tags=["reviews"],
    openapi_extra=clause("3.2"),
    responses=REFUSED,
)
async def reject_review(admin: Admin, review_id: Id, body: Rejection) -> ReviewOut:
    return await _decide(admin, review_id, approve=False, reason=body.reason)


async def _current_id(admin: Caller) -> str | None:
    current = await current_terms(admin.session)
    return current.id if current else None


@router.get(
    "/terms",
    operation_id="listTerms",
    summary="Published versions of the terms, newest first",
    tags=["terms"],
    openapi_extra=clause("9"),
)
async def list_terms(admin: Admin, page: Annotated[Page, Query()]) -> Listing[TermsOut]:
    current = await _current_id(admin)
    versions = [
        TermsOut.model_validate(v).model_copy(update={"current": v.id == current})
        for v in await all_versions(admin.session)
    ]
    return paged(TermsOut, versions, page)


async def _version(admin: Caller, label: str) -> TermsVersion:
    found = await admin.session.scalar(select(TermsVersion).where(TermsVersion.version == label))
    if found is None:
        raise NotFoundError(f"no terms version {label!r}")
    return found


def _detail(terms: TermsVersion, current_id: str | None) -> TermsDetail:
    return TermsDetail.model_validate(terms).model_copy(update={"current": terms.id == current_id})


@router.get(
    "/terms/{version}",
    operation_id="getTerms",
    summary="One terms version with its full text",
    tags=["terms"],
    openapi_extra=clause("9"),
    responses=NOT_FOUND_ID,
)
async def get_terms(admin: Admin, version: Id) -> TermsDetail:
    return _detail(await _version(admin, version), await _current_id(admin))


@router.post(
    "/terms",
    operation_id="publishTerms",
    summary="Publish a new terms version; every developer is told and must re-accept",
    tags=["terms"],
    status_code=201,
    openapi_extra=clause("9"),
    responses={201: {"headers": LOCATION}, **REFUSED},
)
async def publish_terms_op(admin: Admin, draft: TermsDraft, response: Response) -> TermsDetail:
    published = await publish_terms(
        admin.session,
        admin.settings,
        version=draft.version,
        title=draft.title,
        body=draft.body,
        change_summary=draft.change_summary,
        actor=admin.actor,
        reaccept_days=draft.reaccept_days,
    )
    response.headers["location"] = f"/admin/api/terms/{quote(published.version, safe='')}"
    return _detail(published, published.id)


@router.get(
    "/terms/{version}/acceptances",
    operation_id="listAcceptances",
    summary="Who accepted a terms version, when and from where",
    tags=["terms"],
    openapi_extra=clause("1"),
    responses=NOT_FOUND_ID,
)
async def list_acceptances(
    admin: Admin, version: Id, page: Annotated[Page, Query()]
) -> Listing[AcceptanceOut]:
    rows = [
        AcceptanceOut(
            developer_id=developer.id,
            developer_email=developer.email,
            accepted_at=acceptance.accepted_at,
            ip=acceptance.ip,
            user_agent=acceptance.user_agent,
        )
        for developer, acceptance in await acceptances(
            admin.session, await _version(admin, version)
        )
    ]
    return paged(AcceptanceOut, rows, page)


@router.get(
    "/audit",
    operation_id="listAudit",
    summary="The audit trail, newest first, and whether its hash chain is intact",
    tags=["audit"],
    openapi_extra=clause("4.2"),
)
async def list_audit(admin: Admin, page: Annotated[Page, Query()]) -> AuditListing:
    total = await admin.session.scalar(select(func.count()).select_from(AuditEntry))
    entries = await admin.session.scalars(
        select(AuditEntry)
        .order_by(AuditEntry.id.desc())
        .offset(window(page).start)
        .limit(page.page_size)
    )
    broken = await verify_chain(admin.session)
    return AuditListing(
        data=[AuditEntryOut.model_validate(e) for e in entries],
        pagination=pagination(page, int(total or 0)),
        chain_intact=broken is None,
        first_broken_entry=broken,
    )
