"""The demo's people and records, seeded idempotently.

- a provider administrator (console login and the admin API),
- Demi, a developer whose application is approved for production, with sandbox and production
  keys,
- Bram, a developer whose application waits in the review queue,
- the payroll product's logins (end users) of the published API's world for the demo's seed,
  each seeing real debtors (GUIDs) of that world; the first two debtors play the sandbox's.

Run again, seeding keeps what exists and reuses the keys recorded in the credentials file while
they are live (a key's secret cannot be read back from its hash).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.core.passwords import hash_off_loop
from termgate.db.models import Application, Developer, Environment, Status, utcnow
from termgate.db.oauth import EndUser
from termgate.db.programme import Administrator, ProductionRequest, ReviewState
from termgate.governance.maintenance_calendar import ensure_default_rule
from termgate.identity.clients import client_secret_matches, issue_client_secret
from termgate.identity.consents import grant_consent, live_consents, withdraw
from termgate.identity.end_users import (
    environment_of,
    import_end_users,
    upstream_user_id,
    visible_debtors,
)
from termgate.identity.signing_keys import seal_of
from termgate.identity.tokens import open_family, token_for_family
from termgate.reference_api import World, generate
from termgate.registry.admins import create_administrator
from termgate.registry.applications import create_application, parse_redirect_uris
from termgate.registry.developers import create_developer
from termgate.registry.keys import issue_key, key_for_secret, subscribe
from termgate.registry.products import ensure_default_products, find_plan
from termgate.registry.reviews import decide, request_production
from termgate.registry.terms import accept_terms, publish_reference_terms
from termgate.settings import Settings

ADMIN = ("admin@provider.example", "Pat Provider", "console-demo-2026")
DEMI = ("demi@payroll-insights.example", "Demi de Vries", "Payroll Insights B.V.")
BRAM = ("bram@hr-sync.example", "Bram Bakker", "HR Sync")
DEVELOPER_PASSWORD = "portal-demo-2026"
END_USER_PASSWORD = "payroll-demo-2026"
EXAMPLE_CLIENT_PATH = "/example-client/callback"
SEEDER = "termgate demo seed"
SEED_ACTOR = "demo-seed"  # the audit trail's actor for what the demo creates


SANDBOX_DEBTOR_COUNT = 2  # the world's first debtors play the sandbox's customers


@dataclass(frozen=True)
class DemoLogin:
    """A login of the published API's world as the identity store hands it over, named by the
    world's own id (a GUID): the gateway sends it as `X-Termgate-User`, and the API answers
    `GET /api/user/info` for that user."""

    id: str
    username: str
    email: str
    display_name: str
    debtor_ids: tuple[str, ...]


def demo_logins(world: World) -> list[DemoLogin]:
    return [
        DemoLogin(user.id, user.username, user.email, user.display_name, user.debtor_ids)
        for user in world.end_users
    ]


def sandbox_debtors(world: World) -> list[str]:
    return [debtor.id for debtor in world.debtors[:SANDBOX_DEBTOR_COUNT]]


def _login_of(user: EndUser, logins: list[DemoLogin]) -> DemoLogin | None:
    """The world's login `user` is: by its id, or, in a database seeded while termgate numbered
    the logins (1, 2, … in the world's order), by that number."""
    for number, login in enumerate(logins, start=1):
        if user.upstream_id in (login.id, str(number)):
            return login
    return None


async def follow_the_world(session: AsyncSession, settings: Settings, world: World) -> None:
    """A demo database seeded earlier holds the same logins, perhaps under the numbers termgate
    gave them (they take the world's GUIDs, so the API knows whom the gateway names) and seeing
    other debtors (`1001`): each is brought up to date with the world, and its consents, which
    name debtors it no longer sees, are withdrawn with their tokens."""
    logins = demo_logins(world)
    sandbox = frozenset(sandbox_debtors(world))
    for user in list(await session.scalars(select(EndUser))):
        login = _login_of(user, logins)
        if login is None:
            continue
        user.upstream_id = upstream_user_id(login)
        if user.debtors == visible_debtors(login):
            await session.flush()
            continue
        user.username, user.email = login.username, login.email
        user.display_name = login.display_name
        user.debtor_ids = ",".join(visible_debtors(login))
        user.environment = environment_of(visible_debtors(login), sandbox)
        for consent in await live_consents(session, user.id):
            await withdraw(
                session, consent, "the account's customers changed", SEEDER, settings.now()
            )
        await session.flush()  # one login at a time: usernames stay unique at every step


async def world_ordered(session: AsyncSession, world: World) -> list[EndUser]:
    """The world's logins as termgate end users, in the world's order (the first is the one
    the demo's token speaks for)."""
    position = {user.id: index for index, user in enumerate(world.end_users)}
    users = await session.scalars(select(EndUser).where(EndUser.upstream_id.in_(list(position))))
    return sorted(users, key=lambda user: position[user.upstream_id])


@dataclass(frozen=True)
class DemoApplication:
    name: str
    use_case: str
    category: str
    scopes: str
    redirect_uri: str
    end_users: int
    data_access: str


DEMI_APP = DemoApplication(
    "Payroll Insights",
    "Dashboards of salary costs per company for the customer's own accountants.",
    "analytics",
    "debtor.info.read company.info.read employee.info.read employee.employment.read",
    "https://app.payroll-insights.example/oauth/callback",
    250,
    "periodic_reports",
)
BRAM_APP = DemoApplication(
    "HR Sync",
    "Keeps the customer's HR system in step with employee records and leave.",
    "hr",
    "employee.info.read employee.employment.read employee.leave.read",
    "https://hr-sync.example/callback",
    40,
    "scheduled_sync",
)


@dataclass(frozen=True)
class DemoCredentials:
    """What `var/demo-credentials.json` holds for people and scripts."""

    gateway_url: str
    subscription_key: str
    production_subscription_key: str
    application_id: str
    client_id: str
    client_secret: str
    access_token: str
    redirect_uri: str
    end_users: list[dict[str, object]]
    developer_email: str
    developer_password: str
    pending_developer_email: str
    console_email: str
    console_password: str

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        if path.is_file():  # it holds secrets: readable by its owner only
            path.chmod(0o600)


def read_previous(path: Path) -> dict[str, Any]:
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return stored if isinstance(stored, dict) else {}


async def _administrator(session: AsyncSession) -> None:
    email, name, password = ADMIN
    if not await session.scalar(select(Administrator.id).where(Administrator.email == email)):
        await create_administrator(
            session, email=email, name=name, password=password, actor=SEED_ACTOR
        )


async def _developer(
    session: AsyncSession, settings: Settings, person: tuple[str, str, str]
) -> Developer:
    email, name, organisation = person
    developer = await session.scalar(select(Developer).where(Developer.email == email))
    if developer is None:
        developer = await create_developer(
            session, email=email, name=name, organisation=organisation, actor=SEED_ACTOR
        )
        developer.password_hash = await hash_off_loop(DEVELOPER_PASSWORD)
        developer.email_verified_at = utcnow()
    terms = await publish_reference_terms(session, settings, SEED_ACTOR)
    await accept_terms(
        session, developer, terms, "127.0.0.1", "termgate demo seed", recorded_by=SEED_ACTOR
    )
    return developer


async def _application(
    session: AsyncSession, developer: Developer, app: DemoApplication
) -> Application:
    found = await session.scalar(
        select(Application).where(
            Application.developer_id == developer.id, Application.name == app.name
        )
    )
    if found is not None:
        return found
    return await create_application(
        session,
        developer,
        name=app.name,
        description=app.use_case,
        use_case=app.use_case,
        use_case_category=app.category,
        data_access=app.data_access,
        requested_scopes=app.scopes,
        redirect_uris=app.redirect_uri,
        expected_end_users=app.end_users,
        actor=SEED_ACTOR,
    )


async def _live_key(
    session: AsyncSession, application: Application, product: str, previous: object
) -> str:
    plan = await find_plan(session, product)
    subscription = await subscribe(session, application, plan, actor=SEED_ACTOR)
    if isinstance(previous, str):
        row = await key_for_secret(session, previous)
        if (
            row is not None
            and row.status is Status.ACTIVE
            and row.subscription_id == subscription.id
        ):
            return previous
    return (await issue_key(session, subscription, actor=SEED_ACTOR)).secret


async def _register_example_client(
    session: AsyncSession, settings: Settings, application: Application
) -> str:
    """The demo's example client page signs end users in for this application."""
    uri = settings.base_url + EXAMPLE_CLIENT_PATH
    uris = application.redirect_uris.splitlines()
    if uri not in uris:
        application.redirect_uris = parse_redirect_uris("\n".join([*uris, uri]))
    return uri


async def _client_secret(session: AsyncSession, application: Application, previous: object) -> str:
    if isinstance(previous, str) and client_secret_matches(application, previous):
        return previous
    return await issue_client_secret(session, application, "termgate demo seed")


async def _demo_access_token(
    session: AsyncSession, settings: Settings, application: Application, user: EndUser
) -> str:
    """A token as the example client would hold after the payroll product's first login had
    consented to share their one customer: the demo's curl line works without the flow."""
    consents = await live_consents(session, user.id, application.id)
    consent = (
        consents[0]
        if consents
        else await grant_consent(
            session,
            end_user=user,
            application=application,
            scopes=application.requested_scopes,
            debtors=user.debtors,
            ip="127.0.0.1",
            user_agent="termgate demo seed",
            now=settings.now(),
        )
    )
    family = await open_family(session, consent)
    return await token_for_family(
        session, family, settings.issuer, settings.now(), seal_of(settings)
    )


async def seed_demo(
    session: AsyncSession,
    settings: Settings,
    previous: dict[str, Any],
    *,
    maintenance_window: bool = True,
) -> DemoCredentials:
    await ensure_default_products(session, SEED_ACTOR)
    if maintenance_window:
        await ensure_default_rule(session, SEED_ACTOR)
    await _administrator(session)
    demi = await _developer(session, settings, DEMI)
    insights = await _application(session, demi, DEMI_APP)
    if insights.environment is not Environment.PRODUCTION:
        request = await request_production(session, insights, "Launch customers waiting.", DEMI[0])
        await decide(
            session, request.id, approve=True, reason="Use case fits clause 3.2.", actor=ADMIN[0]
        )
    bram = await _developer(session, settings, BRAM)
    sync = await _application(session, bram, BRAM_APP)
    pending = await session.scalar(
        select(ProductionRequest.id).where(
            ProductionRequest.application_id == sync.id,
            ProductionRequest.state == ReviewState.PENDING,
        )
    )
    if sync.environment is not Environment.PRODUCTION and not pending:
        await request_production(session, sync, "Pilot with two customers.", BRAM[0])
    example_redirect = await _register_example_client(session, settings, insights)
    client_secret = await _client_secret(session, insights, previous.get("client_secret"))
    world = generate(settings.seed, settings.employees)
    await follow_the_world(session, settings, world)
    await import_end_users(session, demo_logins(world), END_USER_PASSWORD, sandbox_debtors(world))
    users = await world_ordered(session, world)
    access_token = await _demo_access_token(session, settings, insights, users[0])
    logins: list[dict[str, object]] = [
        {
            "username": user.username,
            "password": END_USER_PASSWORD,
            "environment": user.environment.value,
            "debtors": list(user.debtors),
        }
        for user in users
    ]
    return DemoCredentials(
        gateway_url=settings.base_url,
        client_id=insights.id,
        client_secret=client_secret,
        access_token=access_token,
        redirect_uri=example_redirect,
        end_users=logins,
        subscription_key=await _live_key(
            session, insights, "sandbox", previous.get("subscription_key")
        ),
        production_subscription_key=await _live_key(
            session, insights, "production", previous.get("production_subscription_key")
        ),
        application_id=insights.id,
        developer_email=demi.email,
        developer_password=DEVELOPER_PASSWORD,
        pending_developer_email=bram.email,
        console_email=ADMIN[0],
        console_password=ADMIN[2],
    )
