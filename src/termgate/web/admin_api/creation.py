"""Creating developers, applications, subscriptions and keys (clauses 1, 2, 3.2): the provider
onboards a developer without the portal. Each creation is audited with the administrator as the
actor; a key's secret is in the one response that creates it, never stored and never cached."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from sqlalchemy import select

from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.models import Application, Developer, Status, Subscription
from termgate.registry.accounts import send_invitation
from termgate.registry.applications import create_application, parse_redirect_uris
from termgate.registry.developers import create_developer
from termgate.registry.keys import issue_key, subscribe
from termgate.registry.plans import find_plan_ref
from termgate.registry.scopes import parse_scopes
from termgate.registry.terms import accept_terms, current_terms
from termgate.web.admin_api.access import Admin
from termgate.web.admin_api.models import (
    ApplicationDraft,
    ApplicationOut,
    DeveloperDraft,
    DeveloperOut,
    Id,
    IssuedKeyOut,
    KeyDraft,
    KeyOut,
    SubscriptionDraft,
    SubscriptionOut,
)
from termgate.web.admin_api.parties import PLAN_WITH_PRODUCT
from termgate.web.admin_api.problems import (
    NOT_FOUND_ID,
    REFUSED,
    Documented,
    InvalidRequestError,
    clause,
)
from termgate.web.context import web

router = APIRouter()
BASE = "/admin/api"
HEADERS = {"Location": {"description": "where the new resource is", "schema": {"type": "string"}}}
NO_STORE = {
    **HEADERS,
    "Cache-Control": {
        "description": "`no-store`: the secret is not cached",
        "schema": {"type": "string"},
    },
}
CREATED = {201: {"headers": HEADERS}, **REFUSED}
DUPLICATE: Documented = {
    409: {"description": "it exists already, or is refused in the current state"}
}
# Recorded in the acceptance ledger in place of an address and a browser (clause 1).
OFFLINE = ("offline", "recorded by an administrator with the admin API (signed agreement)")
APPLICATION_EXAMPLES = {
    "oauth": {
        "summary": "An OAuth client asking for one permission",
        "value": {
            "name": "Payroll insights",
            "useCase": "Monthly payroll reports for the customer's own management.",
            "useCaseCategory": "analytics",
            "redirectUris": ["https://insights.example/callback"],
        },
    }
}


SUBSCRIPTION_EXAMPLES = {
    "sandbox": {"summary": "The sandbox's free plan", "value": {"plan": "sandbox/free"}}
}


def _field(name: str, error: RegistryError) -> InvalidRequestError:
    return InvalidRequestError([{"name": name, "reason": str(error)}])


@router.post(
    "/developers",
    operation_id="createDeveloper",
    summary="Create a developer account; with invite, they are mailed a link to set a password",
    tags=["developers"],
    status_code=201,
    openapi_extra=clause("1"),
    responses={201: {"headers": HEADERS}, **DUPLICATE},
)
async def create_developer_op(
    admin: Admin, body: DeveloperDraft, response: Response
) -> DeveloperOut:
    terms = await current_terms(admin.session) if body.accept_terms else None
    if body.accept_terms and terms is None:
        raise RegistryError("no terms are published yet, so none can be accepted (clause 1)")
    developer = await create_developer(
        admin.session,
        email=body.email,
        name=body.name,
        organisation=body.organisation,
        actor=admin.actor,
    )
    if terms is not None:
        await accept_terms(admin.session, developer, terms, *OFFLINE, recorded_by=admin.actor)
    if body.invite:
        await send_invitation(admin.session, admin.settings, developer)
    response.headers["location"] = f"{BASE}/developers/{developer.id}"
    return DeveloperOut.model_validate(developer)


def _redirect_uris(body: ApplicationDraft) -> str:
    try:
        return parse_redirect_uris("\n".join(body.redirect_uris))
    except RegistryError as error:
        raise _field("redirectUris", error) from None


@router.post(
    "/developers/{developer_id}/applications",
    operation_id="createApplication",
    summary="Create an application of a developer, with sandbox access until a production review",
    tags=["applications"],
    status_code=201,
    openapi_extra=clause("3.2"),
    responses=CREATED,
)
async def create_application_op(
    admin: Admin,
    request: Request,
    developer_id: Id,
    body: Annotated[ApplicationDraft, Body(openapi_examples=APPLICATION_EXAMPLES)],
    response: Response,
) -> ApplicationOut:
    developer = await admin.session.get(Developer, developer_id)
    if developer is None:
        raise NotFoundError(f"no developer {developer_id!r}")
    redirect_uris = _redirect_uris(body)
    scopes = ""
    if body.requested_scopes:
        try:
            scopes = parse_scopes(body.requested_scopes, web(request).scopes)
        except RegistryError as error:
            raise _field("requestedScopes", error) from None
    if developer.status is Status.REVOKED:
        raise RegistryError(f"{developer.email} was revoked; no new applications")
    application = await create_application(
        admin.session,
        developer,
        name=body.name,
        description=body.description,
        use_case=body.use_case,
        use_case_category=body.use_case_category,
        data_access=body.data_access,
        requested_scopes=scopes,
        redirect_uris=redirect_uris,
        expected_end_users=body.expected_end_users,
        actor=admin.actor,
    )
    response.headers["location"] = f"{BASE}/applications/{application.id}"
    return ApplicationOut.model_validate(application)


@router.post(
    "/applications/{application_id}/subscriptions",
    operation_id="createSubscription",
    summary="Subscribe an application to a plan (production plans need production access)",
    tags=["subscriptions"],
    status_code=201,
    openapi_extra=clause("3.2"),
    responses=CREATED,
)
async def create_subscription_op(
    admin: Admin,
    application_id: Id,
    body: Annotated[SubscriptionDraft, Body(openapi_examples=SUBSCRIPTION_EXAMPLES)],
    response: Response,
) -> SubscriptionOut:
    application = await admin.session.get(Application, application_id)
    if application is None:
        raise NotFoundError(f"no application {application_id!r}")
    try:
        plan = await find_plan_ref(admin.session, body.plan)
    except NotFoundError as error:
        raise _field("plan", error) from None
    if application.status is Status.REVOKED:
        raise RegistryError(f"{application.name!r} was revoked; no new subscriptions")
    existing = await admin.session.scalar(
        select(Subscription.id).where(
            Subscription.application_id == application.id,
            Subscription.plan_id == plan.id,
            Subscription.status != Status.REVOKED,
        )
    )
    if existing is not None:
        raise RegistryError(
            f"{application.name!r} is already subscribed to {body.plan}: {existing}"
        )
    subscription = await subscribe(admin.session, application, plan, actor=admin.actor)
    response.headers["location"] = f"{BASE}/subscriptions?applicationId={application.id}"
    shown = await admin.session.get_one(Subscription, subscription.id, options=[PLAN_WITH_PRODUCT])
    return SubscriptionOut.model_validate(shown)


@router.post(
    "/subscriptions/{subscription_id}/keys",
    operation_id="issueKey",
    summary="Issue a key; its secret is in this response only (clause 2: not transferable)",
    tags=["keys"],
    status_code=201,
    openapi_extra=clause("2"),
    responses={201: {"headers": NO_STORE}, **NOT_FOUND_ID, **DUPLICATE},
)
async def issue_key_op(
    admin: Admin,
    subscription_id: Id,
    response: Response,
    body: Annotated[KeyDraft | None, Body()] = None,
) -> IssuedKeyOut:
    subscription = await admin.session.get(Subscription, subscription_id)
    if subscription is None:
        raise NotFoundError(f"no subscription {subscription_id!r}")
    if subscription.status is Status.REVOKED:
        raise RegistryError("the subscription was revoked; subscribe the application again")
    slot = body.slot if body else "primary"
    issued = await issue_key(admin.session, subscription, slot, actor=admin.actor)
    response.headers["cache-control"] = "no-store"
    response.headers["location"] = f"{BASE}/keys?applicationId={subscription.application_id}"
    return IssuedKeyOut(**KeyOut.model_validate(issued.row).model_dump(), secret=issued.secret)
