"""Developer accounts: the list, and one developer's applications, keys, acceptances and audit."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.core.errors import NotFoundError
from termgate.db.models import Application, Developer, Subscription, SubscriptionKey
from termgate.db.programme import Administrator, AuditEntry, TermsAcceptance, TermsVersion
from termgate.registry.applications import list_applications
from termgate.registry.developers import list_developers
from termgate.registry.terms import current_terms
from termgate.web.console.common import page
from termgate.web.pages import console_page


async def entries_about(session: AsyncSession, ids: set[str], limit: int = 100) -> list[AuditEntry]:
    query = (
        select(AuditEntry)
        .where(AuditEntry.entity_id.in_(ids))
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    return list(await session.scalars(query))


async def show_developers(
    request: Request, session: AsyncSession, admin: Administrator
) -> Response:
    per_developer = select(Application.developer_id, func.count()).group_by(
        Application.developer_id
    )
    counts = {developer_id: n for developer_id, n in await session.execute(per_developer)}
    terms = await current_terms(session)
    accepted: set[str] = set()
    if terms is not None:
        accepted = set(
            await session.scalars(
                select(TermsAcceptance.developer_id).where(
                    TermsAcceptance.terms_version_id == terms.id
                )
            )
        )
    return await page(
        request,
        session,
        admin,
        "developers.html",
        "developers",
        developers=await list_developers(session),
        app_counts=counts,
        accepted=accepted,
        terms=terms,
    )


async def show_developer(
    request: Request, session: AsyncSession, admin: Administrator, error: str = ""
) -> Response:
    developer = await session.get(Developer, request.path_params["developer_id"])
    if developer is None:
        raise NotFoundError("no such developer")
    applications = await list_applications(session, developer)
    keys = [
        (key, application)
        for key, application in await session.execute(
            select(SubscriptionKey, Application)
            .join(Subscription, SubscriptionKey.subscription_id == Subscription.id)
            .join(Application, Subscription.application_id == Application.id)
            .where(Application.developer_id == developer.id)
            .order_by(SubscriptionKey.created_at.desc())
        )
    ]
    acceptances = [
        (acceptance, version)
        for acceptance, version in await session.execute(
            select(TermsAcceptance, TermsVersion)
            .join(TermsVersion, TermsAcceptance.terms_version_id == TermsVersion.id)
            .where(TermsAcceptance.developer_id == developer.id)
            .order_by(TermsAcceptance.accepted_at.desc())
        )
    ]
    subscription_ids = set(
        await session.scalars(
            select(Subscription.id).where(
                Subscription.application_id.in_({a.id for a in applications})
            )
        )
    )
    ids = {developer.id, *(a.id for a in applications), *subscription_ids}
    ids |= {key.id for key, _ in keys}
    return await page(
        request,
        session,
        admin,
        "developer.html",
        "developers",
        developer=developer,
        applications=applications,
        keys=keys,
        acceptances=acceptances,
        entries=await entries_about(session, ids),
        error=error,
        error_for=request.path_params.get("party_id", ""),
    )


routes = [
    Route("/developers", console_page(show_developers)),
    Route("/developers/{developer_id}", console_page(show_developer)),
]
