"""Production access: the developer asks, the provider approves or rejects with a reason (3.2)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.audit import record
from termgate.core.changes import record_access_change
from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.models import Application, Developer, Environment, utcnow
from termgate.db.programme import ProductionRequest, ReviewState
from termgate.notify.inbox import notify_developer


async def request_production(
    session: AsyncSession, application: Application, note: str, actor: str
) -> ProductionRequest:
    if application.environment is Environment.PRODUCTION:
        raise RegistryError(f"{application.name!r} already has production access")
    pending = await session.scalar(
        select(ProductionRequest.id).where(
            ProductionRequest.application_id == application.id,
            ProductionRequest.state == ReviewState.PENDING,
        )
    )
    if pending:
        raise RegistryError(f"{application.name!r} is already waiting for review")
    request = ProductionRequest(application_id=application.id, note=note.strip())
    session.add(request)
    await session.flush()
    await record(session, actor, "requested-production", "application", application.id)
    return request


async def decide(
    session: AsyncSession, request_id: str, *, approve: bool, reason: str, actor: str
) -> ProductionRequest:
    request = await session.get(ProductionRequest, request_id)
    if request is None:
        raise NotFoundError(f"no production request {request_id!r}")
    if request.state is not ReviewState.PENDING:
        raise RegistryError(f"this request was already {request.state.value}")
    why = reason.strip()
    if not approve and not why:
        raise RegistryError("a rejection needs a reason; the developer will read it")
    application = await session.get_one(Application, request.application_id)
    developer = await session.get_one(Developer, application.developer_id)
    request.state = ReviewState.APPROVED if approve else ReviewState.REJECTED
    request.decided_at = utcnow()
    request.decided_by = actor
    request.reason = why
    action = "approved-production" if approve else "rejected-production"
    await record(session, actor, action, "application", application.id, why)
    if approve:
        application.environment = Environment.PRODUCTION
        record_access_change(session, "application", application.id)
    verdict = "approved" if approve else "rejected"
    notify_developer(
        session,
        developer,
        "review",
        f"Production access for {application.name} {verdict}",
        f"The provider {verdict} production access for {application.name}."
        + (f"\n\nReason: {why}" if why else "")
        + (
            "\n\nSubscribe it to the Production product in the portal to get its keys."
            if approve
            else "\n\nYou can change the application and ask again."
        ),
    )
    return request


async def review_queue(session: AsyncSession) -> list[tuple[ProductionRequest, Application]]:
    query = (
        select(ProductionRequest, Application)
        .join(Application, ProductionRequest.application_id == Application.id)
        .where(ProductionRequest.state == ReviewState.PENDING)
        .order_by(ProductionRequest.requested_at)
    )
    return [(r, a) for r, a in (await session.execute(query)).all()]


async def requests_of(session: AsyncSession, application: Application) -> list[ProductionRequest]:
    query = (
        select(ProductionRequest)
        .where(ProductionRequest.application_id == application.id)
        .order_by(ProductionRequest.requested_at.desc())
    )
    return list(await session.scalars(query))
