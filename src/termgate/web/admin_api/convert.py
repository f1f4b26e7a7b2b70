"""Records as the admin API shows them, and lists cut into pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel

from termgate.db.models import Application, Developer, Plan, Subscription, SubscriptionKey
from termgate.db.programme import AuditEntry, ProductionRequest, TermsVersion
from termgate.web.admin_api.models import (
    ApplicationOut,
    AuditEntryOut,
    DeveloperOut,
    KeyOut,
    Listing,
    Page,
    Pagination,
    ReviewOut,
    SubscriptionOut,
    TermsDetail,
    TermsOut,
)

Item = TypeVar("Item", bound=BaseModel)


def pagination(page: Page, total: int) -> Pagination:
    return Pagination(
        page_number=page.page_number,
        page_size=page.page_size,
        total_pages=-(-total // page.page_size),
        total_records=total,
    )


def window(page: Page) -> slice:
    start = (page.page_number - 1) * page.page_size
    return slice(start, start + page.page_size)


def paged(kind: type[Listing[Item]], items: Sequence[Item], page: Page) -> Listing[Item]:
    return kind(data=list(items[window(page)]), pagination=pagination(page, len(items)))


def developer_out(developer: Developer) -> DeveloperOut:
    return DeveloperOut(
        id=developer.id,
        email=developer.email,
        name=developer.name,
        organisation=developer.organisation,
        status=developer.status.value,
        status_reason=developer.status_reason,
        email_verified=developer.email_verified_at is not None,
        created_at=developer.created_at,
    )


def application_out(application: Application) -> ApplicationOut:
    return ApplicationOut(
        id=application.id,
        developer_id=application.developer_id,
        name=application.name,
        description=application.description,
        use_case_category=application.use_case_category,
        use_case=application.use_case,
        requested_scopes=application.requested_scopes.split(),
        environment=application.environment.value,
        status=application.status.value,
        status_reason=application.status_reason,
        created_at=application.created_at,
    )


def subscription_out(subscription: Subscription, plan: Plan) -> SubscriptionOut:
    return SubscriptionOut(
        id=subscription.id,
        application_id=subscription.application_id,
        product=plan.product.slug,
        plan=plan.slug,
        status=subscription.status.value,
        status_reason=subscription.status_reason,
        created_at=subscription.created_at,
    )


def key_out(key: SubscriptionKey) -> KeyOut:
    return KeyOut(
        id=key.id,
        subscription_id=key.subscription_id,
        slot=key.slot,
        prefix=key.prefix,
        status=key.status.value,
        status_reason=key.status_reason,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


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


def terms_out(terms: TermsVersion, current_id: str | None) -> TermsOut:
    return TermsOut(
        id=terms.id,
        version=terms.version,
        title=terms.title,
        change_summary=terms.change_summary,
        effective_at=terms.effective_at,
        published_at=terms.published_at,
        reaccept_deadline=terms.reaccept_deadline,
        published_by=terms.published_by,
        current=terms.id == current_id,
    )


def terms_detail(terms: TermsVersion, current_id: str | None) -> TermsDetail:
    return TermsDetail(**terms_out(terms, current_id).model_dump(), body=terms.body)


def audit_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        entity=entry.entity,
        entity_id=entry.entity_id,
        reason=entry.reason,
        previous_hash=entry.previous_hash,
        hash=entry.hash,
    )
