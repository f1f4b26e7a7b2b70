"""Developers, applications, subscriptions and keys: read them, suspend and reinstate (4.2),
revoke a key (2)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from inspect import Parameter, Signature
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from termgate.core.errors import NotFoundError
from termgate.db.models import Application, Developer, Plan, Status, Subscription, SubscriptionKey
from termgate.registry.applications import list_applications
from termgate.registry.developers import list_developers
from termgate.registry.keys import revoke_key
from termgate.registry.status import change_status
from termgate.registry.terms import accepted_versions, all_versions
from termgate.web.admin_api.access import Admin, Caller
from termgate.web.admin_api.models import (
    ApplicationDetail,
    ApplicationFilter,
    ApplicationOut,
    DeveloperDetail,
    DeveloperOut,
    Id,
    KeyOut,
    Listing,
    Page,
    Pagination,
    Revocation,
    StatusChange,
    SubscriptionDetail,
    SubscriptionFilter,
    SubscriptionOut,
)
from termgate.web.admin_api.problems import NOT_FOUND_ID, REFUSED, clause

router = APIRouter()
PLAN_WITH_PRODUCT = selectinload(Subscription.plan).selectinload(Plan.product)
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


def paged(kind: type[Item], rows: Sequence[Any], page: Page) -> Listing[Item]:
    items = [kind.model_validate(row) for row in rows[window(page)]]
    return Listing[kind](data=items, pagination=pagination(page, len(rows)))  # type: ignore[valid-type]


@router.get(
    "/developers",
    operation_id="listDevelopers",
    summary="List developer accounts",
    tags=["developers"],
    openapi_extra=clause("1"),
)
async def list_developers_op(admin: Admin, page: Annotated[Page, Query()]) -> Listing[DeveloperOut]:
    return paged(DeveloperOut, await list_developers(admin.session), page)


@router.get(
    "/developers/{developer_id}",
    operation_id="getDeveloper",
    summary="A developer with their applications and accepted terms versions",
    tags=["developers"],
    openapi_extra=clause("1"),
    responses=NOT_FOUND_ID,
)
async def get_developer(admin: Admin, developer_id: Id) -> DeveloperDetail:
    developer = await admin.session.get(Developer, developer_id)
    if developer is None:
        raise NotFoundError(f"no developer {developer_id!r}")
    accepted = await accepted_versions(admin.session, developer)
    return DeveloperDetail(
        **DeveloperOut.model_validate(developer).model_dump(),
        applications=await list_applications(admin.session, developer),
        accepted_terms=[v.version for v in await all_versions(admin.session) if v.id in accepted],
    )


@router.get(
    "/applications",
    operation_id="listApplications",
    summary="List applications",
    tags=["applications"],
    openapi_extra=clause("2"),
)
async def list_applications_op(
    admin: Admin, query: Annotated[ApplicationFilter, Query()]
) -> Listing[ApplicationOut]:
    statement = select(Application).order_by(Application.created_at)
    if query.developer_id is not None:
        statement = statement.where(Application.developer_id == query.developer_id)
    return paged(ApplicationOut, list(await admin.session.scalars(statement)), query)


async def _subscriptions(admin: Caller, application_id: str | None) -> list[Subscription]:
    statement = (
        select(Subscription)
        .options(PLAN_WITH_PRODUCT, selectinload(Subscription.keys))
        .order_by(Subscription.created_at)
    )
    if application_id is not None:
        statement = statement.where(Subscription.application_id == application_id)
    return list(await admin.session.scalars(statement))


@router.get(
    "/applications/{application_id}",
    operation_id="getApplication",
    summary="An application with its subscriptions and keys (by prefix)",
    tags=["applications"],
    openapi_extra=clause("2"),
    responses=NOT_FOUND_ID,
)
async def get_application(admin: Admin, application_id: Id) -> ApplicationDetail:
    application = await admin.session.get(Application, application_id)
    if application is None:
        raise NotFoundError(f"no application {application_id!r}")
    subscriptions = [
        SubscriptionDetail(
            **SubscriptionOut.model_validate(s).model_dump(),
            keys=sorted(s.keys, key=lambda k: k.created_at),
        )
        for s in await _subscriptions(admin, application.id)
    ]
    return ApplicationDetail(
        **ApplicationOut.model_validate(application).model_dump(), subscriptions=subscriptions
    )


@router.get(
    "/subscriptions",
    operation_id="listSubscriptions",
    summary="List subscriptions",
    tags=["subscriptions"],
    openapi_extra=clause("2"),
)
async def list_subscriptions_op(
    admin: Admin, query: Annotated[SubscriptionFilter, Query()]
) -> Listing[SubscriptionOut]:
    return paged(SubscriptionOut, await _subscriptions(admin, query.application_id), query)


@router.get(
    "/keys",
    operation_id="listKeys",
    summary="List subscription keys (prefixes only; never secrets)",
    tags=["keys"],
    openapi_extra=clause("2"),
)
async def list_keys_op(
    admin: Admin, query: Annotated[SubscriptionFilter, Query()]
) -> Listing[KeyOut]:
    statement = select(SubscriptionKey).join(
        Subscription, SubscriptionKey.subscription_id == Subscription.id
    )
    if query.application_id is not None:
        statement = statement.where(Subscription.application_id == query.application_id)
    total = await admin.session.scalar(select(func.count()).select_from(statement.subquery()))
    rows = await admin.session.scalars(
        statement.order_by(SubscriptionKey.created_at, SubscriptionKey.id)
        .offset(window(query).start)
        .limit(query.page_size)
    )
    return Listing[KeyOut](
        data=[KeyOut.model_validate(k) for k in rows],
        pagination=pagination(query, int(total or 0)),
    )


async def _described(admin: Caller, kind: str, party_id: str) -> BaseModel:
    if kind == "developer":
        return DeveloperOut.model_validate(await admin.session.get_one(Developer, party_id))
    if kind == "application":
        return ApplicationOut.model_validate(await admin.session.get_one(Application, party_id))
    if kind == "subscription":
        subscription = await admin.session.get_one(
            Subscription, party_id, options=[PLAN_WITH_PRODUCT]
        )
        return SubscriptionOut.model_validate(subscription)
    return KeyOut.model_validate(await admin.session.get_one(SubscriptionKey, party_id))


def _status_change(kind: str, status: Status) -> Callable[..., Coroutine[Any, Any, BaseModel]]:
    async def change(admin: Caller, body: StatusChange, **ids: str) -> BaseModel:
        [party_id] = ids.values()
        await change_status(admin.session, kind, party_id, status, body.reason, admin.actor)
        return await _described(admin, kind, party_id)

    # The path parameter is named after the party (`developer_id`), as the document shows it.
    change.__signature__ = Signature(  # type: ignore[attr-defined]
        [
            Parameter("admin", Parameter.KEYWORD_ONLY, annotation=Admin),
            Parameter(f"{kind}_id", Parameter.KEYWORD_ONLY, annotation=Id),
            Parameter("body", Parameter.KEYWORD_ONLY, annotation=StatusChange),
        ]
    )
    return change


PARTIES = (
    ("developer", "developers", DeveloperOut),
    ("application", "applications", ApplicationOut),
    ("subscription", "subscriptions", SubscriptionOut),
    ("key", "keys", KeyOut),
)
for _kind, _plural, _shown in PARTIES:
    for _verb, _status in (("suspend", Status.SUSPENDED), ("reinstate", Status.ACTIVE)):
        router.add_api_route(
            f"/{_plural}/{{{_kind}_id}}/{_verb}",
            _status_change(_kind, _status),
            methods=["POST"],
            response_model=_shown,
            operation_id=f"{_verb}{_kind.title()}",
            summary=f"{_verb.title()} a {_kind}, with a reason the developer reads",
            tags=[_plural],
            openapi_extra=clause("4.2"),
            responses=REFUSED,
        )


@router.post(
    "/keys/{key_id}/revoke",
    operation_id="revokeKey",
    summary="Revoke a key for good (clauses 1 and 2: the licence is revocable)",
    tags=["keys"],
    openapi_extra=clause("2"),
    responses=REFUSED,
)
async def revoke_key_op(admin: Admin, key_id: Id, body: Revocation) -> KeyOut:
    if await admin.session.get(SubscriptionKey, key_id) is None:
        raise NotFoundError(f"no key {key_id!r}")
    key = await revoke_key(admin.session, key_id, body.reason, admin.actor)
    return KeyOut.model_validate(key)
