"""Connected apps (clause 3.3 l): which applications may read the end user's data, what they
last read and when, a Revoke button, and the GDPR exports (Art. 7(1) consents, Art. 15 access).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from termgate.core.errors import RegistryError
from termgate.db.models import Application, Developer, UsageEvent
from termgate.db.oauth import Consent, EndUser
from termgate.due_process.end_user_notices import notices_for
from termgate.identity.consents import all_consents, end_user_actor, live_consents, withdraw
from termgate.web.context import checked_form, flash, not_found, redirect, render, unit_of_work, web
from termgate.web.end_user.common import (
    login_redirect,
    refused_page,
    scope_words,
    signed_in_end_user,
)
from termgate.web.end_user.debtors import debtor_names

ACCESS_LOG_LIMIT = 50_000
Page = Callable[[Request, AsyncSession, EndUser], Awaitable[Response]]


def end_user_page(handler: Page) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        async with unit_of_work(request) as session:
            end_user = await signed_in_end_user(request, session)
            if end_user is None:
                return login_redirect(request.url.path)
            return await handler(request, session, end_user)

    endpoint.__name__ = handler.__name__
    return endpoint


async def _applications(session: AsyncSession, ids: set[str]) -> dict[str, Application]:
    if not ids:
        return {}
    rows = await session.scalars(select(Application).where(Application.id.in_(ids)))
    return {application.id: application for application in rows}


async def _last_reads(
    session: AsyncSession, end_user_id: str
) -> dict[str, list[tuple[str, datetime]]]:
    """Per application: each kind of data it read for this end user, and when it last did."""
    kind = func.coalesce(UsageEvent.data_category, UsageEvent.operation)
    rows = await session.execute(
        select(UsageEvent.application_id, kind, func.max(UsageEvent.at))
        .where(UsageEvent.end_user_id == end_user_id, UsageEvent.status < 400)
        .group_by(UsageEvent.application_id, kind)
    )
    reads: dict[str, list[tuple[str, datetime]]] = {}
    for application_id, label, at in rows:
        reads.setdefault(str(application_id), []).append((str(label or "data"), at))
    for entries in reads.values():
        entries.sort(key=lambda entry: entry[1], reverse=True)
    return reads


@end_user_page
async def connected_apps(request: Request, session: AsyncSession, end_user: EndUser) -> Response:
    consents = await live_consents(session, end_user.id)
    applications = await _applications(session, {consent.application_id for consent in consents})
    developers = {
        developer.id: developer
        for developer in await session.scalars(
            select(Developer).where(
                Developer.id.in_({app.developer_id for app in applications.values()})
            )
        )
    }
    names = await debtor_names(web(request).settings, end_user, end_user.debtors)
    connections = [
        {
            "consent": consent,
            "application": applications[consent.application_id],
            "developer": developers.get(applications[consent.application_id].developer_id),
            "scopes": scope_words(request, consent.scopes),
            "debtors": [(debtor, names.get(debtor, debtor)) for debtor in consent.debtors],
        }
        for consent in consents
    ]
    return render(
        request,
        "identity/apps.html",
        end_user=end_user,
        connections=connections,
        reads=await _last_reads(session, end_user.id),
        notices=await notices_for(session, end_user.id),
    )


async def revoke(request: Request) -> Response:
    try:
        await checked_form(request)
    except RegistryError as refusal:
        return refused_page(request, str(refusal))
    async with unit_of_work(request) as session:
        end_user = await signed_in_end_user(request, session)
        if end_user is None:
            return login_redirect("/connect/apps")
        consent = await session.get(Consent, request.path_params["consent_id"])
        if consent is None or consent.end_user_id != end_user.id:
            return not_found(request)
        application = await session.get(Application, consent.application_id)
        reason = "revoked by the end user on the Connected apps page"
        # The application's live consent, even when the page was shown before a re-authorisation
        # replaced this one (its grants moved over to the live consent).
        for live in await live_consents(session, end_user.id, consent.application_id):
            await withdraw(
                session, live, reason, end_user_actor(end_user.id), web(request).settings.now()
            )
    flash(
        request,
        f"{application.name if application else 'The application'} can no longer read your data.",
    )
    return redirect("/connect/apps")


async def _download(name: str, document: dict[str, Any]) -> Response:
    # Up to ACCESS_LOG_LIMIT events: serialised in a thread, not on the loop the gateway shares.
    text = await asyncio.to_thread(json.dumps, document, indent=2, default=str)
    return Response(
        text,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@end_user_page
async def export_consents(request: Request, session: AsyncSession, end_user: EndUser) -> Response:
    consents = await all_consents(session, end_user.id)
    applications = await _applications(session, {consent.application_id for consent in consents})
    records = [
        {
            "id": consent.id,
            "application_id": consent.application_id,
            "application": getattr(applications.get(consent.application_id), "name", None),
            "scopes": consent.scopes.split(),
            "debtors": list(consent.debtors),
            "consent_text_version": consent.consent_text_version,
            "granted_at": consent.granted_at.isoformat(),
            "ip": consent.ip,
            "user_agent": consent.user_agent,
            "withdrawn_at": consent.withdrawn_at.isoformat() if consent.withdrawn_at else None,
            "withdrawal_reason": consent.withdrawal_reason,
        }
        for consent in consents
    ]
    return await _download("consents.json", {"end_user": end_user.username, "consents": records})


@end_user_page
async def export_access_log(request: Request, session: AsyncSession, end_user: EndUser) -> Response:
    rows = await session.scalars(
        select(UsageEvent)
        .where(UsageEvent.end_user_id == end_user.id)
        .order_by(UsageEvent.at)
        .limit(ACCESS_LOG_LIMIT)
    )
    events = [
        {
            "at": event.at.isoformat(),
            "application_id": event.application_id,
            "method": event.method,
            "operation": event.operation,
            "data_category": event.data_category,
            "status": event.status,
            "bytes_out": event.bytes_out,
            "request_id": event.request_id,
        }
        for event in rows
    ]
    # Requests are recorded per end user since the gateway's migration 0004; older ones are not.
    document = {"end_user": end_user.username, "limit": ACCESS_LOG_LIMIT, "events": events}
    return await _download("access-log.json", document)
