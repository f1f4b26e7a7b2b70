"""A scenario's parties, made the way real ones are: the developer, applications, approvals,
subscriptions and keys through the registry (as the portal and console do), and each end user's
consent through the OAuth 2 authorization-code flow over HTTP (sign-in page, consent screen,
code for tokens with PKCE), so the consent ledger and token families are the real ones.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from termgate.db.models import Application, Subscription
from termgate.identity.clients import issue_client_secret
from termgate.registry.applications import create_application
from termgate.registry.developers import create_developer
from termgate.registry.keys import issue_key, subscribe
from termgate.registry.products import find_plan
from termgate.registry.reviews import decide, request_production
from termgate.registry.terms import accept_terms, publish_reference_terms
from termgate.settings import Settings
from termgate.simulate.scenarios import AppSpec, Scenario

ACTOR = "termgate simulate"
REDIRECT_URI = "http://127.0.0.1:9/callback"  # the loopback: never followed
SLOTS = ("primary", "secondary")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
INTERACTION = re.compile(r'name="interaction" value="([^"]+)"')


class FlowError(RuntimeError):
    """The OAuth flow did not go as a client's would."""


@dataclass
class Tokens:
    access: str
    refresh: str
    expires_at: float  # simulated epoch seconds


@dataclass
class AppParty:
    spec: AppSpec
    id: str
    client_secret: str
    subscription_id: str
    keys: list[str] = field(default_factory=list)  # secrets, oldest first
    key_ids: list[str] = field(default_factory=list)
    slot_keys: dict[str, int] = field(default_factory=dict)  # slot → index in keys
    tokens: list[Tokens] = field(default_factory=list)  # one per consenting login


@dataclass
class Party:
    scenario: Scenario
    developer_id: str
    apps: list[AppParty]
    logins: list[str]  # the consenting logins' usernames


async def _developer_id(
    session: AsyncSession, settings: Settings, scenario: Scenario, run: str
) -> str:
    developer = await create_developer(
        session,
        email=f"{scenario.name}.{run}@simulated.example",
        name=f"Simulated {scenario.name}",
        organisation=f"{scenario.name} B.V.",
        actor=ACTOR,
    )
    terms = await publish_reference_terms(session, settings)
    await accept_terms(session, developer, terms, scenario.address, ACTOR)
    return developer.id


async def _approved_app(session: AsyncSession, developer_id: str, spec: AppSpec) -> Application:
    from termgate.db.models import Developer

    developer = await session.get_one(Developer, developer_id)
    application = await create_application(
        session,
        developer,
        name=spec.name,
        description=spec.use_case,
        use_case=spec.use_case,
        use_case_category=spec.category,
        data_access=spec.data_access,
        requested_scopes=" ".join(spec.scopes),
        redirect_uris=REDIRECT_URI,
        expected_end_users=spec.expected_end_users,
        actor=ACTOR,
    )
    request = await request_production(session, application, "Customers waiting.", developer.email)
    await decide(session, request.id, approve=True, reason="Simulated approval.", actor=ACTOR)
    return application


async def register(
    session: AsyncSession, settings: Settings, scenario: Scenario, run: str
) -> Party:
    """The developer, approved applications on the production plan, their keys and secrets."""
    developer_id = await _developer_id(session, settings, scenario, run)
    plan = await find_plan(session, "production")
    apps = []
    for spec in scenario.apps:
        application = await _approved_app(session, developer_id, spec)
        subscription = await subscribe(session, application, plan, actor=ACTOR)
        party = AppParty(
            spec,
            application.id,
            await issue_client_secret(session, application, ACTOR),
            subscription.id,
        )
        for slot in SLOTS[: spec.keys]:
            await add_key(session, party, slot)
        apps.append(party)
    return Party(scenario, developer_id, apps, [])


async def add_key(
    session: AsyncSession, app: AppParty, slot: str = "primary", at: datetime | None = None
) -> None:
    """A key in `slot` (a key already there is revoked: regeneration), made `at` the simulated
    moment when given: the registry stamps the wall clock, which a moved clock has left behind,
    and the detectors read a key's age from that stamp."""
    subscription = await session.get_one(Subscription, app.subscription_id)
    issued = await issue_key(session, subscription, slot, actor=ACTOR)
    if at is not None:
        issued.row.created_at = at
    app.slot_keys[slot] = len(app.keys)
    app.keys.append(issued.secret)
    app.key_ids.append(issued.row.id)


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_params(app: AppParty, challenge: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": app.id,
        "redirect_uri": REDIRECT_URI,
        "scope": " ".join((*app.spec.scopes, "offline_access")),
        "state": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }


async def sign_in(
    client: httpx.AsyncClient, params: dict[str, str], username: str, password: str
) -> httpx.Response:
    """Open an authorization and answer the sign-in page it leads to, as a browser would."""
    first = await client.get("/connect/authorize", params=params)
    location = first.headers.get("location", "")
    if first.status_code != 303 or not location.startswith("/connect/login"):
        raise FlowError(f"authorize answered {first.status_code} without the sign-in page")
    next_path = parse_qs(urlsplit(location).query)["next"][0]
    page = await client.get(location)
    token = CSRF.search(page.text)
    if token is None:
        raise FlowError("the sign-in page has no form")
    form = {"csrf_token": token.group(1), "next": next_path}
    return await client.post(
        "/connect/login", data={**form, "username": username, "password": password}
    )


def attempt_params(app: AppParty) -> dict[str, str]:
    return authorize_params(app, _pkce()[1])


async def consent(
    base_url: str, app: AppParty, username: str, password: str, headers: dict[str, str]
) -> tuple[str, str, int]:
    """The whole flow for one login: sign in, allow every debtor on the consent screen, trade the
    code for tokens. Returns the access token, refresh token and its lifetime in seconds."""
    verifier, challenge = _pkce()
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120) as client:
        signed = await sign_in(client, authorize_params(app, challenge), username, password)
        if signed.status_code != 303:
            raise FlowError(f"sign-in of {username} answered {signed.status_code}")
        screen = await client.get(signed.headers["location"])
        interaction, csrf = INTERACTION.search(screen.text), CSRF.search(screen.text)
        if interaction is None or csrf is None:
            raise FlowError(f"no consent screen for {username}: {screen.status_code}")
        debtors = re.findall(r'name="debtor" value="([^"]+)"', screen.text)
        allowed = await client.post(
            "/connect/authorize",
            data={"csrf_token": csrf.group(1), "interaction": interaction.group(1),
                  "decision": "allow", "debtor": debtors},
        )  # fmt: skip
        code = parse_qs(urlsplit(allowed.headers.get("location", "")).query).get("code")
        if allowed.status_code != 303 or not code:
            raise FlowError(f"consent of {username} answered {allowed.status_code}")
        return await exchange(
            client,
            app,
            {"grant_type": "authorization_code", "code": code[0], "redirect_uri": REDIRECT_URI,
             "code_verifier": verifier},
        )  # fmt: skip


async def exchange(
    client: httpx.AsyncClient, app: AppParty, form: dict[str, str]
) -> tuple[str, str, int]:
    answer = await client.post(
        "/connect/token", data=form, auth=httpx.BasicAuth(app.id, app.client_secret)
    )
    if answer.status_code != 200:
        raise FlowError(f"the token endpoint answered {answer.status_code}: {answer.text[:200]}")
    body = answer.json()
    return body["access_token"], body.get("refresh_token", ""), int(body["expires_in"])
