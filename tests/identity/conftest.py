"""The control plane over ASGI at an https issuer, with a developer, clients and end users.

The end users are the logins of the published API's world (`termgate.reference_api.generate`),
seeing its debtors (GUIDs); its first two debtors play the sandbox's customers.

The issuer is https (as every deployment's is): Authlib, on both sides, refuses OAuth over plain
http to anything but the loopback.
"""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from termgate.db.models import Environment
from termgate.db.oauth import EndUser
from termgate.identity.clients import issue_client_secret
from termgate.identity.end_users import import_end_users
from termgate.reference_api import World as PayrollWorld
from termgate.reference_api import generate
from termgate.registry.applications import create_application
from termgate.registry.developers import create_developer
from termgate.registry.products import ensure_default_products
from termgate.registry.scopes import api_scopes
from termgate.registry.terms import accept_terms, current_terms, publish_reference_terms
from termgate.settings import Settings, load_settings
from termgate.web.app import create_control_app
from tests.conftest import free_port
from tests.gateway.conftest import PUBLISHED_EMPLOYEES, PUBLISHED_SEED
from tests.support.contract import published_document
from tests.web.conftest import Site

ISSUER = "https://portal.test"
PASSWORD = "payroll login 2026"
REDIRECT_URI = "https://app.example/callback"
SCOPES = "employee.info.read company.info.read"
INTERACTION = re.compile(r'name="interaction" value="([^"]+)"')
# The world the gateway tests' `published_upstream` serves: a gateway in front of it meets
# these end users' debtors.
SEED, EMPLOYEES = PUBLISHED_SEED, PUBLISHED_EMPLOYEES
SANDBOX_CUSTOMERS = 2  # the world's first debtors play the sandbox's customers


@dataclass(frozen=True)
class Client:
    client_id: str
    secret: str | None
    redirect_uri: str = REDIRECT_URI

    @property
    def basic(self) -> httpx.BasicAuth:
        assert self.secret is not None
        return httpx.BasicAuth(self.client_id, self.secret)


@dataclass
class World:
    site: Site
    confidential: Client
    public: Client
    sandbox_user: EndUser  # sees customers[0]
    production_user: EndUser  # sees customers[2]
    accountant: EndUser  # sees customers[0] and customers[1]
    customers: tuple[str, ...]  # the payroll world's debtor ids (GUIDs), in its order


async def import_logins(
    session: AsyncSession, payroll: PayrollWorld, count: int | None = None
) -> list[EndUser]:
    """The world's first `count` logins (all by default) as end users with PASSWORD; those that
    see only the sandbox's customers are sandbox end users."""
    sandbox = [debtor.id for debtor in payroll.debtors[:SANDBOX_CUSTOMERS]]
    return await import_end_users(session, payroll.end_users[:count], PASSWORD, sandbox)


@pytest.fixture
async def identity_settings() -> AsyncIterator[Settings]:
    """The upstream is a port bound for this test and never listening: whatever runs on the
    machine, the consent page meets an unreachable API (and shows the accounts' numbers)."""
    with socket.socket() as unreachable:
        unreachable.bind(("127.0.0.1", 0))
        port = unreachable.getsockname()[1]
        yield load_settings(
            secret_key="x" * 40,
            smtp_port=free_port(),
            public_url=ISSUER,
            upstream_url=f"http://127.0.0.1:{port}",
        )


@pytest.fixture
async def idp(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    identity_settings: Settings,
) -> AsyncIterator[Site]:
    async with sessions.begin() as session:
        await ensure_default_products(session)
        await publish_reference_terms(session, identity_settings)
    app = create_control_app(identity_settings, engine)
    app.state.web.scopes = api_scopes(published_document())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
        yield Site(client, sessions, identity_settings)


async def register_client(
    site: Site,
    name: str,
    *,
    public: bool = False,
    environment: Environment = Environment.PRODUCTION,
    email: str | None = None,
) -> Client:
    async with site.sessions.begin() as session:
        developer = await create_developer(
            session,
            email=email or f"{name.lower().replace(' ', '-')}@dev.example",
            name=name,
            actor="tests",
        )
        developer.organisation = f"{name} B.V."
        terms = await current_terms(session)
        assert terms is not None
        await accept_terms(session, developer, terms, "127.0.0.1", "tests")
        application = await create_application(
            session,
            developer,
            name=name,
            use_case="Monthly salary journal entries for the customer's own books.",
            use_case_category="accounting",
            requested_scopes=SCOPES,
            redirect_uris=f"{REDIRECT_URI}\nhttp://127.0.0.1:9000/cb",
            actor="tests",
        )
        application.environment = environment
        secret = None if public else await issue_client_secret(session, application, "tests")
        return Client(application.id, secret)


@pytest.fixture
async def world(idp: Site) -> World:
    payroll = generate(SEED, EMPLOYEES)
    async with idp.sessions.begin() as session:
        users = await import_logins(session, payroll)
    customers = tuple(debtor.id for debtor in payroll.debtors)
    by_debtors = {frozenset(user.debtors): user for user in users}
    return World(
        site=idp,
        confidential=await register_client(idp, "Salary Sync"),
        public=await register_client(idp, "Payslip Phone", public=True),
        sandbox_user=by_debtors[frozenset(customers[:1])],
        production_user=by_debtors[frozenset(customers[2:3])],
        accountant=by_debtors[frozenset(customers[:2])],
        customers=customers,
    )


async def sign_in(site: Site, end_user: EndUser, next_path: str) -> httpx.Response:
    token = await site.csrf(f"/connect/login?next={next_path}")
    return await site.client.post(
        "/connect/login",
        data={
            "csrf_token": token,
            "next": next_path,
            "username": end_user.username,
            "password": PASSWORD,
        },
    )


async def consent_page(site: Site, end_user: EndUser, params: dict[str, str]) -> httpx.Response:
    """The page /connect/authorize answers once the end user has signed in (or an error)."""
    answer = await site.client.get("/connect/authorize", params=params)
    location = answer.headers.get("location", "")
    if answer.status_code == 303 and location.startswith("/connect/login"):
        next_path = parse_qs(urlsplit(location).query)["next"][0]
        signed_in = await sign_in(site, end_user, next_path)
        assert signed_in.status_code == 303, signed_in.text
        answer = await site.client.get(signed_in.headers["location"])
    return answer


async def decide(
    site: Site, page: httpx.Response, decision: str = "allow", debtors: tuple[str, ...] = ()
) -> httpx.Response:
    assert page.status_code == 200, (page.headers.get("location"), page.text)
    interaction = INTERACTION.search(page.text)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert interaction
    assert csrf
    data = {
        "csrf_token": csrf.group(1),
        "interaction": interaction.group(1),
        "decision": decision,
        "debtor": list(debtors),
    }
    return await site.client.post("/connect/authorize", data=data)


async def authorize(
    site: Site, end_user: EndUser, params: dict[str, str], debtors: tuple[str, ...] | None = None
) -> dict[str, str]:
    """Sign in, allow, and return the query the client's redirect URI receives."""
    page = await consent_page(site, end_user, params)
    answer = await decide(site, page, "allow", debtors or end_user.debtors)
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert location.startswith(params.get("redirect_uri", REDIRECT_URI)), location
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
