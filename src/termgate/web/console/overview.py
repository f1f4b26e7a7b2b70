"""The console's overview and the audit trail with its chain check."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.core.audit import trail, verify_chain
from termgate.db.models import (
    Application,
    Developer,
    Environment,
    Status,
    Subscription,
    SubscriptionKey,
)
from termgate.db.programme import Administrator, AuditEntry, MailState, TermsAcceptance
from termgate.notify.outbox import count_in
from termgate.registry.reviews import review_queue
from termgate.registry.terms import current_terms
from termgate.web.console.common import page
from termgate.web.pages import console_page

SUSPENDABLE = (Developer, Application, Subscription, SubscriptionKey)


async def _count(session: AsyncSession, *conditions: object) -> int:
    return int(await session.scalar(select(func.count()).where(*conditions)) or 0)  # type: ignore[arg-type]


async def overview(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    terms = await current_terms(session)
    accepted = await _count(session, TermsAcceptance.terms_version_id == terms.id) if terms else 0
    suspended = 0
    for model in SUSPENDABLE:
        suspended += await _count(session, model.status == Status.SUSPENDED)
    counts = {
        "developers": await _count(session, Developer.id.is_not(None)),
        "applications": await _count(session, Application.id.is_not(None)),
        "production": await _count(session, Application.environment == Environment.PRODUCTION),
        "active_keys": await _count(session, SubscriptionKey.status == Status.ACTIVE),
        "suspended": suspended,
        "accepted": accepted,
        "failed_mail": await count_in(session, MailState.FAILED),
    }
    return await page(
        request,
        session,
        admin,
        "overview.html",
        "overview",
        counts=counts,
        terms=terms,
        queue=await review_queue(session),
        recent=await trail(session, limit=8),
        broken=await verify_chain(session),
    )


async def audit(request: Request, session: AsyncSession, admin: Administrator) -> Response:
    total = int(await session.scalar(select(func.count()).select_from(AuditEntry)) or 0)
    return await page(
        request,
        session,
        admin,
        "audit.html",
        "audit",
        entries=await trail(session, limit=500),
        total=total,
        broken=await verify_chain(session),
    )


routes = [
    Route("/", console_page(overview)),
    Route("/audit", console_page(audit)),
]
