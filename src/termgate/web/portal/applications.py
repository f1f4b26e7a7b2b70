"""Applications, production requests, subscriptions and their keys (shown once)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from termgate.core.errors import NotFoundError, RegistryError
from termgate.db.models import (
    Application,
    Developer,
    Environment,
    Plan,
    Product,
    Status,
    Subscription,
)
from termgate.identity.clients import issue_client_secret
from termgate.registry.applications import (
    USE_CASE_CATEGORIES,
    create_application,
    list_applications,
)
from termgate.registry.keys import SLOTS, issue_key, subscribe, subscriptions_of
from termgate.registry.reviews import request_production, requests_of
from termgate.registry.scopes import parse_scopes
from termgate.strict import whole_number
from termgate.web.context import checked_form, field, flash, redirect, render, web
from termgate.web.pages import developer_page
from termgate.web.portal.home import portal_context


async def own_application(session: AsyncSession, developer: Developer, app_id: str) -> Application:
    application = await session.get(Application, app_id)
    if application is None or application.developer_id != developer.id:
        raise NotFoundError("no such application of yours")
    return application


async def list_apps(request: Request, session: AsyncSession, developer: Developer) -> Response:
    return render(
        request,
        "portal/apps.html",
        here="apps",
        applications=await list_applications(session, developer),
        categories=USE_CASE_CATEGORIES,
        **await portal_context(session, developer),
    )


async def show_new_app(
    request: Request, session: AsyncSession, developer: Developer, error: str = ""
) -> Response:
    form = await request.form() if request.method == "POST" else None
    values = {
        name: str(form.get(name, "")) if form else ""
        for name in (
            "name",
            "description",
            "use_case_category",
            "data_access",
            "use_case",
            "redirect_uris",
        )
    }
    values["expected_end_users"] = str(form.get("expected_end_users", "")) if form else ""
    values["scopes"] = [str(v) for v in form.getlist("scopes")] if form else []  # type: ignore[assignment]
    return render(
        request,
        "portal/app_new.html",
        here="apps",
        form=values,
        scopes=web(request).scopes,
        categories=USE_CASE_CATEGORIES,
        error=error,
        **await portal_context(session, developer),
    )


def _end_users(text: str) -> int | None:
    if not text:
        return None
    number = whole_number(text)
    if number is None:
        raise RegistryError("the expected number of end users must be a whole number")
    return number


async def new_app(request: Request, session: AsyncSession, developer: Developer) -> Response:
    if request.method != "POST":
        return await show_new_app(request, session, developer)
    form = await checked_form(request)
    if not field(form, "use_case"):
        raise RegistryError("say why the application needs payroll data (clause 3.2)")
    if not field(form, "data_access"):
        raise RegistryError("say how the application reads data (clause 3.2)")
    scopes = [str(scope) for scope in form.getlist("scopes")]
    if not scopes:
        raise RegistryError("choose at least one permission; only those it needs (clause 3.3 e)")
    application = await create_application(
        session,
        developer,
        name=field(form, "name"),
        description=field(form, "description"),
        use_case=field(form, "use_case"),
        use_case_category=field(form, "use_case_category") or "other",
        data_access=field(form, "data_access"),
        requested_scopes=parse_scopes(scopes, web(request).scopes),
        redirect_uris=str(form.get("redirect_uris", "")),
        expected_end_users=_end_users(field(form, "expected_end_users")),
        actor=developer.email,
    )
    flash(request, f"{application.name} is registered with sandbox access.")
    return redirect(f"/portal/apps/{application.id}")


async def _available_plans(session: AsyncSession, application: Application) -> list[Plan]:
    environments = [Environment.SANDBOX]
    if application.environment is Environment.PRODUCTION:
        environments.append(Environment.PRODUCTION)
    query = (
        select(Plan)
        .join(Product, Plan.product_id == Product.id)
        .where(Product.environment.in_(environments))
        .options(selectinload(Plan.product))
        .order_by(Product.environment, Plan.price_cents_per_month)
    )
    return list(await session.scalars(query))


async def show_app(
    request: Request, session: AsyncSession, developer: Developer, error: str = ""
) -> Response:
    application = await own_application(session, developer, request.path_params["app_id"])
    subscriptions = await subscriptions_of(session, application)
    subscribed = {subscription.plan_id for subscription in subscriptions}
    return render(
        request,
        "portal/app_detail.html",
        here="apps",
        app=application,
        reviews=await requests_of(session, application),
        subscriptions=subscriptions,
        plans=[p for p in await _available_plans(session, application) if p.id not in subscribed],
        categories=USE_CASE_CATEGORIES,
        error=error,
        **await portal_context(session, developer),
    )


async def ask_production(request: Request, session: AsyncSession, developer: Developer) -> Response:
    form = await checked_form(request)
    application = await own_application(session, developer, request.path_params["app_id"])
    await request_production(session, application, field(form, "note"), developer.email)
    flash(request, "Your request is in the provider's review queue; you hear back in your inbox.")
    return redirect(f"/portal/apps/{application.id}")


async def _keys_page(
    request: Request,
    session: AsyncSession,
    developer: Developer,
    application: Application,
    product: str,
    keys: list[tuple[str, str]],
) -> Response:
    response = render(
        request,
        "portal/secrets_issued.html",
        heading="Copy your key now" if len(keys) == 1 else "Copy your keys now",
        explanation="Send a key in the X-Subscription-Key header; keep the other for rotation.",
        app=application,
        product=product,
        secrets=[(f"{slot.capitalize()} key", slot, secret) for slot, secret in keys],
        **await portal_context(session, developer),
    )
    response.headers["cache-control"] = "no-store"  # the secrets must not linger in caches
    return response


async def subscribe_app(request: Request, session: AsyncSession, developer: Developer) -> Response:
    form = await checked_form(request)
    application = await own_application(session, developer, request.path_params["app_id"])
    if application.status is not Status.ACTIVE:
        raise RegistryError(f"{application.name} is {application.status.value}; no new keys")
    plan = next(
        (p for p in await _available_plans(session, application) if p.id == field(form, "plan")),
        None,
    )
    if plan is None:
        raise RegistryError("choose one of the plans offered to this application (clause 3.2)")
    subscription = await subscribe(session, application, plan, actor=developer.email)
    keys = [
        (slot, (await issue_key(session, subscription, slot, actor=developer.email)).secret)
        for slot in SLOTS
    ]
    product = f"{plan.product.name} · {plan.name}"
    return await _keys_page(request, session, developer, application, product, keys)


async def regenerate_key(request: Request, session: AsyncSession, developer: Developer) -> Response:
    await checked_form(request)
    application = await own_application(session, developer, request.path_params["app_id"])
    subscription = await session.get(Subscription, request.path_params["subscription_id"])
    if subscription is None or subscription.application_id != application.id:
        raise NotFoundError("no such subscription of this application")
    slot = request.path_params["slot"]
    issued = await issue_key(session, subscription, slot, actor=developer.email)
    plan = await session.get_one(Plan, subscription.plan_id, options=[selectinload(Plan.product)])
    product = f"{plan.product.name} · {plan.name}"
    keys = [(slot, issued.secret)]
    return await _keys_page(request, session, developer, application, product, keys)


async def new_client_secret(
    request: Request, session: AsyncSession, developer: Developer
) -> Response:
    await checked_form(request)
    application = await own_application(session, developer, request.path_params["app_id"])
    secret = await issue_client_secret(session, application, developer.email)
    response = render(
        request,
        "portal/secrets_issued.html",
        heading="Copy your client secret now",
        explanation="Your OAuth client authenticates with it at the token endpoint (HTTP Basic, "
        "client id and secret each percent-encoded). The previous secret no longer works.",
        app=application,
        product=None,
        secrets=[("Client secret", "client", secret)],
        **await portal_context(session, developer),
    )
    response.headers["cache-control"] = "no-store"
    return response


routes = [
    Route("/apps", developer_page(list_apps)),
    Route("/apps/new", developer_page(new_app, show_new_app), methods=["GET", "POST"]),
    Route("/apps/{app_id}", developer_page(show_app)),
    Route("/apps/{app_id}/production", developer_page(ask_production, show_app), methods=["POST"]),
    Route("/apps/{app_id}/subscribe", developer_page(subscribe_app, show_app), methods=["POST"]),
    Route(
        "/apps/{app_id}/client-secret",
        developer_page(new_client_secret, show_app),
        methods=["POST"],
    ),
    Route(
        "/apps/{app_id}/subscriptions/{subscription_id}/keys/{slot}",
        developer_page(regenerate_key, show_app),
        methods=["POST"],
    ),
]
