"""Developers, applications, subscriptions and keys: read them, suspend and reinstate (3.1)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from termgate.core.errors import NotFoundError
from termgate.db.models import (
    Application,
    Developer,
    Plan,
    Status,
    Subscription,
    SubscriptionKey,
)
from termgate.registry.applications import list_applications
from termgate.registry.developers import list_developers
from termgate.registry.keys import revoke_key
from termgate.registry.status import change_status
from termgate.registry.terms import accepted_versions, all_versions
from termgate.web.admin_api.convert import (
    application_out,
    developer_out,
    key_out,
    paged,
    pagination,
    subscription_out,
    window,
)
from termgate.web.admin_api.framework import Call
from termgate.web.admin_api.models import (
    ApplicationDetail,
    ApplicationFilter,
    ApplicationOut,
    DeveloperDetail,
    DeveloperOut,
    KeyOut,
    Listing,
    Page,
    Revocation,
    StatusChange,
    SubscriptionDetail,
    SubscriptionFilter,
    SubscriptionOut,
)

PLAN_WITH_PRODUCT = selectinload(Subscription.plan).selectinload(Plan.product)


async def list_developers_op(call: Call) -> BaseModel:
    developers = [developer_out(d) for d in await list_developers(call.session)]
    return paged(Listing[DeveloperOut], developers, call.filters(Page))


async def get_developer(call: Call) -> BaseModel:
    developer = await call.session.get(Developer, call.path["developer_id"])
    if developer is None:
        raise NotFoundError(f"no developer {call.path['developer_id']!r}")
    accepted = await accepted_versions(call.session, developer)
    return DeveloperDetail(
        **developer_out(developer).model_dump(),
        applications=[application_out(a) for a in await list_applications(call.session, developer)],
        accepted_terms=[v.version for v in await all_versions(call.session) if v.id in accepted],
    )


async def list_applications_op(call: Call) -> BaseModel:
    query = call.filters(ApplicationFilter)
    statement = select(Application).order_by(Application.created_at)
    if query.developer_id is not None:
        statement = statement.where(Application.developer_id == query.developer_id)
    applications = [application_out(a) for a in await call.session.scalars(statement)]
    return paged(Listing[ApplicationOut], applications, query)


async def _subscriptions(call: Call, application_id: str | None) -> list[Subscription]:
    statement = (
        select(Subscription)
        .options(PLAN_WITH_PRODUCT, selectinload(Subscription.keys))
        .order_by(Subscription.created_at)
    )
    if application_id is not None:
        statement = statement.where(Subscription.application_id == application_id)
    return list(await call.session.scalars(statement))


def _subscription_detail(subscription: Subscription) -> SubscriptionDetail:
    keys = sorted(subscription.keys, key=lambda k: k.created_at)
    return SubscriptionDetail(
        **subscription_out(subscription, subscription.plan).model_dump(),
        keys=[key_out(k) for k in keys],
    )


async def get_application(call: Call) -> BaseModel:
    application = await call.session.get(Application, call.path["application_id"])
    if application is None:
        raise NotFoundError(f"no application {call.path['application_id']!r}")
    subscriptions = await _subscriptions(call, application.id)
    return ApplicationDetail(
        **application_out(application).model_dump(),
        subscriptions=[_subscription_detail(s) for s in subscriptions],
    )


async def list_subscriptions_op(call: Call) -> BaseModel:
    query = call.filters(SubscriptionFilter)
    subscriptions = await _subscriptions(call, query.application_id)
    rows = [subscription_out(s, s.plan) for s in subscriptions]
    return paged(Listing[SubscriptionOut], rows, query)


async def list_keys_op(call: Call) -> BaseModel:
    query = call.filters(SubscriptionFilter)
    statement = select(SubscriptionKey).join(
        Subscription, SubscriptionKey.subscription_id == Subscription.id
    )
    if query.application_id is not None:
        statement = statement.where(Subscription.application_id == query.application_id)
    total = await call.session.scalar(select(func.count()).select_from(statement.subquery()))
    part = window(query)
    rows = await call.session.scalars(
        statement.order_by(SubscriptionKey.created_at, SubscriptionKey.id)
        .offset(part.start)
        .limit(query.page_size)
    )
    return Listing[KeyOut](
        data=[key_out(k) for k in rows], pagination=pagination(query, int(total or 0))
    )


async def _described(call: Call, kind: str, party_id: str) -> BaseModel:
    if kind == "developer":
        return developer_out(await call.session.get_one(Developer, party_id))
    if kind == "application":
        return application_out(await call.session.get_one(Application, party_id))
    if kind == "subscription":
        subscription = await call.session.get_one(
            Subscription, party_id, options=[PLAN_WITH_PRODUCT]
        )
        return subscription_out(subscription, subscription.plan)
    return key_out(await call.session.get_one(SubscriptionKey, party_id))


def status_change(kind: str, status: Status) -> Callable[[Call], Awaitable[BaseModel]]:
    async def change(call: Call) -> BaseModel:
        party_id = call.path[f"{kind}_id"]
        reason = call.payload(StatusChange).reason
        await change_status(call.session, kind, party_id, status, reason, call.actor)
        return await _described(call, kind, party_id)

    change.__name__ = f"{'suspend' if status is Status.SUSPENDED else 'reinstate'}_{kind}"
    return change


async def revoke_key_op(call: Call) -> BaseModel:
    key_id = call.path["key_id"]
    if await call.session.get(SubscriptionKey, key_id) is None:
        raise NotFoundError(f"no key {key_id!r}")
    key = await revoke_key(call.session, key_id, call.payload(Revocation).reason, call.actor)
    return key_out(key)
