"""Clause 3.3 a over HTTP: an end user authorises the same application again (a second device,
a customer added, one removed) while an integration runs, with a gateway in front of the
reference API of the published contract on the same database (its world is the identity
fixtures' world: the accountant's customers are its debtors, GUIDs).

A new consent that covers a running integration's grant leaves it refreshing, at the claims it
was authorised with; one that leaves out a debtor or a scope the grant carries revokes it, at the
token endpoint at once and at the gateway within a second; Revoke on the Connected apps page
revokes everything.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from termgate.db.models import Application, Environment
from termgate.db.oauth import Consent, TokenFamily
from termgate.identity.tokens import VerifiedTokens
from termgate.registry.keys import issue_key, subscribe
from termgate.registry.products import PlanTemplate, create_plan, create_product
from tests.gateway import conftest as gateway_fixtures
from tests.gateway.conftest import Gateway, gateway_process, wait_for_status
from tests.identity.conftest import ISSUER, SCOPES, World, consent_page, decide
from tests.identity.test_security import exchange, pkce, refresh, request_params
from tests.support.processes import PUBLISHED_TENANCY

published_upstream = gateway_fixtures.published_upstream  # the published API, a real process
client = gateway_fixtures.client

SCOPE = f"{SCOPES} offline_access"
RECEIPT = 1.0  # seconds: the gateway refuses a revoked family's tokens within this


@pytest.fixture
async def gateway(database_url: str, published_upstream: str) -> AsyncIterator[Gateway]:
    """A gateway that trusts the identity fixtures' issuer, with the published tenancy."""
    async with gateway_process(
        database_url, published_upstream, public_url=ISSUER, tenancy_path=PUBLISHED_TENANCY
    ) as started:
        yield started


async def subscription_key(world: World) -> str:
    async with world.site.sessions.begin() as session:
        application = await session.get_one(Application, world.confidential.client_id)
        product = await create_product(
            session, slug="payroll-reauth", name="Payroll", environment=Environment.PRODUCTION
        )
        plan = await create_plan(session, product, PlanTemplate("test", "Test"))
        issued = await issue_key(
            session, await subscribe(session, application, plan, actor="tests"), actor="tests"
        )
        return issued.secret


class Integration:
    """One running integration: its latest tokens, refreshed the way a client does."""

    def __init__(self, world: World, tokens: dict[str, Any]) -> None:
        self.world = world
        self.tokens = tokens

    @property
    def access(self) -> str:
        return str(self.tokens["access_token"])

    async def refresh(self) -> httpx.Response:
        answer = await refresh(self.world, self.world.confidential, self.tokens["refresh_token"])
        if answer.status_code == 200:
            self.tokens = answer.json()
        return answer

    async def debtors(self) -> frozenset[str]:
        jwks = (await self.world.site.client.get("/.well-known/jwks.json")).json()
        return VerifiedTokens(jwks, ISSUER).verify(self.access).debtors


async def allow(world: World, debtors: tuple[str, ...]) -> tuple[float, dict[str, str]]:
    """The end user allows the application `debtors`: when the consent was recorded, and the
    query the redirect URI receives (with the code)."""
    verifier, challenge = pkce()
    params = request_params(world.confidential, challenge, SCOPE)
    page = await consent_page(world.site, world.accountant, params)
    answer = await decide(world.site, page, "allow", debtors)
    recorded = time.monotonic()
    assert answer.status_code == 303, answer.text
    query = httpx.URL(answer.headers["location"]).params
    return recorded, {"code": query["code"], "verifier": verifier}


async def authorise(world: World, debtors: tuple[str, ...]) -> tuple[float, Integration]:
    recorded, callback = await allow(world, debtors)
    answer = await exchange(world, world.confidential, callback["code"], callback["verifier"])
    assert answer.status_code == 200, answer.text
    return recorded, Integration(world, answer.json())


class Api:
    def __init__(self, client: httpx.AsyncClient, gateway: Gateway, key: str) -> None:
        self.client, self.gateway, self.key = client, gateway, key

    def url(self, debtor: str) -> str:
        return f"{self.gateway.url}/api/debtors/{debtor}/companies"

    async def status(self, integration: Integration, debtor: str) -> tuple[int, int | None]:
        headers = {"X-Subscription-Key": self.key, "Authorization": f"Bearer {integration.access}"}
        response = await self.client.get(self.url(debtor), headers=headers)
        code = None if response.status_code == 200 else response.json()["code"]
        return response.status_code, code

    async def revoked_within(self, integration: Integration, debtor: str, recorded: float) -> float:
        """Seconds from the consent's record until the gateway refuses the token as revoked."""
        await wait_for_status(
            self.client, self.url(debtor), self.key, 401, token=integration.access, code=40102
        )
        return time.monotonic() - recorded


async def test_clause_3_3_a_reauthorising_keeps_running_integrations_and_narrowing_revokes(
    world: World, gateway: Gateway, client: httpx.AsyncClient
) -> None:
    api = Api(client, gateway, await subscription_key(world))
    one, two = world.customers[:2]  # the accountant's customers
    _, first = await authorise(world, (one,))
    await wait_for_status(client, api.url(one), api.key, 200, token=first.access)

    # A second device, with one more customer: the first integration keeps refreshing, at the
    # debtors it was authorised for; the new one reads both.
    _, second = await authorise(world, (one, two))
    assert (await first.refresh()).status_code == 200
    assert await first.debtors() == {one}
    assert await api.status(first, one) == (200, None)
    assert await api.status(first, two) == (403, 40303)
    assert await api.status(second, two) == (200, None)

    # Customer `two` taken away: the grant that carries it is revoked, the first one stays.
    recorded, third = await authorise(world, (one,))
    assert await api.revoked_within(second, two, recorded) < RECEIPT
    assert (await second.refresh()).json()["error"] == "invalid_grant"
    assert (await first.refresh()).status_code == 200
    assert await api.status(first, one) == (200, None)
    assert await api.status(third, one) == (200, None)

    # Customer `one` taken away: now the first integration's grant is revoked.
    recorded, fourth = await authorise(world, (two,))
    assert await api.revoked_within(first, one, recorded) < RECEIPT
    assert (await first.refresh()).json()["error"] == "invalid_grant"
    assert (await third.refresh()).json()["error"] == "invalid_grant"
    assert await api.status(fourth, two) == (200, None)
    assert await api.status(fourth, one) == (403, 40303)

    # Withdrawing the consent revokes everything.
    async with world.site.sessions() as session:
        consents = list(await session.scalars(select(Consent).order_by(Consent.granted_at)))
    assert [consent.withdrawal_reason for consent in consents] == [
        "replaced by a new consent"
    ] * 3 + [None]
    assert [set(consent.debtors) for consent in consents] == [{one}, {one, two}, {one}, {two}]
    # From a Connected apps page shown before the re-authorisations: the button names the first
    # consent, and revokes the application's live one.
    stale = consents[0].id
    revoke = await world.site.post_form(f"/connect/apps/{stale}/revoke", {}, "/connect/apps")
    assert revoke.status_code == 303
    recorded = time.monotonic()
    assert await api.revoked_within(fourth, two, recorded) < RECEIPT
    assert (await fourth.refresh()).json()["error"] == "invalid_grant"
    async with world.site.sessions() as session:
        assert await session.scalar(select(Consent).where(Consent.withdrawn_at.is_(None))) is None
        assert (
            await session.scalar(select(TokenFamily).where(TokenFamily.revoked_at.is_(None)))
            is None
        )
