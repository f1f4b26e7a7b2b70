"""Production reviews (3.2), terms versions and their acceptances (9), the audit trail (4.2)."""

from __future__ import annotations

from urllib.parse import quote

from pydantic import BaseModel
from sqlalchemy import func, select

from termgate.core.audit import verify_chain
from termgate.core.errors import NotFoundError
from termgate.db.models import Application
from termgate.db.programme import AuditEntry, TermsVersion
from termgate.registry.reviews import decide, review_queue
from termgate.registry.terms import acceptances, all_versions, current_terms, publish_terms
from termgate.web.admin_api.convert import (
    audit_out,
    paged,
    pagination,
    review_out,
    terms_detail,
    terms_out,
    window,
)
from termgate.web.admin_api.framework import Call
from termgate.web.admin_api.models import (
    AcceptanceOut,
    Approval,
    AuditListing,
    Listing,
    Page,
    Rejection,
    ReviewOut,
    TermsDetail,
    TermsDraft,
    TermsOut,
)


async def list_reviews(call: Call) -> BaseModel:
    pending = [review_out(r, a) for r, a in await review_queue(call.session)]
    return paged(Listing[ReviewOut], pending, call.filters(Page))


async def _decide(call: Call, *, approve: bool, reason: str) -> BaseModel:
    request = await decide(
        call.session, call.path["review_id"], approve=approve, reason=reason, actor=call.actor
    )
    return review_out(request, await call.session.get_one(Application, request.application_id))


async def approve_review(call: Call) -> BaseModel:
    return await _decide(call, approve=True, reason=call.payload(Approval).reason)


async def reject_review(call: Call) -> BaseModel:
    return await _decide(call, approve=False, reason=call.payload(Rejection).reason)


async def _current_id(call: Call) -> str | None:
    current = await current_terms(call.session)
    return current.id if current else None


async def list_terms(call: Call) -> BaseModel:
    current = await _current_id(call)
    versions = [terms_out(v, current) for v in await all_versions(call.session)]
    return paged(Listing[TermsOut], versions, call.filters(Page))


async def _version(call: Call) -> TermsVersion:
    label = call.path["version"]
    found = await call.session.scalar(select(TermsVersion).where(TermsVersion.version == label))
    if found is None:
        raise NotFoundError(f"no terms version {label!r}")
    return found


async def get_terms(call: Call) -> BaseModel:
    return terms_detail(await _version(call), await _current_id(call))


async def publish_terms_op(call: Call) -> BaseModel:
    draft = call.payload(TermsDraft)
    published = await publish_terms(
        call.session,
        call.settings,
        version=draft.version,
        title=draft.title,
        body=draft.body,
        change_summary=draft.change_summary,
        actor=call.actor,
        reaccept_days=draft.reaccept_days,
    )
    return terms_detail(published, published.id)


def terms_location(published: BaseModel) -> str:
    assert isinstance(published, TermsDetail)
    return f"/admin/api/terms/{quote(published.version, safe='')}"


async def list_acceptances(call: Call) -> BaseModel:
    rows = [
        AcceptanceOut(
            developer_id=developer.id,
            developer_email=developer.email,
            accepted_at=acceptance.accepted_at,
            ip=acceptance.ip,
            user_agent=acceptance.user_agent,
        )
        for developer, acceptance in await acceptances(call.session, await _version(call))
    ]
    return paged(Listing[AcceptanceOut], rows, call.filters(Page))


async def list_audit(call: Call) -> BaseModel:
    page = call.filters(Page)
    total = await call.session.scalar(select(func.count()).select_from(AuditEntry))
    part = window(page)
    entries = await call.session.scalars(
        select(AuditEntry).order_by(AuditEntry.id.desc()).offset(part.start).limit(page.page_size)
    )
    broken = await verify_chain(call.session)
    return AuditListing(
        data=[audit_out(e) for e in entries],
        pagination=pagination(page, int(total or 0)),
        chain_intact=broken is None,
        first_broken_entry=broken,
    )
