"""Clauses 6.2 at a running gateway: a developer terminated through the admin API is refused
on every credential within a second (the key, and a token of the same application with another
live key), while another developer is served on."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.models import Subscription, SubscriptionKey
from termgate.registry.keys import issue_key
from tests.gateway.conftest import gateway_process, wait_for_status
from tests.gateway.test_access_changes import (
    REFRESH,
    Provider,
    answered_at_once,
    provider,  # noqa: F401 (the fixture)
    served,
)
from tests.support.echo_upstream import EchoUpstream
from tests.support.factories import issue_test_access
from tests.support.timing import within


async def test_clause_6_2_terminated_developer_is_refused_on_every_credential_within_a_second(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    provider: Provider,  # noqa: F811
    client: httpx.AsyncClient,
) -> None:
    access = await issue_test_access(sessions)
    bystander = await issue_test_access(sessions)
    async with sessions.begin() as session:
        stored = await session.get_one(SubscriptionKey, access.key.key_id)
        subscription = await session.get_one(Subscription, stored.subscription_id)
        secondary = await issue_key(session, subscription, "secondary", actor="tests")
    async with gateway_process(
        database_url, echo_upstream[1], snapshot_refresh_seconds=REFRESH
    ) as gateway:
        await served(client, gateway, access)
        await answered_at_once(client, gateway, bystander)
        response = await provider.client.post(
            f"/admin/api/developers/{access.key.developer_id}/terminate",
            json={"ground": "uncured-breach", "reason": "harvesting not cured"},
            headers=provider.auth,
        )
        assert response.status_code == 200, response.text
        assert response.json()["keysRevoked"] == 2
        url = f"{gateway.url}/api/echo"
        waited = await wait_for_status(
            client, url, access.key.key, 401, token=access.token.token, code=40100
        )
        assert waited < within(1.0), waited
        # The secondary key was revoked too, and so is the token's family.
        other = await client.get(
            url,
            headers={
                "X-Subscription-Key": secondary.secret,
                "Authorization": f"Bearer {access.token.token}",
            },
        )
        assert other.status_code == 401, other.text
        await answered_at_once(client, gateway, bystander)
